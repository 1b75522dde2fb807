/**
 * One AMT audit log record (an element of AMT_AuditLog.ReadRecords' EventRecords, base64), read
 * into who did what, when and from where. Layout, all integers big-endian:
 *
 *   AuditAppID u16 | EventID u16 | InitiatorType u8 | initiator data | TimeStamp u32 (Unix, UTC)
 *   | MCLocationType u8 | NetAddressLength u8 | NetAddress (text) | ExtendedDataLength u8 | ExtendedData
 *
 * Initiator data: HTTP Digest (0) = length u8 + user name; Kerberos (1) = user RID u32 + domain
 * length u8 + domain SID; local (2) and KVM default port (3) = nothing. MCLocationType: 0 IPv4,
 * 1 IPv6, 2 none. Extended data depends on the event; the ones a person needs are decoded below.
 */
import { auditEventName } from './audit-events';

export type AuditInitiator = 'digest' | 'kerberos' | 'local' | 'kvm-default-port' | 'unknown';

export interface AuditRecord {
  /** 1-based position in the device's log at the time it was read. */
  index?: number;
  /** ISO 8601, UTC. */
  time: string;
  appId: number;
  app: string;
  eventId: number;
  event: string;
  /** Stable slug: "reset", "user-added", "boot-options-set"... */
  action: string;
  initiator: AuditInitiator;
  /** Who did it: the Digest user name, the Kerberos SID, "local" or "kvm-default-port". */
  who: string;
  /** Digest user name, when the initiator used one. */
  user?: string;
  /** Kerberos user SID, when the initiator used Kerberos. */
  sid?: string;
  /** Network address of the console that did it, if any. */
  from?: string;
  /** Decoded extended data for the events that carry some (versions, user names, new time...). */
  details: Record<string, unknown>;
  /** Extended data as hex. */
  extendedData: string;
  /** One line for chat: "2024-05-01 09:12 UTC admin from 10.0.0.5: Remote Control: Reset". */
  summary: string;
  /** The record as the device sent it (base64). */
  raw: string;
}

/** A record that could not be read: where it was and why. */
export interface MalformedAuditRecord {
  index?: number;
  error: string;
  raw: string;
}

export class AuditRecordError extends Error {}

const INITIATORS: Readonly<Record<number, AuditInitiator>> = { 0: 'digest', 1: 'kerberos', 2: 'local', 3: 'kvm-default-port' };

class Reader {
  at = 0;
  constructor(private readonly b: Buffer) {}
  private need(n: number, what: string): void {
    if (this.at + n > this.b.length) throw new AuditRecordError(`record ends at byte ${this.b.length} inside ${what} (needs ${n} byte(s) at ${this.at})`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.b[this.at++];
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

/** Text in a record: printable, without the NUL terminators some firmware includes. */
function text(b: Buffer): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return Array.from(b.subarray(0, end), (c) => (c < 0x20 || c === 0x7f ? '?' : String.fromCharCode(c))).join('');
}

/** A binary Windows SID (revision, count, authority u48 BE, count x u32 LE) as S-1-5-21-...; undefined if it is not one. */
export function sidToString(b: Buffer): string | undefined {
  if (b.length < 8 || b[0] !== 1 || b.length !== 8 + 4 * b[1]) return undefined;
  const authority = b.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < b[1]; i++) subs.push(b.readUInt32LE(8 + 4 * i));
  return ['S', 1, authority, ...subs].join('-');
}

function fwVersion(b: Buffer, at: number): string {
  return [0, 2, 4, 6].map((o) => b.readUInt16BE(at + o)).join('.');
}

function initiatorDetails(b: Buffer): Record<string, unknown> {
  // An initiator as written in extended data (the user an ACL event is about).
  if (b.length < 2) return {};
  if (b[0] === 0) return { user: text(b.subarray(2, 2 + b[1])) };
  if (b[0] === 1 && b.length >= 6) {
    const rid = b.readUInt32BE(1);
    const domain = b.subarray(6, 6 + b[5]);
    const dsid = sidToString(domain);
    return { sid: dsid ? `${dsid}-${rid}` : `${domain.toString('hex')}-${rid}` };
  }
  return {};
}

const PROVISIONING_METHODS: Readonly<Record<number, string>> = { 1: 'PSK', 2: 'PKI', 3: 'manual', 5: 'admin control mode', 6: 'DAL' };
const UNPROVISION_SOURCES: Readonly<Record<number, string>> = { 1: 'BIOS', 2: 'MEBx', 3: 'local MEI', 4: 'local WS-Management', 5: 'remote WS-Management' };
const INVALID_LOGIN_SOURCES: Readonly<Record<number, string>> = { 0: 'AMT', 1: 'MEBx' };
const LOG_RECOVERY_REASONS: Readonly<Record<number, string>> = { 0: 'unknown', 1: 'migration failure', 2: 'initialization failure' };

/** Extended data of the events a person needs to read; everything else stays as hex only. */
function decodeDetails(appId: number, eventId: number, x: Buffer): Record<string, unknown> {
  if (x.length === 0) return {};
  const key = `${appId}/${eventId}`;
  switch (key) {
    case '16/1':
      return { provisioningMethod: PROVISIONING_METHODS[x[0]] ?? `method ${x[0]}` };
    case '16/2':
    case '16/4':
      return initiatorDetails(x);
    case '16/3':
      return { ...initiatorDetails(x.subarray(1)), changed: ['user name', 'password', 'local realms', 'remote realms', 'Kerberos domain', 'SID'].filter((_, i) => x[0] & (1 << i)) };
    case '16/5':
      return { source: INVALID_LOGIN_SOURCES[x[0]] ?? `source ${x[0]}` };
    case '16/19':
      return { source: UNPROVISION_SOURCES[x[0]] ?? `source ${x[0]}` };
    case '17/0':
    case '17/2':
    case '17/3':
    case '17/4':
      return { bootOptions: x.subarray(0, 7).toString('hex') };
    case '19/0':
      return x.length >= 16 ? { oldVersion: fwVersion(x, 0), newVersion: fwVersion(x, 8) } : {};
    case '19/1':
      return x.length >= 4 ? { reason: x.readUInt32BE(0) } : {};
    case '20/5':
      return { reason: LOG_RECOVERY_REASONS[x[0]] ?? `reason ${x[0]}` };
    case '21/0':
      return x.length >= 4 ? { newTime: new Date(x.readUInt32BE(0) * 1000).toISOString() } : {};
    case '22/1':
      return { hostname: text(x.subarray(1, 1 + x[0])) };
    case '22/2':
      return { domain: text(x.subarray(1, 1 + x[0])) };
    case '24/3':
      return { frozen: x[0] === 1 };
    default:
      return {};
  }
}

function detailText(d: Record<string, unknown>): string {
  const parts: string[] = [];
  if (d.user !== undefined) parts.push(`user ${d.user}`);
  if (d.sid !== undefined) parts.push(`SID ${d.sid}`);
  if (d.oldVersion !== undefined) parts.push(`${d.oldVersion} -> ${d.newVersion}`);
  if (d.newTime !== undefined) parts.push(`to ${d.newTime}`);
  if (d.hostname !== undefined) parts.push(String(d.hostname));
  if (d.domain !== undefined) parts.push(String(d.domain));
  if (d.source !== undefined) parts.push(`from ${d.source}`);
  if (d.provisioningMethod !== undefined) parts.push(String(d.provisioningMethod));
  if (d.reason !== undefined) parts.push(`reason ${d.reason}`);
  return parts.join(', ');
}

export function decodeAuditRecord(base64: string, index?: number): AuditRecord {
  const raw = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw) || raw.length % 4 !== 0) throw new AuditRecordError('record is not base64');
  const b = Buffer.from(raw, 'base64');
  const r = new Reader(b);
  const appId = r.u16('AuditAppID');
  const eventId = r.u16('EventID');
  const type = r.u8('InitiatorType');
  const initiator = INITIATORS[type] ?? 'unknown';
  let user: string | undefined;
  let sid: string | undefined;
  if (type === 0) {
    user = text(r.bytes(r.u8('user name length'), 'user name'));
  } else if (type === 1) {
    const rid = r.u32('Kerberos user RID');
    const domain = r.bytes(r.u8('Kerberos domain length'), 'Kerberos domain');
    const dsid = sidToString(domain);
    sid = dsid ? `${dsid}-${rid}` : `${domain.toString('hex')}-${rid}`;
  } else if (type !== 2 && type !== 3) {
    throw new AuditRecordError(`unknown initiator type ${type}`);
  }
  const seconds = r.u32('TimeStamp');
  const location = r.u8('MCLocationType');
  const address = text(r.bytes(r.u8('network address length'), 'network address'));
  const extended = b.length > r.at ? r.bytes(r.u8('extended data length'), 'extended data') : Buffer.alloc(0);
  if (r.at !== b.length) throw new AuditRecordError(`${b.length - r.at} byte(s) left over after the extended data`);

  const names = auditEventName(appId, eventId);
  const time = new Date(seconds * 1000).toISOString();
  const who = user ?? sid ?? (initiator === 'unknown' ? 'unknown' : initiator);
  const from = location === 2 || address === '' ? undefined : address;
  const details = decodeDetails(appId, eventId, extended);
  const extra = detailText(details);
  const summary = `${time.slice(0, 16).replace('T', ' ')} UTC ${who}${from ? ` from ${from}` : ''}: ${names.app}: ${names.event}${extra ? ` (${extra})` : ''}`;
  const rec: AuditRecord = {
    time,
    appId,
    app: names.app,
    eventId,
    event: names.event,
    action: names.action,
    initiator,
    who,
    details,
    extendedData: extended.toString('hex'),
    summary,
    raw,
  };
  if (index !== undefined) rec.index = index;
  if (user !== undefined) rec.user = user;
  if (sid !== undefined) rec.sid = sid;
  if (from !== undefined) rec.from = from;
  return rec;
}

export interface AuditRecordInput {
  appId: number;
  eventId: number;
  initiator: { type: 'digest'; user: string } | { type: 'kerberos'; rid: number; domainSid: Buffer } | { type: 'local' } | { type: 'kvm-default-port' };
  /** Unix seconds. */
  time: number;
  address?: string;
  ipv6?: boolean;
  extended?: Buffer;
}

/** The record bytes for `r`, base64 (the simulator writes its audit log with this). */
export function encodeAuditRecord(r: AuditRecordInput): string {
  const parts: Buffer[] = [];
  const u8 = (n: number) => parts.push(Buffer.from([n & 0xff]));
  const u16 = (n: number) => {
    const x = Buffer.alloc(2);
    x.writeUInt16BE(n);
    parts.push(x);
  };
  const u32 = (n: number) => {
    const x = Buffer.alloc(4);
    x.writeUInt32BE(n >>> 0);
    parts.push(x);
  };
  const counted = (b: Buffer) => {
    if (b.length > 255) throw new Error('audit record field longer than 255 bytes');
    u8(b.length);
    parts.push(b);
  };
  u16(r.appId);
  u16(r.eventId);
  const i = r.initiator;
  if (i.type === 'digest') {
    u8(0);
    counted(Buffer.from(i.user, 'latin1'));
  } else if (i.type === 'kerberos') {
    u8(1);
    u32(i.rid);
    counted(i.domainSid);
  } else u8(i.type === 'local' ? 2 : 3);
  u32(r.time);
  u8(r.address ? (r.ipv6 ? 1 : 0) : 2);
  counted(Buffer.from(r.address ?? '', 'latin1'));
  counted(r.extended ?? Buffer.alloc(0));
  return Buffer.concat(parts).toString('base64');
}
