/**
 * The System Event Log (IPMI v2.0 section 31): Get SEL Info, Get SEL Entry, Clear SEL, the
 * 16-byte record layout (section 32), and reading only what is new since the last look.
 */
import { OobError, TimeoutError } from '../errors';
import type { IpmiClient } from './client';
import { CMD, NETFN } from './constants';
import { IpmiCompletionError } from './errors';

export interface SelInfo {
  version: string;
  entries: number;
  freeBytes: number;
  /** Seconds since 1970 of the last addition and erase, when the BMC knows them. */
  lastAddition?: number;
  lastErase?: number;
  overflow: boolean;
}

/** Timestamps at or below this count seconds since the BMC started, not since 1970 (section 37). */
export const TIMESTAMP_RELATIVE_MAX = 0x20000000;
const TIMESTAMP_UNSPECIFIED = 0xffffffff;

function timestamp(v: number): number | undefined {
  return v === TIMESTAMP_UNSPECIFIED || v === 0 ? undefined : v;
}

export async function getSelInfo(c: IpmiClient): Promise<SelInfo> {
  const d = await c.call(NETFN.storage, CMD.getSelInfo, [], 'Get SEL Info');
  if (d.length < 14) throw new OobError('BAD_XML', `${c.label} sent a Get SEL Info answer of ${d.length} bytes`);
  return {
    version: `${d[0] & 0x0f}.${d[0] >> 4}`,
    entries: d.readUInt16LE(1),
    freeBytes: d.readUInt16LE(3),
    lastAddition: timestamp(d.readUInt32LE(5)),
    lastErase: timestamp(d.readUInt32LE(9)),
    overflow: (d[13] & 0x80) !== 0,
  };
}

export interface SelRecord {
  recordId: number;
  /** 0x02 = system event; 0xC0-0xDF OEM with timestamp; 0xE0-0xFF OEM without. */
  recordType: number;
  /** Seconds: since 1970, or since BMC start when `timeRelative`. */
  timestamp?: number;
  timeRelative?: boolean;
  /** System events only. */
  generatorId?: number;
  evmRev?: number;
  sensorType?: number;
  sensorNumber?: number;
  /** Event/reading type code with bit 7 = deassertion. */
  eventDirType?: number;
  eventData?: [number, number, number];
  /** OEM records: the bytes after the header (and timestamp). */
  oemData?: Buffer;
  raw: Buffer;
}

export function parseSelRecord(r: Buffer): SelRecord {
  if (r.length < 16) throw new OobError('BAD_XML', `SEL record of ${r.length} bytes (16 expected)`);
  const raw = Buffer.from(r.subarray(0, 16));
  const rec: SelRecord = { recordId: raw.readUInt16LE(0), recordType: raw[2], raw };
  if (rec.recordType < 0xe0) {
    const ts = raw.readUInt32LE(3);
    if (ts !== TIMESTAMP_UNSPECIFIED) {
      rec.timestamp = ts;
      if (ts <= TIMESTAMP_RELATIVE_MAX) rec.timeRelative = true;
    }
  }
  if (rec.recordType === 0x02) {
    rec.generatorId = raw.readUInt16LE(7);
    rec.evmRev = raw[9];
    rec.sensorType = raw[10];
    rec.sensorNumber = raw[11];
    rec.eventDirType = raw[12];
    rec.eventData = [raw[13], raw[14], raw[15]];
  } else {
    rec.oemData = Buffer.from(raw.subarray(rec.recordType < 0xe0 ? 7 : 3));
  }
  return rec;
}

const FIRST = 0x0000;
export const SEL_LAST = 0xffff;

/** One SEL entry and the ID of the next (0xFFFF after the last). */
export async function getSelEntry(c: IpmiClient, recordId: number): Promise<{ record: SelRecord; next: number }> {
  const req = Buffer.alloc(6);
  req.writeUInt16LE(0, 0); // no reservation: whole-record reads need none
  req.writeUInt16LE(recordId, 2);
  req[4] = 0;
  req[5] = 0xff;
  const d = await c.call(NETFN.storage, CMD.getSelEntry, req, 'Get SEL Entry');
  if (d.length < 18) throw new OobError('BAD_XML', `${c.label} sent a Get SEL Entry answer of ${d.length} bytes`);
  return { next: d.readUInt16LE(0), record: parseSelRecord(d.subarray(2, 18)) };
}

/**
 * Entries from `start` on, following the BMC's next-ID chain; stops after `max` entries, at a loop,
 * or at a record that is not there (an empty SEL answers "not present" for the first one).
 */
async function walk(c: IpmiClient, start: number, max: number): Promise<SelRecord[]> {
  const out: SelRecord[] = [];
  const seen = new Set<number>();
  let id = start;
  while (id !== SEL_LAST && out.length < max) {
    let entry: { record: SelRecord; next: number };
    try {
      entry = await getSelEntry(c, id);
    } catch (e) {
      if (e instanceof IpmiCompletionError && e.completionCode === 0xcb) break;
      throw e;
    }
    if (seen.has(entry.record.recordId)) break;
    seen.add(entry.record.recordId);
    out.push(entry.record);
    if (entry.next === id) break;
    id = entry.next;
  }
  return out;
}

/** Every entry, oldest first (at most `max`, default 4096). */
export function readSel(c: IpmiClient, o: { max?: number } = {}): Promise<SelRecord[]> {
  return walk(c, FIRST, o.max ?? 4096);
}

/** Where a reader stopped: enough to ask only for newer entries next time, and to notice a clear. */
export interface SelCursor {
  lastRecordId?: number;
  lastTimestamp?: number;
  lastErase?: number;
}

/**
 * Entries added since `cursor` and the cursor to keep. A cleared SEL (a new erase time, or the last
 * seen record gone) starts again from the first entry; so does the first call.
 */
export async function readNewSel(c: IpmiClient, cursor: SelCursor = {}, o: { max?: number } = {}): Promise<{ records: SelRecord[]; cursor: SelCursor; cleared: boolean }> {
  const info = await getSelInfo(c);
  const erased = cursor.lastErase !== undefined && info.lastErase !== cursor.lastErase;
  let start = FIRST;
  let cleared = erased;
  if (!erased && cursor.lastRecordId !== undefined) {
    try {
      const last = await getSelEntry(c, cursor.lastRecordId);
      if (cursor.lastTimestamp !== undefined && last.record.timestamp !== cursor.lastTimestamp) {
        cleared = true;
      } else {
        start = last.next;
        if (start === SEL_LAST) return { records: [], cursor: { ...cursor, lastErase: info.lastErase }, cleared: false };
      }
    } catch (e) {
      if (!(e instanceof IpmiCompletionError && e.completionCode === 0xcb)) throw e;
      cleared = true;
    }
  }
  const records = await walk(c, start, o.max ?? 1024);
  const tail = records.at(-1);
  const next: SelCursor = tail ? { lastRecordId: tail.recordId, lastTimestamp: tail.timestamp, lastErase: info.lastErase } : cleared ? { lastErase: info.lastErase } : { ...cursor, lastErase: info.lastErase };
  return { records, cursor: next, cleared };
}

/** A cursor at the end of the log as it is now: a reader starting here sees only later entries. */
export async function selCursorAtEnd(c: IpmiClient): Promise<SelCursor> {
  const info = await getSelInfo(c);
  if (info.entries === 0) return { lastErase: info.lastErase };
  try {
    const { record } = await getSelEntry(c, SEL_LAST);
    return { lastRecordId: record.recordId, lastTimestamp: record.timestamp, lastErase: info.lastErase };
  } catch (e) {
    if (e instanceof IpmiCompletionError && e.completionCode === 0xcb) return { lastErase: info.lastErase };
    throw e;
  }
}

/** Erases the SEL and waits (up to `timeoutMs`) until the BMC reports the erase complete. */
export async function clearSel(c: IpmiClient, o: { timeoutMs?: number } = {}): Promise<void> {
  const res = await c.call(NETFN.storage, CMD.reserveSel, [], 'Reserve SEL');
  if (res.length < 2) throw new OobError('BAD_XML', `${c.label} sent a Reserve SEL answer of ${res.length} bytes`);
  const reservation = res.readUInt16LE(0);
  const clear = (action: number) => {
    const req = Buffer.from([reservation & 0xff, reservation >> 8, 0x43, 0x4c, 0x52, action]); // 'C' 'L' 'R'
    return c.call(NETFN.storage, CMD.clearSel, req, 'Clear SEL');
  };
  let status = await clear(0xaa);
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while ((status[0] & 0x0f) !== 0x01) {
    if (Date.now() > deadline) throw new TimeoutError(`${c.label} did not finish erasing the SEL within ${o.timeoutMs ?? 10_000} ms`);
    await new Promise((r) => setTimeout(r, 100));
    status = await clear(0x00);
  }
}
