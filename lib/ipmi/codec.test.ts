import fc from 'fast-check';
import { OobError } from '../errors';
import { CIPHER_SUITES } from './constants';
import { decryptPayload, deriveKeys, encryptPayload, parseKg } from './crypto';
import { decodeDatagram, decodeMessage, encodeMessage, encodeV15, encodeV2, PacketError, SessionKeys } from './packet';
import { decodeOpenSessionRequest, decodeOpenSessionResponse, decodeRakp1, decodeRakp2, decodeRakp3, decodeRakp4, encodeOpenSessionRequest } from './rakp';
import { parseSelRecord } from './sel';
import { parseSensorRecord } from './sdr';

const keysFor = (id: 3 | 17): SessionKeys => ({ suite: CIPHER_SUITES[id], ...deriveKeys(CIPHER_SUITES[id], Buffer.alloc(id === 17 ? 32 : 20, 7)) });

describe('IPMI message framing', () => {
  it('encodes Get Channel Authentication Capabilities byte for byte as ipmitool does', () => {
    // ipmitool's request as captured by tshark: rqSeq 0, channel 0x0E with the v2.0 bit, admin
    const m = encodeMessage({ to: 0x20, netFn: 0x06, toLun: 0, from: 0x81, seq: 0, fromLun: 0, cmd: 0x38, body: Buffer.from([0x8e, 0x04]) });
    expect(m.toString('hex')).toBe('2018c88100388e04b5');
    expect(decodeMessage(m)).toMatchObject({ netFn: 6, cmd: 0x38, seq: 0, from: 0x81 });
  });

  it('refuses a message whose checksums do not add up', () => {
    const m = encodeMessage({ to: 0x20, netFn: 0x00, toLun: 0, from: 0x81, seq: 5, fromLun: 0, cmd: 0x01, body: Buffer.alloc(0) });
    const bad = Buffer.from(m);
    bad[5] ^= 0x01;
    expect(() => decodeMessage(bad)).toThrow(/data checksum/);
    bad[5] ^= 0x01;
    bad[1] ^= 0x04;
    expect(() => decodeMessage(bad)).toThrow(/header checksum/);
  });

  it('wraps a sessionless message in an IPMI v1.5 header with zero session and sequence', () => {
    const dg = encodeV15(Buffer.from([1, 2, 3]));
    expect(dg.toString('hex')).toBe('0600ff07' + '00' + '00000000' + '00000000' + '03' + '010203');
    expect(decodeDatagram(dg)).toMatchObject({ authType: 0, sessionId: 0, sequence: 0, payload: Buffer.from([1, 2, 3]) });
  });
});

describe('RMCP+ packets', () => {
  it.each([3, 17] as const)('cipher suite %i: signed packets cover a whole number of 32-bit words and carry the right AuthCode length', (id) => {
    const keys = keysFor(id);
    for (let n = 0; n < 70; n++) {
      const dg = encodeV2({ payloadType: 0, sessionId: 0x11223344, sequence: n + 1, payload: Buffer.alloc(n, 0x5a) }, keys);
      const covered = dg.length - 4 - keys.suite.authCodeLength;
      expect(covered % 4).toBe(0);
      const padLength = dg[4 + covered - 2];
      expect(dg[4 + covered - 1]).toBe(0x07);
      expect(dg.subarray(4 + covered - 2 - padLength, 4 + covered - 2).every((b) => b === 0xff)).toBe(true);
      const p = decodeDatagram(dg, keys);
      expect(p).toMatchObject({ authType: 6, encrypted: true, authenticated: true, sessionId: 0x11223344, sequence: n + 1 });
      expect(p.payload).toEqual(Buffer.alloc(n, 0x5a));
    }
  });

  it('refuses a packet changed in flight, signed with another key, or signed when no session exists', () => {
    const keys = keysFor(17);
    const dg = encodeV2({ payloadType: 0, sessionId: 9, sequence: 1, payload: Buffer.from('hello') }, keys);
    const flipped = Buffer.from(dg);
    flipped[12] ^= 0x80;
    expect(() => decodeDatagram(flipped, keys)).toThrow(/integrity check failed/);
    expect(() => decodeDatagram(dg, keysFor(3))).toThrow(PacketError);
    expect(() => decodeDatagram(dg)).toThrow(/outside an active session/);
  });

  it('leaves session setup payloads in the clear', () => {
    const payload = encodeOpenSessionRequest({ tag: 1, maxPrivilege: 4, consoleSessionId: 0xa0a2a3a4, auth: 3, integrity: 4, confidentiality: 1 });
    const dg = encodeV2({ payloadType: 0x10, sessionId: 0, sequence: 0, payload });
    expect(dg.length).toBe(4 + 12 + 32);
    expect(dg.subarray(16)).toEqual(payload);
    expect(decodeOpenSessionRequest(decodeDatagram(dg).payload)).toMatchObject({ auth: 3, integrity: 4, confidentiality: 1, consoleSessionId: 0xa0a2a3a4 });
  });
});

describe('AES-CBC-128 confidentiality', () => {
  const k2 = Buffer.alloc(20, 0x42);

  it('pads with 1, 2, 3... and a pad length so the plaintext fills whole blocks', () => {
    for (let n = 0; n < 50; n++) {
      const payload = Buffer.alloc(n, 0xab);
      const enc = encryptPayload(k2, payload, Buffer.alloc(16, 1));
      expect(enc.length).toBe(16 + Math.ceil((n + 1) / 16) * 16);
      expect(decryptPayload(k2, enc)).toEqual(payload);
    }
  });

  it('refuses a wrong pad or a length that is not whole blocks', () => {
    const enc = encryptPayload(k2, Buffer.from('0123456789'), Buffer.alloc(16, 1));
    expect(() => decryptPayload(k2, enc.subarray(0, enc.length - 1))).toThrow(/whole AES blocks/);
    expect(() => decryptPayload(Buffer.alloc(20, 0x43), enc)).toThrow(RangeError);
  });
});

describe('BMC key (Kg)', () => {
  it('takes text or 0x-prefixed hex, at most 20 bytes', () => {
    expect(parseKg('0x0102ff')).toEqual(Buffer.from([1, 2, 0xff]));
    expect(parseKg('secret')).toEqual(Buffer.from('secret'));
    expect(parseKg('')).toBeUndefined();
    expect(() => parseKg('x'.repeat(21))).toThrow(/at most 20 bytes/);
  });
});

describe('decoders never throw anything but their own errors on garbage', () => {
  const ours = (e: unknown) => e instanceof PacketError || e instanceof OobError;
  const check = (fn: (b: Buffer) => unknown) =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300, size: 'max' }), (bytes) => {
        try {
          fn(Buffer.from(bytes));
        } catch (e) {
          if (!ours(e)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  const rmcpPlus = (b: Buffer) => Buffer.concat([Buffer.from([0x06, 0x00, 0xff, 0x07, 0x06]), b]);

  it('datagrams, with and without session keys', () => {
    check((b) => decodeDatagram(b));
    check((b) => decodeDatagram(rmcpPlus(b), keysFor(17)));
    check((b) => decodeDatagram(rmcpPlus(b)));
  });

  it('IPMI messages and session setup payloads', () => {
    for (const fn of [decodeMessage, decodeOpenSessionRequest, decodeOpenSessionResponse, decodeRakp1, decodeRakp2, decodeRakp3, decodeRakp4]) check(fn);
  });

  it('SEL and SDR records', () => {
    check((b) => parseSelRecord(b));
    check((b) => parseSensorRecord(b));
  });
});
