/**
 * Platform Event Traps (ASF 2.0 / IPMI PET 1.0): an SNMPv1 trap with enterprise
 * 1.3.6.1.4.1.3183.1.1, generic trap 6 and
 *   specific trap = sensorType << 16 | eventType << 8 | deassert << 7 | offset,
 * carrying one OCTET STRING varbind (1.3.6.1.4.1.3183.1.1.1) laid out as
 *   GUID(16) sequence(2) timestamp(4, seconds since 1998-01-01) utcOffset(2, minutes; 0xFFFF
 *   unspecified) trapSource(1) eventSource(1) severity(1) sensorDevice(1) sensorNumber(1)
 *   entity(1) entityInstance(1) eventData(8) language(1) IANA(4) systemId(2) OEM data...
 * (46 fixed bytes). v2c notifications carry the same varbind, the specific trap as the last arc
 * of snmpTrapOID (…3183.1.1.0.<specific>).
 *
 * Real senders bend this: some write the IANA number little-endian (Supermicro: 7C 2A 00 00 for
 * 10876), some a Unix timestamp, some stop short. Decoding never throws: it reads what is there,
 * lists the quirks it met, and flags what is missing.
 */
import { Alert, AlertDevice, AlertDraft, alertDeviceOf, makeDedupKey, NO_DETAILS, Severity, stableId } from '../alerts/alert';
import { isoTime } from '../util/iso-time';
import { entityInstanceText, entityName, interpret, Interpretation, ipmiEventName, PET_SEVERITIES, SensorEvent, severityOf } from '../events/ipmi-events';

export const PET_ENTERPRISE = '1.3.6.1.4.1.3183.1.1';
export const PET_VARBIND_OID = '1.3.6.1.4.1.3183.1.1.1';
export const PET_FIXED_LENGTH = 46;
/** Seconds from 1970-01-01 to 1998-01-01, the PET epoch. */
export const PET_EPOCH_OFFSET = 883_612_800;

export interface PetEvent extends SensorEvent {
  specificTrap: number;
  guid?: string;
  sequence?: number;
  /** When the device says the event happened; absent when unspecified. */
  time?: Date;
  utcOffsetMinutes?: number;
  trapSource?: number;
  eventSource?: number;
  sensorDevice?: number;
  sensorNumber?: number;
  language?: number;
  iana?: number;
  systemId?: number;
  oem?: string;
  /** The OEM custom fields after the fixed bytes, each with its type (PET 1.0: FRU type/length bytes, ended by C1h). */
  oemFields?: OemField[];
  /** How many bytes the varbind had. */
  length: number;
  /** Fewer than the 46 fixed bytes. */
  truncated: boolean;
  quirks: string[];
}

export interface OemField {
  type: 'binary' | 'bcd-plus' | '6-bit-ascii' | 'text';
  /** Text for the text types, hex for binary. */
  value: string;
}

/** The end marker of the OEM custom fields (a type/length byte: 8-bit text, length 1). */
export const PET_END_MARKER = 0xc1;

const BCD_PLUS = '0123456789 -.:,_';

/** 6-bit packed ASCII (FRU spec): four characters in three bytes, least significant bits first. */
function sixBitAscii(b: Buffer): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc |= byte << bits;
    bits += 8;
    while (bits >= 6) {
      out += String.fromCharCode(0x20 + (acc & 0x3f));
      acc >>>= 6;
      bits -= 6;
    }
  }
  return out;
}

/**
 * The OEM custom fields of a PET (the bytes after the 46 fixed ones): type/length bytes as in the
 * FRU specification (bits 7:6 the type, 5:0 the length), ended by C1h. Read as far as the bytes
 * go; a field cut short keeps what is there.
 */
export function decodeOemFields(b: Buffer): OemField[] {
  const fields: OemField[] = [];
  for (let at = 0; at < b.length && fields.length < 32; ) {
    const tl = b[at];
    if (tl === PET_END_MARKER) break;
    const data = b.subarray(at + 1, Math.min(b.length, at + 1 + (tl & 0x3f)));
    at += 1 + (tl & 0x3f);
    const type = tl >> 6;
    if (type === 3) fields.push({ type: 'text', value: data.toString('latin1') });
    else if (type === 2) fields.push({ type: '6-bit-ascii', value: sixBitAscii(data) });
    else if (type === 1) fields.push({ type: 'bcd-plus', value: [...data].map((x) => BCD_PLUS[x >> 4] + BCD_PLUS[x & 15]).join('') });
    else fields.push({ type: 'binary', value: data.toString('hex') });
  }
  return fields;
}

/**
 * The event offset: the specific trap's four bits, except 0Fh ("unspecified" there), for which
 * PET 1.0 points to event data 1, bits 3:0.
 */
function offsetOf(s: number, eventData1: number): number {
  const offset = s & 0x0f;
  return offset === 0x0f ? eventData1 & 0x0f : offset;
}

export function splitSpecificTrap(specific: number): { sensorType: number; eventType: number; deassert: boolean; offset: number } {
  const s = specific >>> 0;
  return { sensorType: (s >>> 16) & 0xff, eventType: (s >>> 8) & 0xff, deassert: (s & 0x80) !== 0, offset: s & 0x0f };
}

export function specificTrapOf(e: { sensorType: number; eventType: number; deassert?: boolean; offset: number }): number {
  return ((e.sensorType & 0xff) << 16) | ((e.eventType & 0xff) << 8) | (e.deassert ? 0x80 : 0) | (e.offset & 0x0f);
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The text of recently seen GUIDs, in 256 slots by a hash of their 16 bytes. Why: a device sends
 * the same GUID in every trap, so a flood of traps reuses one string per device instead of
 * formatting (and keeping) one per trap.
 */
class GuidTextCache {
  private readonly words = new Uint32Array(256 * 4);
  private readonly texts: Array<string | undefined> = new Array(256).fill(undefined);

  /** The first 16 bytes of `b` as 8-4-4-4-12 hex. */
  textOf(b: Buffer): string {
    const w0 = b.readUInt32BE(0);
    const w1 = b.readUInt32BE(4);
    const w2 = b.readUInt32BE(8);
    const w3 = b.readUInt32BE(12);
    const slot = Math.imul(w0 ^ w1 ^ w2 ^ w3, 0x9e3779b1) >>> 24;
    const at = slot * 4;
    const words = this.words;
    const known = this.texts[slot];
    if (known !== undefined && words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) return known;
    const text = guidText(b);
    words[at] = w0;
    words[at + 1] = w1;
    words[at + 2] = w2;
    words[at + 3] = w3;
    this.texts[slot] = text;
    return text;
  }
}

/** 16 bytes as 8-4-4-4-12 hex, written into bytes and read once: one flat string (an alert keeps it). */
function guidText(b: Buffer): string {
  const out = Buffer.allocUnsafe(36);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = 0x2d;
    out[o++] = HEX_DIGITS[b[i] >> 4];
    out[o++] = HEX_DIGITS[b[i] & 15];
  }
  return out.toString('latin1');
}

const guidTexts = new GuidTextCache();

/** The first 16 bytes as 8-4-4-4-12 hex, in the order they came. */
export function formatGuid(b: Buffer): string {
  if (b.length < 16) {
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }
  return guidTexts.textOf(b);
}

/** The same GUID with its first three fields byte-swapped (SMBIOS order vs RFC 4122 order). */
export function swapGuid(guid: string): string {
  const h = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(h)) return guid;
  const sw = (s: string) => s.match(/../g)!.reverse().join('');
  return formatGuid(Buffer.from(sw(h.slice(0, 8)) + sw(h.slice(8, 12)) + sw(h.slice(12, 16)) + h.slice(16), 'hex'));
}

const DAY = 86_400_000;

function decodeTime(raw: number, utcOffset: number | undefined, receivedAt: number, quirks: string[]): Date | undefined {
  if (raw === 0 || raw === 0xffffffff) return undefined;
  const offsetMs = utcOffset === undefined ? 0 : utcOffset * 60_000;
  const pet = (raw + PET_EPOCH_OFFSET) * 1000 - offsetMs;
  if (pet <= receivedAt + 2 * DAY) return new Date(pet);
  // Read as PET time it lies in the future; some firmware writes seconds since 1970 instead.
  const unix = raw * 1000 - offsetMs;
  if (unix <= receivedAt + 2 * DAY && unix >= Date.UTC(2000, 0, 1)) {
    quirks.push('unix-timestamp');
    return new Date(unix);
  }
  quirks.push('timestamp-in-future');
  return undefined;
}

/** IANA enterprise numbers stay well below 2^24; a big-endian read above that is byte-swapped. */
function decodeIana(b: Buffer, at: number, quirks: string[]): number {
  const be = b.readUInt32BE(at);
  const le = b.readUInt32LE(at);
  if (be > 0xffffff && le <= 0xffffff) {
    quirks.push('little-endian-iana');
    return le;
  }
  return be;
}

/**
 * Decode the PET varbind for a given specific trap. `data` may be anything a trap carried: a
 * short, long or empty buffer is read as far as it goes.
 */
export function decodePet(specificTrap: number, data: Buffer | undefined, receivedAt = Date.now()): PetEvent {
  const s = (Number.isFinite(specificTrap) ? specificTrap : 0) >>> 0;
  const b = Buffer.isBuffer(data) ? data : Buffer.alloc(0);
  const n = b.length;
  const quirks: string[] = [];
  let utcOffset: number | undefined;
  if (n >= 24 && b.readUInt16BE(22) !== 0xffff) {
    utcOffset = b.readInt16BE(22);
    if (Math.abs(utcOffset) > 14 * 60) {
      quirks.push('bad-utc-offset');
      utcOffset = undefined;
    }
  }
  if (n >= PET_FIXED_LENGTH) {
    // The whole varbind, made in one piece (a flood of traps makes tens of thousands a second).
    const ev: PetEvent = {
      specificTrap: s,
      sensorType: (s >>> 16) & 0xff,
      eventType: (s >>> 8) & 0xff,
      deassert: (s & 0x80) !== 0,
      offset: s & 0x0f,
      length: n,
      truncated: false,
      quirks,
      guid: formatGuid(b),
      sequence: b.readUInt16BE(16),
      utcOffsetMinutes: utcOffset,
      time: decodeTime(b.readUInt32BE(18), utcOffset, receivedAt, quirks),
      trapSource: b[24],
      eventSource: b[25],
      severityCode: b[26],
      sensorDevice: b[27],
      sensorNumber: b[28],
      entity: b[29],
      entityInstance: b[30],
      eventData: [b[31], b[32], b[33], b[34], b[35], b[36], b[37], b[38]],
      language: b[39],
      iana: decodeIana(b, 40, quirks),
      systemId: b.readUInt16BE(44),
      oem: n > PET_FIXED_LENGTH ? b.subarray(46, Math.min(n, 46 + 256)).toString('hex') : undefined,
      oemFields: n > PET_FIXED_LENGTH + 1 ? decodeOemFields(b.subarray(46, Math.min(n, 46 + 256))) : undefined,
    };
    ev.offset = offsetOf(s, b[31]);
    return ev;
  }
  const ev: PetEvent = {
    specificTrap: s,
    sensorType: (s >>> 16) & 0xff,
    eventType: (s >>> 8) & 0xff,
    deassert: (s & 0x80) !== 0,
    offset: s & 0x0f,
    length: n,
    truncated: true,
    quirks,
  };
  // A short varbind: read as far as the bytes go.
  if (n >= 16) ev.guid = formatGuid(b);
  if (n >= 18) ev.sequence = b.readUInt16BE(16);
  if (utcOffset !== undefined) ev.utcOffsetMinutes = utcOffset;
  if (n >= 22) ev.time = decodeTime(b.readUInt32BE(18), utcOffset, receivedAt, quirks);
  if (n >= 25) ev.trapSource = b[24];
  if (n >= 26) ev.eventSource = b[25];
  if (n >= 27) ev.severityCode = b[26];
  if (n >= 28) ev.sensorDevice = b[27];
  if (n >= 29) ev.sensorNumber = b[28];
  if (n >= 30) ev.entity = b[29];
  if (n >= 31) ev.entityInstance = b[30];
  if (n >= 32) {
    const eventData: number[] = [];
    for (let i = 31; i < 39 && i < n; i++) eventData.push(b[i]);
    ev.eventData = eventData;
    ev.offset = offsetOf(s, b[31]);
  }
  if (n >= 40) ev.language = b[39];
  if (n >= 44) ev.iana = decodeIana(b, 40, quirks);
  if (n > 0) quirks.push(`short-varbind-${n}`);
  else quirks.push('no-varbind');
  return ev;
}

export interface PetContext {
  device: AlertDevice;
  /**
   * Given for a device whose traps all come with the same `device` object: the device as its
   * alerts carry it (its non-empty fields, the trap's GUID where it has none) is kept here from
   * trap to trap, and the engine's open keys of the device share that one object instead of
   * keeping a copy each (fewer objects for the GC to copy and mark). Alerts get their own copy.
   */
  kept?: { device?: AlertDevice };
  /** Sender address, for the details. */
  from?: string;
  receivedAt?: number;
  raw?: Buffer;
}

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
/** Entities too vague to name in a summary. */
const VAGUE_ENTITIES = new Set(['unspecified', 'unknown', 'other']);

interface Reading {
  i: Interpretation;
  entity?: string;
  summary: string;
}

/**
 * Readings by everything they depend on, at most 4,096 (then it starts over). Why: a flood of
 * traps reads the same few events over and over, and working out a sentence costs more than the
 * rest of a trap's decoding.
 */
const readingCache = new Map<number, Reading>();

/** Our reading of an event (kind, sentence, entity name), worked out once per distinct event. */
function readingOf(ev: PetEvent): Reading {
  const firmwareCode = ev.sensorType === 0x0f && ev.eventData && ev.eventData.length > 1 ? ev.eventData[1] + 1 : 0;
  // sensor type, event type, deassert and offset (24 bits), firmware code, entity, instance: < 2^49.
  const key = ((((ev.specificTrap & 0xfffff0) | ev.offset) * 257 + firmwareCode) * 257 + (ev.entity ?? 256)) * 256 + (ev.entityInstance ?? 0);
  let r = readingCache.get(key);
  if (r) return r;
  const i = interpret(ev);
  const entity = entityName(ev.entity);
  const where = entity && !VAGUE_ENTITIES.has(entity) ? ` [${entity}${ev.entityInstance ? ` ${entityInstanceText(ev.entityInstance)}` : ''}]` : '';
  r = { i, entity, summary: ev.deassert ? `Cleared: ${i.summary}${where}` : `${i.summary}${where}` };
  if (readingCache.size >= 4096) readingCache.clear();
  readingCache.set(key, r);
  return r;
}

/**
 * The decoded fields an alert carries: only those the trap had, always in this order. A whole
 * varbind has the first seventeen, made as one object; fields are added, never deleted, so the
 * object keeps a fast layout.
 */
function detailsOf(ev: PetEvent, entity: string | undefined): Record<string, unknown> {
  const petSeverity = ev.severityCode === undefined ? undefined : (PET_SEVERITIES[ev.severityCode]?.name ?? ev.severityCode);
  let d: Record<string, unknown>;
  // A whole varbind (not truncated) has every one of these fields.
  if (!ev.truncated) {
    d = {
      sensorType: ev.sensorType,
      eventType: ev.eventType,
      offset: ev.offset,
      deassert: ev.deassert,
      specificTrap: ev.specificTrap,
      petSeverity,
      entity,
      entityInstance: ev.entityInstance,
      sensorNumber: ev.sensorNumber,
      sensorDevice: ev.sensorDevice,
      eventData: ev.eventData,
      sequence: ev.sequence,
      guid: ev.guid,
      iana: ev.iana,
      systemId: ev.systemId,
      trapSource: ev.trapSource,
      eventSource: ev.eventSource,
    };
  } else {
    d = { sensorType: ev.sensorType, eventType: ev.eventType, offset: ev.offset, deassert: ev.deassert, specificTrap: ev.specificTrap };
    if (petSeverity !== undefined) d.petSeverity = petSeverity;
    if (entity !== undefined) d.entity = entity;
    if (ev.entityInstance !== undefined) d.entityInstance = ev.entityInstance;
    if (ev.sensorNumber !== undefined) d.sensorNumber = ev.sensorNumber;
    if (ev.sensorDevice !== undefined) d.sensorDevice = ev.sensorDevice;
    if (ev.eventData !== undefined) d.eventData = ev.eventData;
    if (ev.sequence !== undefined) d.sequence = ev.sequence;
    if (ev.guid !== undefined) d.guid = ev.guid;
    if (ev.iana !== undefined) d.iana = ev.iana;
    if (ev.systemId !== undefined) d.systemId = ev.systemId;
    if (ev.trapSource !== undefined) d.trapSource = ev.trapSource;
    if (ev.eventSource !== undefined) d.eventSource = ev.eventSource;
  }
  const ipmiEvent = ipmiEventName(ev);
  if (ipmiEvent !== undefined) d.ipmiEvent = ipmiEvent;
  if (ev.utcOffsetMinutes !== undefined) d.utcOffsetMinutes = ev.utcOffsetMinutes;
  if (ev.oemFields?.length) d.oemFields = ev.oemFields;
  if (ev.quirks.length) d.quirks = ev.quirks;
  if (ev.truncated) d.truncated = true;
  return d;
}

/**
 * A PET event as an alert built lazily: what the policy and dedup need (kind, severity, device,
 * dedup key, summary) now, the rest (id, time, details) in build(). Why: most traps of a flood
 * repeat an open condition and are only counted, so their id hash and details are never needed.
 */
class LazyPetAlert implements AlertDraft {
  readonly source = 'pet' as const;
  readonly details = NO_DETAILS;
  readonly kind: string;
  readonly severity: Severity;
  readonly state: 'trigger' | 'resolve';
  readonly summary: string;
  readonly device: AlertDevice;
  readonly dedupKey: string;
  private readonly receivedAt: number;
  private readonly reading: Reading;

  constructor(
    private readonly ev: PetEvent,
    private readonly ctx: PetContext,
  ) {
    const r = readingOf(ev);
    const i = r.i;
    this.reading = r;
    this.kind = i.kind;
    this.severity = severityOf(ev, i);
    this.state = ev.deassert ? 'resolve' : 'trigger';
    this.summary = r.summary;
    const guid = !ctx.device.guid && ev.guid && ev.guid !== ZERO_GUID ? ev.guid : ctx.device.guid;
    const kept = ctx.kept;
    let device = kept?.device;
    if (device === undefined || device.guid !== (guid || undefined)) {
      device = alertDeviceOf(ctx.device, guid);
      if (kept) kept.device = device;
    }
    this.device = device;
    const sensor = ev.sensorNumber !== undefined && ev.sensorNumber !== 0xff ? `s${ev.sensorNumber}` : undefined;
    this.dedupKey = makeDedupKey(this.device, 'pet', i.kind, i.qualifier && sensor ? `${i.qualifier}/${sensor}` : i.qualifier || sensor);
    this.receivedAt = ctx.receivedAt ?? Date.now();
  }

  build(): Alert {
    const { ev, ctx, receivedAt } = this;
    const details = detailsOf(ev, this.reading.entity);
    if (ctx.from !== undefined) details.from = ctx.from;
    if (ctx.raw) details.raw = ctx.raw.toString('hex');
    const ms = ev.time ? ev.time.getTime() : new Date(receivedAt).getTime();
    return {
      // A re-sent trap (PET senders repeat until acknowledged) keeps its id: same sender, sequence, time, event.
      id: stableId('pet', ctx.from, ev.guid, ev.sequence, ev.time?.getTime() ?? receivedAt, ev.specificTrap, ev.eventData?.join(',')),
      dedupKey: this.dedupKey,
      time: isoTime(Number.isNaN(ms) ? Date.now() : ms),
      // Its own copy: the draft's device may be shared by the open keys of the device (see PetContext.kept).
      device: { ...this.device },
      source: 'pet',
      kind: this.kind,
      severity: this.severity,
      state: this.state,
      summary: this.summary,
      details,
    };
  }
}

/** A decoded PET event as an alert draft: built only when it is needed whole (see AlertDraft). */
export function petDraft(ev: PetEvent, ctx: PetContext): AlertDraft {
  return new LazyPetAlert(ev, ctx);
}

/** The Alert for a decoded PET event. */
export function petToAlert(ev: PetEvent, ctx: PetContext): Alert {
  return new LazyPetAlert(ev, ctx).build();
}

export interface PetFields {
  guid?: Buffer;
  sequence?: number;
  /** Unix seconds; 0 = unspecified. */
  time?: number;
  utcOffsetMinutes?: number;
  trapSource?: number;
  eventSource?: number;
  severity?: number;
  sensorDevice?: number;
  sensorNumber?: number;
  entity?: number;
  entityInstance?: number;
  eventData?: number[];
  language?: number;
  iana?: number;
  systemId?: number;
  oem?: Buffer;
}

/** The PET varbind bytes (for the simulator and tests), laid out as the specification says. */
export function encodePet(f: PetFields): Buffer {
  const b = Buffer.alloc(PET_FIXED_LENGTH);
  (f.guid ?? Buffer.alloc(16)).copy(b, 0, 0, 16);
  b.writeUInt16BE((f.sequence ?? 0) & 0xffff, 16);
  b.writeUInt32BE(f.time ? Math.max(0, f.time - PET_EPOCH_OFFSET) >>> 0 : 0, 18);
  if (f.utcOffsetMinutes === undefined) b.writeUInt16BE(0xffff, 22);
  else b.writeInt16BE(f.utcOffsetMinutes, 22);
  b[24] = f.trapSource ?? 0x20;
  b[25] = f.eventSource ?? 0x68;
  b[26] = f.severity ?? 0x00;
  b[27] = f.sensorDevice ?? 0xff;
  b[28] = f.sensorNumber ?? 0xff;
  b[29] = f.entity ?? 0x00;
  b[30] = f.entityInstance ?? 0x00;
  (f.eventData ?? []).slice(0, 8).forEach((x, i) => (b[31 + i] = x & 0xff));
  for (let i = (f.eventData ?? []).length; i < 8; i++) b[31 + i] = i === 0 ? 0 : 0xff;
  b[39] = f.language ?? 0x19;
  b.writeUInt32BE((f.iana ?? 343) >>> 0, 40);
  b.writeUInt16BE((f.systemId ?? 0) & 0xffff, 44);
  return f.oem ? Buffer.concat([b, f.oem]) : b;
}
