/**
 * The PET varbind's fields at their offsets and boundaries, from the layout of the IPMI Platform
 * Event Trap Format 1.0 / ASF 2.0 specifications (bytes written by hand here, not by our encoder):
 *   0-15 GUID, 16-17 sequence, 18-21 local timestamp (seconds since 1998-01-01 00:00, 0 =
 *   unspecified), 22-23 UTC offset (signed minutes, FFFFh = unspecified), 24 trap source, 25 event
 *   source, 26 severity, 27 sensor device, 28 sensor number, 29 entity, 30 entity instance, 31-38
 *   event data, 39 language code, 40-43 manufacturer IANA number, 44-45 system ID, 46- OEM
 *   custom fields (FRU type/length bytes, C1h ends them).
 * Specific trap: sensor type bits 23:16, event type 15:8, deassertion bit 7, offset 3:0 (0Fh:
 * the offset is event data 1, bits 3:0).
 */
import * as fc from 'fast-check';
import { decodePet, encodePet, formatGuid, PET_FIXED_LENGTH, specificTrapOf, splitSpecificTrap, swapGuid } from '../../lib/asf/pet';

const RECEIVED = Date.UTC(2026, 0, 1);
const PET_EPOCH = Date.UTC(1998, 0, 1);

/** A 46-byte varbind whose every byte is its own index, then the given bytes written over it. */
function varbind(over: Record<number, number[]> = {}, length = PET_FIXED_LENGTH): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = i;
  // Plausible defaults for the fields a decoder interprets.
  const base: Record<number, number[]> = { 18: [0, 0, 0, 60], 22: [0xff, 0xff], 40: [0, 0, 0x01, 0x57] };
  for (const [at, bytes] of Object.entries({ ...base, ...over })) {
    bytes.forEach((x, i) => {
      if (Number(at) + i < length) b[Number(at) + i] = x;
    });
  }
  return b;
}

describe('fixed fields at their offsets', () => {
  it('every byte of the 46 lands in its field', () => {
    const ev = decodePet(0x0407_6f01, varbind(), RECEIVED);
    expect(ev).toMatchObject({
      guid: '00010203-0405-0607-0809-0a0b0c0d0e0f',
      sequence: 0x1011,
      trapSource: 24,
      eventSource: 25,
      severityCode: 26,
      sensorDevice: 27,
      sensorNumber: 28,
      entity: 29,
      entityInstance: 30,
      eventData: [31, 32, 33, 34, 35, 36, 37, 38],
      language: 39,
      iana: 343,
      systemId: 0x2c2d,
      length: 46,
      truncated: false,
    });
    expect(ev.oem).toBeUndefined();
    expect(ev.time?.toISOString()).toBe('1998-01-01T00:01:00.000Z');
    expect(ev.utcOffsetMinutes).toBeUndefined();
  });

  it.each([
    [[0x00, 0x00], 0],
    [[0x00, 0x01], 1],
    [[0x01, 0x00], 256],
    [[0xff, 0xff], 65535],
  ])('sequence bytes %j -> %i (big-endian)', (bytes, seq) => {
    expect(decodePet(0, varbind({ 16: bytes }), RECEIVED).sequence).toBe(seq);
  });

  it.each([
    [[0x00, 0x00, 0x00, 0x00], undefined],
    [[0xff, 0xff, 0xff, 0xff], undefined],
    [[0x00, 0x00, 0x00, 0x01], '1998-01-01T00:00:01.000Z'],
    [[0x00, 0x01, 0x51, 0x80], '1998-01-02T00:00:00.000Z'],
    // 2025-06-01T12:00:00Z is 865,166,400 s after the PET epoch = 0x3391_6440.
    [[0x33, 0x91, 0x64, 0x40], '2025-06-01T12:00:00.000Z'],
  ])('timestamp bytes %j -> %s', (bytes, iso) => {
    expect(decodePet(0, varbind({ 18: bytes }), RECEIVED).time?.toISOString()).toBe(iso);
  });

  it.each([
    // Local time 01:00 on 1998-01-01 at UTC+1 is 00:00Z; at UTC-5 (0xFED4 = -300) it is 06:00Z.
    [[0xff, 0xff], undefined, '1998-01-01T01:00:00.000Z'],
    [[0x00, 0x00], 0, '1998-01-01T01:00:00.000Z'],
    [[0x00, 0x3c], 60, '1998-01-01T00:00:00.000Z'],
    [[0xfe, 0xd4], -300, '1998-01-01T06:00:00.000Z'],
    [[0x03, 0x48], 840, '1997-12-31T11:00:00.000Z'],
  ])('UTC offset bytes %j -> %s minutes', (bytes, minutes, iso) => {
    const ev = decodePet(0, varbind({ 18: [0, 0, 0x0e, 0x10], 22: bytes }), RECEIVED);
    expect(ev.utcOffsetMinutes).toBe(minutes);
    expect(ev.time?.toISOString()).toBe(iso);
  });

  it.each([
    [[0x03, 0x49], 841],
    [[0xfc, 0xb7], -841],
    [[0x7f, 0xff], 32767],
  ])('UTC offset bytes %j (%i min) are no offset on Earth: ignored, noted', (bytes) => {
    const ev = decodePet(0, varbind({ 18: [0, 0, 0x0e, 0x10], 22: bytes }), RECEIVED);
    expect(ev.utcOffsetMinutes).toBeUndefined();
    expect(ev.quirks).toContain('bad-utc-offset');
    expect(ev.time?.toISOString()).toBe('1998-01-01T01:00:00.000Z');
  });

  it('a timestamp after the moment of receipt read as PET time is tried as Unix time', () => {
    // 1,735,732,800 = 2025-01-01T12:00:00Z in Unix seconds = 0x6775_2E40; as PET time it is 2053.
    const ev = decodePet(0, varbind({ 18: [0x67, 0x75, 0x2e, 0x40] }), RECEIVED);
    expect(ev.time?.toISOString()).toBe('2025-01-01T12:00:00.000Z');
    expect(ev.quirks).toContain('unix-timestamp');
    expect(new Date(PET_EPOCH).toISOString()).toBe('1998-01-01T00:00:00.000Z');
  });

  it.each([
    [[0x00, 0x00, 0x01, 0x57], 343, []],
    [[0x00, 0x00, 0x2a, 0x7c], 10876, []],
    // Supermicro writes 10876 little-endian.
    [[0x7c, 0x2a, 0x00, 0x00], 10876, ['little-endian-iana']],
    [[0x00, 0xff, 0xff, 0xff], 0xffffff, []],
  ])('IANA bytes %j -> %i', (bytes, iana, quirks) => {
    const ev = decodePet(0, varbind({ 40: bytes }), RECEIVED);
    expect(ev.iana).toBe(iana);
    expect(ev.quirks).toEqual(quirks);
  });
});

describe('GUID byte order', () => {
  it('is shown in the order the bytes came; swapGuid turns the first three fields around', () => {
    const g = [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
    const ev = decodePet(0, varbind({ 0: g }), RECEIVED);
    expect(ev.guid).toBe('33221100-5544-7766-8899-aabbccddeeff');
    expect(swapGuid(ev.guid!)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(swapGuid(swapGuid(ev.guid!))).toBe(ev.guid);
    expect(formatGuid(Buffer.from(g))).toBe(ev.guid);
  });

  it('two GUIDs in turn are each read as themselves', () => {
    const a = varbind({ 0: Array(16).fill(0xaa) });
    const b = varbind({ 0: Array(16).fill(0xbb) });
    expect([a, b, a].map((x) => decodePet(0, x, RECEIVED).guid)).toEqual([
      'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
      'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb',
      'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    ]);
  });
});

describe('specific trap', () => {
  it.each([
    [0x00000000, { sensorType: 0, eventType: 0, deassert: false, offset: 0 }],
    [0x00ffff8f, { sensorType: 0xff, eventType: 0xff, deassert: true, offset: 0x0f }],
    [0x00050000 | 0x6f00 | 0x00, { sensorType: 5, eventType: 0x6f, deassert: false, offset: 0 }],
    [0x00010100 | 0x80 | 0x09, { sensorType: 1, eventType: 1, deassert: true, offset: 9 }],
    // Bits 6:4 are reserved: they change nothing.
    [0x00010170, { sensorType: 1, eventType: 1, deassert: false, offset: 0 }],
    // Bits above 23 are not PET's.
    [0xff010101, { sensorType: 1, eventType: 1, deassert: false, offset: 1 }],
  ])('%i splits into %j', (specific, fields) => {
    expect(splitSpecificTrap(specific)).toEqual(fields);
    // Event data 1 says 0Fh too, so the 0Fh row reads the same through decodePet.
    expect(decodePet(specific, varbind({ 31: [0x0f] }), RECEIVED)).toMatchObject(fields);
    expect(specificTrapOf(fields) & 0xffff8f).toBe(specific & 0xffff8f);
  });

  it('offset 0Fh takes the offset from event data 1, bits 3:0', () => {
    expect(decodePet(0x00050f0f, varbind({ 31: [0xa3] }), RECEIVED).offset).toBe(3);
    expect(decodePet(0x00050f0f, varbind({ 31: [0xaf] }), RECEIVED).offset).toBe(0x0f);
    expect(decodePet(0x00050f0e, varbind({ 31: [0xa3] }), RECEIVED).offset).toBe(0x0e);
    // Short varbind with event data 1 present.
    expect(decodePet(0x00050f0f, varbind({ 31: [0x52] }, 32), RECEIVED).offset).toBe(2);
  });
});

describe('length boundaries', () => {
  it.each([
    [0, {}, ['no-varbind']],
    [15, {}, ['short-varbind-15']],
    [16, { guid: '00010203-0405-0607-0809-0a0b0c0d0e0f' }, ['short-varbind-16']],
    [17, { sequence: undefined }, ['short-varbind-17']],
    [18, { sequence: 0x1011 }, ['short-varbind-18']],
    [21, { time: undefined }, ['short-varbind-21']],
    [24, { utcOffsetMinutes: undefined }, ['short-varbind-24']],
    [25, { trapSource: 24, eventSource: undefined }, ['short-varbind-25']],
    [31, { entityInstance: 30, eventData: undefined }, ['short-varbind-31']],
    [33, { eventData: [31, 32] }, ['short-varbind-33']],
    [39, { eventData: [31, 32, 33, 34, 35, 36, 37, 38], language: undefined }, ['short-varbind-39']],
    [43, { language: 39, iana: undefined }, ['short-varbind-43']],
    [45, { iana: 343, systemId: undefined }, ['short-varbind-45']],
  ])('%i bytes: read as far as they go', (n, fields, quirks) => {
    const ev = decodePet(0x00050f00, varbind({}, n), RECEIVED);
    expect(ev.truncated).toBe(true);
    expect(ev.length).toBe(n);
    expect(ev.quirks).toEqual(quirks);
    for (const [k, v] of Object.entries(fields)) expect([k, ev[k as keyof typeof ev]]).toEqual([k, v]);
  });

  it('22 and 23 bytes: the timestamp is read, the UTC offset is not there', () => {
    for (const n of [22, 23]) {
      const ev = decodePet(0, varbind({ 18: [0, 0, 0x0e, 0x10] }, n), RECEIVED);
      expect(ev.time?.toISOString()).toBe('1998-01-01T01:00:00.000Z');
      expect(ev.utcOffsetMinutes).toBeUndefined();
    }
  });

  it('46 bytes: whole, no OEM data; 47: one OEM byte; C1h alone ends the OEM fields', () => {
    expect(decodePet(0, varbind(), RECEIVED)).toMatchObject({ truncated: false, oem: undefined, oemFields: undefined, quirks: [] });
    const b47 = Buffer.concat([varbind(), Buffer.from([0x7e])]);
    expect(decodePet(0, b47, RECEIVED)).toMatchObject({ truncated: false, oem: '7e', length: 47 });
    const ended = Buffer.concat([varbind(), Buffer.from([0xc1, 0x00])]);
    expect(decodePet(0, ended, RECEIVED).oemFields).toEqual([]);
  });

  it('OEM fields by their FRU type/length byte', () => {
    // C3h: text, 3 bytes; 83h: 6-bit ASCII, 3 bytes ("ABCD");
    // 42h: BCD plus, 2 bytes (A = space, B = dash); 02h: binary, 2 bytes; then C1h.
    // 6-bit "ABCD": A=21h B=22h C=23h D=24h, packed LSB first: 0xA1 0x38 0x92.
    const oem = Buffer.from([0xc3, 0x66, 0x6f, 0x6f, 0x83, 0xa1, 0x38, 0x92, 0x42, 0x12, 0xab, 0x02, 0xde, 0xad, 0xc1]);
    const ev = decodePet(0, Buffer.concat([varbind(), oem]), RECEIVED);
    expect(ev.oemFields).toEqual([
      { type: 'text', value: 'foo' },
      { type: '6-bit-ascii', value: 'ABCD' },
      { type: 'bcd-plus', value: '12 -' },
      { type: 'binary', value: 'dead' },
    ]);
  });

  it('our encoder writes the same layout the decoder reads (the simulator sends it)', () => {
    const b = encodePet({ sequence: 0xffff, time: 0, utcOffsetMinutes: -300, iana: 0x00ffffff, systemId: 0xffff, eventData: [1, 2, 3, 4, 5, 6, 7, 8] });
    expect(b.length).toBe(46);
    expect(b.subarray(16, 18)).toEqual(Buffer.from([0xff, 0xff]));
    expect(b.subarray(18, 22)).toEqual(Buffer.from([0, 0, 0, 0]));
    expect(b.subarray(22, 24)).toEqual(Buffer.from([0xfe, 0xd4]));
    expect(b.subarray(31, 39)).toEqual(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(b.subarray(40, 46)).toEqual(Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0xff]));
  });
});

describe('any varbind of 0 to 300 bytes', () => {
  /** The fixed fields read straight from the layout above, as far as the bytes go. */
  function layout(b: Buffer): Record<string, unknown> {
    const n = b.length;
    const byte = (i: number) => (i < n ? b[i] : undefined);
    return {
      sequence: n >= 18 ? b[16] * 256 + b[17] : undefined,
      trapSource: byte(24),
      eventSource: byte(25),
      severityCode: byte(26),
      sensorDevice: byte(27),
      sensorNumber: byte(28),
      entity: byte(29),
      entityInstance: byte(30),
      eventData: n >= 32 ? [...b.subarray(31, 39)] : undefined,
      language: byte(39),
      systemId: n >= 46 ? b[44] * 256 + b[45] : undefined,
      oem: n > 46 ? b.subarray(46).toString('hex') : undefined,
      truncated: n < 46,
      length: n,
    };
  }

  it('every fixed field is read from its offset, whatever the other bytes hold', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300, size: 'max' }), fc.integer({ min: 0, max: 0xffffff }), (a, specific) => {
        const b = Buffer.from(a);
        const ev = decodePet(specific, b, RECEIVED);
        const got: Record<string, unknown> = {};
        for (const k of Object.keys(layout(b))) got[k] = ev[k as keyof typeof ev];
        expect(got).toEqual(layout(b));
        if (b.length >= 16) expect(ev.guid!.replace(/-/g, '')).toBe(b.subarray(0, 16).toString('hex'));
        const be = b.length >= 44 ? b.readUInt32BE(40) : undefined;
        if (be !== undefined && be <= 0xffffff) expect(ev.iana).toBe(be);
        expect(ev.sensorType).toBe(specific >>> 16);
        expect(ev.eventType).toBe((specific >>> 8) & 0xff);
        expect(ev.deassert).toBe((specific & 0x80) !== 0);
      }),
      { numRuns: 500 },
    );
  });
});
