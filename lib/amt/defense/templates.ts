/**
 * The templates a user picks by name, turned into a plan: the policy defaults and the ordered
 * filters that make it. Pure: nothing here talks to a device, and every parameter is checked here,
 * so bad input is refused before the first request.
 *
 *   isolate              drop everything except traffic to and from the management hosts
 *   allow-only           drop everything except what the list allows (hosts, optionally ports)
 *   block-inbound-port   drop connections to these ports on the PC, pass the rest
 *   block-outbound-port  drop connections from the PC to these ports, pass the rest
 *
 * Default-drop templates also pass ARP (and ICMPv6, when an IPv6 host is allowed) so the PC can
 * still find the hosts it may reach, and end with counting drop filters so the dropped traffic
 * shows up in the counters. Pass filters come first.
 */
import { InputError } from '../../errors';
import { AddressMatch, formatAddress, formatPort, listOf, parseAddress, parsePort, PortRange } from './address';
import { ETHERTYPE, FilterSpec, IpFilterSpec, PROTOCOL } from './filters';
import type { DirectionDefault } from './policies';
import { InterfaceName, parseInterfaces } from './ports';

export const TEMPLATE_NAMES = ['isolate', 'block-inbound-port', 'block-outbound-port', 'allow-only'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** Short forms used in device policy names ("oobkit-a-block-in"). */
export const TEMPLATE_SHORT: Readonly<Record<TemplateName, string>> = {
  isolate: 'isolate',
  'block-inbound-port': 'block-in',
  'block-outbound-port': 'block-out',
  'allow-only': 'allow-only',
};

const ALIASES: Readonly<Record<string, TemplateName>> = {
  quarantine: 'isolate',
  'block-in': 'block-inbound-port',
  'block-inbound': 'block-inbound-port',
  'block-out': 'block-outbound-port',
  'block-outbound': 'block-outbound-port',
  allowlist: 'allow-only',
  'allow-list': 'allow-only',
};

export function templateName(value: unknown): TemplateName {
  const v = String(value ?? '').trim().toLowerCase();
  const name = (ALIASES[v] ?? v) as TemplateName;
  if (!TEMPLATE_NAMES.includes(name)) throw new InputError(`unknown System Defense template "${String(value)}"; use one of: ${TEMPLATE_NAMES.join(', ')}`);
  return name;
}

export function isTemplateName(value: unknown): boolean {
  const v = String(value ?? '').trim().toLowerCase();
  return TEMPLATE_NAMES.includes((ALIASES[v] ?? v) as TemplateName);
}

export interface TemplatePlan {
  template: TemplateName;
  /** The parameters as understood, normalized (for the output and for comparisons). */
  params: Record<string, unknown>;
  in: DirectionDefault;
  out: DirectionDefault;
  /** In the order they are tried; names are given when applied. */
  filters: FilterSpec[];
  /** Interfaces asked for; undefined = every interface the device has. */
  interfaces?: InterfaceName[];
}

interface AllowEntry {
  address: AddressMatch;
  protocols?: number[];
  ports?: PortRange[];
}

const PASS: DirectionDefault = { drop: false, count: false, event: false };
const DROP: DirectionDefault = { drop: true, count: false, event: false };

function protocolsOf(value: unknown, what: string, dflt: number[] | undefined): number[] | undefined {
  if (value === undefined || value === null || value === '') return dflt;
  const v = String(value).trim().toLowerCase();
  if (v === 'both') return [6, 17];
  if (v === 'any' || v === 'all') return undefined;
  if (PROTOCOL[v] !== undefined) return [PROTOCOL[v]];
  if (/^\d{1,3}$/.test(v) && Number(v) <= 255) return [Number(v)];
  throw new InputError(`${what} "${String(value)}" is not tcp, udp, both, icmp, any or a protocol number`);
}

function portList(value: unknown, what: string): PortRange[] {
  const seen = new Set<string>();
  const out: PortRange[] = [];
  for (const p of listOf(value, what).map((x) => parsePort(x, what))) {
    const key = formatPort(p);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

function addressList(value: unknown, what: string): AddressMatch[] {
  const seen = new Set<string>();
  const out: AddressMatch[] = [];
  for (const a of listOf(value, what).map((x) => parseAddress(x, what))) {
    const key = formatAddress(a);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(a);
    }
  }
  return out;
}

function allowEntry(value: unknown): AllowEntry {
  if (typeof value === 'string') return { address: parseAddress(value, 'allow entry') };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`allow entry ${JSON.stringify(value)} must be an address or { host, ports?, protocol? }`);
  const o = value as Record<string, unknown>;
  const address = parseAddress(o.host ?? o.address, 'allow entry host');
  const ports = o.ports === undefined && o.port === undefined ? undefined : portList(o.ports ?? o.port, 'allow entry port');
  const protocols = protocolsOf(o.protocol, 'allow entry protocol', ports?.length ? [6, 17] : undefined);
  if (ports?.length && protocols?.some((p) => p !== 6 && p !== 17)) throw new InputError('allow entry ports need the tcp or udp protocol');
  const e: AllowEntry = { address };
  if (ports?.length) e.ports = ports;
  if (protocols) e.protocols = protocols;
  return e;
}

function describeEntry(e: AllowEntry): Record<string, unknown> {
  const d: Record<string, unknown> = { host: formatAddress(e.address) };
  if (e.protocols) d.protocol = e.protocols.length === 2 ? 'both' : protocolName(e.protocols[0]);
  if (e.ports) d.ports = e.ports.map(formatPort);
  return d;
}

function protocolName(n: number): string | number {
  return Object.entries(PROTOCOL).find(([, v]) => v === n)?.[0] ?? n;
}

const base = (direction: 'in' | 'out', action: 'pass' | 'drop', event: boolean) => ({ name: '', direction, action, count: true, event }) as const;

/** Pass filters for each allowed host both ways, then ARP/ICMPv6, then counting catch-all drops. */
function allowFilters(entries: AllowEntry[], event: boolean): FilterSpec[] {
  const filters: FilterSpec[] = [];
  for (const e of entries) {
    for (const protocol of e.protocols ?? [undefined]) {
      for (const port of e.ports ?? [undefined]) {
        const out: IpFilterSpec = { ...base('out', 'pass', false), kind: 'ip', version: e.address.version, dst: e.address };
        const inn: IpFilterSpec = { ...base('in', 'pass', false), kind: 'ip', version: e.address.version, src: e.address };
        if (protocol !== undefined) out.protocol = inn.protocol = protocol;
        if (port) {
          out.dstPort = port;
          inn.srcPort = port;
        }
        filters.push(out, inn);
      }
    }
  }
  filters.push({ ...base('out', 'pass', false), kind: 'ethernet', etherType: ETHERTYPE.arp }, { ...base('in', 'pass', false), kind: 'ethernet', etherType: ETHERTYPE.arp });
  if (entries.some((e) => e.address.version === 6)) {
    filters.push({ ...base('out', 'pass', false), kind: 'ip', version: 6, protocol: PROTOCOL.icmpv6 }, { ...base('in', 'pass', false), kind: 'ip', version: 6, protocol: PROTOCOL.icmpv6 });
  }
  for (const version of [4, 6] as const) {
    filters.push({ ...base('out', 'drop', event), kind: 'ip', version }, { ...base('in', 'drop', event), kind: 'ip', version });
  }
  return filters;
}

function blockFilters(direction: 'in' | 'out', ports: PortRange[], protocols: number[], hosts: AddressMatch[], event: boolean): FilterSpec[] {
  const filters: FilterSpec[] = [];
  for (const protocol of protocols) {
    for (const port of ports) {
      for (const host of hosts.length ? hosts : [undefined]) {
        const f: IpFilterSpec = { ...base(direction, 'drop', event), kind: 'ip', protocol, dstPort: port };
        if (host) {
          f.version = host.version;
          if (direction === 'in') f.src = host;
          else f.dst = host;
        }
        filters.push(f);
      }
    }
  }
  return filters;
}

const KNOWN_PARAMS: Readonly<Record<TemplateName, string[]>> = {
  isolate: ['managementHosts', 'management'],
  'allow-only': ['allow'],
  'block-inbound-port': ['ports', 'port', 'protocol', 'hosts'],
  'block-outbound-port': ['ports', 'port', 'protocol', 'hosts'],
};
const COMMON_PARAMS = ['interfaces', 'event', 'replace'];

export function buildPlan(templateValue: unknown, raw: Record<string, unknown> = {}): TemplatePlan {
  const template = templateName(templateValue);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError('template parameters must be an object');
  const unknown = Object.keys(raw).filter((k) => raw[k] !== undefined && !KNOWN_PARAMS[template].includes(k) && !COMMON_PARAMS.includes(k));
  if (unknown.length) throw new InputError(`${template} does not take ${unknown.map((k) => `"${k}"`).join(', ')}; it takes ${[...KNOWN_PARAMS[template], ...COMMON_PARAMS].join(', ')}`);
  if (raw.event !== undefined && typeof raw.event !== 'boolean') throw new InputError('event must be true or false');
  const event = raw.event === true;
  const interfaces = parseInterfaces(raw.interfaces);
  const common: Record<string, unknown> = { event };
  if (interfaces) common.interfaces = interfaces;

  switch (template) {
    case 'isolate': {
      const hosts = addressList(raw.managementHosts ?? raw.management, 'management host');
      const entries = hosts.map((address) => ({ address }));
      return { template, params: { managementHosts: hosts.map(formatAddress), ...common }, in: DROP, out: DROP, filters: allowFilters(entries, event), interfaces };
    }
    case 'allow-only': {
      const seen = new Set<string>();
      const entries: AllowEntry[] = [];
      for (const e of listOf(raw.allow, 'allow').map(allowEntry)) {
        const key = JSON.stringify(describeEntry(e));
        if (!seen.has(key)) {
          seen.add(key);
          entries.push(e);
        }
      }
      if (!entries.length) throw new InputError('allow-only needs at least one allowed host (use isolate to cut the PC off completely)');
      return { template, params: { allow: entries.map(describeEntry), ...common }, in: DROP, out: DROP, filters: allowFilters(entries, event), interfaces };
    }
    case 'block-inbound-port':
    case 'block-outbound-port': {
      const ports = portList(raw.ports ?? raw.port, 'port');
      if (!ports.length) throw new InputError(`${template} needs at least one port`);
      const protocols = protocolsOf(raw.protocol, 'protocol', [6, 17]);
      if (!protocols || protocols.some((p) => p !== 6 && p !== 17)) throw new InputError(`${template} blocks tcp, udp or both`);
      const hosts = addressList(raw.hosts, 'host');
      const direction = template === 'block-inbound-port' ? 'in' : 'out';
      const params: Record<string, unknown> = { ports: ports.map(formatPort), protocol: protocols.length === 2 ? 'both' : protocolName(protocols[0]), ...common };
      if (hosts.length) params.hosts = hosts.map(formatAddress);
      return { template, params, in: PASS, out: PASS, filters: blockFilters(direction, ports, protocols, hosts, event), interfaces };
    }
  }
}

/** Plans are the same when they would put the same policy on the device. */
export function samePlan(a: TemplatePlan, b: TemplatePlan): boolean {
  return a.template === b.template && JSON.stringify(a.params) === JSON.stringify(b.params);
}
