/**
 * System Defense inside a simulated PC: the policies and filters the class handlers store, which
 * policy is in force on each network interface, and a small traffic model that the policy in force
 * counts, passes or drops. Tests (and the demo) "send" packets from and to the PC with
 * `device.sendPacket()`; nothing touches a real network.
 *
 * No capture of a real device exists for any of this (test/fixtures/SOURCES.md). The behaviour is
 * modelled on Intel's AMT SDK class reference:
 *  - AMT_NetworkPortSystemDefensePolicy enables a policy on an interface; of the enabled policies
 *    the one with the highest PolicyPrecedence is in force (ties: the older one, our "arbitrary").
 *  - A policy named by AMT_AgentPresenceInterfacePolicy joins them while an agent-presence action
 *    has activated it (ActionSd 0) and leaves when one deactivates it (ActionSd 1).
 *  - AMT_NetworkPortDefaultSystemDefensePolicy is in force only when no other policy is.
 *  - Filters are tried in FilterCreationHandles order and the first match decides (our templates
 *    put pass filters first, so "pass wins" firmware would behave the same); no match applies the
 *    policy's Tx/Rx default. FilterProfile 0 pass+count, 1 drop+count, 2 rate limit
 *    (FilterProfileData packets per second), 3 pass, 4 drop. ActionEventOnMatch raises one event,
 *    re-armed when statistics are read.
 *  - Counters are live; UpdateStatistics copies them into the AMT_ActiveFilterStatistics rows of
 *    an interface (and resets them with ResetOnRead).
 */
import type { SimDevice } from './device';
import { SimFault } from './sim-fault';
import { SIM_NS as NS } from './wsman-uris';
import { datetime, ref, SimProps, SimRef } from './values';

export const SYSTEM_KEYS = { SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' };

export type PortIndex = 0 | 1;

export interface SimDefenseOptions {
  /** GlobalMaxSupportedFilters (modelled: 32). */
  maxFilters?: number;
  /** GlobalMaxSupportedPolicies (modelled: 8). */
  maxPolicies?: number;
  /** Give the PC a wireless interface (port 1) besides the wired one. */
  wireless?: boolean;
  /** Milliseconds in a simulated second, for agent-presence timers (default 1000). */
  secondMs?: number;
}

export interface SimFilter {
  className: 'AMT_IPHeadersFilter' | 'AMT_Hdr8021Filter';
  handle: number;
  props: SimProps;
}

export interface SimPolicy {
  handle: number;
  props: SimProps;
  filterHandles: number[];
}

interface PortStats {
  live: Map<number, { count: number; matched: boolean }>;
  rows: SimProps[];
  activatedAt: Date;
  lastReset: Date;
  /** Events already raised for a filter since the last read. */
  fired: Set<number>;
  /** Rate-limit windows: filter handle -> [window start ms, packets]. */
  windows: Map<number, [number, number]>;
  inForce?: number;
}

export interface DefenseState {
  filters: Map<number, SimFilter>;
  policies: Map<number, SimPolicy>;
  nextHandle: number;
  nextPolicy: number;
  /** AMT_NetworkPortSystemDefensePolicy: port -> enabled policy handles. */
  enabled: Map<PortIndex, Set<number>>;
  /** AMT_NetworkPortDefaultSystemDefensePolicy: port -> policy handle. */
  defaults: Map<PortIndex, number>;
  /** AMT_AgentPresenceInterfacePolicy: port -> policy handle and Enabled. */
  agentPolicy: Map<PortIndex, { handle: number; enabled: boolean }>;
  /** Ports where an agent-presence action has activated the agent-presence policy. */
  agentActive: Set<PortIndex>;
  stats: Map<PortIndex, PortStats>;
}

export function defenseState(d: SimDevice): DefenseState {
  return d.classState<DefenseState>('SystemDefense', () => ({
    filters: new Map(),
    policies: new Map(),
    nextHandle: 1,
    nextPolicy: 1,
    enabled: new Map(),
    defaults: new Map(),
    agentPolicy: new Map(),
    agentActive: new Set(),
    stats: new Map(),
  }));
}

export function maxFilters(d: SimDevice): number {
  return d.defenseOptions.maxFilters ?? 32;
}

export function maxPolicies(d: SimDevice): number {
  return d.defenseOptions.maxPolicies ?? 8;
}

/** System Defense and Agent Presence change only in admin control mode (modelled fault). */
export function requireAdminControlMode(d: SimDevice): void {
  if (d.controlMode !== 'admin') {
    throw new SimFault(NS.wsman, 'AccessDenied', 'The sender was not authorized to access the resource. System Defense and Agent Presence need admin control mode.');
  }
}

// --- interfaces -------------------------------------------------------------------------------

export function ports(d: SimDevice): PortIndex[] {
  return d.defenseOptions.wireless ? [0, 1] : [0];
}

export function portDeviceId(p: PortIndex): string {
  return `Intel(r) AMT Ethernet Port ${p}`;
}

export function portRef(p: PortIndex): SimRef {
  return ref('CIM_EthernetPort', { CreationClassName: 'CIM_EthernetPort', DeviceID: portDeviceId(p), ...SYSTEM_KEYS });
}

/** The port a CIM_EthernetPort reference names (by DeviceID), or undefined. */
export function portOfRef(d: SimDevice, r: unknown): PortIndex | undefined {
  const sel = refSelectors(r);
  if (!sel || !String(refUri(r)).endsWith('/CIM_EthernetPort')) return undefined;
  const m = /^Intel\(r\) AMT Ethernet Port (\d)$/.exec(sel.DeviceID ?? '');
  const p = m ? (Number(m[1]) as PortIndex) : undefined;
  return p !== undefined && ports(d).includes(p) ? p : undefined;
}

function refSelectors(r: unknown): Record<string, string> | undefined {
  return typeof r === 'object' && r !== null && 'selectors' in r ? (r as { selectors: Record<string, string> }).selectors : undefined;
}

function refUri(r: unknown): string | undefined {
  return typeof r === 'object' && r !== null && 'resourceUri' in r ? String((r as { resourceUri: unknown }).resourceUri) : undefined;
}

// --- policies and filters -------------------------------------------------------------------

export function policyInstanceId(handle: number): string {
  return `Intel(r) AMT: System Defense Policy ${handle}`;
}

export function policyRef(p: SimPolicy): SimRef {
  return ref('AMT_SystemDefensePolicy', { InstanceID: String(p.props.InstanceID) });
}

export function filterRef(f: SimFilter): SimRef {
  return ref(f.className, {
    CreationClassName: f.className,
    InstanceID: String(f.props.InstanceID),
    Name: String(f.props.Name),
    ...SYSTEM_KEYS,
  });
}

/** The policy a reference names (by InstanceID), or undefined. */
export function policyOfRef(d: SimDevice, r: unknown): SimPolicy | undefined {
  if (!String(refUri(r)).endsWith('/AMT_SystemDefensePolicy')) return undefined;
  const id = refSelectors(r)?.InstanceID;
  return [...defenseState(d).policies.values()].find((p) => p.props.InstanceID === id);
}

export function policyByInstanceId(d: SimDevice, id: string | undefined): SimPolicy | undefined {
  return [...defenseState(d).policies.values()].find((p) => p.props.InstanceID === id);
}

function precedence(p: SimPolicy): number {
  return Number(p.props.PolicyPrecedence) || 0;
}

/** The policy in force on a port, by the rules in this file's header. */
export function policyInForce(d: SimDevice, port: PortIndex): SimPolicy | undefined {
  const s = defenseState(d);
  const candidates = new Set(s.enabled.get(port) ?? []);
  const ap = s.agentPolicy.get(port);
  if (ap && ap.enabled && s.agentActive.has(port)) candidates.add(ap.handle);
  const live = [...candidates].map((h) => s.policies.get(h)).filter((p): p is SimPolicy => p !== undefined);
  live.sort((a, b) => precedence(b) - precedence(a) || a.handle - b.handle);
  if (live.length) return live[0];
  const dflt = s.defaults.get(port);
  return dflt === undefined ? undefined : s.policies.get(dflt);
}

function portStats(d: SimDevice, port: PortIndex): PortStats {
  const s = defenseState(d);
  let st = s.stats.get(port);
  if (!st) {
    const now = new Date();
    st = { live: new Map(), rows: [], activatedAt: now, lastReset: now, fired: new Set(), windows: new Map() };
    s.stats.set(port, st);
  }
  return st;
}

/**
 * Call after every change: a port whose policy in force changed starts fresh counters, and the
 * device emits 'defense' { kind: 'policy-activated' | 'policy-deactivated', port, policy, cause }.
 */
export function refreshPolicies(d: SimDevice, cause: string): void {
  for (const port of ports(d)) {
    const st = portStats(d, port);
    const now = policyInForce(d, port)?.handle;
    if (now === st.inForce) continue;
    const before = st.inForce === undefined ? undefined : defenseState(d).policies.get(st.inForce);
    st.inForce = now;
    st.live.clear();
    st.rows = [];
    st.fired.clear();
    st.windows.clear();
    st.activatedAt = new Date();
    st.lastReset = st.activatedAt;
    if (before) d.emit('defense', { kind: 'policy-deactivated', port: portName(port), policy: String(before.props.PolicyName ?? ''), cause });
    const after = now === undefined ? undefined : defenseState(d).policies.get(now);
    if (after) d.emit('defense', { kind: 'policy-activated', port: portName(port), policy: String(after.props.PolicyName ?? ''), cause });
  }
}

export function portName(p: PortIndex): 'wired' | 'wireless' {
  return p === 0 ? 'wired' : 'wireless';
}

/** UpdateStatistics: copy the live counters of the policy in force into the statistics rows. */
export function updateStatistics(d: SimDevice, port: PortIndex, resetOnRead: boolean): void {
  const st = portStats(d, port);
  const policy = policyInForce(d, port);
  const s = defenseState(d);
  st.rows = [];
  if (policy) {
    for (const h of policy.filterHandles) {
      const f = s.filters.get(h);
      if (!f || !countsMatches(f)) continue;
      const live = st.live.get(h) ?? { count: 0, matched: false };
      st.rows.push({
        ActivationTime: datetime(st.activatedAt),
        Antecedent: portRef(port),
        Dependent: ref('AMT_FilterInSystemDefensePolicy', { Antecedent: policyRef(policy), Dependent: filterRef(f) }),
        FilterMatched: live.matched,
        LastResetTime: datetime(st.lastReset),
        ReadCount: live.count,
      });
    }
  }
  st.fired.clear();
  if (resetOnRead) {
    st.live.clear();
    st.lastReset = new Date();
  }
}

export function statisticsRows(d: SimDevice): SimProps[] {
  return ports(d).flatMap((p) => defenseState(d).stats.get(p)?.rows ?? []);
}

function countsMatches(f: SimFilter): boolean {
  const profile = Number(f.props.FilterProfile);
  return profile === 0 || profile === 1 || profile === 2;
}

// --- traffic ----------------------------------------------------------------------------------

export type Protocol = 'tcp' | 'udp' | 'icmp';
const PROTOCOL_NUMBERS: Record<Protocol, number> = { tcp: 6, udp: 17, icmp: 1 };
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_ARP = 0x0806;

export interface PacketSpec {
  /** 'out': the PC sends (Tx); 'in': the PC receives (Rx). */
  direction: 'in' | 'out';
  /** The other end's IP address (IPv4 or IPv6); unused for ARP. */
  remote?: string;
  protocol?: Protocol | number;
  /** Port on the other end (destination when sending, source when receiving). */
  remotePort?: number;
  /** Port on the PC (default 49152 when sending, 445 when receiving). */
  localPort?: number;
  interface?: 'wired' | 'wireless';
  /** 'arp' for an ARP frame; default an IP packet. */
  kind?: 'ip' | 'arp';
}

export interface PacketResult {
  verdict: 'passed' | 'dropped' | 'unreachable';
  /** Name of the policy in force, if any. */
  policy?: string;
  /** Name of the filter that decided, if one matched. */
  filter?: string;
  reason: string;
}

interface Packet {
  tx: boolean;
  ethertype: number;
  version?: 4 | 6;
  src?: Buffer;
  dst?: Buffer;
  protocol?: number;
  srcPort?: number;
  dstPort?: number;
}

/** The PC's own addresses: IPv4 from AMT_EthernetPortSettings, IPv6 from documentation space. */
export function hostAddresses(d: SimDevice): { v4: string; v6: string } {
  const settings = d.classes.get('AMT_EthernetPortSettings')?.instances(d)[0];
  const v4 = typeof settings?.IPAddress === 'string' ? settings.IPAddress : '192.0.2.2';
  const last = parseInt(d.mac.slice(-5).replace(':', ''), 16);
  return { v4, v6: `2001:db8::${last.toString(16)}` };
}

function ipToBytes(text: string): Buffer | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((x) => x >= 0 && x <= 255) ? Buffer.from(parts) : undefined;
  }
  if (!text.includes(':')) return undefined;
  // Simulator-side IPv6 reader, kept apart from lib/amt/defense/address.ts so the two check each other.
  const [l, r] = text.includes('::') ? text.split('::') : [text, ''];
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const fill = text.includes('::') ? 8 - left.length - right.length : 0;
  const groups = [...left, ...Array<string>(Math.max(0, fill)).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function hexBytes(v: unknown): Buffer | undefined {
  return typeof v === 'string' && /^[0-9A-Fa-f]+$/.test(v) && v.length % 2 === 0 ? Buffer.from(v, 'hex') : undefined;
}

function addressMatches(addr: Buffer | undefined, base: unknown, mask: unknown, end: unknown): boolean {
  const b = hexBytes(base);
  if (!b) return true;
  if (!addr || addr.length !== b.length) return false;
  const e = hexBytes(end);
  if (e) return Buffer.compare(addr, b) >= 0 && Buffer.compare(addr, e) <= 0;
  const m = hexBytes(mask);
  return addr.every((x, i) => (m ? (x & m[i]) === (b[i] & m[i]) : x === b[i]));
}

function portMatches(port: number | undefined, start: unknown, end: unknown): boolean {
  const s = start === undefined ? undefined : Number(start);
  const e = end === undefined ? undefined : Number(end);
  if (s === undefined && e === undefined) return true;
  if (port === undefined) return false;
  return (s === undefined || port >= s) && (e === undefined || port <= e);
}

function filterMatches(f: SimFilter, p: Packet): boolean {
  const x = f.props;
  if ((Number(x.FilterDirection) === 0) !== p.tx) return false;
  if (f.className === 'AMT_Hdr8021Filter') return Number(x.HdrProtocolID8021) === p.ethertype;
  if (p.version === undefined) return false;
  if (x.HdrIPVersion !== undefined && Number(x.HdrIPVersion) !== p.version) return false;
  if (x.HdrProtocolID !== undefined && Number(x.HdrProtocolID) !== p.protocol) return false;
  if (!addressMatches(p.src, x.HdrSrcAddress, x.HdrSrcMask, x.HdrSrcAddressEndOfRange)) return false;
  if (!addressMatches(p.dst, x.HdrDestAddress, x.HdrDestMask, x.HdrDestAddressEndOfRange)) return false;
  return portMatches(p.srcPort, x.HdrSrcPortStart, x.HdrSrcPortEnd) && portMatches(p.dstPort, x.HdrDestPortStart, x.HdrDestPortEnd);
}

function toPacket(d: SimDevice, spec: PacketSpec): Packet {
  const tx = spec.direction === 'out';
  if (spec.kind === 'arp') return { tx, ethertype: ETHERTYPE_ARP };
  const remote = spec.remote === undefined ? undefined : ipToBytes(spec.remote);
  if (!remote) throw new Error(`sendPacket: remote "${spec.remote}" is not an IP address`);
  const version = remote.length === 4 ? 4 : 6;
  const own = hostAddresses(d);
  const local = ipToBytes(version === 4 ? own.v4 : own.v6) as Buffer;
  const protocol = typeof spec.protocol === 'number' ? spec.protocol : PROTOCOL_NUMBERS[spec.protocol ?? 'tcp'];
  const ported = protocol === 6 || protocol === 17;
  const localPort = ported ? spec.localPort ?? (tx ? 49152 : 445) : undefined;
  const remotePort = ported ? spec.remotePort ?? (tx ? 443 : 49152) : undefined;
  return {
    tx,
    ethertype: version === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6,
    version,
    protocol,
    src: tx ? local : remote,
    dst: tx ? remote : local,
    srcPort: tx ? localPort : remotePort,
    dstPort: tx ? remotePort : localPort,
  };
}

/**
 * One packet from or to the simulated PC through the policy in force on its interface. Emits
 * 'packet' { ...spec, ...result } and, for a filter with ActionEventOnMatch (once per statistics
 * read), 'defense' { kind: 'filter-match', port, policy, filter, direction }.
 */
export function sendPacket(d: SimDevice, spec: PacketSpec): PacketResult {
  const port: PortIndex = spec.interface === 'wireless' ? 1 : 0;
  let result: PacketResult;
  if (!ports(d).includes(port)) throw new Error(`sendPacket: the simulated PC has no ${spec.interface} interface`);
  const packet = toPacket(d, spec);
  if (d.powerState !== 2) {
    result = { verdict: 'unreachable', reason: 'the PC is not powered on' };
  } else {
    result = decide(d, port, packet);
  }
  d.emit('packet', { ...spec, ...result });
  return result;
}

function decide(d: SimDevice, port: PortIndex, p: Packet): PacketResult {
  const policy = policyInForce(d, port);
  if (!policy) return { verdict: 'passed', reason: 'no System Defense policy in force' };
  const s = defenseState(d);
  const st = portStats(d, port);
  const policyName = String(policy.props.PolicyName ?? '');
  for (const h of policy.filterHandles) {
    const f = s.filters.get(h);
    if (!f || !filterMatches(f, p)) continue;
    const profile = Number(f.props.FilterProfile);
    const live = st.live.get(h) ?? { count: 0, matched: false };
    live.matched = true;
    if (profile <= 2) live.count++;
    st.live.set(h, live);
    const name = String(f.props.Name);
    if (String(f.props.ActionEventOnMatch) === 'true' && !st.fired.has(h)) {
      st.fired.add(h);
      d.emit('defense', { kind: 'filter-match', port: portName(port), policy: policyName, filter: name, direction: p.tx ? 'out' : 'in' });
    }
    let pass = profile === 0 || profile === 3;
    if (profile === 2) {
      const limit = Number(f.props.FilterProfileData) || 0;
      const now = Date.now();
      const w = st.windows.get(h);
      const win: [number, number] = w && now - w[0] < 1000 ? w : [now, 0];
      win[1]++;
      st.windows.set(h, win);
      pass = win[1] <= limit;
    }
    return { verdict: pass ? 'passed' : 'dropped', policy: policyName, filter: name, reason: `filter ${name}` };
  }
  const drop = String(p.tx ? policy.props.TxDefaultDrop : policy.props.RxDefaultDrop) === 'true';
  const event = String(p.tx ? policy.props.TxDefaultMatchEvent : policy.props.RxDefaultMatchEvent) === 'true';
  const key = p.tx ? -1 : -2;
  if (event && !st.fired.has(key)) {
    st.fired.add(key);
    d.emit('defense', { kind: 'default-match', port: portName(port), policy: policyName, direction: p.tx ? 'out' : 'in' });
  }
  return { verdict: drop ? 'dropped' : 'passed', policy: policyName, reason: `${p.tx ? 'Tx' : 'Rx'} default of ${policyName}` };
}

/**
 * Exactly these policies (by InstanceID) enabled on the wired interface, for tests (the inventory
 * tests use it to show System Defense as on). A policy the device does not hold is made empty.
 */
export function setActiveDefensePolicies(d: SimDevice, policyIds: string[]): void {
  const s = defenseState(d);
  const enabled = new Set<number>();
  for (const id of policyIds) {
    let p = policyByInstanceId(d, id);
    if (!p) {
      const handle = s.nextPolicy++;
      const flags = Object.fromEntries(['TxDefaultDrop', 'TxDefaultMatchEvent', 'TxDefaultCount', 'RxDefaultDrop', 'RxDefaultMatchEvent', 'RxDefaultCount'].map((f) => [f, false]));
      p = { handle, props: { ElementName: 'Intel(r) AMT System Defense Policy', InstanceID: id, PolicyName: `policy ${handle}`, PolicyPrecedence: 0, ...flags }, filterHandles: [] };
      s.policies.set(handle, p);
    }
    enabled.add(p.handle);
  }
  s.enabled.set(0, enabled);
  refreshPolicies(d, 'test');
}
