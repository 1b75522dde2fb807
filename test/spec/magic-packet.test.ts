/**
 * The Wake-on-LAN magic packet from its definition (AMD's Magic Packet white paper: six FFh, then
 * the MAC sixteen times, found anywhere in a frame; SecureOn: a 4- or 6-byte password after it, as
 * ether-wake writes it: "a.b.c.d" or six hex bytes), at the sizes the parser actually needs:
 * payloads of 102 bytes and more, noise around the packet, broken copies.
 */
import * as fc from 'fast-check';
import { InputError } from '../../lib/errors';
import { buildMagicPacket, MAGIC_PACKET_BYTES, parseMagicPacket, parseSecureOn } from '../../lib/wol/magic-packet';

const RUNS = { numRuns: 300 };

/** The packet written out by hand from the definition. */
function handPacket(mac: number[]): Buffer {
  const bytes: number[] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  for (let i = 0; i < 16; i++) bytes.push(...mac);
  return Buffer.from(bytes);
}

const macHex = (m: number[]) => m.map((x) => x.toString(16).padStart(2, '0')).join(':');

describe('SecureOn passwords as people write them', () => {
  const ACCEPTED: Array<[unknown, number[]]> = [
    ['192.168.1.1', [192, 168, 1, 1]],
    [' 10.0.0.254 ', [10, 0, 0, 254]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['1.2.34.5', [1, 2, 34, 5]],
    ['1.2.3.45', [1, 2, 3, 45]],
    ['aa:bb:cc:dd:ee:ff', [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]],
    ['AA-BB-CC-DD-EE-FF', [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]],
    ['aabbccddeeff', [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]],
    ['01020304', [1, 2, 3, 4]],
    ['01:02:03:04', [1, 2, 3, 4]],
    [Buffer.from([1, 2, 3, 4]), [1, 2, 3, 4]],
    [Buffer.from([1, 2, 3, 4, 5, 6]), [1, 2, 3, 4, 5, 6]],
  ];
  it.each(ACCEPTED)('%p -> %j', (input, bytes) => {
    expect([...parseSecureOn(input)]).toEqual(bytes);
  });

  const REFUSED: unknown[] = [
    '256.0.0.1',
    '1.2.3.256',
    '1.2.3',
    '1.2.3.4.5',
    'x1.2.3.4',
    '1.2.3.4x',
    '1.2.3.1234',
    'zz01020304',
    '01020304zz',
    'aa:b:c:dd:ee',
    'aa:bb-cc:dd',
    '0102030405',
    '01020304050607',
    '',
    Buffer.alloc(0),
    Buffer.alloc(5),
    Buffer.alloc(8),
    1234,
    undefined,
  ];
  it.each(REFUSED)('%p is refused with an InputError', (input) => {
    expect(() => parseSecureOn(input)).toThrow(InputError);
  });

  it('a password that is neither text nor bytes says so', () => {
    expect(() => parseSecureOn(1234)).toThrow(/must be text/);
  });

  it('an empty password means none', () => {
    expect(buildMagicPacket('00:11:22:33:44:55', '')).toEqual(handPacket([0, 0x11, 0x22, 0x33, 0x44, 0x55]));
    expect(() => buildMagicPacket('00:11:22:33:44:55', ' ')).toThrow(InputError);
  });
});

const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 });
/** Noise that holds no FFh, so no competing sync stream. */
const noise = (maxLength: number) => fc.uint8Array({ maxLength, size: 'max' }).map((a) => Buffer.from(a.map((b) => (b === 0xff ? 0x7f : b))));

describe('the parser at real sizes', () => {
  it('builds exactly the packet of the definition', () => {
    fc.assert(
      fc.property(mac, (m) => {
        expect(buildMagicPacket(macHex(m))).toEqual(handPacket(m));
      }),
      RUNS,
    );
  });

  it('finds a packet after any noise, and a 4- or 6-byte tail (only those) as SecureOn', () => {
    fc.assert(
      fc.property(mac, noise(200), noise(12), (m, before, after) => {
        const r = parseMagicPacket(Buffer.concat([before, handPacket(m), after]));
        expect(r?.mac).toBe(macHex(m));
        expect(r?.offset).toBe(before.length);
        expect(r?.secureOn).toEqual(after.length === 4 || after.length === 6 ? after : undefined);
      }),
      RUNS,
    );
  });

  it('skips short runs of FFh before the packet (1 to 5, then another byte)', () => {
    fc.assert(
      fc.property(mac, fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20, size: 'max' }), noise(3), (m, runs, sep) => {
        fc.pre(m[0] !== 0xff);
        const parts: Buffer[] = [];
        for (const n of runs) parts.push(Buffer.alloc(n, 0xff), Buffer.from([0x00]));
        const before = Buffer.concat(parts);
        const r = parseMagicPacket(Buffer.concat([before, sep, handPacket(m)]));
        expect(r).toMatchObject({ mac: macHex(m), offset: before.length + sep.length });
      }),
      RUNS,
    );
  });

  it('a sync run longer than six: the packet starts six FFh before the MAC', () => {
    fc.assert(
      fc.property(mac, fc.integer({ min: 1, max: 30 }), (m, extra) => {
        // A MAC ending in FFh makes an earlier, equally valid packet (the MAC rotated): both wake.
        fc.pre(m[0] !== 0xff && m[5] !== 0xff);
        const r = parseMagicPacket(Buffer.concat([Buffer.alloc(extra, 0xff), handPacket(m)]));
        expect(r).toMatchObject({ mac: macHex(m), offset: extra });
      }),
      RUNS,
    );
  });

  it('one changed byte anywhere in the 16 copies, or one byte short: no packet', () => {
    fc.assert(
      fc.property(mac, fc.integer({ min: 6, max: MAGIC_PACKET_BYTES - 1 }), fc.integer({ min: 1, max: 255 }), noise(50), (m, at, flip, before) => {
        const p = handPacket(m);
        p[at] ^= flip;
        expect(parseMagicPacket(Buffer.concat([before, p]))).toBeUndefined();
        expect(parseMagicPacket(Buffer.concat([before, handPacket(m).subarray(0, MAGIC_PACKET_BYTES - 1)]))).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('a changed sync byte: no packet', () => {
    fc.assert(
      fc.property(mac, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 0xfe }), (m, at, value) => {
        fc.pre(m.some((x) => x !== 0xff));
        const p = handPacket(m);
        p[at] = value;
        expect(parseMagicPacket(p)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('of two packets, the first is found', () => {
    fc.assert(
      fc.property(mac, mac, noise(20), (a, b, gap) => {
        fc.pre(a[0] !== 0xff && b[0] !== 0xff);
        const r = parseMagicPacket(Buffer.concat([handPacket(a), gap, handPacket(b)]));
        expect(r).toMatchObject({ mac: macHex(a), offset: 0 });
        // What follows the first packet is not a password unless it is exactly 4 or 6 bytes.
        expect(r?.secureOn).toBeUndefined();
      }),
      RUNS,
    );
  });
});
