/**
 * Network interfaces and which policies they use. An interface is a CIM_EthernetPort named by
 * DeviceID "Intel(r) AMT Ethernet Port 0" (wired) or "... 1" (wireless), as MeshCommander names
 * them. AMT_NetworkPortSystemDefensePolicy enables a policy on an interface,
 * AMT_NetworkPortDefaultSystemDefensePolicy names the one in force when none is enabled, and
 * AMT_AgentPresenceInterfacePolicy the one agent-presence actions switch on. All three are
 * associations (Antecedent = the port, Dependent = the policy), deleted by both references.
 */
import { InputError, OobError } from '../../errors';
import type { WsmanClient } from '../../wsman/client';
import { ANONYMOUS, resourceUri } from '../../wsman/namespaces';
import { EndpointReference, isEndpointReference } from '../../wsman/xml';
import { policyRef } from './policies';

export type InterfaceName = 'wired' | 'wireless';
export const INTERFACES: readonly InterfaceName[] = ['wired', 'wireless'];

export type BindingClass = 'AMT_NetworkPortSystemDefensePolicy' | 'AMT_NetworkPortDefaultSystemDefensePolicy' | 'AMT_AgentPresenceInterfacePolicy';

export interface Binding {
  interface: InterfaceName;
  policyInstanceId: string;
  /** AMT_AgentPresenceInterfacePolicy only. */
  enabled?: boolean;
}

export function portIndex(i: InterfaceName): 0 | 1 {
  return i === 'wired' ? 0 : 1;
}

/**
 * The port as an association's Antecedent. A Create names it by DeviceID; a Delete adds
 * CreationClassName, as MeshCommander does (docs/firmware-evidence.md).
 */
export function portRef(i: InterfaceName, forDelete = false): EndpointReference {
  const selectors: Record<string, string> = forDelete ? { CreationClassName: 'CIM_EthernetPort' } : {};
  selectors.DeviceID = `Intel(r) AMT Ethernet Port ${portIndex(i)}`;
  return { address: ANONYMOUS, resourceUri: resourceUri('CIM_EthernetPort'), selectors };
}

function interfaceOf(r: unknown): InterfaceName | undefined {
  if (!isEndpointReference(r)) return undefined;
  const m = /Ethernet Port (\d)$/.exec(r.selectors.DeviceID ?? '');
  return m?.[1] === '0' ? 'wired' : m?.[1] === '1' ? 'wireless' : undefined;
}

export function parseInterfaces(value: unknown): InterfaceName[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list = Array.isArray(value) ? value : String(value).split(/[\s,]+/).filter(Boolean);
  const out: InterfaceName[] = [];
  for (const x of list) {
    const v = String(x).trim().toLowerCase();
    if (v !== 'wired' && v !== 'wireless') throw new InputError(`interface "${String(x)}" is neither wired nor wireless`);
    if (!out.includes(v)) out.push(v);
  }
  if (!out.length) throw new InputError('interfaces must name wired, wireless or both');
  return out;
}

/** The interfaces the device has; a device that does not list CIM_EthernetPort has the wired one. */
export async function listInterfaces(client: WsmanClient): Promise<InterfaceName[]> {
  try {
    const found = (await client.enumerate('CIM_EthernetPort'))
      .map((p) => /Ethernet Port (\d)$/.exec(String(p.props.DeviceID ?? ''))?.[1])
      .map((n) => (n === '0' ? 'wired' : n === '1' ? 'wireless' : undefined))
      .filter((x): x is InterfaceName => x !== undefined);
    return found.length ? INTERFACES.filter((i) => found.includes(i)) : ['wired'];
  } catch (e) {
    if (e instanceof OobError && e.code === 'WSMAN_FAULT') return ['wired'];
    throw e;
  }
}

export async function listBindings(client: WsmanClient, className: BindingClass): Promise<Binding[]> {
  const out: Binding[] = [];
  for (const inst of await client.enumerate(className)) {
    const iface = interfaceOf(inst.props.Antecedent);
    const dep = inst.props.Dependent;
    const id = isEndpointReference(dep) ? dep.selectors.InstanceID : undefined;
    if (!iface || !id) continue;
    const b: Binding = { interface: iface, policyInstanceId: id };
    if (typeof inst.props.Enabled === 'boolean') b.enabled = inst.props.Enabled;
    out.push(b);
  }
  return out;
}

export async function bind(client: WsmanClient, className: BindingClass, iface: InterfaceName, policyInstanceId: string, extra: Record<string, boolean> = {}): Promise<void> {
  await client.create(className, { Antecedent: portRef(iface), Dependent: policyRef(policyInstanceId), ...extra });
}

export async function unbind(client: WsmanClient, className: BindingClass, iface: InterfaceName, policyInstanceId: string): Promise<void> {
  await client.delete(className, { Antecedent: portRef(iface, true), Dependent: policyRef(policyInstanceId) });
}

/** Enable a policy on an interface (it takes effect if it has the highest precedence there). */
export function enablePolicy(client: WsmanClient, iface: InterfaceName, policyInstanceId: string): Promise<void> {
  return bind(client, 'AMT_NetworkPortSystemDefensePolicy', iface, policyInstanceId);
}

export function disablePolicy(client: WsmanClient, iface: InterfaceName, policyInstanceId: string): Promise<void> {
  return unbind(client, 'AMT_NetworkPortSystemDefensePolicy', iface, policyInstanceId);
}
