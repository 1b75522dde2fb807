/**
 * IPMI over LAN framing against the IPMI v2.0 specification (rev 1.1): the RMCP header (13.1.3),
 * the IPMI v1.5 session header (13.6, table 13-8), the RMCP+ session header and trailer (13.6,
 * table 13-8: payload type bits, integrity pad to a 32-bit boundary, pad length, Next Header 07h,
 * AuthCode), AES-CBC-128 confidentiality (13.29) and the IPMI LAN message with its two 2's
 * complement checksums (13.8). Expected bytes are written from those tables; signatures and
 * ciphertext are computed here with node:crypto from the formulas, not with our crypto module.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { CIPHER_SUITES } from '../../lib/ipmi/constants';
import { checksum, decodeDatagram, decodeMessage, encodeMessage, encodeV15, encodeV2, MAX_DATAGRAM, PacketError, RMCP_HEADER, type SessionKeys } from '../../lib/ipmi/packet';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const K1 = Buffer.alloc(20, 0x11);
const K2 = Buffer.alloc(20, 0x22);
const SHA1_KEYS: SessionKeys = { suite: CIPHER_SUITES[3], k1: K1, k2: K2 };
const SHA256_KEYS: SessionKeys = { suite: CIPHER_SUITES[17], k1: Buffer.alloc(32, 0x33), k2: Buffer.alloc(32, 0x44) };

/** Get Channel Authentication Capabilities (channel 0Eh, v2.0 data, admin), rqSeq 0: the classic "IPMI ping". */
const GET_CHANNEL_AUTH_CAPS = hex('06 00 ff 07  00 00000000 00000000 09  20 18 c8 81 00 38 8e 04 b5');

function refusal(buf: Buffer, keys?: SessionKeys): string {
  try {
    decodeDatagram(buf, keys);
  } catch (e) {
    expect(e).toBeInstanceOf(PacketError);
    expect((e as Error).name).toBe('PacketError');
    return (e as Error).message;
  }
  throw new Error(`accepted ${buf.toString('hex')}`);
}

/** An RMCP+ packet built by hand from table 13-8: header, payload, integrity pad, pad length, 07h, AuthCode. */
function signedPacket(opts: { typeByte: number; sessionId: number; sequence: number; payload: Buffer; keys: SessionKeys; padLength?: number; padBytes?: number; nextHeader?: number }): Buffer {
  const head = Buffer.alloc(12);
  head[0] = 0x06;
  head[1] = opts.typeByte;
  head.writeUInt32LE(opts.sessionId, 2);
  head.writeUInt32LE(opts.sequence, 6);
  head.writeUInt16LE(opts.payload.length, 10);
  const padLength = opts.padLength ?? (4 - ((12 + opts.payload.length + 2) % 4)) % 4;
  const covered = Buffer.concat([head, opts.payload, Buffer.alloc(opts.padBytes ?? padLength, 0xff), Buffer.from([padLength, opts.nextHeader ?? 0x07])]);
  const hash = opts.keys.suite.hash;
  const code = createHmac(hash, opts.keys.k1).update(covered).digest().subarray(0, opts.keys.suite.authCodeLength);
  return Buffer.concat([RMCP_HEADER, covered, code]);
}

/** AES-CBC-128 per 13.29: IV, then payload, pad 01 02 03 ..., pad length, encrypted with K2[0..15]. */
function aesPayload(payload: Buffer, k2: Buffer, iv: Buffer): Buffer {
  const padLength = (16 - ((payload.length + 1) % 16)) % 16;
  const pad = Buffer.from([...Array.from({ length: padLength }, (_, i) => i + 1), padLength]);
  const c = createCipheriv('aes-128-cbc', k2.subarray(0, 16), iv).setAutoPadding(false);
  return Buffer.concat([iv, c.update(Buffer.concat([payload, pad])), c.final()]);
}

describe('RMCP and the IPMI v1.5 session header', () => {
  it('sends RMCP version 06h, reserved 00h, sequence FFh (no ACK), class 07h (IPMI)', () => {
    expect(RMCP_HEADER).toEqual(hex('06 00 ff 07'));
  });

  it('encodes Get Channel Authentication Capabilities as every IPMI tool sends it', () => {
    const message = encodeMessage({ to: 0x20, netFn: 0x06, toLun: 0, from: 0x81, seq: 0, fromLun: 0, cmd: 0x38, body: hex('8e 04') });
    expect(encodeV15(message)).toEqual(GET_CHANNEL_AUTH_CAPS);
  });

  it('decodes it: authentication type none, session 0, sequence 0, the message as payload', () => {
    expect(decodeDatagram(GET_CHANNEL_AUTH_CAPS)).toEqual({
      authType: 0,
      payloadType: 0,
      encrypted: false,
      authenticated: false,
      sessionId: 0,
      sequence: 0,
      payload: hex('20 18 c8 81 00 38 8e 04 b5'),
    });
  });

  it('reads the v1.5 sequence and session ID little-endian, and ignores bytes after the message (a legacy pad)', () => {
    const dg = hex('06 00 ff 07  00 01020304 a1a2a3a4 02  aa bb  00');
    expect(decodeDatagram(dg)).toMatchObject({ sequence: 0x04030201, sessionId: 0xa4a3a2a1, payload: hex('aa bb') });
  });

  it('takes a message of up to 255 bytes (the length is one byte)', () => {
    expect(encodeV15(Buffer.alloc(255, 1))[13]).toBe(255);
    expect(() => encodeV15(Buffer.alloc(256))).toThrow(new RangeError('IPMI v1.5 message longer than 255 bytes'));
    expect(encodeV15(Buffer.alloc(0))).toEqual(hex('06 00 ff 07  00 00000000 00000000 00'));
  });

  it('refuses datagrams that are not RMCP IPMI, are too short or too long, or run short', () => {
    expect(refusal(hex('06 00 ff 07  00 00000000 00000000'))).toBe('datagram of 13 bytes is too short');
    expect(decodeDatagram(hex('06 00 ff 07  00 00000000 00000000 00')).payload).toHaveLength(0);
    const longest = Buffer.concat([hex('06 00 ff 07  00 00000000 00000000 ff'), Buffer.alloc(MAX_DATAGRAM - 14)]);
    expect(MAX_DATAGRAM).toBe(1024);
    expect(decodeDatagram(longest).payload).toHaveLength(255);
    expect(refusal(Buffer.concat([longest, Buffer.alloc(1)]))).toBe('datagram of 1025 bytes is too long');
    expect(refusal(hex('07 00 ff 07  00 00000000 00000000 00'))).toBe('not an RMCP IPMI datagram (version 7, class 7)');
    // Class 06h is ASF (presence ping): not IPMI.
    expect(refusal(hex('06 00 ff 06  00 00000000 00000000 00'))).toBe('not an RMCP IPMI datagram (version 6, class 6)');
    expect(refusal(hex('06 00 ff 07  00 00000000 00000000 03 aa bb'))).toBe('IPMI v1.5 message length 3 runs past the datagram');
  });

  it('refuses v1.5 authentication types it does not speak (MD2, MD5, password, OEM)', () => {
    for (const t of [1, 2, 4, 5]) expect(refusal(hex(`06 00 ff 07  0${t} 00000000 00000000 00`))).toBe(`IPMI v1.5 authentication type ${t} is not supported`);
  });
});

describe('the RMCP+ session header (authentication type 06h)', () => {
  it('encodes an unauthenticated payload (session setup) in the clear: type, session ID, sequence, length', () => {
    const dg = encodeV2({ payloadType: 0x10, sessionId: 0xa0a2a3a4, sequence: 0xfffffffe, payload: hex('01 02 03') });
    expect(dg).toEqual(hex('06 00 ff 07  06 10 a4a3a2a0 feffffff 0300  010203'));
    expect(decodeDatagram(dg)).toEqual({ authType: 6, payloadType: 0x10, encrypted: false, authenticated: false, sessionId: 0xa0a2a3a4, sequence: 0xfffffffe, payload: hex('01 02 03') });
  });

  it('keeps only the six payload type bits of the type it is given', () => {
    expect(encodeV2({ payloadType: 0xd1, sessionId: 0, sequence: 0, payload: Buffer.alloc(0) })[5]).toBe(0x11);
  });

  it('refuses payloads longer than its 16-bit length field', () => {
    expect(() => encodeV2({ payloadType: 0, sessionId: 0, sequence: 0, payload: Buffer.alloc(0x10000) })).toThrow(new RangeError('RMCP+ payload too long'));
    expect(encodeV2({ payloadType: 0, sessionId: 0, sequence: 0, payload: Buffer.alloc(0xffff) }).readUInt16LE(14)).toBe(0xffff);
  });

  it('refuses a truncated header, an OEM explicit payload, a length past the datagram, stray bytes', () => {
    expect(refusal(hex('06 00 ff 07  06 00 00000000 00000000'))).toBe('RMCP+ session header is truncated');
    expect(refusal(hex('06 00 ff 07  06 02 00000000 00000000 0000'))).toBe('OEM explicit payloads are not supported');
    expect(refusal(hex('06 00 ff 07  06 00 00000000 00000000 0300 0102'))).toBe('RMCP+ payload length 3 runs past the datagram');
    expect(refusal(hex('06 00 ff 07  06 00 00000000 00000000 0100 01 ffff'))).toBe('2 stray bytes after an unauthenticated payload');
    expect(decodeDatagram(hex('06 00 ff 07  06 00 00000000 00000000 0000')).payload).toHaveLength(0);
  });

  it('refuses encrypted or authenticated packets when no session is active', () => {
    expect(refusal(hex('06 00 ff 07  06 80 00000000 00000000 0000'))).toBe('encrypted packet outside an active session');
    expect(refusal(hex('06 00 ff 07  06 40 00000000 00000000 0000 ff 02 07 000000000000000000000000'))).toBe('authenticated packet outside an active session');
  });

  it('returns a payload of its own, not a view of the receive buffer', () => {
    const dg = hex('06 00 ff 07  06 00 00000000 00000000 0200 0102');
    const p = decodeDatagram(dg);
    dg.fill(0);
    expect(p.payload).toEqual(hex('0102'));
  });
});

describe('signed and encrypted RMCP+ packets', () => {
  it.each([
    ['cipher suite 3 (HMAC-SHA1-96)', SHA1_KEYS, 12],
    ['cipher suite 17 (HMAC-SHA256-128)', SHA256_KEYS, 16],
  ] as const)('%s: what we send pads AuthType..Next Header to 32-bit words with FFh, signs it with K1 and encrypts with K2', (_name, keys, codeLength) => {
    for (let n = 0; n < 40; n++) {
      const payload = Buffer.alloc(n, 0x5a);
      const dg = encodeV2({ payloadType: 0, sessionId: 0x80000001, sequence: n + 0x7ffffff0, payload }, keys);
      expect(dg.subarray(0, 4)).toEqual(RMCP_HEADER);
      expect(dg[4]).toBe(0x06);
      expect(dg[5]).toBe(0xc0);
      expect(dg.readUInt32LE(6)).toBe(0x80000001);
      expect(dg.readUInt32LE(10)).toBe(n + 0x7ffffff0);
      const length = dg.readUInt16LE(14);
      const body = dg.subarray(16, 16 + length);
      const codeStart = dg.length - codeLength;
      const covered = dg.subarray(4, codeStart);
      expect(covered.length % 4).toBe(0);
      const padLength = dg[codeStart - 2];
      expect(padLength).toBeLessThan(4);
      expect(16 + length + padLength + 2).toBe(codeStart);
      expect([...dg.subarray(codeStart - 2 - padLength, codeStart - 2)].every((b) => b === 0xff)).toBe(true);
      expect(dg[codeStart - 1]).toBe(0x07);
      expect(dg.subarray(codeStart)).toEqual(createHmac(keys.suite.hash, keys.k1).update(covered).digest().subarray(0, codeLength));
      // Confidentiality: IV + whole AES blocks; the plaintext ends in pad 1, 2, 3... and its length.
      expect((length - 16) % 16).toBe(0);
      const d = createDecipheriv('aes-128-cbc', keys.k2.subarray(0, 16), body.subarray(0, 16)).setAutoPadding(false);
      const plain = Buffer.concat([d.update(body.subarray(16)), d.final()]);
      const confPad = plain[plain.length - 1];
      expect(plain.length).toBe(n + confPad + 1);
      expect(plain.subarray(0, n)).toEqual(payload);
      expect([...plain.subarray(n, n + confPad)]).toEqual(Array.from({ length: confPad }, (_, i) => i + 1));
      // And it reads back.
      expect(decodeDatagram(dg, keys)).toEqual({ authType: 6, payloadType: 0, encrypted: true, authenticated: true, sessionId: 0x80000001, sequence: n + 0x7ffffff0, payload });
    }
  });

  it('reads a packet a BMC signed and encrypted (built here from the tables)', () => {
    const payload = hex('81 1c 63 20 00 38 00 01 86 14 04 00 00 00 00 09');
    const body = aesPayload(payload, K2, Buffer.alloc(16, 0x0f));
    const dg = signedPacket({ typeByte: 0xc0, sessionId: 0x01020304, sequence: 7, payload: body, keys: SHA1_KEYS });
    expect(decodeDatagram(dg, SHA1_KEYS)).toEqual({ authType: 6, payloadType: 0, encrypted: true, authenticated: true, sessionId: 0x01020304, sequence: 7, payload });
  });

  it('reads a signed packet whose payload is not encrypted', () => {
    const dg = signedPacket({ typeByte: 0x40, sessionId: 5, sequence: 6, payload: hex('0102030405'), keys: SHA256_KEYS });
    expect(decodeDatagram(dg, SHA256_KEYS)).toEqual({ authType: 6, payloadType: 0, encrypted: false, authenticated: true, sessionId: 5, sequence: 6, payload: hex('0102030405') });
  });

  it('refuses a wrong AuthCode, a wrong Next Header, a pad length that does not fit, a truncated trailer', () => {
    const good = signedPacket({ typeByte: 0x40, sessionId: 1, sequence: 1, payload: hex('aabbcc'), keys: SHA1_KEYS });
    for (const at of [5, 9, 13, 16, good.length - 13, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x01;
      expect(refusal(bad, SHA1_KEYS)).toBe('integrity check failed (AuthCode does not match)');
    }
    expect(refusal(good, { ...SHA1_KEYS, k1: Buffer.alloc(20, 0x12) })).toBe('integrity check failed (AuthCode does not match)');
    expect(refusal(signedPacket({ typeByte: 0x40, sessionId: 1, sequence: 1, payload: hex('aabbcc'), keys: SHA1_KEYS, nextHeader: 0x06 }), SHA1_KEYS)).toBe('next header is 0x6, not 0x07');
    expect(refusal(signedPacket({ typeByte: 0x40, sessionId: 1, sequence: 1, payload: hex('aabbcc'), keys: SHA1_KEYS, padLength: 5, padBytes: 1 }), SHA1_KEYS)).toBe('integrity pad length 5 does not fit the packet');
    expect(refusal(signedPacket({ typeByte: 0x40, sessionId: 1, sequence: 1, payload: hex('aabbcc'), keys: SHA1_KEYS, padLength: 0, padBytes: 1 }), SHA1_KEYS)).toBe('integrity pad length 0 does not fit the packet');
    // Header and payload but only one trailer byte before a 12-byte AuthCode.
    const short = Buffer.concat([hex('06 00 ff 07  06 40 01000000 01000000 0100 aa 07'), Buffer.alloc(12)]);
    expect(refusal(short, SHA1_KEYS)).toBe('RMCP+ integrity trailer is truncated');
    const exact = Buffer.concat([hex('06 00 ff 07  06 40 01000000 01000000 0100 aa ff 07'), Buffer.alloc(12)]);
    expect(refusal(exact, SHA1_KEYS)).toBe('integrity check failed (AuthCode does not match)');
  });

  it('refuses an encrypted payload that does not decrypt to a valid confidentiality trailer', () => {
    const notBlocks = signedPacket({ typeByte: 0xc0, sessionId: 1, sequence: 1, payload: Buffer.alloc(20), keys: SHA1_KEYS });
    expect(refusal(notBlocks, SHA1_KEYS)).toBe('cannot decrypt payload: encrypted payload of 20 bytes is not an IV plus whole AES blocks');
    const wrongKey = signedPacket({ typeByte: 0xc0, sessionId: 1, sequence: 1, payload: aesPayload(hex('01'), Buffer.alloc(16, 0x99), Buffer.alloc(16)), keys: SHA1_KEYS });
    expect(refusal(wrongKey, SHA1_KEYS)).toMatch(/^cannot decrypt payload: confidentiality pad/);
  });
});

describe('the IPMI LAN message (13.8)', () => {
  it('computes 2s complement checksums: the bytes and the checksum add up to zero', () => {
    expect(checksum(Buffer.alloc(0))).toBe(0);
    expect(checksum(hex('20 18'))).toBe(0xc8);
    expect(checksum(hex('ff 01'))).toBe(0);
    expect(checksum(hex('01'))).toBe(0xff);
    expect(checksum(hex('81 00 38 8e 04'))).toBe(0xb5);
  });

  it('decodes a Get Channel Authentication Capabilities response', () => {
    expect(decodeMessage(hex('81 1c 63 20 00 38 00 01 86 14 04 00 00 00 00 09'))).toEqual({
      to: 0x81,
      netFn: 0x07,
      toLun: 0,
      from: 0x20,
      seq: 0,
      fromLun: 0,
      cmd: 0x38,
      body: hex('00 01 86 14 04 00 00 00 00'),
    });
  });

  it('packs netFn/LUN and seq/LUN as 6 + 2 bits, both ways', () => {
    const m = { to: 0x20, netFn: 0x2c, toLun: 2, from: 0x81, seq: 0x3f, fromLun: 3, cmd: 0x01, body: hex('dcff') };
    const bytes = encodeMessage(m);
    expect(bytes).toEqual(Buffer.from([0x20, 0xb2, checksum(hex('20 b2')), 0x81, 0xff, 0x01, 0xdc, 0xff, checksum(hex('81 ff 01 dc ff'))]));
    expect(decodeMessage(bytes)).toEqual(m);
    // Out-of-range fields keep only their bits.
    expect(encodeMessage({ ...m, netFn: 0x46, toLun: 5, seq: 0x41, fromLun: 4 }).subarray(0, 5)).toEqual(Buffer.from([0x20, 0x19, checksum(hex('20 19')), 0x81, 0x04]));
  });

  it('refuses a message shorter than 7 bytes or with a wrong checksum', () => {
    expect(() => decodeMessage(hex('20 18 c8 81 00 38'))).toThrow(new PacketError('IPMI message of 6 bytes is too short'));
    expect(decodeMessage(hex('20 18 c8 81 00 38 47')).body).toHaveLength(0);
    expect(() => decodeMessage(hex('20 18 c9 81 00 38 8e 04 b5'))).toThrow(new PacketError('IPMI message header checksum is wrong'));
    expect(() => decodeMessage(hex('20 18 c8 81 00 38 8e 04 b4'))).toThrow(new PacketError('IPMI message data checksum is wrong'));
    expect(() => decodeMessage(hex('20 18 c8 81 00 38 8e 05 b5'))).toThrow(new PacketError('IPMI message data checksum is wrong'));
  });

  it('returns a body of its own, not a view of the buffer', () => {
    const buf = hex('20 18 c8 81 00 38 8e 04 b5');
    const m = decodeMessage(buf);
    buf.fill(0);
    expect(m.body).toEqual(hex('8e 04'));
  });
});
