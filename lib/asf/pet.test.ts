import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import type { AlertDevice } from '../alerts/alert';
import { decodePet, encodePet, formatGuid, PetContext, petToAlert, specificTrapOf, splitSpecificTrap, swapGuid } from './pet';

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
    // The BMC calls it information; a correctable ECC error is a warning to us: the more severe wins.
    expect(a).toMatchObject({ source: 'pet', kind: 'memory-ecc-correctable', severity: 'warning', state: 'trigger' });
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

describe('PET decoding gives what it gave before it was made faster', () => {
  /** 300 cases from a fixed xorshift sequence: random bytes, whole and cut varbinds, known and random events. */
  function cases(): Array<{ specific: number; bytes: Buffer; ctx: PetContext }> {
    let x = 1;
    const rnd = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    const known = [
      [0x05, 0x6f, 0],
      [0x04, 0x01, 2],
      [0x01, 0x01, 9],
      [0x08, 0x6f, 1],
      [0x0f, 0x6f, 0],
      [0x0f, 0x6f, 2],
      [0x27, 0x6f, 1],
      [0x23, 0x6f, 8],
      [0x1e, 0x6f, 4],
      [0x00, 0x00, 0],
      [0x02, 0x05, 3],
      [0x12, 0x75, 1],
    ];
    const out: Array<{ specific: number; bytes: Buffer; ctx: PetContext }> = [];
    for (let i = 0; i < 300; i++) {
      let bytes: Buffer;
      if (i % 2 === 0) {
        const len = rnd() % 61;
        bytes = Buffer.alloc(len);
        for (let j = 0; j < len; j++) bytes[j] = rnd() & 0xff;
      } else {
        const whole = encodePet({
          guid: Buffer.from(Array.from({ length: 16 }, () => rnd() & (i % 4 === 1 ? 0 : 0xff))),
          sequence: rnd() & 0xffff,
          time: 1_300_000_000 + (rnd() % 400_000_000),
          utcOffsetMinutes: i % 3 === 0 ? undefined : (rnd() % 1700) - 850,
          severity: [0, 1, 2, 4, 8, 0x10, 0x20, 0x77][rnd() % 8],
          sensorNumber: rnd() & 0xff,
          entity: rnd() % 0x40,
          entityInstance: rnd() % 3,
          eventData: Array.from({ length: rnd() % 9 }, () => rnd() & 0xff),
          iana: [343, 10876, 0x7c2a0000, 674][rnd() % 4],
          systemId: rnd() & 0xffff,
          oem: i % 5 === 0 ? Buffer.from([rnd() & 0xff, rnd() & 0xff]) : undefined,
        });
        bytes = whole.subarray(0, i % 7 === 0 ? rnd() % whole.length : whole.length);
      }
      let specific: number;
      if (i % 3 === 2) specific = rnd();
      else {
        const k = known[rnd() % known.length];
        specific = (k[0] << 16) | (k[1] << 8) | (rnd() % 2 ? 0x80 : 0) | k[2];
      }
      const ctx: PetContext =
        i % 2
          ? { device: { name: `pc-${i % 7}`, host: `10.0.0.${i % 9}`, site: i % 4 ? 'hq' : undefined }, from: `10.0.0.${i % 9}`, receivedAt: Date.UTC(2024, 0, 1) + i, raw: bytes }
          : { device: { host: `10.0.1.${i % 5}`, guid: i % 3 ? undefined : '11111111-2222-3333-4444-555555555555' }, receivedAt: Date.UTC(2024, 0, 1) };
      out.push({ specific, bytes, ctx });
    }
    return out;
  }

  it('the same event and the same alert, field for field and in the same order, as recorded (test/fixtures/pet/alert-digests.json)', () => {
    const file = path.join(__dirname, '../../test/fixtures/pet/alert-digests.json');
    const before = JSON.parse(fs.readFileSync(file, 'utf8')).digests as string[];
    const now = cases().map(({ specific, bytes, ctx }) => {
      const ev = decodePet(specific, bytes, Date.UTC(2024, 0, 1));
      const a = petToAlert(ev, ctx);
      return createHash('sha256').update(JSON.stringify({ ev, a })).digest('hex').slice(0, 16);
    });
    if (process.env.PET_DIGESTS_WRITE === '1') {
      const about = JSON.parse(fs.readFileSync(file, 'utf8')).about as string;
      fs.writeFileSync(file, `{\n"about": ${JSON.stringify(about)},\n"digests": [\n${now.map((d) => JSON.stringify(d)).join(',\n')}\n]\n}\n`);
    }
    expect(now.map((d, i) => (d === before[i] ? 'same' : `case ${i} differs`)).filter((d) => d !== 'same')).toEqual([]);
    // With a device kept from trap to trap (as the hub passes one it knows): the same alerts.
    const kept = new Map<string, { device?: AlertDevice }>();
    const keptSlot = (d: AlertDevice) => kept.get(JSON.stringify(d)) ?? kept.set(JSON.stringify(d), {}).get(JSON.stringify(d))!;
    expect(
      cases().map(({ specific, bytes, ctx }) => {
        const ev = decodePet(specific, bytes, Date.UTC(2024, 0, 1));
        return createHash('sha256').update(JSON.stringify({ ev, a: petToAlert(ev, { ...ctx, kept: keptSlot(ctx.device) }) })).digest('hex').slice(0, 16);
      }),
    ).toEqual(now);
    // The same again: what a flood repeats is read from what was worked out the first time.
    expect(cases().map(({ specific, bytes, ctx }) => createHash('sha256').update(JSON.stringify({ ev: decodePet(specific, bytes, Date.UTC(2024, 0, 1)), a: petToAlert(decodePet(specific, bytes, Date.UTC(2024, 0, 1)), ctx) })).digest('hex').slice(0, 16))).toEqual(now);
  });

  it('a device kept from trap to trap carries the GUID of each trap (none for the zero GUID), not the first one', () => {
    const kept = {};
    const device = { name: 'pc-01', host: '10.0.0.1' };
    const alertWith = (guidByte: number) => petToAlert(decodePet(0x056f00, encodePet({ guid: Buffer.alloc(16, guidByte) })), { device, kept });
    expect(alertWith(0x11).device).toEqual({ ...device, guid: '11111111-1111-1111-1111-111111111111' });
    expect(alertWith(0x22).device).toEqual({ ...device, guid: '22222222-2222-2222-2222-222222222222' });
    expect(alertWith(0).device).toEqual(device);
    expect(alertWith(0x22).device).toEqual({ ...device, guid: '22222222-2222-2222-2222-222222222222' });
  });

  it('reads each firmware progress code anew, though the event is otherwise the same', () => {
    const progress = (code: number) => petToAlert(decodePet(0x0f6f02, encodePet({ entity: 7, eventData: [0xc0, code] })), { device: { host: 'h' } }).summary;
    expect(progress(0x01)).toBe('System firmware progress: memory initialization [system board]');
    expect(progress(0x09)).toBe('System firmware progress: video initialization [system board]');
    expect(progress(0x01)).toBe('System firmware progress: memory initialization [system board]');
  });

  it('writes each GUID right however many come, in any order (those written lately are remembered)', () => {
    // More GUIDs than it remembers, some differing in one byte only.
    const guids = Array.from({ length: 600 }, (_, i) => {
      const b = createHash('sha256').update(String(i >> 1)).digest().subarray(0, 20);
      if (i & 1) b[i % 16] ^= 0x01;
      return b;
    });
    const text = (b: Buffer) => b.subarray(0, 16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: guids.length - 1 }), { minLength: 1, maxLength: 3000 }), (order) => {
        for (const i of order) expect(formatGuid(guids[i])).toBe(text(guids[i]));
      }),
      { numRuns: 30 },
    );
  });

  it('writes a GUID as 8-4-4-4-12 hex of its first 16 bytes, in the order they came', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 40, size: 'max' }), (a) => {
        const b = Buffer.from(a);
        const h = b.subarray(0, 16).toString('hex');
        expect(formatGuid(b)).toBe(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`);
      }),
    );
  });
});
