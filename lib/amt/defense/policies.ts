/**
 * AMT_SystemDefensePolicy: a named, ordered set of filters with a default for what matches none
 * (per direction: drop or pass, count, raise an event) and a precedence. Of the policies enabled
 * on an interface, the one with the highest PolicyPrecedence is in force (Intel's class
 * reference). Modelled; no capture of a real device exists.
 */
import { InputError, XmlError } from '../../errors';
import type { WsmanClient } from '../../wsman/client';
import type { InputObject } from '../../wsman/messages';
import { ANONYMOUS, resourceUri } from '../../wsman/namespaces';
import type { TypedObject } from '../../wsman/typing';
import type { EndpointReference } from '../../wsman/xml';

export interface DirectionDefault {
  /** Drop what no filter matched (else let it pass). */
  drop: boolean;
  count: boolean;
  event: boolean;
}

export interface PolicySpec {
  name: string;
  precedence: number;
  /** Received traffic (Rx). */
  in: DirectionDefault;
  /** Sent traffic (Tx). */
  out: DirectionDefault;
  /** Filters, by handle, in the order they are tried. */
  filterHandles: number[];
  antiSpoofing?: number;
}

export interface DevicePolicy extends PolicySpec {
  instanceId: string;
}

export const MAX_PRECEDENCE = 0xffffffff;

/** What MeshCommander puts in every key property of a Create; the device replaces it. */
export const KEY_PLACEHOLDER = 0;

export function policyRef(instanceId: string): EndpointReference {
  return { address: ANONYMOUS, resourceUri: resourceUri('AMT_SystemDefensePolicy'), selectors: { InstanceID: instanceId } };
}

function flags(props: TypedObject, dir: 'Tx' | 'Rx'): DirectionDefault {
  return { drop: props[`${dir}DefaultDrop`] === true, count: props[`${dir}DefaultCount`] === true, event: props[`${dir}DefaultMatchEvent`] === true };
}

export function policyFromWire(props: TypedObject): DevicePolicy {
  const handles = Array.isArray(props.FilterCreationHandles) ? props.FilterCreationHandles.filter((x): x is number => typeof x === 'number') : [];
  const p: DevicePolicy = {
    instanceId: String(props.InstanceID ?? ''),
    name: typeof props.PolicyName === 'string' ? props.PolicyName : '',
    precedence: typeof props.PolicyPrecedence === 'number' ? props.PolicyPrecedence : 0,
    in: flags(props, 'Rx'),
    out: flags(props, 'Tx'),
    filterHandles: handles,
  };
  if (typeof props.AntiSpoofingSupport === 'number') p.antiSpoofing = props.AntiSpoofingSupport;
  return p;
}

export function policyToWire(p: PolicySpec): InputObject {
  const o: InputObject = {
    InstanceID: KEY_PLACEHOLDER, // the device gives the real one, as with MeshCommander's placeholder
    PolicyName: p.name,
    PolicyPrecedence: p.precedence,
    TxDefaultDrop: p.out.drop,
    TxDefaultMatchEvent: p.out.event,
    TxDefaultCount: p.out.count,
    RxDefaultDrop: p.in.drop,
    RxDefaultMatchEvent: p.in.event,
    RxDefaultCount: p.in.count,
  };
  if (p.antiSpoofing !== undefined) o.AntiSpoofingSupport = p.antiSpoofing;
  if (p.filterHandles.length) o.FilterCreationHandles = p.filterHandles;
  return o;
}

export async function listPolicies(client: WsmanClient): Promise<DevicePolicy[]> {
  return (await client.enumerate('AMT_SystemDefensePolicy')).map((i) => policyFromWire(i.props));
}

function checkSpec(p: PolicySpec): void {
  if (!p.name.trim()) throw new InputError('a System Defense policy needs a name');
  if (p.name.length > 32) throw new InputError(`policy name "${p.name}" is longer than 32 characters`);
  if (!Number.isInteger(p.precedence) || p.precedence < 0 || p.precedence > MAX_PRECEDENCE) throw new InputError(`policy precedence ${p.precedence} is not 0 to ${MAX_PRECEDENCE}`);
}

/** Create a policy; a name the device already has is refused before anything is sent. */
export async function createPolicy(client: WsmanClient, p: PolicySpec, existing?: DevicePolicy[]): Promise<DevicePolicy> {
  checkSpec(p);
  const all = existing ?? (await listPolicies(client));
  if (all.some((x) => x.name === p.name)) throw new InputError(`a System Defense policy named "${p.name}" exists already on ${client.label}`);
  const created = await client.create('AMT_SystemDefensePolicy', policyToWire(p));
  const instanceId = created?.selectors.InstanceID;
  if (!instanceId) throw new XmlError(`${client.label} created policy ${p.name} but did not answer with its InstanceID`);
  return { ...p, instanceId };
}

export async function deletePolicy(client: WsmanClient, instanceId: string): Promise<void> {
  await client.delete('AMT_SystemDefensePolicy', { InstanceID: instanceId });
}

/** Put a policy back with changed properties (AMT replaces the whole instance on Put). */
export async function updatePolicy(client: WsmanClient, p: DevicePolicy): Promise<void> {
  checkSpec(p);
  await client.put('AMT_SystemDefensePolicy', { ...policyToWire(p), InstanceID: p.instanceId }, { InstanceID: p.instanceId });
}

export async function setPrecedence(client: WsmanClient, p: DevicePolicy, precedence: number): Promise<DevicePolicy> {
  const next = { ...p, precedence };
  await updatePolicy(client, next);
  return next;
}
