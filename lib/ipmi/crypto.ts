/**
 * RMCP+ cryptography (IPMI v2.0 sections 13.28-13.32): the RAKP key-exchange codes, the session
 * integrity key SIK and its derived keys K1 (integrity) and K2 (confidentiality), packet AuthCodes
 * and AES-CBC-128 payload encryption with the IPMI pad rules. Node's crypto only.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CipherSuite } from './constants';

/** IPMI v2.0 passwords (and Kg) are at most 20 bytes. */
export const MAX_KEY_BYTES = 20;

export function hmac(suite: CipherSuite, key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac(suite.hash, key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** The user key Kuid (or Kg) as bytes; HMAC pads short keys with zeros, so no padding is needed. */
export function userKey(password: string): Buffer {
  const k = Buffer.from(password, 'utf8');
  if (k.length > MAX_KEY_BYTES) throw new RangeError(`IPMI passwords are at most ${MAX_KEY_BYTES} bytes`);
  return k;
}

/** The BMC key Kg: text, or hex with a 0x prefix; undefined when empty (one-key login). */
export function parseKg(kg: string | undefined): Buffer | undefined {
  if (!kg) return undefined;
  const b = /^0x([0-9a-f]{2})+$/i.test(kg) ? Buffer.from(kg.slice(2), 'hex') : Buffer.from(kg, 'utf8');
  if (b.length > MAX_KEY_BYTES) throw new RangeError(`the BMC key (Kg) is at most ${MAX_KEY_BYTES} bytes`);
  return b;
}

export interface RakpFields {
  /** Remote console session ID (SIDm). */
  consoleSessionId: number;
  /** Managed system (BMC) session ID (SIDc). */
  bmcSessionId: number;
  /** Remote console random number Rm (16 bytes). */
  consoleRandom: Buffer;
  /** Managed system random number Rc (16 bytes). */
  bmcRandom: Buffer;
  /** Managed system GUID (16 bytes). */
  bmcGuid: Buffer;
  /** The whole RAKP 1 role byte: requested privilege plus the name-only lookup bit. */
  role: number;
  username: Buffer;
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function roleAndName(f: RakpFields): Buffer {
  return Buffer.concat([Buffer.from([f.role, f.username.length]), f.username]);
}

/** RAKP 2 key exchange auth code: HMAC(Kuid, SIDm SIDc Rm Rc GUIDc ROLEm ULENGTHm UNAMEm). */
export function rakp2AuthCode(suite: CipherSuite, kuid: Buffer, f: RakpFields): Buffer {
  return hmac(suite, kuid, u32le(f.consoleSessionId), u32le(f.bmcSessionId), f.consoleRandom, f.bmcRandom, f.bmcGuid, roleAndName(f));
}

/** RAKP 3 key exchange auth code: HMAC(Kuid, Rc SIDm ROLEm ULENGTHm UNAMEm). */
export function rakp3AuthCode(suite: CipherSuite, kuid: Buffer, f: RakpFields): Buffer {
  return hmac(suite, kuid, f.bmcRandom, u32le(f.consoleSessionId), roleAndName(f));
}

/** Session integrity key: HMAC(Kg or Kuid, Rm Rc ROLEm ULENGTHm UNAMEm). */
export function sessionIntegrityKey(suite: CipherSuite, kgOrKuid: Buffer, f: RakpFields): Buffer {
  return hmac(suite, kgOrKuid, f.consoleRandom, f.bmcRandom, roleAndName(f));
}

/** RAKP 4 integrity check value: HMAC(SIK, Rm SIDc GUIDc), truncated per suite. */
export function rakp4CheckValue(suite: CipherSuite, sik: Buffer, f: RakpFields): Buffer {
  return hmac(suite, sik, f.consoleRandom, u32le(f.bmcSessionId), f.bmcGuid).subarray(0, suite.rakp4Length);
}

/**
 * K1 and K2: HMAC(SIK, twenty 0x01 bytes) and HMAC(SIK, twenty 0x02 bytes). The constants are 20
 * bytes for every suite, SHA-256 ones included (as ipmitool and FreeIPMI compute them).
 */
export function deriveKeys(suite: CipherSuite, sik: Buffer): { k1: Buffer; k2: Buffer } {
  return { k1: hmac(suite, sik, Buffer.alloc(20, 0x01)), k2: hmac(suite, sik, Buffer.alloc(20, 0x02)) };
}

/** Integrity AuthCode of a packet: HMAC(K1, AuthType .. Next Header), truncated per suite. */
export function packetAuthCode(suite: CipherSuite, k1: Buffer, covered: Buffer): Buffer {
  return hmac(suite, k1, covered).subarray(0, suite.authCodeLength);
}

export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const AES_BLOCK = 16;

/**
 * AES-CBC-128 confidentiality (13.29): a random 16-byte IV, then the payload followed by pad bytes
 * 1, 2, 3... and a pad-length byte, so the plaintext fills whole blocks, encrypted with the first
 * 16 bytes of K2. No other padding is added.
 */
export function encryptPayload(k2: Buffer, payload: Buffer, iv: Buffer = randomBytes(AES_BLOCK)): Buffer {
  const padLength = (AES_BLOCK - ((payload.length + 1) % AES_BLOCK)) % AES_BLOCK;
  const pad = Buffer.alloc(padLength + 1);
  for (let i = 0; i < padLength; i++) pad[i] = i + 1;
  pad[padLength] = padLength;
  const cipher = createCipheriv('aes-128-cbc', k2.subarray(0, 16), iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([iv, cipher.update(Buffer.concat([payload, pad])), cipher.final()]);
}

/** The inverse of encryptPayload; throws a RangeError when the length or the pad is wrong. */
export function decryptPayload(k2: Buffer, data: Buffer): Buffer {
  if (data.length < 2 * AES_BLOCK || data.length % AES_BLOCK !== 0) throw new RangeError(`encrypted payload of ${data.length} bytes is not an IV plus whole AES blocks`);
  const decipher = createDecipheriv('aes-128-cbc', k2.subarray(0, 16), data.subarray(0, AES_BLOCK));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data.subarray(AES_BLOCK)), decipher.final()]);
  const padLength = plain[plain.length - 1];
  if (padLength >= AES_BLOCK || padLength + 1 > plain.length) throw new RangeError(`confidentiality pad length ${padLength} is out of range`);
  const end = plain.length - 1 - padLength;
  for (let i = 0; i < padLength; i++) {
    if (plain[end + i] !== i + 1) throw new RangeError('confidentiality pad bytes are not 1, 2, 3...');
  }
  return plain.subarray(0, end);
}
