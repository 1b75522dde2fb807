import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodePet, encodePet, petToAlert, specificTrapOf, splitSpecificTrap, swapGuid } from './pet';

const fixture = (name: string) => Buffer.from(fs.readFileSync(path.join(__dirname, '../../test/fixtures/pet', name), 'utf8').trim().split(/\s+/).join(''), 'hex');

describe('PET decoding of real traps', () => {
  it('reads an IBM BMC correctable-ECC trap', () => {
    const ev = decodePet(814848, fixture('ibm-memory-correctable-814848.hex'), Date.UTC(2024, 0, 1));
    expect(ev).toMatchObject({ sensorType: 0x0c, eventType: 0x6f, offset: 0, deassert: false, sequence: 0x53, severityCode: 2, sensorNumber: 0x53, iana: 20301, truncated: false });
    expect(ev.guid).toBe('e7eb938e-074d-11e1-a56c-5cf3fc304624');
    // 0x1AFD41F6 s after 1998-01-01, no UTC offset given.
    expect(ev.time?.toISOString()).toBe('2012-05-07T19:11:50.000Z');
    expect(ev.quirks).toEqual([]);
    const a = petToAlert(ev, { device: { name: 'srv-1', host: '10.0.0.2' }, from: '10.0.0.2' });
    expect(a).toMatchObject({ source: 'pet', kind: 'memory-ecc-correctable', severity: 'info', state: 'trigger' });
    expect(a.summary).toBe('Correctable memory error (ECC)');
  });

  it('reads a Dell chassis intrusion with unspecified severity as critical', () => {
    const ev = decodePet(356096, fixture('dell-chassis-intrusion-356096.hex'), Date.UTC(2024, 0, 1));
    expect(ev).toMatchObject({ sensorType: 0x05, offset: 0, severityCode: 0, entity: 0x18, iana: 674 });
    expect(swapGuid(ev.guid!)).toBe('4c4c4544-0050-5910-8043-b2c04f333358');
    const a = petToAlert(ev, { device: { host: '10.2.3.4' } });
    expect(a).toMatchObject({ kind: 'chassis-intrusion', severity: 'critical' });
    expect(a.summary).toBe('Chassis opened (general chassis intrusion) [sub-chassis]');
  });

  it('tolerates the little-endian IANA number of a Supermicro test trap', () => {
    const ev = decodePet(0, fixture('supermicro-test-0.hex'), Date.UTC(2025, 0, 21, 16, 0));
    expect(ev.iana).toBe(10876);
    expect(ev.quirks).toContain('little-endian-iana');
    expect(ev.time?.toISOString()).toBe('2025-01-21T15:44:46.000Z');
    expect(ev.systemId).toBe(0x3408);
    expect(ev.oem).toBe('80000100c1');
    expect(petToAlert(ev, { device: { host: 'h' } })).toMatchObject({ kind: 'test', severity: 'info' });
  });
});

describe('PET quirks and edges', () => {
  const base = { guid: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), sequence: 7, severity: 0x10, entity: 0x17, iana: 343 };

  it('splits and builds the specific trap number', () => {
    expect(splitSpecificTrap(0x040182)).toEqual({ sensorType: 4, eventType: 1, deassert: true, offset: 2 });
    expect(specificTrapOf({ sensorType: 4, eventType: 1, deassert: true, offset: 2 })).toBe(0x040182);
  });

  it('reads a Unix timestamp written where PET seconds belong', () => {
    const now = Date.UTC(2024, 5, 1);
    const b = encodePet({ ...base, time: 0 });
    b.writeUInt32BE(Math.floor(now / 1000) - 60, 18);
    const ev = decodePet(0x056f00, b, now);
    expect(ev.quirks).toContain('unix-timestamp');
    expect(ev.time?.getTime()).toBe(now - 60_000);
  });

  it('applies the UTC offset and treats 0 as no time', () => {
    const t = Math.floor(Date.UTC(2024, 5, 1, 12) / 1000);
    expect(decodePet(0, encodePet({ ...base, time: t, utcOffsetMinutes: 120 }), t * 1000).time?.toISOString()).toBe('2024-06-01T10:00:00.000Z');
    expect(decodePet(0, encodePet({ ...base, time: 0 })).time).toBeUndefined();
  });

  it('decodes a short varbind as far as it goes, and an empty one not at all', () => {
    const ev = decodePet(0x076f01, encodePet(base).subarray(0, 27));
    expect(ev).toMatchObject({ truncated: true, severityCode: 0x10, sequence: 7 });
    expect(ev.entity).toBeUndefined();
    expect(ev.quirks).toContain('short-varbind-27');
    const a = petToAlert(ev, { device: { host: 'x' } });
    expect(a).toMatchObject({ kind: 'processor-thermal-trip', severity: 'critical' });
    expect(decodePet(0x076f01, undefined).quirks).toEqual(['no-varbind']);
  });

  it('turns a deassertion into a resolve with the same dedup key', () => {
    const on = petToAlert(decodePet(0x040102, encodePet({ ...base, sensorNumber: 0x31 })), { device: { name: 'pc-1', host: 'h' } });
    const off = petToAlert(decodePet(0x040182, encodePet({ ...base, sensorNumber: 0x31 })), { device: { name: 'pc-1', host: 'h' } });
    expect(on).toMatchObject({ kind: 'fan-failure', state: 'trigger', severity: 'critical', summary: 'Fan failed (speed below critical threshold) [system chassis]' });
    expect(off).toMatchObject({ kind: 'fan-failure', state: 'resolve', severity: 'ok' });
    expect(off.summary).toMatch(/^Cleared: Fan failed/);
    expect(off.dedupKey).toBe(on.dedupKey);
  });

  it.each([
    [0x01, 0x01, 9, 'temperature-high', /^Overheating/],
    [0x0f, 0x6f, 0, 'bios-post-error', /^BIOS POST error/],
    [0x1e, 0x6f, 0, 'boot-failure', /no bootable media/],
    [0x23, 0x6f, 1, 'os-watchdog', /OS hang/],
    [0x20, 0x6f, 1, 'os-stop', /blue screen/],
    [0x08, 0x6f, 1, 'power-supply-failure', /Power supply failed/],
    [0x02, 0x01, 2, 'voltage-low', /Voltage below critical/],
    [0x0f, 0x6f, 2, 'firmware-progress', /progress/],
    [0x99, 0x70, 3, 'oem-event', /^Sensor type 0x99 event/],
  ])('reads sensor %i type %i offset %i as %s', (sensorType, eventType, offset, kind, summary) => {
    const a = petToAlert(decodePet(specificTrapOf({ sensorType, eventType, offset }), encodePet({ ...base, severity: 0 })), { device: { host: 'h' } });
    expect(a.kind).toBe(kind);
    expect(a.summary).toMatch(summary);
  });
});
