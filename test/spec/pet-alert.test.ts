/**
 * PET (IPMI Platform Event Trap Format 1.0 / ASF 2.0) beyond the field offsets (pet-fields.test.ts):
 * timestamps at the edges of what we believe, the byte-swapped IANA number, the OEM custom fields
 * as the FRU specification types them, a short varbind's fields exactly as far as its bytes go,
 * the alert a user sees (state, severity, summary, device, dedup key, id and details), and which
 * received traps are PET.
 * Varbinds are written byte by byte here, not by our encoder.
 */
import { decodeOemFields, decodePet, formatGuid, petDraft, petToAlert, swapGuid } from '../../lib/asf/pet';
import { petFromTrap } from '../../lib/asf/pet-trap';
import type { ReceivedTrap } from '../../lib/asf/trap-receiver';

const RECEIVED = Date.UTC(2026, 0, 1);
const PET_EPOCH_S = Date.UTC(1998, 0, 1) / 1000;
const DAY_S = 86_400;

/** A whole 46-byte varbind: GUID 00..0f, sequence 1, no time, no UTC offset, IANA 343, the rest as given. */
function varbind(over: Record<number, number[]> = {}, extra: number[] = []): Buffer {
  const b = Buffer.alloc(46);
  for (let i = 0; i < 16; i++) b[i] = i + 1;
  const fields: Record<number, number[]> = {
    16: [0, 1],
    18: [0, 0, 0, 0],
    22: [0xff, 0xff],
    24: [0x20],
    25: [0x68],
    26: [0x02],
    27: [0xff],
    28: [0x30],
    29: [0x07],
    30: [0x01],
    31: [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    39: [0x19],
    40: [0, 0, 0x01, 0x57],
    44: [0x12, 0x34],
    ...over,
  };
  for (const [at, bytes] of Object.entries(fields)) bytes.forEach((x, i) => (b[Number(at) + i] = x));
  return Buffer.concat([b, Buffer.from(extra)]);
}

const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

describe('timestamps (PET: local seconds since 1998-01-01, 0 = unspecified)', () => {
  it('believes a PET time up to two days after receipt (clocks drift), and no later', () => {
    const limit = RECEIVED / 1000 + 2 * DAY_S - PET_EPOCH_S;
    const at = decodePet(0, varbind({ 18: be32(limit) }), RECEIVED);
    expect(at.time?.getTime()).toBe(RECEIVED + 2 * DAY_S * 1000);
    expect(at.quirks).toEqual([]);
    // One second later it cannot be PET time; as Unix seconds it is 1998: before 2000, so no time at all.
    const later = decodePet(0, varbind({ 18: be32(limit + 1) }), RECEIVED);
    expect(later.time).toBeUndefined();
    expect(later.quirks).toEqual(['timestamp-in-future']);
  });

  it('reads a Unix time from 2000-01-01 on, up to two days after receipt', () => {
    const y2000 = Date.UTC(2000, 0, 1) / 1000;
    // Far enough that the PET reading is in the future: receipt in 2026 and Unix seconds ~ 2025 -> PET 2053.
    const recent = RECEIVED / 1000 - 3600;
    expect(decodePet(0, varbind({ 18: be32(recent) }), RECEIVED)).toMatchObject({ time: new Date(recent * 1000), quirks: ['unix-timestamp'] });
    // Received early enough that 2000-01-01 as PET time (2030) is in the future, and as Unix time it is just allowed.
    const early = Date.UTC(2001, 0, 1);
    expect(decodePet(0, varbind({ 18: be32(y2000) }), early)).toMatchObject({ time: new Date(y2000 * 1000), quirks: ['unix-timestamp'] });
    expect(decodePet(0, varbind({ 18: be32(y2000 - 1) }), early)).toMatchObject({ time: undefined, quirks: ['timestamp-in-future'] });
    // As Unix time it would be more than two days after receipt too.
    const received = Date.UTC(2010, 0, 1);
    const tooLate = received / 1000 + 2 * DAY_S + 1;
    expect(decodePet(0, varbind({ 18: be32(tooLate) }), received)).toMatchObject({ time: undefined, quirks: ['timestamp-in-future'] });
    expect(decodePet(0, varbind({ 18: be32(tooLate - 1) }), received)).toMatchObject({ time: new Date((tooLate - 1) * 1000), quirks: ['unix-timestamp'] });
  });

  it('all-ones (FFFFFFFFh) is unspecified as well, as IPMI writes an unspecified time: no time and no quirk', () => {
    const ev = decodePet(0, varbind({ 18: [0xff, 0xff, 0xff, 0xff] }), RECEIVED);
    expect(ev.time).toBeUndefined();
    expect(ev.quirks).toEqual([]);
  });

  it('takes the UTC offset off a Unix time too', () => {
    const recent = RECEIVED / 1000 - 7200;
    const ev = decodePet(0, varbind({ 18: be32(recent), 22: [0x00, 0x3c] }), RECEIVED);
    expect(ev.time?.getTime()).toBe((recent - 3600) * 1000);
    expect(ev.utcOffsetMinutes).toBe(60);
  });

  it('reads the UTC offset from 24 bytes on, even in a short varbind', () => {
    expect(decodePet(0, varbind({ 22: [0xff, 0xc4] }).subarray(0, 24), RECEIVED).utcOffsetMinutes).toBe(-60);
    expect(decodePet(0, varbind({ 22: [0xff, 0xc4] }).subarray(0, 23), RECEIVED).utcOffsetMinutes).toBeUndefined();
    expect(decodePet(0, varbind({ 22: [0xfc, 0xb8] }).subarray(0, 30), RECEIVED)).toMatchObject({ utcOffsetMinutes: -840, quirks: ['short-varbind-30'] });
  });
});

describe('the manufacturer IANA number', () => {
  it.each([
    // 2^24 big-endian is 1 little-endian: swapped.
    [[0x01, 0x00, 0x00, 0x00], 1, ['little-endian-iana']],
    // 2^24 - 1 little-endian, the largest number below 2^24: swapped.
    [[0xff, 0xff, 0xff, 0x00], 0xffffff, ['little-endian-iana']],
    // Both readings at or above 2^24: taken as written.
    [[0x01, 0x00, 0x00, 0x01], 0x01000001, []],
    [[0xff, 0xff, 0xff, 0xff], 0xffffffff, []],
    [[0x00, 0x00, 0x00, 0x00], 0, []],
  ])('bytes %j -> %i', (bytes, iana, quirks) => {
    const ev = decodePet(0, varbind({ 40: bytes }), RECEIVED);
    expect(ev.iana).toBe(iana);
    expect(ev.quirks).toEqual(quirks);
  });

  it('is read from a short varbind of 44 bytes, not 43', () => {
    expect(decodePet(0, varbind({ 40: [0x7c, 0x2a, 0, 0] }).subarray(0, 44), RECEIVED)).toMatchObject({ iana: 10876, quirks: ['little-endian-iana', 'short-varbind-44'] });
    expect(decodePet(0, varbind().subarray(0, 43), RECEIVED).iana).toBeUndefined();
  });
});

describe('OEM custom fields (FRU type/length bytes)', () => {
  it('6-bit packed ASCII as the FRU specification example writes "IPMI": 29h DCh A6h', () => {
    expect(decodeOemFields(Buffer.from([0x83, 0x29, 0xdc, 0xa6]))).toEqual([{ type: '6-bit-ascii', value: 'IPMI' }]);
    // Six bytes, eight characters; a partial group gives the whole characters it holds.
    expect(decodeOemFields(Buffer.from([0x86, 0x29, 0xdc, 0xa6, 0x29, 0xdc, 0xa6]))[0].value).toBe('IPMIIPMI');
    expect(decodeOemFields(Buffer.from([0x82, 0x29, 0xdc]))[0].value).toBe('IP');
    expect(decodeOemFields(Buffer.from([0x81, 0x29]))[0].value).toBe('I');
  });

  it('BCD plus: 0-9, A space, B dash, C period', () => {
    expect(decodeOemFields(Buffer.from([0x46, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]))).toEqual([{ type: 'bcd-plus', value: '0123456789 -' }]);
    expect(decodeOemFields(Buffer.from([0x41, 0xc0]))[0].value).toBe('.0');
  });

  it('8-bit text as Latin-1, binary as hex, lengths from bits 5:0', () => {
    expect(decodeOemFields(Buffer.from([0xc2, 0xe9, 0x41]))).toEqual([{ type: 'text', value: '\u00e9A' }]);
    expect(decodeOemFields(Buffer.from([0x00, 0x01, 0xff]))).toEqual([
      { type: 'binary', value: '' },
      { type: 'binary', value: 'ff' },
    ]);
    const sixtyThree = Buffer.concat([Buffer.from([0xff]), Buffer.alloc(63, 0x61), Buffer.from([0x01, 0x07])]);
    expect(decodeOemFields(sixtyThree)).toEqual([
      { type: 'text', value: 'a'.repeat(63) },
      { type: 'binary', value: '07' },
    ]);
  });

  it('keeps what is there of a field cut short, and stops at C1h', () => {
    expect(decodeOemFields(Buffer.from([0xc5, 0x61, 0x62]))).toEqual([{ type: 'text', value: 'ab' }]);
    expect(decodeOemFields(Buffer.from([0x01, 0x05, 0xc1, 0x01, 0x06]))).toEqual([{ type: 'binary', value: '05' }]);
    expect(decodeOemFields(Buffer.alloc(0))).toEqual([]);
  });

  it('reads at most 32 fields and 256 bytes of OEM data', () => {
    const many = Buffer.from(Array.from({ length: 40 }, (_, i) => [0x01, i]).flat());
    const fields = decodeOemFields(many);
    expect(fields).toHaveLength(32);
    expect(fields[31]).toEqual({ type: 'binary', value: '1f' });
    // Five binary fields of 63 bytes (64 with their type/length byte): only the four in the first 256 bytes are read.
    const five = Array.from({ length: 5 }, (_, k) => [0x3f, ...Array(63).fill(k)]).flat();
    const ev = decodePet(0, varbind({}, five), RECEIVED);
    expect(ev.length).toBe(46 + 320);
    expect(ev.oem).toHaveLength(512);
    expect(ev.oem?.slice(0, 4)).toBe('3f00');
    expect(ev.oemFields?.map((f) => f.value)).toEqual([0, 1, 2, 3].map((k) => Buffer.alloc(63, k).toString('hex')));
    // A field running past the 256th byte keeps the part before it.
    const three = Array.from({ length: 3 }, (_, k) => [0x3f, ...Array(63).fill(k)]).flat();
    const cut = decodePet(0, varbind({}, [...three, 0x01, 0x05, 0x3f, ...Array(63).fill(7)]), RECEIVED);
    expect(cut.oemFields?.slice(3)).toEqual([
      { type: 'binary', value: '05' },
      { type: 'binary', value: Buffer.alloc(61, 7).toString('hex') },
    ]);
  });

  it('reads OEM fields from two bytes on (one byte is data, not a field)', () => {
    expect(decodePet(0, varbind({}, [0x01]), RECEIVED)).toMatchObject({ oem: '01', oemFields: undefined });
    expect(decodePet(0, varbind({}, [0x01, 0x09]), RECEIVED)).toMatchObject({ oem: '0109', oemFields: [{ type: 'binary', value: '09' }] });
  });
});

describe('a short varbind is read exactly as far as its bytes go', () => {
  const whole = varbind({ 18: be32(RECEIVED / 1000 - PET_EPOCH_S - 60), 31: [0x45, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70] });
  const fieldsAt: Array<[string, number]> = [
    ['guid', 16],
    ['sequence', 18],
    ['time', 22],
    ['trapSource', 25],
    ['eventSource', 26],
    ['severityCode', 27],
    ['sensorDevice', 28],
    ['sensorNumber', 29],
    ['entity', 30],
    ['entityInstance', 31],
    ['eventData', 32],
    ['language', 40],
    ['iana', 44],
  ];

  it.each(fieldsAt)('%s needs %i bytes', (field, needs) => {
    const full = decodePet(0x0c6f0f, whole, RECEIVED) as unknown as Record<string, unknown>;
    expect(full[field]).toBeDefined();
    const cut = decodePet(0x0c6f0f, whole.subarray(0, needs), RECEIVED) as unknown as Record<string, unknown>;
    expect(cut[field]).toEqual(field === 'eventData' ? [0x45] : full[field]);
    expect(cut.truncated).toBe(true);
    expect(cut.quirks).toContain(`short-varbind-${needs}`);
    expect((decodePet(0x0c6f0f, whole.subarray(0, needs - 1), RECEIVED) as unknown as Record<string, unknown>)[field]).toBeUndefined();
  });

  it('event data as far as it goes, and offset 0Fh read from its first byte', () => {
    const ev = decodePet(0x0c6f0f, whole.subarray(0, 35), RECEIVED);
    expect(ev.eventData).toEqual([0x45, 0x10, 0x20, 0x30]);
    expect(ev.offset).toBe(5);
    expect(decodePet(0x0c6f0f, whole.subarray(0, 31), RECEIVED).offset).toBe(0x0f);
    expect(decodePet(0x0c6f0f, whole, RECEIVED).offset).toBe(5);
    expect(decodePet(0x0c6f03, whole, RECEIVED).offset).toBe(3);
  });

  it('an empty or missing varbind, and a specific trap that is not a number', () => {
    expect(decodePet(0x056f00, undefined, RECEIVED)).toEqual({ specificTrap: 0x056f00, sensorType: 5, eventType: 0x6f, deassert: false, offset: 0, length: 0, truncated: true, quirks: ['no-varbind'] });
    expect(decodePet(Number.NaN, Buffer.alloc(0), RECEIVED)).toMatchObject({ specificTrap: 0, quirks: ['no-varbind'] });
    expect(decodePet(-1, Buffer.alloc(0), RECEIVED)).toMatchObject({ specificTrap: 0xffffffff, sensorType: 0xff, eventType: 0xff, deassert: true, offset: 0x0f });
  });

  it('an alert of a short varbind carries only the fields that were there', () => {
    for (let n = 0; n <= 46; n++) {
      const a = petToAlert(decodePet(0x0c6f00, whole.subarray(0, n), RECEIVED), { device: { host: 'h' }, receivedAt: RECEIVED });
      for (const [k, v] of Object.entries(a.details)) expect([n, k, v]).not.toEqual([n, k, undefined]);
      expect(a.details.truncated).toBe(n < 46 ? true : undefined);
      expect('guid' in a.details).toBe(n >= 16);
      expect('eventData' in a.details).toBe(n >= 32);
      expect('petSeverity' in a.details).toBe(n >= 27);
    }
  });
});

describe('the alert a PET becomes', () => {
  const device = { name: 'srv', host: '10.0.0.9' };

  it('an assertion triggers, its deassertion resolves the same condition as ok with "Cleared:"', () => {
    const on = petToAlert(decodePet(0x050000 | 0x6f00, varbind({ 26: [0x10], 29: [0x17], 30: [0x00] }), RECEIVED), { device, receivedAt: RECEIVED });
    const off = petToAlert(decodePet(0x050000 | 0x6f80, varbind({ 26: [0x10], 29: [0x17], 30: [0x00] }), RECEIVED), { device, receivedAt: RECEIVED });
    expect(on).toMatchObject({ state: 'trigger', severity: 'critical', kind: 'chassis-intrusion' });
    expect(off).toMatchObject({ state: 'resolve', severity: 'ok', kind: 'chassis-intrusion' });
    expect(off.summary).toBe(`Cleared: ${on.summary}`);
    expect(off.dedupKey).toBe(on.dedupKey);
    expect(on.summary).toBe('Chassis opened (general chassis intrusion) [system chassis]');
  });

  it('names the entity and its instance in the summary, device-relative instances as such, vague entities not at all', () => {
    const summary = (entity: number, instance: number) => petToAlert(decodePet(0x056f00, varbind({ 29: [entity], 30: [instance] }), RECEIVED), { device }).summary;
    expect(summary(0x17, 0)).toBe('Chassis opened (general chassis intrusion) [system chassis]');
    expect(summary(0x17, 2)).toBe('Chassis opened (general chassis intrusion) [system chassis 2]');
    expect(summary(0x17, 0x61)).toBe('Chassis opened (general chassis intrusion) [system chassis 1 (device-relative)]');
    expect(summary(0x07, 0)).toBe('Chassis opened (general chassis intrusion) [system board]');
    expect(summary(0x00, 3)).toBe('Chassis opened (general chassis intrusion)');
    expect(summary(0x01, 3)).toBe('Chassis opened (general chassis intrusion)');
    expect(summary(0x02, 0)).toBe('Chassis opened (general chassis intrusion)');
    // The same event read again after others gives the same sentence.
    expect(summary(0x17, 2)).toBe('Chassis opened (general chassis intrusion) [system chassis 2]');
  });

  it('takes the GUID from the trap when the device has none, never the all-zero GUID', () => {
    const ev = decodePet(0x056f00, varbind(), RECEIVED);
    expect(petToAlert(ev, { device }).device).toEqual({ ...device, guid: '01020304-0506-0708-090a-0b0c0d0e0f10' });
    expect(petToAlert(ev, { device: { ...device, guid: 'known' } }).device.guid).toBe('known');
    const zero = decodePet(0x056f00, varbind({ 0: Array(16).fill(0) }), RECEIVED);
    expect(petToAlert(zero, { device }).device).toEqual(device);
  });

  it('keys a condition by sensor number, except FFh (no sensor)', () => {
    const key = (sensor: number, offset = 0) => petDraft(decodePet(0x056f00 | offset, varbind({ 28: [sensor] }), RECEIVED), { device }).dedupKey;
    expect(key(0x30)).not.toBe(key(0x31));
    expect(key(0x30)).toBe(`${key(0xff)}/s48`);
    expect(key(0xff)).not.toContain('/s');
    expect(key(0x30, 1)).not.toBe(key(0x30));
  });

  it('keys a threshold condition by its level and sensor number, the same text for every trap of it', () => {
    const fanLow = 0x040102; // fan, threshold, lower critical going low
    const key = (sensor: number) => petDraft(decodePet(fanLow, varbind({ 28: [sensor] }), RECEIVED), { device }).dedupKey;
    const base = key(0xff);
    expect(base).toMatch(/\/pet\/fan-failure\/critical$/);
    expect(key(4)).toBe(`${base}/s4`);
    expect(key(4)).toBe(key(4));
    expect(key(0)).toBe(`${base}/s0`);
    expect(key(254)).toBe(`${base}/s254`);
    expect(key(0x30)).toBe(`${base}/s48`);
    // Another event (other offset) with a sensor number made before: its own qualifier.
    expect(petDraft(decodePet(0x056f00, varbind({ 28: [4] }), RECEIVED), { device }).dedupKey).toMatch(/\/pet\/chassis-intrusion\/0\/s4$/);
  });

  it('keeps one id for a re-sent trap and a new one for the next event', () => {
    const a = (over: Record<number, number[]>, from = '10.0.0.9') => petToAlert(decodePet(0x056f00, varbind(over), RECEIVED), { device, from, receivedAt: RECEIVED }).id;
    expect(a({})).toBe(a({}));
    expect(a({ 16: [0, 2] })).not.toBe(a({}));
    expect(a({}, '10.0.0.8')).not.toBe(a({}));
    expect(a({ 31: [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] })).not.toBe(a({}));
  });

  it('is timed by the event when the trap says when, else by its receipt', () => {
    const t = RECEIVED / 1000 - PET_EPOCH_S - 3600;
    expect(petToAlert(decodePet(0x056f00, varbind({ 18: be32(t) }), RECEIVED), { device, receivedAt: RECEIVED }).time).toBe(new Date(RECEIVED - 3_600_000).toISOString());
    expect(petToAlert(decodePet(0x056f00, varbind(), RECEIVED), { device, receivedAt: RECEIVED + 5 }).time).toBe(new Date(RECEIVED + 5).toISOString());
  });

  it('details: decoded fields in a fixed order, then the sender and the raw bytes when given', () => {
    const raw = varbind({ 26: [0x08] }, [0x01, 0x09]);
    const a = petToAlert(decodePet(0x056f00, raw, RECEIVED), { device, from: '10.0.0.9', raw, receivedAt: RECEIVED });
    expect(Object.keys(a.details)).toEqual([
      'sensorType',
      'eventType',
      'offset',
      'deassert',
      'specificTrap',
      'petSeverity',
      'entity',
      'entityInstance',
      'sensorNumber',
      'sensorDevice',
      'eventData',
      'sequence',
      'guid',
      'iana',
      'systemId',
      'trapSource',
      'eventSource',
      'ipmiEvent',
      'oemFields',
      'from',
      'raw',
    ]);
    expect(a.details).toMatchObject({ petSeverity: 'non-critical', entity: 'system board', sensorNumber: 0x30, iana: 343, systemId: 0x1234, trapSource: 0x20, eventSource: 0x68, from: '10.0.0.9', raw: raw.toString('hex') });
    const unknownSeverity = petToAlert(decodePet(0x056f00, varbind({ 26: [0x77] }), RECEIVED), { device });
    expect(unknownSeverity.details.petSeverity).toBe(0x77);
    expect(Object.keys(unknownSeverity.details)).not.toContain('from');
    expect(Object.keys(unknownSeverity.details)).not.toContain('raw');
    // An OEM event type has no IPMI name: the details have no entry for it, not an empty one.
    const oem = petToAlert(decodePet(0xc07000, varbind(), RECEIVED), { device });
    expect(Object.keys(oem.details)).not.toContain('ipmiEvent');
    expect(Object.values(oem.details)).not.toContain(undefined);
    expect(a.details.ipmiEvent).toBe('general chassis intrusion');
    const withOffset = petToAlert(decodePet(0x056f00, varbind({ 22: [0x00, 0x3c] }), RECEIVED), { device });
    expect(withOffset.details.utcOffsetMinutes).toBe(60);
  });
});

describe('GUID text', () => {
  it('a GUID of fewer than 16 bytes is shown as far as it goes', () => {
    expect(formatGuid(Buffer.from('0102030405', 'hex'))).toBe('01020304-05---');
    expect(formatGuid(Buffer.alloc(0))).toBe('----');
  });

  it('swapGuid leaves anything but 32 hex digits alone', () => {
    expect(swapGuid('not a guid')).toBe('not a guid');
    expect(swapGuid('0102030405060708090A0B0C0D0E0F10')).toBe('04030201-0605-0807-090a-0b0c0d0e0f10');
    expect(swapGuid('01020304-0506-0708-090a-0b0c0d0e0f1')).toBe('01020304-0506-0708-090a-0b0c0d0e0f1');
    // 32 hex digits with more before or after them are not a GUID either.
    expect(swapGuid('01020304-0506-0708-090a-0b0c0d0e0f1011')).toBe('01020304-0506-0708-090a-0b0c0d0e0f1011');
    expect(swapGuid('{01020304-0506-0708-090a-0b0c0d0e0f10')).toBe('{01020304-0506-0708-090a-0b0c0d0e0f10');
  });
});

describe('which traps are PET (enterprise 1.3.6.1.4.1.3183.1.1, event bytes in varbind .1)', () => {
  const trap = (over: Partial<ReceivedTrap>): ReceivedTrap => ({ from: '10.0.0.9', fromPort: 162, version: 1, inform: false, varbinds: [], receivedAt: RECEIVED, raw: Buffer.alloc(0), ...over });
  const pet = { oid: '1.3.6.1.4.1.3183.1.1.1', type: 4, value: varbind() };

  it('an SNMPv1 trap of the PET enterprise, generic trap 6: the specific trap and the bytes of varbind .1', () => {
    const ev = petFromTrap(trap({ enterprise: '1.3.6.1.4.1.3183.1.1', generic: 6, specific: 0x056f00, varbinds: [pet] }));
    expect(ev).toMatchObject({ sensorType: 5, eventType: 0x6f, guid: '01020304-0506-0708-090a-0b0c0d0e0f10', systemId: 0x1234 });
    expect(petFromTrap(trap({ enterprise: '1.3.6.1.4.1.3183.1.1', generic: 1, specific: 0x056f00, varbinds: [pet] }))).toBeUndefined();
    expect(petFromTrap(trap({ enterprise: '1.3.6.1.4.1.3183.1', generic: 6, specific: 0x056f00, varbinds: [pet] }))).toBeUndefined();
  });

  it('another octet string under the enterprise before it does not take the place of varbind .1', () => {
    const other = { oid: '1.3.6.1.4.1.3183.1.1.2', type: 4, value: Buffer.from('not the event') };
    const ev = petFromTrap(trap({ version: 2, trapOid: '1.3.6.1.4.1.3183.1.1.0.356096', varbinds: [other, pet] }));
    expect(ev).toMatchObject({ specificTrap: 0x056f00, length: 46, truncated: false, systemId: 0x1234 });
  });
});
