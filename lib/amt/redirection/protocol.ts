/**
 * Byte layouts of the Intel AMT redirection protocol (TCP 16994, TLS 16995) as far as IDE-R needs
 * them: the session manager messages (start, authenticate, end) and the IDE-R messages (open,
 * features, ping/pong, heartbeat, reset, command written, data to host, command end, close).
 * Every integer is little-endian. Facts from Intel's RedirectionConstants.h as shipped with amtterm
 * and from MeshCommander's IDE-R module; the layouts of the OPEN reply bytes 12-15, 20 and 22-24
 * are not documented there and are written as zeros.
 *
 * IDE-R messages carry a sequence number at bytes 4-7: each side numbers its own messages from 0.
 */

export const MSG = {
  startSession: 0x10,
  startSessionReply: 0x11,
  endSession: 0x12,
  authenticate: 0x13,
  authenticateReply: 0x14,
  iderOpen: 0x40,
  iderOpenReply: 0x41,
  iderClose: 0x42,
  iderCloseReply: 0x43,
  iderPing: 0x44,
  iderPong: 0x45,
  iderReset: 0x46,
  iderResetReply: 0x47,
  iderFeatures: 0x48,
  iderFeaturesReply: 0x49,
  iderError: 0x4a,
  iderHeartbeat: 0x4b,
  iderCommand: 0x50,
  iderCommandEnd: 0x51,
  iderGetData: 0x52,
  iderDataFromHost: 0x53,
  iderDataToHost: 0x54,
  solStart: 0x20,
  solStartReply: 0x21,
  solEnd: 0x22,
  solEndReply: 0x23,
  solHeartbeat: 0x24,
  solControlsToHost: 0x27,
  solDataToHost: 0x28,
  solControlsFromHost: 0x29,
  solDataFromHost: 0x2a,
  solKeepAlive: 0x2b,
} as const;

/** AuthenticateSession types. */
export const AUTH = { query: 0, password: 1, kerberos: 2, digestNoQop: 3, digest: 4 } as const;

/** The URI both sides hash in the redirection Digest (method POST). */
export const AUTH_URI = '/RedirectionService';

/** IDE-R features request types and the "set" bits. */
export const FEATURE = {
  getSupported: 1,
  getStatus: 2,
  set: 3,
  enable: 0x01,
  onReboot: 0x08,
  graceful: 0x10,
  now: 0x18,
} as const;

/** ATA drive-select register values: IDE-R's floppy is the master, its CD the slave. */
export const DRIVE = { floppy: 0xa0, cd: 0xb0 } as const;
export type DriveSelect = (typeof DRIVE)[keyof typeof DRIVE];

/** Intel's IANA enterprise number, as AMT reports it. */
export const INTEL_IANA = 343;

export class ProtocolError extends Error {}

const FIXED_LENGTH: Readonly<Record<number, number>> = {
  [MSG.startSession]: 8,
  [MSG.endSession]: 4,
  [MSG.iderOpen]: 18,
  [MSG.iderClose]: 8,
  [MSG.iderCloseReply]: 8,
  [MSG.iderPing]: 8,
  [MSG.iderPong]: 8,
  [MSG.iderReset]: 9,
  [MSG.iderResetReply]: 8,
  [MSG.iderFeatures]: 13,
  [MSG.iderFeaturesReply]: 13,
  [MSG.iderError]: 11,
  [MSG.iderHeartbeat]: 8,
  [MSG.iderCommand]: 28,
  [MSG.iderCommandEnd]: 31,
  [MSG.iderGetData]: 31,
  [MSG.solStart]: 24,
  [MSG.solStartReply]: 23,
  [MSG.solEnd]: 8,
  [MSG.solEndReply]: 8,
  [MSG.solHeartbeat]: 8,
  [MSG.solControlsToHost]: 14,
  [MSG.solControlsFromHost]: 10,
  [MSG.solKeepAlive]: 8,
};

/** Header of a SOL data message (either direction) before its text. */
export const SOL_DATA_HEADER = 10;

/** Header of a DATA_TO_HOST message before its payload. */
export const DATA_TO_HOST_HEADER = 34;

/**
 * Length of the message starting at buf[at], undefined while incomplete. Throws a ProtocolError
 * for an unknown type, so a peer speaking something else ends the session instead of stalling it.
 */
export function frameLength(buf: Buffer, at = 0): number | undefined {
  const have = buf.length - at;
  if (have < 1) return undefined;
  const type = buf[at];
  const fixed = FIXED_LENGTH[type];
  if (fixed !== undefined) return have >= fixed ? fixed : undefined;
  switch (type) {
    case MSG.startSessionReply:
      // A refusal may be as short as type, status and two reserved bytes (all MeshCommander
      // waits for): take what came of it, so it is reported at once.
      if (have >= 4 && buf[at + 1] !== 0) return Math.min(have, 13);
      return have >= 13 && have >= 13 + buf[at + 12] ? 13 + buf[at + 12] : undefined;
    case MSG.authenticate:
    case MSG.authenticateReply: {
      if (have < 9) return undefined;
      const n = 9 + buf.readUInt32LE(at + 5);
      if (n > 64 * 1024) throw new ProtocolError(`authentication message of ${n} bytes`);
      return have >= n ? n : undefined;
    }
    case MSG.iderOpenReply:
      return have >= 30 && have >= 30 + buf[at + 29] ? 30 + buf[at + 29] : undefined;
    case MSG.iderDataFromHost:
      return have >= 14 && have >= 14 + buf.readUInt16LE(at + 9) ? 14 + buf.readUInt16LE(at + 9) : undefined;
    case MSG.solDataToHost:
    case MSG.solDataFromHost:
      return have >= SOL_DATA_HEADER && have >= SOL_DATA_HEADER + buf.readUInt16LE(at + 8) ? SOL_DATA_HEADER + buf.readUInt16LE(at + 8) : undefined;
    case MSG.iderDataToHost:
      return have >= DATA_TO_HOST_HEADER && have >= DATA_TO_HOST_HEADER + buf.readUInt16LE(at + 9)
        ? DATA_TO_HOST_HEADER + buf.readUInt16LE(at + 9)
        : undefined;
    default:
      throw new ProtocolError(`unknown redirection message type 0x${type.toString(16).padStart(2, '0')}`);
  }
}

/**
 * Splits a byte stream into whole messages; `push` returns the complete ones. A message inside one
 * received chunk is returned as a view of it (no copy); only a message split across chunks is
 * copied together. Bounded: more than `maxPending` bytes of an unfinished message is an error.
 */
export class FrameReader {
  private parts: Buffer[] = [];
  private pendingBytes = 0;
  /** Length of the pending message once its first bytes said it. */
  private pendingLength?: number;
  constructor(private readonly maxPending = 256 * 1024) {}

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = chunk;
    if (this.pendingBytes > 0) {
      // Complete the split message, copying only its own bytes, once: pieces are kept apart until
      // it is whole, so a message sent a byte at a time costs no more than one sent at once.
      const total = this.pendingBytes + chunk.length;
      let n = this.pendingLength;
      if (n === undefined) {
        // 34 bytes cover every header (DATA_TO_HOST's is the longest).
        const head = Buffer.concat([...this.parts, chunk.subarray(0, Math.max(0, 34 - this.pendingBytes))]).subarray(0, 34);
        try {
          n = frameLength(head) ?? this.lengthFromHeader(head);
        } catch (e) {
          this.reset();
          throw e;
        }
        this.pendingLength = n;
      }
      if (n === undefined || total < n) {
        this.parts.push(chunk);
        this.pendingBytes = total;
        this.check();
        return out;
      }
      out.push(Buffer.concat([...this.parts, chunk.subarray(0, n - this.pendingBytes)], n));
      buf = chunk.subarray(n - this.pendingBytes);
      this.reset();
    }
    let at = 0;
    for (;;) {
      const n = frameLength(buf, at);
      if (n === undefined) break;
      out.push(buf.subarray(at, at + n));
      at += n;
    }
    if (at < buf.length) {
      this.parts = [buf.subarray(at)];
      this.pendingBytes = buf.length - at;
      this.pendingLength = undefined;
      this.check();
    }
    return out;
  }

  /** Total length of a message from its first bytes, when they say it (even if incomplete). */
  private lengthFromHeader(b: Buffer): number | undefined {
    switch (b[0]) {
      case MSG.iderDataToHost:
        return b.length >= 11 ? DATA_TO_HOST_HEADER + b.readUInt16LE(9) : undefined;
      case MSG.iderDataFromHost:
        return b.length >= 11 ? 14 + b.readUInt16LE(9) : undefined;
      case MSG.authenticate:
      case MSG.authenticateReply:
        return b.length >= 9 ? 9 + b.readUInt32LE(5) : undefined;
      case MSG.startSessionReply:
        return b.length >= 13 ? 13 + b[12] : undefined;
      case MSG.iderOpenReply:
        return b.length >= 30 ? 30 + b[29] : undefined;
      case MSG.solDataToHost:
      case MSG.solDataFromHost:
        return b.length >= SOL_DATA_HEADER ? SOL_DATA_HEADER + b.readUInt16LE(8) : undefined;
      default:
        return undefined;
    }
  }

  /**
   * Hands over the bytes of an unfinished message and stops framing them: for a channel that
   * carries a raw stream from here on (KVM's RFB).
   */
  takePending(): Buffer {
    const b = Buffer.concat(this.parts);
    this.reset();
    return b;
  }

  private reset(): void {
    this.parts = [];
    this.pendingBytes = 0;
    this.pendingLength = undefined;
  }

  private check(): void {
    if (this.pendingBytes > this.maxPending) throw new ProtocolError(`incomplete message over ${this.maxPending} bytes`);
  }
}

/** What a StreamingFrameReader hands over; a callback returning false stops the current push. */
export interface FrameSink {
  /** A whole message, except DATA_TO_HOST. */
  message(m: Buffer): boolean | void;
  /**
   * DATA_TO_HOST, as it arrives: its 34-byte header with each piece of its payload (views of the
   * received bytes, never copied together); `end` on the last piece (a message without payload
   * comes as one empty piece).
   */
  data(header: Buffer, piece: Buffer, end: boolean): boolean | void;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * Like FrameReader, for the receiving end of image data (the simulated device): DATA_TO_HOST
 * payloads are handed over in pieces as they arrive instead of being assembled, so a payload cut
 * by the socket's reads costs no copy. Other messages come whole. Bounded like FrameReader.
 */
export class StreamingFrameReader {
  private pending?: Buffer;
  private dataHeader?: Buffer;
  private dataLeft = 0;
  constructor(
    private readonly sink: FrameSink,
    private readonly maxPending = 256 * 1024,
  ) {}

  push(chunk: Buffer): void {
    // Only the rare message cut before its payload (a header, a small message) is copied together.
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (at < buf.length) {
      if (this.dataHeader) {
        const n = Math.min(this.dataLeft, buf.length - at);
        this.dataLeft -= n;
        const h = this.dataHeader;
        if (this.dataLeft === 0) this.dataHeader = undefined;
        at += n;
        if (this.sink.data(h, buf.subarray(at - n, at), this.dataLeft === 0) === false) return;
        continue;
      }
      if (buf[at] === MSG.iderDataToHost) {
        if (buf.length - at < DATA_TO_HOST_HEADER) break;
        const h = buf.subarray(at, at + DATA_TO_HOST_HEADER);
        at += DATA_TO_HOST_HEADER;
        this.dataLeft = h.readUInt16LE(9);
        if (this.dataLeft === 0) {
          if (this.sink.data(h, NO_BYTES, true) === false) return;
        } else {
          this.dataHeader = h;
        }
        continue;
      }
      const n = frameLength(buf, at);
      if (n === undefined) break;
      at += n;
      if (this.sink.message(buf.subarray(at - n, at)) === false) return;
    }
    if (at < buf.length) {
      if (buf.length - at > this.maxPending) throw new ProtocolError(`incomplete message over ${this.maxPending} bytes`);
      this.pending = buf.subarray(at);
    }
  }
}

function header(type: number, size: number, seq?: number, attributes = 0): Buffer {
  const b = Buffer.alloc(size);
  b[0] = type;
  b[3] = attributes;
  if (seq !== undefined) b.writeUInt32LE(seq >>> 0, 4);
  return b;
}

export const sequenceOf = (m: Buffer): number => m.readUInt32LE(4);

// --- session manager ------------------------------------------------------------------------------

/** StartRedirectionSession for a protocol tag ("IDER", "SOL ", "KVMR"). */
export function startSession(protocol: string): Buffer {
  const b = header(MSG.startSession, 8);
  b.write(protocol.padEnd(4).slice(0, 4), 4, 'latin1');
  return b;
}

export function readStartSession(m: Buffer): string {
  return m.toString('latin1', 4, 8);
}

/** Status 0 is success; AMT sends its protocol version 1.0 and its firmware version. */
export function startSessionReply(status: number, firmware: [number, number] = [0, 0]): Buffer {
  const b = header(MSG.startSessionReply, 13);
  b[1] = status;
  b[4] = 1;
  b[5] = 0;
  b[6] = firmware[0];
  b[7] = firmware[1];
  return b;
}

export function endSession(): Buffer {
  return header(MSG.endSession, 4);
}

/** Length-prefixed (one byte) fields, the way Digest parameters travel on this channel. */
export function lengthPrefixed(fields: string[]): Buffer {
  const parts = fields.map((f) => Buffer.from(f, 'utf8'));
  for (const p of parts) if (p.length > 255) throw new ProtocolError('authentication field longer than 255 bytes');
  return Buffer.concat(parts.flatMap((p) => [Buffer.from([p.length]), p]));
}

export function readLengthPrefixed(data: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    const n = data[at];
    if (at + 1 + n > data.length) throw new ProtocolError('truncated authentication field');
    out.push(data.toString('utf8', at + 1, at + 1 + n));
    at += 1 + n;
  }
  return out;
}

export function authenticate(type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = header(MSG.authenticate, 9 + data.length);
  b[4] = type;
  b.writeUInt32LE(data.length, 5);
  data.copy(b, 9);
  return b;
}

/** Status 0 success, 1 challenge (Digest) / continue, anything else failure. */
export function authenticateReply(status: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = header(MSG.authenticateReply, 9 + data.length);
  b[1] = status;
  b[4] = type;
  b.writeUInt32LE(data.length, 5);
  data.copy(b, 9);
  return b;
}

export interface AuthMessage {
  status: number;
  type: number;
  data: Buffer;
}

export function readAuth(m: Buffer): AuthMessage {
  return { status: m[1], type: m[4], data: m.subarray(9, 9 + m.readUInt32LE(5)) };
}

// --- IDE-R ----------------------------------------------------------------------------------------

export interface OpenRequest {
  rxTimeoutMs: number;
  txTimeoutMs: number;
  heartbeatMs: number;
  version: number;
}

export function iderOpen(seq: number, o: OpenRequest): Buffer {
  const b = header(MSG.iderOpen, 18, seq);
  b.writeUInt16LE(Math.min(o.rxTimeoutMs, 0xffff), 8);
  b.writeUInt16LE(Math.min(o.txTimeoutMs, 0xffff), 10);
  b.writeUInt16LE(Math.min(o.heartbeatMs, 0xffff), 12);
  b.writeUInt32LE(o.version, 14);
  return b;
}

export function readIderOpen(m: Buffer): OpenRequest {
  return { rxTimeoutMs: m.readUInt16LE(8), txTimeoutMs: m.readUInt16LE(10), heartbeatMs: m.readUInt16LE(12), version: m.readUInt32LE(14) };
}

export interface OpenReply {
  major: number;
  minor: number;
  firmwareMajor: number;
  firmwareMinor: number;
  /** Largest DATA_TO_HOST payload the device accepts. */
  readBufferSize: number;
  writeBufferSize: number;
  /** 0 is the only protocol a console may accept. */
  protocol: number;
  iana: number;
}

export function iderOpenReply(seq: number, r: OpenReply): Buffer {
  const b = header(MSG.iderOpenReply, 30, seq);
  b[8] = r.major;
  b[9] = r.minor;
  b[10] = r.firmwareMajor;
  b[11] = r.firmwareMinor;
  b.writeUInt16LE(r.readBufferSize, 16);
  b.writeUInt16LE(r.writeBufferSize, 18);
  b[21] = r.protocol;
  b.writeUInt32LE(r.iana, 25);
  return b;
}

export function readIderOpenReply(m: Buffer): OpenReply {
  return {
    major: m[8],
    minor: m[9],
    firmwareMajor: m[10],
    firmwareMinor: m[11],
    readBufferSize: m.readUInt16LE(16),
    writeBufferSize: m.readUInt16LE(18),
    protocol: m[21],
    iana: m.readUInt32LE(25),
  };
}

/** Messages that are only a header: close, close reply, ping, pong, heartbeat, reset reply. */
export function iderBare(type: number, seq: number): Buffer {
  return header(type, 8, seq);
}

export function iderReset(seq: number, mask: number): Buffer {
  const b = header(MSG.iderReset, 9, seq);
  b[8] = mask;
  return b;
}

export function iderFeatures(seq: number, type: number, value: number, reply = false): Buffer {
  const b = header(reply ? MSG.iderFeaturesReply : MSG.iderFeatures, 13, seq);
  b[8] = type;
  b.writeUInt32LE(value >>> 0, 9);
  return b;
}

export function readFeatures(m: Buffer): { type: number; value: number } {
  return { type: m[8], value: m.readUInt32LE(9) };
}

export function iderError(seq: number, code: number): Buffer {
  const b = header(MSG.iderError, 11, seq);
  b[8] = code;
  return b;
}

/** An ATA command the host wrote to the IDE-R drive; ATAPI PACKET (0xA0) carries a 12-byte CDB. */
export interface CommandWritten {
  seq: number;
  drive: DriveSelect;
  dma: boolean;
  /** ATAPI byte-count limit per data transfer (PIO), as the host set it. */
  byteCountLimit: number;
  ataCommand: number;
  cdb: Buffer;
}

export function iderCommand(seq: number, c: Omit<CommandWritten, 'seq'>): Buffer {
  const b = header(MSG.iderCommand, 28, seq);
  b[9] = c.dma ? 1 : 0;
  b.writeUInt16LE(c.byteCountLimit & 0xffff, 12);
  b[14] = c.drive === DRIVE.cd ? 0xb0 : 0xa0;
  b[15] = c.ataCommand;
  c.cdb.copy(b, 16, 0, Math.min(12, c.cdb.length));
  return b;
}

export function readCommand(m: Buffer): CommandWritten {
  return {
    seq: sequenceOf(m),
    drive: m[14] & 0x10 ? DRIVE.cd : DRIVE.floppy,
    dma: (m[9] & 1) === 1,
    byteCountLimit: m.readUInt16LE(12),
    ataCommand: m[15],
    // A view, not a copy: a received message is never overwritten (each socket read is a new buffer).
    cdb: m.subarray(16, 28),
  };
}

/** SCSI sense: key, additional sense code and qualifier. */
export interface Sense {
  key: number;
  asc: number;
  ascq: number;
}

export const GOOD: Sense = { key: 0, asc: 0, ascq: 0 };

/** The ATAPI command ended: good status, or CHECK CONDITION with the sense data. */
export function commandEnd(seq: number, drive: DriveSelect, sense: Sense): Buffer {
  const b = header(MSG.iderCommandEnd, 31, seq, 2);
  const ok = sense.key === 0 && sense.asc === 0;
  b[20] = ok ? 0xc5 : 0x87;
  b[21] = ok ? 0 : (sense.key & 0x0f) << 4;
  b[22] = 3;
  b[26] = drive;
  b[27] = ok ? 0x50 : 0x51;
  b[28] = sense.key;
  b[29] = sense.asc;
  b[30] = sense.ascq;
  return b;
}

export function readCommandEnd(m: Buffer): { drive: number; ok: boolean; sense: Sense } {
  return { drive: m[26], ok: (m[27] & 0x01) === 0, sense: { key: m[28], asc: m[29], ascq: m[30] } };
}

/**
 * DATA_TO_HOST header for `length` payload bytes; the last chunk of a command also ends it with
 * good status (attribute bit 1 and the output registers), so no COMMAND_END follows.
 */
export function dataToHostHeader(seq: number, drive: DriveSelect, length: number, last: boolean, dma: boolean): Buffer {
  const b = Buffer.alloc(DATA_TO_HOST_HEADER);
  writeDataToHostHeader(b, 0, seq, drive, length, last, dma);
  return b;
}

/**
 * Writes a DATA_TO_HOST header at b[at] (34 bytes that must be zero), so that the headers of a
 * whole transfer can share one allocation.
 */
export function writeDataToHostHeader(b: Buffer, at: number, seq: number, drive: DriveSelect, length: number, last: boolean, dma: boolean): void {
  b[at] = MSG.iderDataToHost;
  b[at + 3] = (last ? 2 : 0) | (dma ? 1 : 0);
  b.writeUInt32LE(seq >>> 0, at + 4);
  b.writeUInt16LE(length, at + 9);
  b[at + 12] = dma ? 0xb4 : 0xb5;
  b[at + 14] = 2;
  const pioCount = dma ? 0 : length;
  b[at + 16] = pioCount & 0xff;
  b[at + 17] = (pioCount >> 8) & 0xff;
  b[at + 18] = drive;
  b[at + 19] = 0x58;
  if (last) {
    b[at + 20] = 0x85;
    b[at + 22] = 3;
    b[at + 26] = drive;
    b[at + 27] = 0x50;
  }
}

export function readDataToHost(m: Buffer): { last: boolean; dma: boolean; drive: number; data: Buffer } {
  const length = m.readUInt16LE(9);
  return { last: (m[3] & 2) === 2, dma: (m[3] & 1) === 1, drive: m[18], data: m.subarray(DATA_TO_HOST_HEADER, DATA_TO_HOST_HEADER + length) };
}

// --- SOL and KVM ----------------------------------------------------------------------------------
// SOL messages carry a sequence number at bytes 4-7 like IDE-R's. Facts from amtterm's
// RedirectionConstants.h and MeshCommander's redirection module.

export interface SolSettings {
  /** Largest text the console sends in one message. */
  maxTxBuffer: number;
  txTimeoutMs: number;
  txOverflowTimeoutMs: number;
  /** The device ends the session after this long without anything from the console. */
  rxTimeoutMs: number;
  rxFlushTimeoutMs: number;
  heartbeatMs: number;
}

export function solStart(seq: number, s: SolSettings): Buffer {
  const b = header(MSG.solStart, 24, seq);
  [s.maxTxBuffer, s.txTimeoutMs, s.txOverflowTimeoutMs, s.rxTimeoutMs, s.rxFlushTimeoutMs, s.heartbeatMs].forEach((v, i) => b.writeUInt16LE(Math.min(0xffff, Math.max(0, v)), 8 + 2 * i));
  return b;
}

export function readSolStart(m: Buffer): SolSettings {
  const v = (i: number) => m.readUInt16LE(8 + 2 * i);
  return { maxTxBuffer: v(0), txTimeoutMs: v(1), txOverflowTimeoutMs: v(2), rxTimeoutMs: v(3), rxFlushTimeoutMs: v(4), heartbeatMs: v(5) };
}

/** Status 0 is success; the rest of the reply (the device's own buffer sizes) is not read by consoles. */
export function solStartReply(seq: number, status: number, maxRxBuffer = 10000): Buffer {
  const b = header(MSG.solStartReply, 23, seq);
  b[1] = status;
  b.writeUInt16LE(maxRxBuffer, 8);
  return b;
}

/** The modem control lines the console sets after the start (RTS and DTR on, as consoles send). */
export function solControlsToHost(seq: number): Buffer {
  const b = header(MSG.solControlsToHost, 14, seq);
  b[10] = 0x1b;
  return b;
}

/** Text to the PC (console to device) or from it (device to console). */
export function solData(type: typeof MSG.solDataToHost | typeof MSG.solDataFromHost, seq: number, text: Buffer): Buffer {
  if (text.length > 0xffff) throw new ProtocolError(`SOL data of ${text.length} bytes`);
  const b = header(type, SOL_DATA_HEADER + text.length, seq);
  b.writeUInt16LE(text.length, 8);
  text.copy(b, SOL_DATA_HEADER);
  return b;
}

export function readSolData(m: Buffer): Buffer {
  return m.subarray(SOL_DATA_HEADER, SOL_DATA_HEADER + m.readUInt16LE(8));
}

/** Keep-alive, end and end reply: a header with the sequence number. */
export function solBare(type: number, seq: number): Buffer {
  return header(type, 8, seq);
}

/** StartRedirectionSession for KVM: byte 1 is 1 (as MeshCommander sends it). */
export function startKvmSession(): Buffer {
  const b = startSession('KVMR');
  b[1] = 1;
  return b;
}

/**
 * After KVM authentication the console asks for the data channel (0x40, 8 bytes) and the device
 * answers 0x41 (8 bytes); then the connection carries RFB in both directions, unframed. The same
 * type numbers mean IDE-R OPEN on an IDE-R session, so these are read outside the FrameReader.
 */
export const KVM_DATA_CHANNEL = 0x40;
export const KVM_DATA_CHANNEL_REPLY = 0x41;
export const KVM_DATA_CHANNEL_LENGTH = 8;

export function kvmDataChannel(reply = false): Buffer {
  return header(reply ? KVM_DATA_CHANNEL_REPLY : KVM_DATA_CHANNEL, KVM_DATA_CHANNEL_LENGTH);
}
