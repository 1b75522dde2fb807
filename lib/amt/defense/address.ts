/**
 * Addresses and ports as System Defense filters hold them. AMT_IPHeadersFilter carries IP addresses
 * as OctetStrings sized by HdrIPVersion (4 bytes for IPv4, 16 for IPv6), written as upper-case hex
 * ("0A000005" for 10.0.0.5), with either a mask (ANDed with the packet's address) or an inclusive
 * end of range, never both (AMT_IPHeadersFilter class reference). Ports are inclusive ranges.
 *
 * What a user may write: "10.0.0.5", "10.0.0.0/8", "10.0.0.0/255.0.0.0", "10.0.0.1-10.0.0.9",
 * "2001:db8::/32", "2001:db8::1-2001:db8::ff". Host names are refused: a filter matches addresses,
 * and a name resolved today may point elsewhere tomorrow.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { InputError } from '../../errors';

export type IpVersion = 4 | 6;

/** One address, a masked block or a range, in wire form. */
export interface AddressMatch {
  version: IpVersion;
  /** Upper-case hex of the (masked) address, or of the start of the range. */
  address: string;
  /** Upper-case hex mask; absent for a single address or a range. */
  mask?: string;
  /** Upper-case hex of the inclusive end of a range. */
  end?: string;
}

export interface PortRange {
  start: number;
  end: number;
}

/** The bytes of an IPv4 or IPv6 address, or undefined when the text is neither. */
export function ipBytes(text: string): Buffer | undefined {
  const t = text.trim();
  if (isIPv4(t)) return Buffer.from(t.split('.').map(Number));
  if (!isIPv6(t) || t.includes('%')) return undefined;
  let head = t;
  let tail4: number[] = [];
  const lastColon = t.lastIndexOf(':');
  if (t.slice(lastColon + 1).includes('.')) {
    // An IPv4 tail ("::ffff:192.0.2.1") is two 16-bit groups.
    tail4 = t.slice(lastColon + 1).split('.').map(Number);
    head = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...new Array(8 - l.length - r.length).fill('0'), ...r];
  if (groups.length !== 8) return undefined;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail4.length === 4) tail4.forEach((x, i) => (b[12 + i] = x));
  return b;
}

export function versionOf(bytes: Buffer): IpVersion {
  return bytes.length === 4 ? 4 : 6;
}

/** Text form: dotted quad, or RFC 5952 IPv6 (lower case, the longest zero run as "::"). */
export function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

export function toHex(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase();
}

/** Bytes from the hex a device answered with; undefined when it is not 4 or 16 bytes of hex. */
export function fromHex(hex: string): Buffer | undefined {
  const h = hex.trim();
  if (!/^(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{32})$/.test(h)) return undefined;
  return Buffer.from(h, 'hex');
}

function prefixMask(version: IpVersion, prefix: number): Buffer {
  const b = Buffer.alloc(version === 4 ? 4 : 16);
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    b[i] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return b;
}

/** Prefix length of a contiguous mask, or undefined for a mask with holes. */
export function maskPrefix(mask: Buffer): number | undefined {
  let n = 0;
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const on = (byte >> bit) & 1;
      if (on && ended) return undefined;
      if (on) n++;
      else ended = true;
    }
  }
  return n;
}

function and(a: Buffer, m: Buffer): Buffer {
  return Buffer.from(a.map((x, i) => x & m[i]));
}

/**
 * Parse what a user wrote for a host or network. Host bits set under a prefix are cleared
 * ("10.1.2.3/8" is 10.0.0.0/8), since AMT ANDs the mask with the address anyway.
 */
export function parseAddress(value: unknown, what = 'address'): AddressMatch {
  if (typeof value !== 'string' || value.trim() === '') throw new InputError(`${what} must be an IP address, a network (a.b.c.d/n) or a range (a-b); got ${JSON.stringify(value)}`);
  const text = value.trim();
  const bad = (why: string) => new InputError(`${what} "${text}" ${why}`);
  if (text.includes('/')) {
    const [addr, prefixText, ...rest] = text.split('/');
    const bytes = ipBytes(addr);
    if (!bytes || rest.length) throw bad('is not an IP network (write 10.0.0.0/8 or 2001:db8::/32)');
    const version = versionOf(bytes);
    let mask: Buffer;
    if (/^\d{1,3}$/.test(prefixText)) {
      const prefix = Number(prefixText);
      if (prefix > (version === 4 ? 32 : 128)) throw bad(`has a prefix longer than ${version === 4 ? 32 : 128} bits`);
      mask = prefixMask(version, prefix);
    } else {
      const m = ipBytes(prefixText);
      if (!m || m.length !== bytes.length || maskPrefix(m) === undefined) throw bad('has a mask that is neither a prefix length nor a contiguous netmask');
      mask = m;
    }
    const prefix = maskPrefix(mask) as number;
    if (prefix === bytes.length * 8) return { version, address: toHex(bytes) };
    return { version, address: toHex(and(bytes, mask)), mask: toHex(mask) };
  }
  const dash = text.indexOf('-');
  if (dash > 0) {
    const from = ipBytes(text.slice(0, dash));
    const to = ipBytes(text.slice(dash + 1));
    if (!from || !to) throw bad('is not an IP range (write 10.0.0.1-10.0.0.9)');
    if (from.length !== to.length) throw bad('mixes IPv4 and IPv6');
    if (Buffer.compare(from, to) > 0) throw bad('ends before it starts');
    if (Buffer.compare(from, to) === 0) return { version: versionOf(from), address: toHex(from) };
    return { version: versionOf(from), address: toHex(from), end: toHex(to) };
  }
  const bytes = ipBytes(text);
  if (!bytes) {
    const looksLikeName = /^[A-Za-z0-9.-]+$/.test(text) && /[A-Za-z]/.test(text);
    throw bad(looksLikeName ? 'is a host name; give its IP address (filters match addresses, not names)' : 'is not an IP address');
  }
  return { version: versionOf(bytes), address: toHex(bytes) };
}

/** The text a person reads back: "10.0.0.5", "10.0.0.0/8", "10.0.0.1-10.0.0.9". */
export function formatAddress(m: AddressMatch): string {
  const a = fromHex(m.address);
  if (!a) return m.address;
  if (m.end) {
    const e = fromHex(m.end);
    return `${formatIp(a)}-${e ? formatIp(e) : m.end}`;
  }
  if (m.mask) {
    const mask = fromHex(m.mask);
    const prefix = mask ? maskPrefix(mask) : undefined;
    return prefix === undefined ? `${formatIp(a)}/${mask ? formatIp(mask) : m.mask}` : `${formatIp(a)}/${prefix}`;
  }
  return formatIp(a);
}

/** A port (443), a range ("1000-2000" or { start, end }), 1..65535. */
export function parsePort(value: unknown, what = 'port'): PortRange {
  const bad = () => new InputError(`${what} ${JSON.stringify(value)} is not a port (1-65535) or a range of ports (1000-2000)`);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw bad();
    return { start: value, end: value };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const start = parsePort(o.start, what).start;
    const end = o.end === undefined ? start : parsePort(o.end, what).start;
    if (end < start) throw new InputError(`${what} range ${start}-${end} ends before it starts`);
    return { start, end };
  }
  if (typeof value !== 'string') throw bad();
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(value);
  if (!m) throw bad();
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || start > 65535 || end < 1 || end > 65535) throw bad();
  if (end < start) throw new InputError(`${what} range ${start}-${end} ends before it starts`);
  return { start, end };
}

export function formatPort(p: PortRange): string {
  return p.start === p.end ? String(p.start) : `${p.start}-${p.end}`;
}

/** A list from an array, or from text separated by commas, spaces or new lines. */
export function listOf(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.split(/[\s,;]+/).filter(Boolean);
  if (typeof value === 'number' || typeof value === 'object') return [value];
  throw new InputError(`${what} must be a list`);
}
