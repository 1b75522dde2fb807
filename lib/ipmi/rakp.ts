/**
 * The RMCP+ session setup payloads (IPMI v2.0 sections 13.17-13.23): Open Session Request and
 * Response, and RAKP messages 1 to 4. Encoders and decoders for both ends of the exchange.
 */
import { PacketError } from './packet';

/** Bit 4 of the RAKP 1 role byte: look the user up by name only (not by name and privilege). */
export const NAME_ONLY_LOOKUP = 0x10;

export interface Algorithms {
  auth: number;
  integrity: number;
  confidentiality: number;
}

export interface OpenSessionRequest extends Algorithms {
  tag: number;
  /** 0 = the highest level the proposed algorithms allow. */
  maxPrivilege: number;
  consoleSessionId: number;
}

export interface OpenSessionResponse extends Algorithms {
  tag: number;
  status: number;
  maxPrivilege: number;
  consoleSessionId: number;
  bmcSessionId: number;
}

export interface Rakp1 {
  tag: number;
  bmcSessionId: number;
  consoleRandom: Buffer;
  role: number;
  username: Buffer;
}

export interface Rakp2 {
  tag: number;
  status: number;
  consoleSessionId: number;
  bmcRandom: Buffer;
  bmcGuid: Buffer;
  authCode: Buffer;
}

export interface Rakp3 {
  tag: number;
  status: number;
  bmcSessionId: number;
  authCode: Buffer;
}

export interface Rakp4 {
  tag: number;
  status: number;
  consoleSessionId: number;
  checkValue: Buffer;
}

function algorithmRecord(type: number, alg: number): Buffer {
  return Buffer.from([type, 0, 0, 0x08, alg & 0x3f, 0, 0, 0]);
}

function readAlgorithm(buf: Buffer, at: number, type: number, what: string): number {
  if (buf[at] !== type || buf[at + 3] !== 0x08) throw new PacketError(`${what} payload record is malformed`);
  return buf[at + 4] & 0x3f;
}

function need(buf: Buffer, n: number, what: string): void {
  if (buf.length < n) throw new PacketError(`${what} of ${buf.length} bytes is too short (need ${n})`);
}

export function encodeOpenSessionRequest(r: OpenSessionRequest): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.maxPrivilege & 0x0f;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  return Buffer.concat([head, algorithmRecord(0, r.auth), algorithmRecord(1, r.integrity), algorithmRecord(2, r.confidentiality)]);
}

export function decodeOpenSessionRequest(b: Buffer): OpenSessionRequest {
  need(b, 32, 'Open Session Request');
  return {
    tag: b[0],
    maxPrivilege: b[1] & 0x0f,
    consoleSessionId: b.readUInt32LE(4),
    auth: readAlgorithm(b, 8, 0, 'authentication'),
    integrity: readAlgorithm(b, 16, 1, 'integrity'),
    confidentiality: readAlgorithm(b, 24, 2, 'confidentiality'),
  };
}

export function encodeOpenSessionResponse(r: OpenSessionResponse): Buffer {
  const head = Buffer.alloc(12);
  head[0] = r.tag;
  head[1] = r.status;
  head[2] = r.maxPrivilege;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  head.writeUInt32LE(r.bmcSessionId >>> 0, 8);
  if (r.status !== 0) return head.subarray(0, 8);
  return Buffer.concat([head, algorithmRecord(0, r.auth), algorithmRecord(1, r.integrity), algorithmRecord(2, r.confidentiality)]);
}

/** An error answer may stop after the console session ID; the algorithms are then zero. */
export function decodeOpenSessionResponse(b: Buffer): OpenSessionResponse {
  need(b, 2, 'Open Session Response');
  const status = b[1];
  if (status !== 0) {
    return { tag: b[0], status, maxPrivilege: b[2] ?? 0, consoleSessionId: b.length >= 8 ? b.readUInt32LE(4) : 0, bmcSessionId: 0, auth: 0, integrity: 0, confidentiality: 0 };
  }
  need(b, 36, 'Open Session Response');
  return {
    tag: b[0],
    status,
    maxPrivilege: b[2] & 0x0f,
    consoleSessionId: b.readUInt32LE(4),
    bmcSessionId: b.readUInt32LE(8),
    auth: readAlgorithm(b, 12, 0, 'authentication'),
    integrity: readAlgorithm(b, 20, 1, 'integrity'),
    confidentiality: readAlgorithm(b, 28, 2, 'confidentiality'),
  };
}

export function encodeRakp1(r: Rakp1): Buffer {
  if (r.consoleRandom.length !== 16) throw new RangeError('RAKP 1 random number must be 16 bytes');
  if (r.username.length > 16) throw new RangeError('IPMI user names are at most 16 bytes');
  const head = Buffer.alloc(28);
  head[0] = r.tag;
  head.writeUInt32LE(r.bmcSessionId >>> 0, 4);
  r.consoleRandom.copy(head, 8);
  head[24] = r.role;
  head[27] = r.username.length;
  return Buffer.concat([head, r.username]);
}

export function decodeRakp1(b: Buffer): Rakp1 {
  need(b, 28, 'RAKP 1');
  const len = b[27];
  if (len > 16 || 28 + len > b.length) throw new PacketError(`RAKP 1 user name length ${len} is invalid`);
  return { tag: b[0], bmcSessionId: b.readUInt32LE(4), consoleRandom: Buffer.from(b.subarray(8, 24)), role: b[24], username: Buffer.from(b.subarray(28, 28 + len)) };
}

export function encodeRakp2(r: Rakp2): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.status;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  if (r.status !== 0) return head;
  return Buffer.concat([head, r.bmcRandom, r.bmcGuid, r.authCode]);
}

export function decodeRakp2(b: Buffer): Rakp2 {
  need(b, 2, 'RAKP 2');
  const status = b[1];
  const consoleSessionId = b.length >= 8 ? b.readUInt32LE(4) : 0;
  if (status !== 0) return { tag: b[0], status, consoleSessionId, bmcRandom: Buffer.alloc(0), bmcGuid: Buffer.alloc(0), authCode: Buffer.alloc(0) };
  need(b, 40, 'RAKP 2');
  return { tag: b[0], status, consoleSessionId, bmcRandom: Buffer.from(b.subarray(8, 24)), bmcGuid: Buffer.from(b.subarray(24, 40)), authCode: Buffer.from(b.subarray(40)) };
}

export function encodeRakp3(r: Rakp3): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.status;
  head.writeUInt32LE(r.bmcSessionId >>> 0, 4);
  return Buffer.concat([head, r.authCode]);
}

export function decodeRakp3(b: Buffer): Rakp3 {
  need(b, 8, 'RAKP 3');
  return { tag: b[0], status: b[1], bmcSessionId: b.readUInt32LE(4), authCode: Buffer.from(b.subarray(8)) };
}

export function encodeRakp4(r: Rakp4): Buffer {
  const head = Buffer.alloc(8);
  head[0] = r.tag;
  head[1] = r.status;
  head.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  return Buffer.concat([head, r.checkValue]);
}

export function decodeRakp4(b: Buffer): Rakp4 {
  need(b, 2, 'RAKP 4');
  return { tag: b[0], status: b[1], consoleSessionId: b.length >= 8 ? b.readUInt32LE(4) : 0, checkValue: Buffer.from(b.subarray(8)) };
}
