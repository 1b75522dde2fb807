/**
 * SEL records as OOBKit Alerts, so a server's event log feeds the same alert path as PET traps
 * and the AMT event log. What an event means (kind, severity, sentence) comes from the IPMI
 * event tables PET and the AMT event log use (lib/events/ipmi-events); this file adds what only the
 * SEL has: the sensor's name from the SDR and its trigger reading in real units.
 */
import { Alert, AlertDevice, makeAlert, stableId } from '../alerts/alert';
import { interpret, ipmiEventName, severityOf, SensorEvent } from '../events/ipmi-events';
import type { SensorRecord } from './sdr';
import { convertReading, describeSensor, sensorTypeName } from './sdr';
import type { SelRecord } from './sel';

export type { Alert } from '../alerts/alert';

export interface SelAlertContext {
  device: AlertDevice;
  /** Sensor records by sensor number, to name sensors and convert trigger readings. */
  sensors?: Map<number, SensorRecord>;
  /** When the SEL was read; the time of records stamped relative to BMC start. */
  readAt?: Date;
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

/** One SEL record as an Alert (source "eventlog"). */
export function selRecordToAlert(rec: SelRecord, ctx: SelAlertContext): Alert {
  const when = rec.timestamp !== undefined && !rec.timeRelative ? new Date(rec.timestamp * 1000) : (ctx.readAt ?? new Date());
  const id = stableId('ipmi-sel', ctx.device.host ?? ctx.device.name, rec.recordId, rec.timestamp, hex(rec.raw));
  const details: Record<string, unknown> = { recordId: rec.recordId, recordType: rec.recordType, raw: hex(rec.raw) };
  if (rec.timeRelative) details.secondsSinceBmcStart = rec.timestamp;

  if (rec.recordType !== 0x02 || rec.sensorType === undefined || rec.eventDirType === undefined || !rec.eventData) {
    return makeAlert({
      id,
      qualifier: `oem-${rec.recordType}`,
      time: when,
      device: ctx.device,
      source: 'eventlog',
      kind: 'oem-event',
      severity: 'info',
      summary: `OEM event log record (type 0x${rec.recordType.toString(16)})`,
      details: { ...details, oemData: rec.oemData ? hex(rec.oemData) : undefined },
    });
  }

  const ev: SensorEvent = {
    sensorType: rec.sensorType,
    eventType: rec.eventDirType & 0x7f,
    offset: rec.eventData[0] & 0x0f,
    deassert: (rec.eventDirType & 0x80) !== 0,
    eventData: rec.eventData,
  };
  const meaning = interpret(ev);
  const sensor = ctx.sensors?.get(rec.sensorNumber ?? -1);
  const sensorName = sensor && sensor.sensorType === rec.sensorType ? describeSensor(sensor) : `${sensorTypeName(rec.sensorType)} #${rec.sensorNumber}`;
  Object.assign(details, {
    sensorType: rec.sensorType,
    sensorNumber: rec.sensorNumber,
    sensorName,
    eventType: ev.eventType,
    offset: ev.offset,
    assertion: !ev.deassert,
    generatorId: rec.generatorId,
    eventData: rec.eventData,
  });
  const ipmiEvent = ipmiEventName(ev);
  if (ipmiEvent !== undefined) details.ipmiEvent = ipmiEvent;

  let values = '';
  // Threshold events may carry the trigger reading (data 2) and the threshold (data 3).
  if (ev.eventType === 0x01 && sensor?.conversion) {
    const d1 = rec.eventData[0];
    const unit = sensor.unit ? ` ${sensor.unit}` : '';
    if ((d1 & 0xc0) === 0x40) {
      details.reading = convertReading(rec.eventData[1], sensor.conversion);
      values = ` (reading ${details.reading}${unit}`;
      if ((d1 & 0x30) === 0x10) {
        details.threshold = convertReading(rec.eventData[2], sensor.conversion);
        values += `, threshold ${details.threshold}${unit}`;
      }
      values += ')';
    }
  }

  return makeAlert({
    id,
    // Which sensor, and which condition on it: a trigger and its resolve share the key.
    qualifier: [`sensor-${rec.sensorNumber}`, meaning.qualifier].filter(Boolean).join('-'),
    time: when,
    device: ctx.device,
    source: 'eventlog',
    kind: meaning.kind,
    severity: severityOf(ev, meaning),
    state: ev.deassert ? 'resolve' : 'trigger',
    summary: `${ev.deassert ? 'Cleared: ' : ''}${meaning.summary} [${sensorName}]${values}`,
    details,
  });
}
