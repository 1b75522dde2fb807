/**
 * SEL records as OOBKit Alerts (the one Alert shape of DESIGN.md), so a server's event log feeds
 * the same alert path as PET traps and the AMT event log.
 */
import type { DeviceInfo } from '../device';
import { describeEvent, Severity } from './events';
import type { SensorRecord } from './sdr';
import { convertReading, describeSensor } from './sdr';
import type { SelRecord } from './sel';

/** The Alert of DESIGN.md. (lib/alerts defines the same shape for the policy engine.) */
export interface Alert {
  id: string;
  dedupKey: string;
  time: string;
  device: { name?: string; host?: string; mac?: string; guid?: string; site?: string };
  source: 'pet' | 'wsevent' | 'eventlog' | 'presence' | 'heartbeat' | 'defense' | 'power';
  kind: string;
  severity: Severity;
  state: 'trigger' | 'resolve';
  summary: string;
  details: Record<string, unknown>;
}

export interface SelAlertContext {
  device: DeviceInfo & { guid?: string };
  /** Sensor records by sensor number, to name sensors and convert trigger readings. */
  sensors?: Map<number, SensorRecord>;
  /** When the SEL was read; used for records with a time relative to BMC start. */
  readAt?: Date;
}

function deviceKey(d: SelAlertContext['device']): string {
  return (d.guid || d.host || d.name || 'unknown').toLowerCase();
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

/** One SEL record as an Alert: source "eventlog", kind and severity from the IPMI event tables. */
export function selRecordToAlert(rec: SelRecord, ctx: SelAlertContext): Alert {
  const key = deviceKey(ctx.device);
  const who = ctx.device.name || ctx.device.host || 'BMC';
  const when = rec.timestamp !== undefined && !rec.timeRelative ? new Date(rec.timestamp * 1000) : (ctx.readAt ?? new Date());
  const details: Record<string, unknown> = { recordId: rec.recordId, recordType: rec.recordType, raw: hex(rec.raw) };
  if (rec.timeRelative) details.secondsSinceBmcStart = rec.timestamp;
  const idBase = `ipmi-sel|${key}|${rec.recordId}|${rec.timestamp ?? 'none'}`;

  if (rec.recordType !== 0x02 || rec.sensorType === undefined || rec.eventDirType === undefined || !rec.eventData) {
    return {
      id: idBase,
      dedupKey: `ipmi-sel|${key}|oem|${rec.recordType}`,
      time: when.toISOString(),
      device: { ...ctx.device },
      source: 'eventlog',
      kind: 'oem-event',
      severity: 'info',
      state: 'trigger',
      summary: `${who}: OEM event log record type 0x${rec.recordType.toString(16)}`,
      details: { ...details, oemData: rec.oemData ? hex(rec.oemData) : undefined },
    };
  }

  const offset = rec.eventData[0] & 0x0f;
  const meaning = describeEvent(rec.sensorType, rec.eventDirType, offset);
  const sensor = ctx.sensors?.get(rec.sensorNumber ?? -1);
  const sensorName = sensor && sensor.sensorType === rec.sensorType ? describeSensor(sensor) : `${meaning.sensorType} #${rec.sensorNumber}`;
  Object.assign(details, {
    sensorType: meaning.sensorType,
    sensorTypeCode: rec.sensorType,
    sensorNumber: rec.sensorNumber,
    sensorName,
    eventType: rec.eventDirType & 0x7f,
    offset,
    assertion: !meaning.resolves,
    description: meaning.description,
    generatorId: rec.generatorId,
    eventData: rec.eventData,
  });

  let values = '';
  // Threshold events may carry the trigger reading (data 2) and threshold (data 3).
  if ((rec.eventDirType & 0x7f) === 0x01 && sensor?.conversion) {
    const d1 = rec.eventData[0];
    const unit = sensor.unit ? ` ${sensor.unit}` : '';
    if ((d1 & 0xc0) === 0x40) {
      details.reading = convertReading(rec.eventData[1], sensor.conversion);
      values += ` (reading ${details.reading}${unit}`;
      if ((d1 & 0x30) === 0x10) {
        details.threshold = convertReading(rec.eventData[2], sensor.conversion);
        values += `, threshold ${details.threshold}${unit}`;
      }
      values += ')';
    }
  }

  return {
    id: idBase,
    dedupKey: `ipmi-sel|${key}|${rec.sensorType}|${rec.sensorNumber}|${rec.eventDirType & 0x7f}|${offset}`,
    time: when.toISOString(),
    device: { ...ctx.device },
    source: 'eventlog',
    kind: meaning.kind,
    severity: meaning.severity,
    state: meaning.resolves ? 'resolve' : 'trigger',
    summary: `${who}: ${sensorName}: ${meaning.description}${values}`,
    details,
  };
}
