/**
 * The Sensor Data Record repository (IPMI v2.0 sections 33 and 43): reading records in pieces under
 * a reservation, decoding full and compact sensor records, and turning raw readings into values
 * with the record's conversion factors (section 36.3).
 */
import { OobError } from '../errors';
import type { IpmiClient } from './client';
import { CMD, NETFN } from './constants';
import { IpmiCompletionError } from './errors';
import { SENSOR_TYPES } from '../events/ipmi-events';

export const SDR_FULL_SENSOR = 0x01;
export const SDR_COMPACT_SENSOR = 0x02;
export const SDR_EVENT_ONLY = 0x03;

/** Base unit codes (table 43-15), as the symbols people write. */
const UNITS: Readonly<Record<number, string>> = {
  0: '',
  1: '°C',
  2: '°F',
  3: 'K',
  4: 'V',
  5: 'A',
  6: 'W',
  7: 'J',
  8: 'C',
  9: 'VA',
  10: 'nit',
  11: 'lm',
  12: 'lx',
  13: 'cd',
  14: 'kPa',
  15: 'psi',
  16: 'N',
  17: 'CFM',
  18: 'RPM',
  19: 'Hz',
  20: 'µs',
  21: 'ms',
  22: 's',
  23: 'min',
  24: 'h',
  25: 'd',
  26: 'week',
  37: 'L',
  41: 'rev',
  42: 'cycles',
  58: 'ppm',
  60: 'dB',
  70: 'B',
  71: 'kB',
  72: 'MB',
  73: 'GB',
  88: 'errors',
  89: 'correctable errors',
  90: 'uncorrectable errors',
  92: 'g',
};

export function unitName(code: number): string {
  return UNITS[code] ?? `unit-${code}`;
}

export interface Conversion {
  /** Raw reading format: unsigned, one's complement or two's complement. */
  format: 'unsigned' | 'ones-complement' | 'twos-complement';
  m: number;
  b: number;
  bExp: number;
  rExp: number;
  /** 0 = linear; 1-11 = ln, log10, log2, e, exp10, exp2, 1/x, x², x³, √x, ∛x. */
  linearization: number;
}

export interface SensorThresholds {
  lowerNonRecoverable?: number;
  lowerCritical?: number;
  lowerNonCritical?: number;
  upperNonCritical?: number;
  upperCritical?: number;
  upperNonRecoverable?: number;
}

export interface SensorRecord {
  recordId: number;
  recordType: number;
  ownerId: number;
  ownerLun: number;
  number: number;
  entityId: number;
  entityInstance: number;
  sensorType: number;
  /** Event/reading type code: 0x01 threshold, 0x02-0x0C generic discrete, 0x6F sensor-specific. */
  eventType: number;
  name: string;
  unit: string;
  percentage: boolean;
  /** Present for full records with an analog reading. */
  conversion?: Conversion;
  /** Raw threshold bytes the record says are readable (full records). */
  thresholdsRaw?: Partial<Record<keyof SensorThresholds, number>>;
  /** Event-only records have no reading to ask for. */
  readable: boolean;
}

function tenBitSigned(low: number, high2: number): number {
  const v = (high2 << 8) | low;
  return v & 0x200 ? v - 0x400 : v;
}

function fourBitSigned(v: number): number {
  return v & 0x08 ? v - 0x10 : v;
}

/** ID string: bits 7:6 of the type/length byte are the encoding (3 = 8-bit ASCII + Latin-1). */
function idString(r: Buffer, at: number): string {
  if (at >= r.length) return '';
  const typeLength = r[at];
  const length = Math.min(typeLength & 0x1f, r.length - at - 1);
  const bytes = r.subarray(at + 1, at + 1 + length);
  return bytes.toString('latin1').replace(/\0+$/, '').trim();
}

const THRESHOLD_ORDER: Array<[keyof SensorThresholds, number, number]> = [
  // name, byte offset in a full record (0-based from the record start), bit in the readable mask
  ['upperNonRecoverable', 36, 5],
  ['upperCritical', 37, 4],
  ['upperNonCritical', 38, 3],
  ['lowerNonRecoverable', 39, 2],
  ['lowerCritical', 40, 1],
  ['lowerNonCritical', 41, 0],
];

/** Decodes a sensor record (full, compact or event-only); other record types give undefined. */
export function parseSensorRecord(r: Buffer): SensorRecord | undefined {
  if (r.length < 5) return undefined;
  const recordType = r[3];
  if (recordType !== SDR_FULL_SENSOR && recordType !== SDR_COMPACT_SENSOR && recordType !== SDR_EVENT_ONLY) return undefined;
  const need = recordType === SDR_EVENT_ONLY ? 17 : recordType === SDR_COMPACT_SENSOR ? 32 : 48;
  if (r.length < need) throw new OobError('BAD_XML', `sensor record ${r.readUInt16LE(0)} of ${r.length} bytes is too short for type ${recordType}`);
  const base = {
    recordId: r.readUInt16LE(0),
    recordType,
    ownerId: r[5],
    ownerLun: r[6] & 0x03,
    number: r[7],
    entityId: r[8],
    entityInstance: r[9] & 0x7f,
  };
  if (recordType === SDR_EVENT_ONLY) {
    return { ...base, sensorType: r[10], eventType: r[11], name: idString(r, 16), unit: '', percentage: false, readable: false };
  }
  const units1 = r[20];
  const rec: SensorRecord = {
    ...base,
    sensorType: r[12],
    eventType: r[13],
    name: idString(r, recordType === SDR_FULL_SENSOR ? 47 : 31),
    unit: unitName(r[21]),
    percentage: (units1 & 0x01) !== 0,
    readable: true,
  };
  const analogFormat = (units1 >> 6) & 0x03;
  if (recordType === SDR_FULL_SENSOR && analogFormat !== 3) {
    rec.conversion = {
      format: (['unsigned', 'ones-complement', 'twos-complement'] as const)[analogFormat],
      linearization: r[23] & 0x7f,
      m: tenBitSigned(r[24], r[25] >> 6),
      b: tenBitSigned(r[26], r[27] >> 6),
      rExp: fourBitSigned(r[29] >> 4),
      bExp: fourBitSigned(r[29] & 0x0f),
    };
    if (rec.eventType === 0x01) {
      const readableMask = r[18];
      const t: Partial<Record<keyof SensorThresholds, number>> = {};
      for (const [name, at, bit] of THRESHOLD_ORDER) if (readableMask & (1 << bit)) t[name] = r[at];
      rec.thresholdsRaw = t;
    }
  }
  return rec;
}

function signedRaw(raw: number, format: Conversion['format']): number {
  if (format === 'twos-complement') return raw & 0x80 ? raw - 0x100 : raw;
  if (format === 'ones-complement') return raw & 0x80 ? -(~raw & 0x7f) : raw;
  return raw;
}

const LINEARIZE: Array<(x: number) => number> = [
  (x) => x,
  Math.log,
  Math.log10,
  Math.log2,
  Math.exp,
  (x) => 10 ** x,
  (x) => 2 ** x,
  (x) => 1 / x,
  (x) => x * x,
  (x) => x * x * x,
  Math.sqrt,
  Math.cbrt,
];

/** y = L[(M·x + B·10^Bexp)·10^Rexp], rounded to what the resolution can tell apart. */
export function convertReading(raw: number, c: Conversion): number {
  const x = signedRaw(raw & 0xff, c.format);
  const linear = (c.m * x + c.b * 10 ** c.bExp) * 10 ** c.rExp;
  const f = LINEARIZE[c.linearization] ?? LINEARIZE[0];
  const y = f(linear);
  const decimals = Math.max(0, -c.rExp) + 2;
  return Number(y.toFixed(Math.min(decimals, 10)));
}

export function convertThresholds(rec: SensorRecord): SensorThresholds | undefined {
  if (!rec.conversion || !rec.thresholdsRaw) return undefined;
  const out: SensorThresholds = {};
  for (const [k, v] of Object.entries(rec.thresholdsRaw) as Array<[keyof SensorThresholds, number]>) out[k] = convertReading(v, rec.conversion);
  return out;
}

const FIRST = 0x0000;
const LAST = 0xffff;
/** Bytes per partial read; LAN BMCs must take at least this much. */
const CHUNK = 16;

async function reserveSdr(c: IpmiClient): Promise<number> {
  const d = await c.call(NETFN.storage, CMD.reserveSdrRepository, [], 'Reserve SDR Repository');
  if (d.length < 2) throw new OobError('BAD_XML', `${c.label} sent a Reserve SDR Repository answer of ${d.length} bytes`);
  return d.readUInt16LE(0);
}

async function getSdrPart(c: IpmiClient, reservation: number, id: number, offset: number, length: number): Promise<{ next: number; data: Buffer }> {
  const req = Buffer.alloc(6);
  req.writeUInt16LE(reservation, 0);
  req.writeUInt16LE(id, 2);
  req[4] = offset;
  req[5] = length;
  const d = await c.call(NETFN.storage, CMD.getSdr, req, 'Get SDR');
  if (d.length < 2) throw new OobError('BAD_XML', `${c.label} sent a Get SDR answer of ${d.length} bytes`);
  return { next: d.readUInt16LE(0), data: d.subarray(2) };
}

export interface SdrRepositoryInfo {
  version: string;
  records: number;
  lastAddition?: number;
  lastErase?: number;
}

export async function getSdrRepositoryInfo(c: IpmiClient): Promise<SdrRepositoryInfo> {
  const d = await c.call(NETFN.storage, CMD.getSdrRepositoryInfo, [], 'Get SDR Repository Info');
  if (d.length < 13) throw new OobError('BAD_XML', `${c.label} sent a Get SDR Repository Info answer of ${d.length} bytes`);
  const ts = (v: number) => (v === 0 || v === 0xffffffff ? undefined : v);
  return { version: `${d[0] & 0x0f}.${d[0] >> 4}`, records: d.readUInt16LE(1), lastAddition: ts(d.readUInt32LE(5)), lastErase: ts(d.readUInt32LE(9)) };
}

/**
 * Every record of the repository as raw bytes (header included). Each record is read as its
 * 5-byte header and then in 16-byte pieces; a lost reservation starts that record again (five
 * times at most for one record).
 */
export async function readSdrRepository(c: IpmiClient, o: { max?: number } = {}): Promise<Buffer[]> {
  const max = o.max ?? 1024;
  const records: Buffer[] = [];
  const seen = new Set<number>();
  let reservation = await reserveSdr(c);
  let id = FIRST;
  let restarts = 0;
  while (id !== LAST && records.length < max) {
    try {
      const head = await getSdrPart(c, reservation, id, 0, 5);
      if (head.data.length < 5) throw new OobError('BAD_XML', `${c.label} sent a short SDR header for record ${id}`);
      const length = head.data[4];
      const parts = [head.data.subarray(0, 5)];
      for (let at = 0; at < length; at += CHUNK) {
        const part = await getSdrPart(c, reservation, id, 5 + at, Math.min(CHUNK, length - at));
        parts.push(part.data);
      }
      const record = Buffer.concat(parts);
      const recordId = record.readUInt16LE(0);
      if (seen.has(recordId)) break;
      seen.add(recordId);
      records.push(record);
      restarts = 0;
      if (head.next === id) break;
      id = head.next;
    } catch (e) {
      if (e instanceof IpmiCompletionError && e.completionCode === 0xc5 && restarts++ < 5) {
        // Another reader (a second tool on the same BMC) reserved the repository. A short random
        // pause before reserving again keeps two readers from taking it from each other in lockstep.
        await new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 40 * restarts)));
        reservation = await reserveSdr(c);
        continue;
      }
      if (e instanceof IpmiCompletionError && e.completionCode === 0xcb && records.length === 0) break;
      throw e;
    }
  }
  return records;
}

/** The sensor records of the repository (other record types are skipped). */
export async function readSensorRecords(c: IpmiClient): Promise<SensorRecord[]> {
  const out: SensorRecord[] = [];
  for (const raw of await readSdrRepository(c)) {
    const rec = parseSensorRecord(raw);
    if (rec) out.push(rec);
  }
  return out;
}

/** A sensor type as a kebab-case word: temperature, fan, voltage, power-supply, physical-security... */
export function sensorTypeName(type: number): string {
  const name = SENSOR_TYPES[type];
  if (name) return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return type >= 0xc0 ? `oem-sensor-0x${type.toString(16)}` : `sensor-type-0x${type.toString(16)}`;
}

export function describeSensor(rec: SensorRecord): string {
  return rec.name || `${sensorTypeName(rec.sensorType)} #${rec.number}`;
}
