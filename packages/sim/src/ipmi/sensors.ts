/**
 * The sensors of a simulated server BMC and their SDR records (full records for analog sensors,
 * compact ones for discrete sensors), built from a short description of each sensor.
 */

export interface SimAnalogSensor {
  kind: 'analog';
  number: number;
  name: string;
  sensorType: number;
  entity: number;
  /** Base unit code (1 = °C, 4 = V, 18 = RPM...). */
  unit: number;
  /** Conversion: value = m * raw * 10^rExp. */
  m: number;
  rExp: number;
  /** Raw thresholds; absent = not provided. */
  thresholds: { lnr?: number; lc?: number; lnc?: number; unc?: number; uc?: number; unr?: number };
  raw: number;
}

export interface SimDiscreteSensor {
  kind: 'discrete';
  number: number;
  name: string;
  sensorType: number;
  entity: number;
  /** Event/reading type: 0x6F sensor-specific, 0x03 digital... */
  eventType: number;
  /** Asserted offsets as a bit field. */
  states: number;
}

export type SimSensor = SimAnalogSensor | SimDiscreteSensor;

/** A small 1U server: two temperatures, two fans, three rails, a power supply and the lid switch. */
export function defaultSensors(): SimSensor[] {
  const analog = (s: Omit<SimAnalogSensor, 'kind'>): SimAnalogSensor => ({ kind: 'analog', ...s });
  return [
    analog({ number: 0x01, name: 'CPU Temp', sensorType: 0x01, entity: 0x03, unit: 1, m: 1, rExp: 0, thresholds: { unc: 80, uc: 90, unr: 100 }, raw: 45 }),
    analog({ number: 0x02, name: 'System Temp', sensorType: 0x01, entity: 0x07, unit: 1, m: 1, rExp: 0, thresholds: { unc: 60, uc: 70, unr: 80 }, raw: 31 }),
    analog({ number: 0x10, name: 'FAN1', sensorType: 0x04, entity: 0x1d, unit: 18, m: 75, rExp: 0, thresholds: { lnc: 10, lc: 6 }, raw: 72 }),
    analog({ number: 0x11, name: 'FAN2', sensorType: 0x04, entity: 0x1d, unit: 18, m: 75, rExp: 0, thresholds: { lnc: 10, lc: 6 }, raw: 70 }),
    analog({ number: 0x20, name: '12V', sensorType: 0x02, entity: 0x07, unit: 4, m: 6, rExp: -2, thresholds: { lc: 180, uc: 220 }, raw: 201 }),
    analog({ number: 0x21, name: '5V', sensorType: 0x02, entity: 0x07, unit: 4, m: 3, rExp: -2, thresholds: { lc: 150, uc: 183 }, raw: 167 }),
    analog({ number: 0x22, name: '3.3V', sensorType: 0x02, entity: 0x07, unit: 4, m: 2, rExp: -2, thresholds: { lc: 148, uc: 181 }, raw: 165 }),
    { kind: 'discrete', number: 0x30, name: 'PSU1 Status', sensorType: 0x08, entity: 0x0a, eventType: 0x6f, states: 0x0001 },
    { kind: 'discrete', number: 0x31, name: 'Intrusion', sensorType: 0x05, entity: 0x17, eventType: 0x6f, states: 0x0000 },
  ];
}

function idField(name: string): number[] {
  const bytes = [...Buffer.from(name.slice(0, 16), 'latin1')];
  return [0xc0 | bytes.length, ...bytes];
}

/** Readable/settable threshold mask bits: 0 LNC, 1 LC, 2 LNR, 3 UNC, 4 UC, 5 UNR. */
function thresholdMask(t: SimAnalogSensor['thresholds']): number {
  return (t.lnc !== undefined ? 0x01 : 0) | (t.lc !== undefined ? 0x02 : 0) | (t.lnr !== undefined ? 0x04 : 0) | (t.unc !== undefined ? 0x08 : 0) | (t.uc !== undefined ? 0x10 : 0) | (t.unr !== undefined ? 0x20 : 0);
}

/** The SDR record of a sensor with record ID `id` (header included). */
export function sensorRecord(s: SimSensor, id: number): Buffer {
  let type: number;
  let body: number[];
  if (s.kind === 'analog') {
    type = 0x01;
    const t = s.thresholds;
    const mask = thresholdMask(t);
    body = [
      0x20, 0x00, s.number, s.entity, 0x01,
      0x7f, 0x48, // initialization; capabilities: auto re-arm, thresholds readable and settable
      s.sensorType, 0x01,
      0x00, 0x00, 0x00, 0x00, // event masks
      mask, mask,
      0x00, s.unit, 0x00, 0x00, // unsigned, unit, no modifier, linear
      s.m & 0xff, (s.m >> 2) & 0xc0, 0x00, 0x00, 0x00, ((s.rExp & 0x0f) << 4) | 0x00,
      0x00, s.raw, 0x00, 0x00, 0xff, 0x00, // flags, nominal, normal max/min, sensor max/min
      t.unr ?? 0, t.uc ?? 0, t.unc ?? 0, t.lnr ?? 0, t.lc ?? 0, t.lnc ?? 0,
      0x01, 0x01, 0x00, 0x00, 0x00,
      ...idField(s.name),
    ];
  } else {
    type = 0x02;
    body = [
      0x20, 0x00, s.number, s.entity, 0x01, 0x7f, 0x40, s.sensorType, s.eventType,
      0xff, 0x7f, 0xff, 0x7f, 0xff, 0x7f, // masks: every offset
      0xc0, 0x00, 0x00, // no analog reading
      0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      ...idField(s.name),
    ];
  }
  const head = Buffer.alloc(5);
  head.writeUInt16LE(id, 0);
  head[2] = 0x51;
  head[3] = type;
  head[4] = body.length;
  return Buffer.concat([head, Buffer.from(body)]);
}

/** Threshold comparison bits of Get Sensor Reading byte 3 (bit 0 LNC ... bit 5 UNR). */
export function thresholdStatusBits(s: SimAnalogSensor): number {
  const t = s.thresholds;
  const v = s.raw;
  let bits = 0;
  if (t.lnc !== undefined && v <= t.lnc) bits |= 0x01;
  if (t.lc !== undefined && v <= t.lc) bits |= 0x02;
  if (t.lnr !== undefined && v <= t.lnr) bits |= 0x04;
  if (t.unc !== undefined && v >= t.unc) bits |= 0x08;
  if (t.uc !== undefined && v >= t.uc) bits |= 0x10;
  if (t.unr !== undefined && v >= t.unr) bits |= 0x20;
  return bits;
}
