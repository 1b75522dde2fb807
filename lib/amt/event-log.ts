/**
 * The AMT platform event log (AMT_MessageLog): PositionToFirstRecord, then GetRecords pages of
 * base64 records, newest first. Each record is 21 bytes:
 *   time(4, seconds since 1970, little-endian) deviceAddress sensorType eventType offset
 *   eventSourceType severity sensorNumber entity entityInstance eventData(8)
 * (see test/fixtures/amt/AMT_MessageLog-GetRecords.xml). Records carry no sequence number, so
 * "not seen before" is tracked by position: the newest time seen and how many records of each
 * content were seen at that time (identical records at the same second do happen).
 */
import { createHash } from 'node:crypto';
import { Alert, AlertDevice, makeAlert, stableId } from '../alerts/alert';
import { entityName, interpret, ipmiEventName, PET_SEVERITIES, severityOf } from '../events/ipmi-events';
import { DeviceRefusedError } from '../errors';
import type { WsmanClient } from '../wsman/client';

export const EVENT_RECORD_LENGTH = 21;

export interface EventLogRecord {
  /** Seconds since 1970. */
  time: number;
  deviceAddress: number;
  sensorType: number;
  eventType: number;
  offset: number;
  deassert: boolean;
  eventSourceType: number;
  severityCode: number;
  sensorNumber: number;
  entity: number;
  entityInstance: number;
  eventData: number[];
  raw: string;
}

export interface EventLogPosition {
  /** Newest record time seen (seconds since 1970). */
  newest: number;
  /** At that time: record hash -> how many seen. */
  atNewest: Record<string, number>;
}

/** A record from its 21 bytes; undefined for anything of another length. */
export function decodeEventRecord(b: Buffer): EventLogRecord | undefined {
  if (!Buffer.isBuffer(b) || b.length !== EVENT_RECORD_LENGTH) return undefined;
  return {
    time: b.readUInt32LE(0),
    deviceAddress: b[4],
    sensorType: b[5],
    eventType: b[6] & 0x7f,
    // Bit 7 of the event type byte marks a deassertion in IPMI event records.
    deassert: (b[6] & 0x80) !== 0,
    offset: b[7] & 0x0f,
    eventSourceType: b[8],
    severityCode: b[9],
    sensorNumber: b[10],
    entity: b[11],
    entityInstance: b[12],
    eventData: [...b.subarray(13, 21)],
    raw: b.toString('hex'),
  };
}

/** Records from GetRecords' RecordArray (base64 strings); unreadable ones are counted, not thrown. */
export function decodeRecordArray(items: unknown): { records: EventLogRecord[]; bad: number } {
  const list = Array.isArray(items) ? items : items === undefined || items === null ? [] : [items];
  const records: EventLogRecord[] = [];
  let bad = 0;
  for (const it of list) {
    const r = typeof it === 'string' && /^[A-Za-z0-9+/=\s]*$/.test(it) ? decodeEventRecord(Buffer.from(it, 'base64')) : undefined;
    if (r) records.push(r);
    else bad++;
  }
  return { records, bad };
}

function hashOf(r: EventLogRecord): string {
  return createHash('sha1').update(r.raw).digest('hex').slice(0, 16);
}

/**
 * The records (oldest first) not covered by `position`, and the position after them. Without a
 * position, `initial: 'skip'` takes the log as seen and returns nothing.
 */
export function newSince(newestFirst: EventLogRecord[], position: EventLogPosition | undefined, initial: 'skip' | 'all' = 'skip'): { records: EventLogRecord[]; position: EventLogPosition } {
  const oldestFirst = [...newestFirst].reverse();
  const fresh: EventLogRecord[] = [];
  if (position || initial === 'all') {
    const seen = { ...(position?.atNewest ?? {}) };
    for (const r of oldestFirst) {
      if (position && r.time < position.newest) continue;
      if (position && r.time === position.newest) {
        const h = hashOf(r);
        if ((seen[h] ?? 0) > 0) {
          seen[h]--;
          continue;
        }
      }
      fresh.push(r);
    }
  }
  const newest = Math.max(position?.newest ?? 0, ...oldestFirst.map((r) => r.time));
  // Every record at the newest time is in this read, so counting them is what has been seen there.
  const atNewest: Record<string, number> = {};
  for (const r of oldestFirst) {
    if (r.time !== newest) continue;
    const h = hashOf(r);
    atNewest[h] = (atNewest[h] ?? 0) + 1;
  }
  return { records: fresh, position: { newest, atNewest } };
}

/** Reads the whole log, newest first (pages until NoMoreRecords or a record older than `stopBefore`). */
export async function readEventLog(client: WsmanClient, stopBefore = 0): Promise<{ records: EventLogRecord[]; bad: number }> {
  const first = await client.invoke('AMT_MessageLog', 'PositionToFirstRecord');
  if (Number(first.ReturnValue) !== 0) throw new DeviceRefusedError('AMT_MessageLog.PositionToFirstRecord', Number(first.ReturnValue), 'no records or not available');
  let iteration = first.IterationIdentifier as string | number;
  const records: EventLogRecord[] = [];
  let bad = 0;
  for (let page = 0; page < 20; page++) {
    const out = await client.invoke('AMT_MessageLog', 'GetRecords', { IterationIdentifier: String(iteration), MaxReadRecords: 390 });
    if (Number(out.ReturnValue) !== 0) throw new DeviceRefusedError('AMT_MessageLog.GetRecords', Number(out.ReturnValue), 'read failed');
    const decoded = decodeRecordArray(out.RecordArray);
    records.push(...decoded.records);
    bad += decoded.bad;
    const done = out.NoMoreRecords === true || String(out.NoMoreRecords) === 'true' || decoded.records.length === 0;
    if (done || decoded.records.some((r) => r.time < stopBefore)) break;
    iteration = out.IterationIdentifier as string | number;
  }
  return { records, bad };
}

export function eventRecordToAlert(r: EventLogRecord, device: AlertDevice): Alert {
  const i = interpret(r);
  const entity = entityName(r.entity);
  const where = entity && !['unspecified', 'unknown', 'other'].includes(entity) ? ` [${entity}]` : '';
  return makeAlert({
    id: stableId('eventlog', device.host ?? device.name, r.raw),
    qualifier: i.qualifier,
    time: new Date(r.time * 1000),
    device,
    source: 'eventlog',
    kind: i.kind,
    severity: severityOf(r, i),
    state: r.deassert ? 'resolve' : 'trigger',
    summary: `${r.deassert ? 'Cleared: ' : ''}${i.summary}${where}`,
    details: {
      sensorType: r.sensorType,
      eventType: r.eventType,
      offset: r.offset,
      petSeverity: PET_SEVERITIES[r.severityCode]?.name ?? r.severityCode,
      entity,
      entityInstance: r.entityInstance,
      sensorNumber: r.sensorNumber,
      eventData: r.eventData,
      eventSourceType: r.eventSourceType,
      raw: r.raw,
      ...(ipmiEventName(r) ? { ipmiEvent: ipmiEventName(r) } : {}),
    },
  });
}
