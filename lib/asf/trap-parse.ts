/**
 * A quick reader for the common case of an SNMP trap: an SNMPv1 Trap-PDU or an SNMPv2c
 * SNMPv2-Trap-PDU, encoded as every agent encodes them (each length exact, each sequence holding
 * exactly its parts, nothing after the message). What it reads is what net-snmp's parser reads
 * from the same bytes (test: lib/asf/trap-parse.test.ts compares them on generated and mangled
 * messages). Anything else (informs, which need an answer; other PDUs; value types it does not
 * read; any length or nesting that is not exact) it leaves to net-snmp by answering undefined, so
 * what net-snmp says about odd input stays what the receiver reports.
 *
 * Why: net-snmp's BER reader makes a Reader, a PDU object, a Buffer slice per field and an array
 * per OID, and was the largest single cost of a received trap. This reads each field in place.
 * Work is linear in the datagram's length, and no input makes it loop or throw.
 */

/** ASN.1 / SNMP tags it reads. */
const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const NULL = 0x05;
const OID = 0x06;
const IP_ADDRESS = 0x40;
const COUNTER = 0x41;
const GAUGE = 0x42;
const TIME_TICKS = 0x43;
const OPAQUE = 0x44;
const COUNTER64 = 0x46;
export const TRAP_V1_PDU = 0xa4;
export const TRAP_V2_PDU = 0xa7;

export interface ParsedVarbind {
  oid: string;
  type: number;
  value: unknown;
}

/** The fields of a trap message, as net-snmp's message and PDU would hold them. */
export interface ParsedTrap {
  version: number;
  community: string;
  /** TRAP_V1_PDU or TRAP_V2_PDU. */
  type: number;
  /** v1 only. */
  enterprise?: string;
  agentAddr?: string;
  generic?: number;
  specific?: number;
  upTime?: number;
  varbinds: ParsedVarbind[];
}

/** Where a read is in a message, and where the contents of the last header read start. */
class Cursor {
  at = 0;
  start = 0;
  b: Buffer = Buffer.alloc(0);

  /**
   * Reads a tag and a length (short form, or long form of one or two bytes) ending at or before
   * `end`; returns the tag, or -1 when it is not there or the contents would pass `end`.
   */
  header(end: number): number {
    const b = this.b;
    let at = this.at;
    if (at + 2 > end) return -1;
    const tag = b[at++];
    let len = b[at++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 1 && at + 1 <= end) len = b[at++];
      else if (n === 2 && at + 2 <= end) {
        len = (b[at] << 8) | b[at + 1];
        at += 2;
      } else return -1;
    }
    if (at + len > end) return -1;
    this.start = at;
    this.at = at + len;
    return tag;
  }
}

/**
 * An INTEGER's contents as net-snmp's reader computes them (first byte signed, the rest
 * unsigned); undefined for none or more than six bytes (net-snmp refuses or rounds those).
 */
function integerAt(b: Buffer, start: number, end: number): number | undefined {
  const n = end - start;
  if (n < 1 || n > 6) return undefined;
  let v = (b[start] << 24) >> 24;
  for (let i = start + 1; i < end; i++) v = v * 256 + b[i];
  return v;
}

/**
 * Texts of recently read short strings (OIDs, communities, addresses), in 64 slots by a hash of
 * their bytes: a flood of traps carries the same few in every message. Bounded, and a message
 * full of new ones only costs their making.
 */
class TextCache {
  private readonly bytes: Array<Buffer | undefined> = new Array(64).fill(undefined);
  private readonly texts: string[] = new Array(64).fill('');

  /** The text of b[start, end) made by `make`, made once for the same bytes (up to 64 bytes; longer ones every time). */
  textOf(b: Buffer, start: number, end: number, make: (b: Buffer, start: number, end: number) => string): string {
    const n = end - start;
    if (n > 64) return make(b, start, end);
    let h = n;
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x9e3779b1);
    const slot = h >>> 26;
    const known = this.bytes[slot];
    if (known !== undefined && known.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (known[i] !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.texts[slot];
    }
    const text = make(b, start, end);
    this.bytes[slot] = Buffer.from(b.subarray(start, end));
    this.texts[slot] = text;
    return text;
  }
}

const utf8Text = (b: Buffer, start: number, end: number) => b.toString('utf8', start, end);
const dottedQuad = (b: Buffer, start: number) => `${b[start]}.${b[start + 1]}.${b[start + 2]}.${b[start + 3]}`;
const communities = new TextCache();
const addresses = new TextCache();

/** An OID's contents as net-snmp writes it out (its arithmetic, also for odd arcs). */
function oidText(b: Buffer, start: number, end: number): string {
  const values: number[] = [];
  let value = 0;
  for (let i = start; i < end; i++) {
    const byte = b[i];
    value <<= 7;
    value += byte & 0x7f;
    if ((byte & 0x80) === 0) {
      values.push(value >>> 0);
      value = 0;
    }
  }
  const first = values.shift()!;
  values.unshift(first % 40);
  values.unshift((first / 40) >> 0);
  return values.join('.');
}

const oids = new TextCache();

/** An OID's text, or undefined when it is empty or would not end cleanly (net-snmp makes odd texts of those). */
function oidAt(b: Buffer, start: number, end: number): string | undefined {
  if (end <= start || end - start > 128 || b[end - 1] & 0x80) return undefined;
  return oids.textOf(b, start, end, oidText);
}

/** A varbind's value of type `tag` at [start, end), as net-snmp reads it; `NOT_READ` when left to net-snmp. */
const NOT_READ = Symbol('not-read');

function valueAt(b: Buffer, tag: number, start: number, end: number): unknown {
  switch (tag) {
    case OCTET_STRING:
    case OPAQUE:
    case COUNTER64:
      return end === start ? Buffer.alloc(0) : b.subarray(start, end);
    case INTEGER: {
      const v = integerAt(b, start, end);
      return v === undefined ? NOT_READ : v;
    }
    case COUNTER:
    case GAUGE:
    case TIME_TICKS: {
      const v = integerAt(b, start, end);
      return v === undefined ? NOT_READ : v >>> 0;
    }
    case OID: {
      const v = oidAt(b, start, end);
      return v === undefined ? NOT_READ : v;
    }
    case IP_ADDRESS:
      return end - start === 4 ? addresses.textOf(b, start, end, dottedQuad) : NOT_READ;
    case NULL:
      return end === start ? null : NOT_READ;
    default:
      return NOT_READ;
  }
}

const cursor = new Cursor();

/**
 * The trap in `b`, or undefined when it is not a well-formed v1 Trap-PDU or v2c SNMPv2-Trap-PDU
 * (then net-snmp reads it, and says what is wrong).
 */
export function parseTrap(b: Buffer): ParsedTrap | undefined {
  // One cursor for every message (a read runs to its end synchronously); it keeps no datagram after.
  cursor.b = b;
  cursor.at = 0;
  const t = readTrap(cursor, b);
  cursor.b = NO_BYTES;
  return t;
}

const NO_BYTES = Buffer.alloc(0);

function readTrap(c: Cursor, b: Buffer): ParsedTrap | undefined {
  const n = b.length;
  // The message: exactly the whole datagram.
  if (c.header(n) !== SEQUENCE || c.at !== n) return undefined;
  c.at = c.start;
  if (c.header(n) !== INTEGER) return undefined;
  const version = integerAt(b, c.start, c.at);
  if (version !== 0 && version !== 1) return undefined;
  if (c.header(n) !== OCTET_STRING) return undefined;
  const community = c.start === c.at ? '' : communities.textOf(b, c.start, c.at, utf8Text);
  const type = c.header(n);
  if ((type !== TRAP_V1_PDU && type !== TRAP_V2_PDU) || c.at !== n) return undefined;
  c.at = c.start;
  const t: ParsedTrap = { version, community, type, varbinds: [] };
  if (type === TRAP_V1_PDU) {
    if (c.header(n) !== OID) return undefined;
    t.enterprise = oidAt(b, c.start, c.at);
    if (t.enterprise === undefined) return undefined;
    if (c.header(n) !== IP_ADDRESS || c.at - c.start !== 4) return undefined;
    t.agentAddr = addresses.textOf(b, c.start, c.at, dottedQuad);
    if (c.header(n) !== INTEGER) return undefined;
    t.generic = integerAt(b, c.start, c.at);
    if (c.header(n) !== INTEGER) return undefined;
    t.specific = integerAt(b, c.start, c.at);
    if (c.header(n) !== TIME_TICKS) return undefined;
    const upTime = integerAt(b, c.start, c.at);
    if (t.generic === undefined || t.specific === undefined || upTime === undefined) return undefined;
    t.upTime = upTime >>> 0;
  } else {
    // request-id, error-status, error-index: read (they must be integers) and not kept.
    for (let i = 0; i < 3; i++) if (c.header(n) !== INTEGER || integerAt(b, c.start, c.at) === undefined) return undefined;
  }
  // The varbind list: exactly the rest of the PDU, each varbind exactly an OID and a value.
  if (c.header(n) !== SEQUENCE || c.at !== n) return undefined;
  c.at = c.start;
  while (c.at < n) {
    if (c.header(n) !== SEQUENCE) return undefined;
    const end = c.at;
    c.at = c.start;
    if (c.header(end) !== OID) return undefined;
    const oid = oidAt(b, c.start, c.at);
    if (oid === undefined) return undefined;
    const tag = c.header(end);
    if (tag < 0 || c.at !== end) return undefined;
    const value = valueAt(b, tag, c.start, end);
    if (value === NOT_READ) return undefined;
    t.varbinds.push({ oid, type: tag, value });
  }
  return t;
}
