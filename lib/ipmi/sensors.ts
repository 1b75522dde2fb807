/**
 * Sensor readings (Get Sensor Reading, IPMI v2.0 section 35.14) named and converted through the
 * SDR repository: temperatures, fan speeds, voltages and the rest, with their threshold status.
 * The repository is cached per client and read again when the BMC reports it changed.
 */
import { OobError } from '../errors';
import type { IpmiClient } from './client';
import { BMC_SA, CMD, NETFN } from './constants';
import { IpmiCompletionError } from './errors';
import { convertReading, convertThresholds, describeSensor, getSdrRepositoryInfo, readSensorRecords, SensorRecord, sensorTypeName, SensorThresholds } from './sdr';

export interface SensorReading {
  name: string;
  number: number;
  /** Sensor type name: temperature, voltage, fan, current, power-supply... */
  type: string;
  /** Converted value for analog sensors; null when the BMC has no reading now. */
  value: number | null;
  unit: string;
  /** ok, warning (non-critical), critical, non-recoverable, or unavailable. */
  status: 'ok' | 'warning' | 'critical' | 'non-recoverable' | 'unavailable';
  /** Discrete sensors: the offsets (bits) asserted now. */
  states?: number[];
  thresholds?: SensorThresholds;
  raw?: number;
}

interface SdrCache {
  records: SensorRecord[];
  lastAddition?: number;
  lastErase?: number;
}

const cache = new WeakMap<IpmiClient, SdrCache>();

/** The sensor records, from cache when the repository's change times have not moved. */
export async function sensorRecords(c: IpmiClient): Promise<SensorRecord[]> {
  const info = await getSdrRepositoryInfo(c);
  const cached = cache.get(c);
  if (cached && cached.lastAddition === info.lastAddition && cached.lastErase === info.lastErase) return cached.records;
  const records = await readSensorRecords(c);
  cache.set(c, { records, lastAddition: info.lastAddition, lastErase: info.lastErase });
  return records;
}

function thresholdStatus(bits: number): SensorReading['status'] {
  if (bits & 0x24) return 'non-recoverable';
  if (bits & 0x12) return 'critical';
  if (bits & 0x09) return 'warning';
  return 'ok';
}

/** Reads one sensor described by its SDR record. */
export async function readSensor(c: IpmiClient, rec: SensorRecord): Promise<SensorReading> {
  const out: SensorReading = { name: describeSensor(rec), number: rec.number, type: sensorTypeName(rec.sensorType), value: null, unit: rec.percentage ? '%' : rec.unit, status: 'unavailable' };
  const thresholds = convertThresholds(rec);
  if (thresholds) out.thresholds = thresholds;
  let d: Buffer;
  try {
    d = await c.call(NETFN.sensorEvent, CMD.getSensorReading, [rec.number], `Get Sensor Reading (${out.name})`);
  } catch (e) {
    // A sensor that is not present right now (a missing fan, an empty socket) is not an error.
    if (e instanceof IpmiCompletionError && (e.completionCode === 0xcb || e.completionCode === 0xcd)) return out;
    throw e;
  }
  if (d.length < 2) throw new OobError('BAD_XML', `${c.label} sent a Get Sensor Reading answer of ${d.length} bytes`);
  const unavailable = (d[1] & 0x20) !== 0 || (d[1] & 0x40) === 0;
  if (unavailable) return out;
  out.raw = d[0];
  if (rec.eventType === 0x01) {
    if (rec.conversion) out.value = convertReading(d[0], rec.conversion);
    out.status = thresholdStatus(d[2] ?? 0);
  } else {
    const bits = (d[2] ?? 0) | ((d[3] ?? 0) << 8);
    out.states = [];
    for (let i = 0; i < 15; i++) if (bits & (1 << i)) out.states.push(i);
    out.status = 'ok';
    if (rec.conversion) out.value = convertReading(d[0], rec.conversion);
  }
  return out;
}

export const DEFAULT_SENSOR_TYPES = ['temperature', 'fan', 'voltage', 'current'];

/**
 * Readings of the BMC's own sensors whose type is in `types` (default: temperature, fan,
 * voltage, current; pass [] for every readable sensor).
 */
export async function readSensors(c: IpmiClient, o: { types?: string[] } = {}): Promise<SensorReading[]> {
  const types = o.types ?? DEFAULT_SENSOR_TYPES;
  const records = (await sensorRecords(c)).filter(
    (r) => r.readable && r.ownerId === BMC_SA && r.ownerLun === 0 && (types.length === 0 || types.includes(sensorTypeName(r.sensorType))),
  );
  const out: SensorReading[] = [];
  for (const r of records) out.push(await readSensor(c, r));
  return out;
}
