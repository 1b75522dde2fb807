/**
 * IPMI over LAN datagrams: the RMCP header, the IPMI v1.5 session wrapper (used before a session
 * exists), the IPMI v2.0 / RMCP+ session wrapper with its integrity trailer and encrypted payload
 * (section 13.6, 13.8, 13.28), and the IPMI message inside it with its two checksums.
 * Used by the client and by the simulated BMC alike.
 */
import {
  AUTHTYPE_NONE,
  AUTHTYPE_RMCPPLUS,
  CipherSuite,
  NEXT_HEADER,
  PAYLOAD_AUTHENTICATED,
  PAYLOAD_ENCRYPTED,
  RMCP_CLASS_IPMI,
  RMCP_SEQ_NO_ACK,
  RMCP_VERSION,
} from './constants';
import { decryptPayload, encryptPayload, packetAuthCode, sameBytes } from './crypto';

/** A datagram we cannot use: wrong header, bad checksum, failed integrity check... */
export class PacketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PacketError';
  }
}

export const RMCP_HEADER = Buffer.from([RMCP_VERSION, 0x00, RMCP_SEQ_NO_ACK, RMCP_CLASS_IPMI]);

/** Largest datagram we send or accept; IPMI LAN messages are far smaller. */
export const MAX_DATAGRAM = 1024;

export interface SessionKeys {
  suite: CipherSuite;
  k1: Buffer;
  k2: Buffer;
}

export interface SessionPacket {
  /** 0 = IPMI v1.5 session wrapper without authentication, 6 = RMCP+. */
  authType: number;
  /** Payload type, bits 5:0 (0 = IPMI message, 0x10-0x15 = session setup). */
  payloadType: number;
  encrypted: boolean;
  authenticated: boolean;
  sessionId: number;
  sequence: number;
  /** The payload, already decrypted. */
  payload: Buffer;
}

/** An IPMI v1.5 sessionless datagram (Get Channel Authentication Capabilities and the like). */
export function encodeV15(message: Buffer): Buffer {
  if (message.length > 255) throw new RangeError('IPMI v1.5 message longer than 255 bytes');
  const head = Buffer.alloc(10);
  head[0] = AUTHTYPE_NONE;
  // sequence (4) and session ID (4) stay zero outside a session
  head[9] = message.length;
  return Buffer.concat([RMCP_HEADER, head, message]);
}

export interface V2Out {
  payloadType: number;
  sessionId: number;
  sequence: number;
  payload: Buffer;
}

/**
 * An RMCP+ datagram. With keys, the payload is encrypted with K2 and the packet signed with K1;
 * without, it goes in the clear (session setup messages).
 */
export function encodeV2(p: V2Out, keys?: SessionKeys): Buffer {
  const body = keys ? encryptPayload(keys.k2, p.payload) : p.payload;
  if (body.length > 0xffff) throw new RangeError('RMCP+ payload too long');
  const head = Buffer.alloc(12);
  head[0] = AUTHTYPE_RMCPPLUS;
  head[1] = (p.payloadType & 0x3f) | (keys ? PAYLOAD_ENCRYPTED | PAYLOAD_AUTHENTICATED : 0);
  head.writeUInt32LE(p.sessionId >>> 0, 2);
  head.writeUInt32LE(p.sequence >>> 0, 6);
  head.writeUInt16LE(body.length, 10);
  if (!keys) return Buffer.concat([RMCP_HEADER, head, body]);
  // Integrity pad: 0xFF bytes so that AuthType .. Next Header is a whole number of 32-bit words.
  const coveredWithoutPad = head.length + body.length + 2;
  const padLength = (4 - (coveredWithoutPad % 4)) % 4;
  const trailer = Buffer.alloc(padLength + 2, 0xff);
  trailer[padLength] = padLength;
  trailer[padLength + 1] = NEXT_HEADER;
  const covered = Buffer.concat([head, body, trailer]);
  return Buffer.concat([RMCP_HEADER, covered, packetAuthCode(keys.suite, keys.k1, covered)]);
}

/**
 * Reads a datagram. Authenticated RMCP+ packets are checked against K1 and decrypted with K2; an
 * authenticated or encrypted packet arriving without keys, or a bad AuthCode, is a PacketError.
 */
export function decodeDatagram(buf: Buffer, keys?: SessionKeys): SessionPacket {
  if (buf.length < 4 + 10) throw new PacketError(`datagram of ${buf.length} bytes is too short`);
  if (buf.length > MAX_DATAGRAM) throw new PacketError(`datagram of ${buf.length} bytes is too long`);
  if (buf[0] !== RMCP_VERSION || buf[3] !== RMCP_CLASS_IPMI) throw new PacketError(`not an RMCP IPMI datagram (version ${buf[0]}, class ${buf[3]})`);
  const s = buf.subarray(4);
  const authType = s[0] & 0x0f;
  if (authType === AUTHTYPE_RMCPPLUS) return decodeV2(s, keys);
  if (authType !== AUTHTYPE_NONE) throw new PacketError(`IPMI v1.5 authentication type ${authType} is not supported`);
  const sequence = s.readUInt32LE(1);
  const sessionId = s.readUInt32LE(5);
  const length = s[9];
  if (10 + length > s.length) throw new PacketError(`IPMI v1.5 message length ${length} runs past the datagram`);
  return { authType, payloadType: 0, encrypted: false, authenticated: false, sessionId, sequence, payload: s.subarray(10, 10 + length) };
}

function decodeV2(s: Buffer, keys: SessionKeys | undefined): SessionPacket {
  if (s.length < 12) throw new PacketError('RMCP+ session header is truncated');
  const typeByte = s[1];
  const payloadType = typeByte & 0x3f;
  if (payloadType === 0x02) throw new PacketError('OEM explicit payloads are not supported');
  const encrypted = (typeByte & PAYLOAD_ENCRYPTED) !== 0;
  const authenticated = (typeByte & PAYLOAD_AUTHENTICATED) !== 0;
  const sessionId = s.readUInt32LE(2);
  const sequence = s.readUInt32LE(6);
  const length = s.readUInt16LE(10);
  const bodyEnd = 12 + length;
  if (bodyEnd > s.length) throw new PacketError(`RMCP+ payload length ${length} runs past the datagram`);
  let body = s.subarray(12, bodyEnd);
  if (authenticated) {
    if (!keys) throw new PacketError('authenticated packet outside an active session');
    const codeStart = s.length - keys.suite.authCodeLength;
    if (codeStart < bodyEnd + 2) throw new PacketError('RMCP+ integrity trailer is truncated');
    const covered = s.subarray(0, codeStart);
    if (!sameBytes(packetAuthCode(keys.suite, keys.k1, covered), s.subarray(codeStart))) throw new PacketError('integrity check failed (AuthCode does not match)');
    const padLength = s[codeStart - 2];
    if (s[codeStart - 1] !== NEXT_HEADER) throw new PacketError(`next header is 0x${s[codeStart - 1].toString(16)}, not 0x07`);
    if (bodyEnd + padLength + 2 !== codeStart) throw new PacketError(`integrity pad length ${padLength} does not fit the packet`);
  } else if (bodyEnd !== s.length) {
    throw new PacketError(`${s.length - bodyEnd} stray bytes after an unauthenticated payload`);
  }
  if (encrypted) {
    if (!keys) throw new PacketError('encrypted packet outside an active session');
    try {
      body = decryptPayload(keys.k2, body);
    } catch (e) {
      throw new PacketError(`cannot decrypt payload: ${(e as Error).message}`);
    }
  }
  return { authType: AUTHTYPE_RMCPPLUS, payloadType, encrypted, authenticated, sessionId, sequence, payload: Buffer.from(body) };
}

/** An IPMI message on the LAN (section 13.8): both addresses, sequence, command, data and checksums. */
export interface IpmiMessage {
  /** Responder's address for requests (0x20), requester's for responses (0x81). */
  to: number;
  netFn: number;
  toLun: number;
  from: number;
  /** Request sequence number, 6 bits. */
  seq: number;
  fromLun: number;
  cmd: number;
  /** Request data, or the completion code followed by response data. */
  body: Buffer;
}

export function checksum(bytes: Buffer): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

export function encodeMessage(m: IpmiMessage): Buffer {
  const head = Buffer.from([m.to, ((m.netFn & 0x3f) << 2) | (m.toLun & 3)]);
  const tail = Buffer.concat([Buffer.from([m.from, ((m.seq & 0x3f) << 2) | (m.fromLun & 3), m.cmd]), m.body]);
  return Buffer.concat([head, Buffer.from([checksum(head)]), tail, Buffer.from([checksum(tail)])]);
}

export function decodeMessage(buf: Buffer): IpmiMessage {
  if (buf.length < 7) throw new PacketError(`IPMI message of ${buf.length} bytes is too short`);
  if (checksum(buf.subarray(0, 2)) !== buf[2]) throw new PacketError('IPMI message header checksum is wrong');
  if (checksum(buf.subarray(3, buf.length - 1)) !== buf[buf.length - 1]) throw new PacketError('IPMI message data checksum is wrong');
  return {
    to: buf[0],
    netFn: buf[1] >> 2,
    toLun: buf[1] & 3,
    from: buf[3],
    seq: buf[4] >> 2,
    fromLun: buf[4] & 3,
    cmd: buf[5],
    body: Buffer.from(buf.subarray(6, buf.length - 1)),
  };
}
