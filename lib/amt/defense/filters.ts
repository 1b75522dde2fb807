/**
 * System Defense filters: AMT_IPHeadersFilter (IPv4/IPv6 addresses, protocol, ports) and
 * AMT_Hdr8021Filter (Ethernet type), as readable specs and as the properties the device stores.
 *
 * FilterProfile: 0 pass and count, 1 drop and count, 2 rate limit (FilterProfileData packets per
 * second), 3 pass, 4 drop. FilterDirection: 0 transmit (the PC sends, "out"), 1 receive ("in").
 * A filter's handle (listed in a policy's FilterCreationHandles) is the number that ends its
 * InstanceID. Modelled from Intel's class reference; no capture of a real device exists.
 */
import { InputError, XmlError } from '../../errors';
import type { WsmanClient } from '../../wsman/client';
import type { InputObject } from '../../wsman/messages';
import type { TypedObject } from '../../wsman/typing';
import { EndpointReference, isEndpointReference } from '../../wsman/xml';
import { AddressMatch, fromHex, PortRange } from './address';
import { KEY_PLACEHOLDER } from './policies';

export type Direction = 'in' | 'out';
export type FilterAction = 'pass' | 'drop' | 'rate-limit';

interface FilterBase {
  name: string;
  direction: Direction;
  action: FilterAction;
  /** Keep a match counter (pass and drop filters; a rate limit always counts). */
  count: boolean;
  /** Packets per second a rate-limit filter lets through. */
  rateLimit?: number;
  /** Raise an AMT event on a match (once until the statistics are read). */
  event: boolean;
}

export interface IpFilterSpec extends FilterBase {
  kind: 'ip';
  version?: 4 | 6;
  /** IP protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6. */
  protocol?: number;
  src?: AddressMatch;
  dst?: AddressMatch;
  srcPort?: PortRange;
  dstPort?: PortRange;
}

export interface EthernetFilterSpec extends FilterBase {
  kind: 'ethernet';
  /** Ethernet type: 0x0800 IPv4, 0x86DD IPv6, 0x0806 ARP. */
  etherType: number;
}

export type FilterSpec = IpFilterSpec | EthernetFilterSpec;

/** A filter as the device holds it. */
export interface DeviceFilter {
  className: 'AMT_IPHeadersFilter' | 'AMT_Hdr8021Filter';
  instanceId: string;
  handle: number;
  /** Key properties, to name the instance in Delete. */
  keys: Record<string, string>;
  spec: FilterSpec;
}

export const ETHERTYPE = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd } as const;
export const PROTOCOL: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };

const FILTER_CLASSES = ['AMT_IPHeadersFilter', 'AMT_Hdr8021Filter'] as const;
const KEY_NAMES = ['CreationClassName', 'InstanceID', 'Name', 'SystemCreationClassName', 'SystemName'];
export const FILTER_NAME_MAX = 16;

export function profileOf(spec: FilterBase): number {
  if (spec.action === 'rate-limit') return 2;
  if (spec.action === 'pass') return spec.count ? 0 : 3;
  return spec.count ? 1 : 4;
}

function fromProfile(profile: number): { action: FilterAction; count: boolean } {
  switch (profile) {
    case 0:
      return { action: 'pass', count: true };
    case 1:
      return { action: 'drop', count: true };
    case 2:
      return { action: 'rate-limit', count: true };
    case 3:
      return { action: 'pass', count: false };
    default:
      return { action: 'drop', count: false };
  }
}

/** The number that ends an InstanceID ("... Filter 12" -> 12), or undefined. */
export function handleOf(instanceId: string): number | undefined {
  const m = /(\d+)\s*$/.exec(instanceId);
  return m ? Number(m[1]) : undefined;
}

/** The properties a Create sends for this filter. */
export function filterToWire(spec: FilterSpec): InputObject {
  if (spec.name.length === 0 || spec.name.length > FILTER_NAME_MAX) throw new InputError(`filter name "${spec.name}" must be 1 to ${FILTER_NAME_MAX} characters`);
  // Every key, with placeholders the device replaces, in the order MeshCommander sends them (docs/firmware-evidence.md).
  const o: InputObject = {
    InstanceID: KEY_PLACEHOLDER,
    Name: spec.name,
    CreationClassName: KEY_PLACEHOLDER,
    SystemName: KEY_PLACEHOLDER,
    SystemCreationClassName: KEY_PLACEHOLDER,
    FilterDirection: spec.direction === 'out' ? 0 : 1,
    FilterProfile: profileOf(spec),
    ActionEventOnMatch: spec.event,
  };
  if (spec.action === 'rate-limit') {
    if (!spec.rateLimit || spec.rateLimit < 1) throw new InputError(`filter ${spec.name}: a rate limit needs a positive number of packets per second`);
    o.FilterProfileData = spec.rateLimit;
  }
  if (spec.kind === 'ethernet') {
    o.HdrProtocolID8021 = spec.etherType;
    return o;
  }
  const version = spec.version ?? spec.src?.version ?? spec.dst?.version;
  if (version !== undefined) o.HdrIPVersion = version;
  for (const [side, a] of [
    ['Src', spec.src],
    ['Dest', spec.dst],
  ] as const) {
    if (!a) continue;
    if (a.version !== version) throw new InputError(`filter ${spec.name} mixes IPv4 and IPv6 addresses`);
    o[`Hdr${side}Address`] = a.address;
    if (a.mask) o[`Hdr${side}Mask`] = a.mask;
    if (a.end) o[`Hdr${side}AddressEndOfRange`] = a.end;
  }
  if (spec.protocol !== undefined) o.HdrProtocolID = spec.protocol;
  for (const [side, p] of [
    ['Src', spec.srcPort],
    ['Dest', spec.dstPort],
  ] as const) {
    if (!p) continue;
    if (spec.protocol !== 6 && spec.protocol !== 17) throw new InputError(`filter ${spec.name}: ports need TCP or UDP`);
    o[`Hdr${side}PortStart`] = p.start;
    o[`Hdr${side}PortEnd`] = p.end;
  }
  return o;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function addressFrom(props: TypedObject, side: 'Src' | 'Dest', version: 4 | 6 | undefined): AddressMatch | undefined {
  const address = str(props[`Hdr${side}Address`]);
  if (!address || !version) return undefined;
  const m: AddressMatch = { version, address: address.toUpperCase() };
  const mask = str(props[`Hdr${side}Mask`]);
  const end = str(props[`Hdr${side}AddressEndOfRange`]);
  if (mask) m.mask = mask.toUpperCase();
  if (end) m.end = end.toUpperCase();
  if (!fromHex(m.address)) return undefined;
  return m;
}

function portsFrom(props: TypedObject, side: 'Src' | 'Dest'): PortRange | undefined {
  const start = num(props[`Hdr${side}PortStart`]);
  const end = num(props[`Hdr${side}PortEnd`]);
  if (start === undefined && end === undefined) return undefined;
  return { start: start ?? 0, end: end ?? 65535 };
}

/** A filter read from the device as a spec (unknown extras such as DSCP are left out). */
export function filterFromWire(className: string, props: TypedObject): FilterSpec {
  const { action, count } = fromProfile(num(props.FilterProfile) ?? 4);
  const base: FilterBase = {
    name: String(props.Name ?? ''),
    direction: num(props.FilterDirection) === 0 ? 'out' : 'in',
    action,
    count,
    event: props.ActionEventOnMatch === true,
  };
  if (action === 'rate-limit') base.rateLimit = num(props.FilterProfileData);
  if (className === 'AMT_Hdr8021Filter') return { ...base, kind: 'ethernet', etherType: num(props.HdrProtocolID8021) ?? 0 };
  const v = num(props.HdrIPVersion);
  const version = v === 4 || v === 6 ? v : undefined;
  const spec: IpFilterSpec = { ...base, kind: 'ip' };
  if (version) spec.version = version;
  const protocol = num(props.HdrProtocolID);
  if (protocol !== undefined) spec.protocol = protocol;
  const src = addressFrom(props, 'Src', version);
  const dst = addressFrom(props, 'Dest', version);
  if (src) spec.src = src;
  if (dst) spec.dst = dst;
  const sp = portsFrom(props, 'Src');
  const dp = portsFrom(props, 'Dest');
  if (sp) spec.srcPort = sp;
  if (dp) spec.dstPort = dp;
  return spec;
}

function keysOf(props: TypedObject): Record<string, string> {
  const k: Record<string, string> = {};
  for (const n of KEY_NAMES) if (typeof props[n] === 'string') k[n] = props[n] as string;
  return k;
}

export async function listFilters(client: WsmanClient): Promise<DeviceFilter[]> {
  const out: DeviceFilter[] = [];
  for (const className of FILTER_CLASSES) {
    for (const inst of await client.enumerate(className)) {
      const instanceId = String(inst.props.InstanceID ?? '');
      const handle = handleOf(instanceId);
      if (handle === undefined) continue;
      out.push({ className, instanceId, handle, keys: keysOf(inst.props), spec: filterFromWire(className, inst.props) });
    }
  }
  return out;
}

/** Create a filter; its handle comes from the InstanceID in the device's answer. */
export async function createFilter(client: WsmanClient, spec: FilterSpec): Promise<DeviceFilter> {
  const className = spec.kind === 'ip' ? 'AMT_IPHeadersFilter' : 'AMT_Hdr8021Filter';
  const created: EndpointReference | undefined = await client.create(className, filterToWire(spec));
  const instanceId = created?.selectors.InstanceID;
  const handle = instanceId === undefined ? undefined : handleOf(instanceId);
  if (!created || !isEndpointReference(created) || instanceId === undefined || handle === undefined) {
    throw new XmlError(`${client.label} created filter ${spec.name} but did not answer with its InstanceID`);
  }
  return { className, instanceId, handle, keys: { ...created.selectors }, spec };
}

export async function deleteFilter(client: WsmanClient, f: Pick<DeviceFilter, 'className' | 'keys'>): Promise<void> {
  await client.delete(f.className, f.keys);
}

/** Two specs filter the same traffic the same way (names aside). */
export function sameFilter(a: FilterSpec, b: FilterSpec): boolean {
  const strip = (s: FilterSpec) => JSON.stringify({ ...s, name: undefined, rateLimit: s.action === 'rate-limit' ? s.rateLimit : undefined });
  return strip(normalize(a)) === strip(normalize(b));
}

function normalize(s: FilterSpec): FilterSpec {
  if (s.kind !== 'ip') return { kind: s.kind, name: s.name, direction: s.direction, action: s.action, count: s.count, event: s.event, etherType: s.etherType, rateLimit: s.rateLimit };
  const version = s.version ?? s.src?.version ?? s.dst?.version;
  return {
    kind: 'ip',
    name: s.name,
    direction: s.direction,
    action: s.action,
    count: s.count,
    event: s.event,
    rateLimit: s.rateLimit,
    version,
    protocol: s.protocol,
    src: s.src,
    dst: s.dst,
    srcPort: s.srcPort,
    dstPort: s.dstPort,
  };
}
