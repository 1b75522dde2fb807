import { deviceFromObject } from '../../lib/device';
import { selRecordToAlert } from '../../lib/ipmi/alert';
import { parseBootFlags, encodeBootFlags, parseChassisStatus } from '../../lib/ipmi/chassis';
import { Conversion, convertReading, parseSensorRecord } from '../../lib/ipmi/sdr';
import { parseSelRecord } from '../../lib/ipmi/sel';
import { sensorRecord } from '../../packages/sim/src/ipmi/sensors';

function selRecord(o: { id?: number; type?: number; ts: number; sensorType: number; sensorNumber: number; dir: number; data: [number, number, number] }): Buffer {
  const r = Buffer.alloc(16);
  r.writeUInt16LE(o.id ?? 1, 0);
  r[2] = o.type ?? 0x02;
  r.writeUInt32LE(o.ts, 3);
  r.writeUInt16LE(0x20, 7);
  r[9] = 0x04;
  r[10] = o.sensorType;
  r[11] = o.sensorNumber;
  r[12] = o.dir;
  r.set(o.data, 13);
  return r;
}

describe('what a SEL record means', () => {
  const device = { name: 'srv', host: '10.0.0.8' };
  const alert = (sensorType: number, dir: number, offset: number) =>
    selRecordToAlert(parseSelRecord(selRecord({ ts: 1_700_000_000, sensorType, sensorNumber: 7, dir, data: [offset, 0xff, 0xff] })), { device });

  it.each([
    [0x01, 0x01, 0x09, 'temperature-high', 'critical'],
    [0x04, 0x01, 0x02, 'fan-failure', 'critical'],
    [0x02, 0x01, 0x07, 'voltage-high', 'warning'],
    [0x05, 0x6f, 0x00, 'chassis-intrusion', 'critical'],
    [0x08, 0x6f, 0x01, 'power-supply-failure', 'critical'],
    [0x0c, 0x6f, 0x01, 'memory-ecc-uncorrectable', 'critical'],
    [0x20, 0x6f, 0x01, 'os-stop', 'critical'],
    [0x23, 0x6f, 0x01, 'os-watchdog', 'critical'],
    [0x1e, 0x6f, 0x00, 'boot-failure', 'critical'],
  ])('sensor type 0x%s, event type 0x%s, offset %s is %s (%s), as for PET and the AMT event log', (type, dir, offset, kind, severity) => {
    expect(alert(type, dir, offset)).toMatchObject({ source: 'eventlog', kind, severity, state: 'trigger' });
  });

  it('a deassertion resolves the condition with severity ok', () => {
    expect(alert(0x01, 0x81, 0x09)).toMatchObject({ kind: 'temperature-high', severity: 'ok', state: 'resolve', summary: 'Cleared: Overheating: temperature above critical threshold [temperature #7]' });
  });

  it('an OEM event type still becomes an alert', () => {
    expect(alert(0xc3, 0x75, 0x02)).toMatchObject({ kind: 'oem-event', severity: 'info' });
  });
});

describe('SEL records as alerts', () => {
  const device = { name: 'nas', host: '10.0.0.9' };

  it('uses the record time, and the read time for a time relative to BMC start', () => {
    const abs = parseSelRecord(selRecord({ ts: 1_700_000_000, sensorType: 0x05, sensorNumber: 1, dir: 0x6f, data: [0, 0xff, 0xff] }));
    expect(selRecordToAlert(abs, { device }).time).toBe('2023-11-14T22:13:20.000Z');
    const rel = parseSelRecord(selRecord({ ts: 300, sensorType: 0x05, sensorNumber: 1, dir: 0x6f, data: [0, 0xff, 0xff] }));
    const readAt = new Date('2024-05-01T10:00:00Z');
    const a = selRecordToAlert(rel, { device, readAt });
    expect(a.time).toBe('2024-05-01T10:00:00.000Z');
    expect(a.details.secondsSinceBmcStart).toBe(300);
  });

  it('names the sensor from its SDR record and converts the trigger reading', () => {
    const fan = sensorRecord({ kind: 'analog', number: 0x10, name: 'FAN1', sensorType: 0x04, entity: 0x1d, unit: 18, m: 50, rExp: 0, thresholds: { lc: 10, lnc: 20 }, raw: 60 }, 1);
    const rec = parseSensorRecord(fan)!;
    expect(rec).toMatchObject({ name: 'FAN1', number: 0x10, unit: 'RPM', thresholdsRaw: { lowerCritical: 10, lowerNonCritical: 20 } });
    const sel = parseSelRecord(selRecord({ ts: 1_700_000_000, sensorType: 0x04, sensorNumber: 0x10, dir: 0x01, data: [0x52, 8, 10] }));
    const a = selRecordToAlert(sel, { device, sensors: new Map([[0x10, rec]]) });
    expect(a).toMatchObject({ kind: 'fan-failure', severity: 'critical', state: 'trigger', summary: 'Fan failed (speed below critical threshold) [FAN1] (reading 400 RPM, threshold 500 RPM)', details: { reading: 400, threshold: 500 } });
  });

  it('OEM records become info alerts with their bytes', () => {
    const r = Buffer.alloc(16, 0xee);
    r.writeUInt16LE(7, 0);
    r[2] = 0xe1;
    const a = selRecordToAlert(parseSelRecord(r), { device });
    expect(a).toMatchObject({ kind: 'oem-event', severity: 'info', source: 'eventlog', details: { oemData: 'ee'.repeat(13) } });
  });

  it('trigger and resolve of one condition share a dedup key; instances have their own id', () => {
    const t = selRecordToAlert(parseSelRecord(selRecord({ id: 1, ts: 1_700_000_000, sensorType: 1, sensorNumber: 2, dir: 0x01, data: [0x09, 0xff, 0xff] })), { device });
    const r = selRecordToAlert(parseSelRecord(selRecord({ id: 2, ts: 1_700_000_100, sensorType: 1, sensorNumber: 2, dir: 0x81, data: [0x09, 0xff, 0xff] })), { device });
    expect(t.dedupKey).toBe(r.dedupKey);
    expect(t.id).not.toBe(r.id);
    expect([t.state, r.state]).toEqual(['trigger', 'resolve']);
  });
});

describe('sensor conversion', () => {
  it.each([
    [201, { m: 6, rExp: -2 }, 12.06],
    [72, { m: 75, rExp: 0 }, 5400],
    [0xf6, { m: 1, rExp: 0, format: 'twos-complement' as const }, -10],
    [0xf6, { m: 1, rExp: 0, format: 'ones-complement' as const }, -9],
    [50, { m: 1, rExp: 0, b: 10, bExp: 1 }, 150],
    [16, { m: 1, rExp: 0, linearization: 10 }, 4],
  ])('raw %i with %j reads %d', (raw, c: Partial<Conversion> & { m: number; rExp: number }, value) => {
    const defaults: Conversion = { format: 'unsigned', m: 1, b: 0, bExp: 0, rExp: 0, linearization: 0 };
    expect(convertReading(raw, Object.assign(defaults, c))).toBe(value);
  });
});

describe('chassis and boot flag bytes', () => {
  it('decodes Get Chassis Status', () => {
    expect(parseChassisStatus(Buffer.from([0x41, 0x10, 0x59]))).toMatchObject({ powerOn: true, restorePolicy: 'always-on', lastPowerEvent: ['ipmi-command'], intrusion: true, fanFault: true, identify: 'timed' });
  });

  it('encodes one-time, persistent and EFI boot overrides, and "none" clears', () => {
    expect(encodeBootFlags('pxe').toString('hex')).toBe('8004000000');
    expect(encodeBootFlags('bios', { persistent: true, efi: true }).toString('hex')).toBe('e018000000');
    expect(encodeBootFlags('none').toString('hex')).toBe('0000000000');
    expect(parseBootFlags(Buffer.from('a008000000', 'hex'))).toEqual({ device: 'disk', valid: true, persistent: false, efi: true });
    expect(() => encodeBootFlags('usb' as never)).toThrow(/unknown boot device "usb"/);
  });
});

describe('inline IPMI device', () => {
  it('defaults the BMC host to the device host and checks every field', () => {
    expect(deviceFromObject({ host: 'srv1', ipmi: { username: 'ADMIN', password: 'pw' } }).ipmi).toMatchObject({ host: 'srv1', username: 'ADMIN', cipherSuite: 'auto', privilege: 'admin' });
    expect(deviceFromObject({ host: 'srv1', ipmi: { username: 'a', password: 'b', host: '10.1.1.1', port: '6230', cipherSuite: 17, privilege: 'operator' } }).ipmi).toMatchObject({ host: '10.1.1.1', port: 6230, cipherSuite: 17, privilege: 'operator' });
    expect(() => deviceFromObject({ host: 'srv1', ipmi: { password: 'b' } })).toThrow(/device.ipmi.username is missing/);
    expect(() => deviceFromObject({ host: 'srv1', ipmi: { username: 'a', password: 'x'.repeat(21) } })).toThrow(/longer than 20 bytes/);
    expect(() => deviceFromObject({ host: 'srv1', ipmi: { username: 'a', password: 'b', cipherSuite: 2 } })).toThrow(/device.ipmi.cipherSuite "2" is not supported/);
    expect(() => deviceFromObject({ host: 'srv1', ipmi: { username: 'a', password: 'b', privilege: 'root' } })).toThrow(/device.ipmi.privilege "root" is not one of/);
    expect(() => deviceFromObject({ host: 'srv1', ipmi: 'admin:pw' })).toThrow(/device.ipmi must be an object/);
  });
});
