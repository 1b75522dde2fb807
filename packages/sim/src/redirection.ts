/**
 * The redirection port of a simulated PC (AMT's 16994, or 16995 with TLS), device side:
 * StartRedirectionSession (IDE-R only; SOL and KVM are refused), Digest authentication with the
 * device's own credentials and nonce bookkeeping, then an IDE-R session: OPEN, the enable request,
 * heartbeats at the interval the console asked for, ping/pong, close. The simulated BIOS
 * (firmware.ts) sends its ATAPI commands through the session that has its drive attached; INQUIRY
 * and REQUEST SENSE the device answers itself (the latter from the sense the console put in its
 * last COMMAND_END), as AMT does (docs/firmware-evidence.md).
 *
 * Refused like AMT does: the port closes at once while AMT_RedirectionService.ListenerEnabled is
 * false; StartRedirectionSession answers a non-zero status when IDE-R is not enabled in its
 * EnabledState, when the device has no IDE-R capability, or when another IDE-R session is open.
 * Messages are bounded (StreamingFrameReader); a console that breaks the sequence numbering is
 * dropped. Image data is taken in as it arrives, without being copied together, and counted
 * (IderWireStats) so that tests and benchmarks can see what went over the wire.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AUTH, AUTH_URI, authenticateReply, DRIVE, FEATURE, GOOD, iderBare, iderCommand, iderFeatures, iderOpenReply, iderReset, INTEL_IANA, lengthPrefixed, MSG, readAuth, readCommandEnd, readFeatures, readIderOpen, readLengthPrefixed, readStartSession, Sense, sequenceOf, startSessionReply, StreamingFrameReader } from '../../../lib/amt/redirection/protocol';
import { parseDigestHeader } from './digest-server';
import type { SimDevice } from './device';
import { enterRedirectionSession, leaveRedirectionSession } from './consent';
import { redirectionState } from './classes/setup';
import { bootCapabilityValue } from './classes/boot';
import { consoleSessionAllowed, openConsoleSession, SimConsoleSession } from './console-sessions';

export interface SimRedirectionOptions {
  /** IDE-R read buffer the device reports (largest DATA_TO_HOST payload), 512 to 8192. Default 8192. */
  readBufferSize: number;
  /** Close the connection once this many image bytes came from the console (a device dropping mid-transfer). */
  dropAfterBytes?: number;
}

export interface AtapiResult {
  ok: boolean;
  sense?: Sense;
  /** The data, unless the command was sent with keep = false. */
  data: Buffer;
  /** Data bytes received. */
  length: number;
}

/** Wire counts of one IDE-R session, for tests and benchmarks. */
export interface IderWireStats {
  commands: number;
  bytesFromConsole: number;
  dataBytes: number;
  /** DATA_TO_HOST messages, and those shorter than the read buffer that did not end their command. */
  dataMessages: number;
  shortDataMessages: number;
}

interface PendingCommand {
  resolve: (r: AtapiResult) => void;
  reject: (e: Error) => void;
  chunks: Buffer[];
  keep: boolean;
  bytes: number;
  opcode: number;
  drive: 'cd' | 'floppy';
  timeoutMs: number;
  deadline: number;
}

/**
 * INQUIRY data the device gives for its own IDE-R drives. AMT answers INQUIRY and REQUEST SENSE
 * itself: a console (MeshCommander) has no handler for them and refuses them as invalid opcodes.
 */
function inquiryData(drive: 'cd' | 'floppy', allocation: number): Buffer {
  const b = Buffer.alloc(36, 0x20);
  b.fill(0, 0, 8);
  b[0] = drive === 'cd' ? 0x05 : 0x00;
  b[1] = 0x80; // removable
  b[2] = 0x00;
  b[3] = 0x21; // ATAPI, response format 1
  b[4] = 31;
  b.write('Intel', 8, 'latin1');
  b.write(drive === 'cd' ? 'Virtual CD' : 'Virtual Floppy', 16, 'latin1');
  b.write('1.00', 32, 'latin1');
  return b.subarray(0, Math.min(36, allocation));
}

/** Fixed-format sense data (18 bytes) for REQUEST SENSE. */
function senseData(sense: Sense, allocation: number): Buffer {
  const b = Buffer.alloc(18);
  b[0] = 0x70;
  b[2] = sense.key & 0x0f;
  b[7] = 10;
  b[12] = sense.asc;
  b[13] = sense.ascq;
  return b.subarray(0, Math.min(18, allocation));
}

const EMPTY = Buffer.alloc(0);

/** An authenticated IDE-R session as the device sees it. */
export class SimIderSession extends EventEmitter {
  enabled: false | 'reboot' | 'now' = false;
  heartbeatMs = 0;
  readonly stats: IderWireStats = { commands: 0, bytesFromConsole: 0, dataBytes: 0, dataMessages: 0, shortDataMessages: 0 };
  private outSeq = 0;
  private inSeq = 0;
  private pending?: PendingCommand;
  /** One timer for every command's answer limit, re-armed per command rather than created. */
  private commandTimer?: NodeJS.Timeout;
  private resetWaiter?: () => void;
  private heartbeat?: NodeJS.Timeout;
  closed = false;

  constructor(private readonly socket: net.Socket) {
    super();
  }

  private send(b: Buffer): void {
    if (!this.closed) this.socket.write(b);
  }

  private seq(): number {
    return this.outSeq++;
  }

  /** Stop heartbeats and answers from now on (fault injection: a hung device). */
  hang(): void {
    this.hung = true;
    clearInterval(this.heartbeat);
  }

  private hung = false;
  /** The sense of each drive's last command, from the console's COMMAND_END messages. */
  private readonly lastSense: Record<'cd' | 'floppy', Sense> = { cd: GOOD, floppy: GOOD };

  /** Handles one IDE-R message from the console; returns false to drop the connection. */
  onMessage(m: Buffer): boolean {
    if (this.hung) return true;
    if (sequenceOf(m) !== this.inSeq++) return false;
    switch (m[0]) {
      case MSG.iderOpen: {
        const o = readIderOpen(m);
        this.heartbeatMs = o.heartbeatMs;
        this.send(iderOpenReply(this.seq(), { major: 1, minor: 0, firmwareMajor: 16, firmwareMinor: 1, readBufferSize: this.readBufferSize, writeBufferSize: 8192, protocol: 0, iana: INTEL_IANA }));
        if (o.heartbeatMs > 0) {
          this.heartbeat = setInterval(() => this.send(iderBare(MSG.iderHeartbeat, this.seq())), Math.max(20, o.heartbeatMs));
          this.heartbeat.unref();
        }
        return true;
      }
      case MSG.iderFeatures: {
        const f = readFeatures(m);
        if (f.type === FEATURE.set) {
          const when = f.value & FEATURE.now;
          this.enabled = f.value & FEATURE.enable ? (when === FEATURE.now ? 'now' : 'reboot') : false;
          this.send(iderFeatures(this.seq(), FEATURE.set, 1, true));
        } else if (f.type === FEATURE.getStatus) {
          this.send(iderFeatures(this.seq(), f.type, this.enabled ? 2 : 0, true));
        } else {
          this.send(iderFeatures(this.seq(), f.type, 1, true));
        }
        return true;
      }
      case MSG.iderPing:
        this.send(iderBare(MSG.iderPong, this.seq()));
        return true;
      case MSG.iderPong:
        return true;
      case MSG.iderResetReply:
        this.resetWaiter?.();
        this.resetWaiter = undefined;
        return true;
      case MSG.iderClose:
        this.send(iderBare(MSG.iderCloseReply, this.seq()));
        this.enabled = false;
        return true;
      case MSG.iderCommandEnd: {
        const p = this.pending;
        if (!p) return false;
        const e = readCommandEnd(m);
        this.lastSense[p.drive] = e.ok ? GOOD : e.sense;
        this.complete({ ok: e.ok, sense: e.ok ? undefined : e.sense, data: p.keep ? Buffer.concat(p.chunks) : EMPTY, length: p.bytes });
        return true;
      }
      default:
        return false;
    }
  }

  readBufferSize = 8192;
  private inData = false;

  /** A piece of a DATA_TO_HOST message's payload (see StreamingFrameReader); returns false to drop the connection. */
  onData(header: Buffer, piece: Buffer, end: boolean): boolean {
    if (this.hung) return true;
    const p = this.pending;
    if (!this.inData) {
      if (sequenceOf(header) !== this.inSeq++ || !p) return false;
      this.inData = true;
      this.stats.dataMessages++;
      if ((header[3] & 2) === 0 && header.readUInt16LE(9) < this.readBufferSize) this.stats.shortDataMessages++;
    }
    if (!p) return false;
    this.stats.dataBytes += piece.length;
    p.bytes += piece.length;
    if (p.keep && piece.length > 0) p.chunks.push(piece);
    if (end) {
      this.inData = false;
      if (header[3] & 2) this.complete({ ok: true, data: p.keep ? Buffer.concat(p.chunks) : EMPTY, length: p.bytes });
    }
    return true;
  }

  private complete(r: AtapiResult): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(r);
  }

  private onCommandTimeout(): void {
    const p = this.pending;
    if (!p) return;
    const left = p.deadline - Date.now();
    if (left > 0) {
      // Fired a little early: wait out the rest with a timer of its own; the next command makes a new one.
      this.commandTimer = setTimeout(() => this.onCommandTimeout(), left);
      this.commandTimer.unref();
      this.commandTimeoutMs = Number.NaN;
      return;
    }
    this.pending = undefined;
    p.reject(new Error(`console did not answer ATAPI command 0x${p.opcode.toString(16)} within ${p.timeoutMs} ms`));
  }

  /** RESET_OCCURRED, as when the host resets; resolves when the console acknowledges it. */
  reset(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('console did not acknowledge the IDE-R reset')), timeoutMs);
      this.resetWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
      this.send(iderReset(this.seq(), 1));
    });
  }

  /**
   * An ATAPI PACKET command from the host to one of the drives; resolves with its data (unless `keep`
   * is false) and status. One at a time, as on a real IDE channel: the host waits for the end of a
   * command before it writes the next.
   */
  command(drive: 'cd' | 'floppy', cdb: Buffer, timeoutMs = 10000, keep = true): Promise<AtapiResult> {
    if (this.closed) return Promise.reject(new Error('the IDE-R session is closed'));
    if (this.pending) return Promise.reject(new Error('an ATAPI command is already outstanding'));
    // Answered by the device itself, never sent to the console.
    if (cdb[0] === 0x12 || cdb[0] === 0x03) {
      const data = cdb[0] === 0x12 ? inquiryData(drive, cdb[4]) : senseData(this.lastSense[drive], cdb[4]);
      if (cdb[0] === 0x03) this.lastSense[drive] = GOOD;
      return Promise.resolve({ ok: true, data: keep ? data : EMPTY, length: data.length });
    }
    this.stats.commands++;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, chunks: [], keep, bytes: 0, opcode: cdb[0], drive, timeoutMs, deadline: Date.now() + timeoutMs };
      if (!this.commandTimer || this.commandTimeoutMs !== timeoutMs) {
        clearTimeout(this.commandTimer);
        this.commandTimer = setTimeout(() => this.onCommandTimeout(), timeoutMs);
        this.commandTimer.unref();
        this.commandTimeoutMs = timeoutMs;
      } else {
        this.commandTimer.refresh();
      }
      this.send(iderCommand(this.seq(), { drive: drive === 'cd' ? DRIVE.cd : DRIVE.floppy, dma: false, byteCountLimit: 0xfffe, ataCommand: 0xa0, cdb }));
    });
  }

  private commandTimeoutMs = 0;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.commandTimer);
    this.pending?.reject(new Error('the console closed the IDE-R session'));
    this.pending = undefined;
    this.emit('close');
  }
}

function deviceIderAllowed(d: SimDevice): boolean {
  const s = redirectionState(d);
  return (s.enabledState === 32769 || s.enabledState === 32771) && bootCapabilityValue(d, 'IDER') === true;
}

/** One console connection: session manager, authentication, then the IDE-R session. */
function handleConnection(d: SimDevice, socket: net.Socket, o: SimRedirectionOptions): void {
  if (!redirectionState(d).listenerEnabled) {
    socket.destroy();
    return;
  }
  socket.setNoDelay(true);
  let stage: 'start' | 'auth' | 'ider' = 'start';
  let nonce = '';
  let session: SimIderSession | undefined;
  // SOL and KVM sessions (console-sessions.ts).
  let protocol = 'IDER';
  let consoleSession: SimConsoleSession | undefined;
  /** This connection holds the user's consent (OptInState 4) until it closes. */
  let consented = false;
  const drop = () => {
    socket.destroy();
    return false;
  };
  socket.on('error', () => undefined);
  socket.on('close', () => {
    consoleSession?.close();
    if (session) {
      session.close();
      if (d.iderSession === session) d.iderSession = undefined;
    }
    if (consented) leaveRedirectionSession(d);
  });
  /** One whole message; false stops reading (the connection is closing). */
  const onMessage = (m: Buffer): boolean => {
    if (socket.destroyed) return false;
    if (m[0] === MSG.endSession) {
      socket.end();
      return false;
    }
    if (stage === 'start') {
      if (m[0] !== MSG.startSession) return drop();
      protocol = readStartSession(m);
      // IDE-R, SOL and KVM alike need the user's consent where the PC's policy asks for it (consent.ts).
      const ok = (protocol === 'IDER' ? deviceIderAllowed(d) && !d.iderSession : consoleSessionAllowed(d, protocol)) && (consented = enterRedirectionSession(d));
      socket.write(startSessionReply(ok ? 0 : 1, [16, 1]));
      if (!ok) {
        socket.end();
        return false;
      }
      stage = 'auth';
      return true;
    }
    if (stage === 'auth') return authenticate(m);
    if (consoleSession) return consoleSession.onMessage(m) || drop();
    if (!session?.onMessage(m)) return drop();
    return true;
  };
  const authenticate = (m: Buffer): boolean => {
    if (m[0] !== MSG.authenticate) return drop();
    const a = readAuth(m);
    if (a.type === AUTH.query) {
      socket.write(authenticateReply(0, AUTH.query, Buffer.from([AUTH.digest])));
      return true;
    }
    if (a.type !== AUTH.digest) {
      socket.write(authenticateReply(2, a.type));
      return true;
    }
    let f: string[];
    try {
      f = readLengthPrefixed(a.data);
    } catch {
      return drop();
    }
    if (f.length === 8 && f[1] === '' && f[2] === '') {
      const c = parseDigestHeader(d.digest.challenge()) ?? {};
      nonce = c.nonce ?? '';
      socket.write(authenticateReply(1, AUTH.digest, lengthPrefixed([d.realm, nonce, 'auth'])));
      return true;
    }
    const [username, realm, n, uri, cnonce, nc, response, qop] = f;
    const q = (s: string | undefined) => `"${(s ?? '').replace(/(["\\])/g, '\\$1')}"`;
    const header = `Digest username=${q(username)}, realm=${q(realm)}, nonce=${q(n)}, uri=${q(uri)}, response=${q(response)}, qop=${qop}, nc=${nc}, cnonce=${q(cnonce)}`;
    const verdict = uri === AUTH_URI && n === nonce ? d.digest.verify('POST', AUTH_URI, header, Buffer.alloc(0)) : { ok: false };
    socket.write(authenticateReply(verdict.ok ? 0 : 2, AUTH.digest));
    if (verdict.ok && protocol !== 'IDER') {
      stage = 'ider';
      consoleSession = openConsoleSession(d, protocol, socket, () => socket.off('data', onData));
      return !consoleSession.raw;
    }
    if (!verdict.ok || d.iderSession) {
      socket.end();
      return false;
    }
    stage = 'ider';
    session = new SimIderSession(socket);
    session.readBufferSize = o.readBufferSize;
    d.iderSession = session;
    return true;
  };
  const reader = new StreamingFrameReader(
    {
      message: onMessage,
      data: (header, piece, end) => {
        if (socket.destroyed || !session || !session.onData(header, piece, end)) return drop();
        // A device that goes away mid-transfer (fault injection).
        if (o.dropAfterBytes !== undefined && session.stats.dataBytes >= o.dropAfterBytes) return drop();
        return true;
      },
    },
    64 * 1024 + 64,
  );
  const onData = (chunk: Buffer) => {
    if (session) session.stats.bytesFromConsole += chunk.length;
    try {
      reader.push(chunk);
    } catch {
      drop();
    }
  };
  socket.on('data', onData);
}

export interface RedirectionListener {
  port: number;
  close(): Promise<void>;
}

export function startRedirectionServer(d: SimDevice, port: number, host: string, o: SimRedirectionOptions): Promise<RedirectionListener> {
  // Firmware reports at most 8 KiB: MeshCommander drops a device that reports more (docs/firmware-evidence.md).
  if (!(o.readBufferSize >= 512 && o.readBufferSize <= 8192)) return Promise.reject(new RangeError(`IDE-R read buffer ${o.readBufferSize} is not 512 to 8192 bytes`));
  const sockets = new Set<net.Socket>();
  const onSocket = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    handleConnection(d, s, o);
  };
  const server: net.Server = d.tls ? tls.createServer({ key: d.tls.key, cert: d.tls.cert }, onSocket) : net.createServer(onSocket);
  server.maxConnections = 4;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

