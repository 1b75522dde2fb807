/**
 * The console side of an AMT redirection connection: TCP to 16994 or pinned TLS to 16995,
 * StartRedirectionSession for a protocol ("IDER"), then authentication. AMT offers its methods in
 * answer to a query; we use HTTP Digest with qop (type 4, URI /RedirectionService, method POST) and
 * refuse to send a plain password. After that the channel carries the protocol's own messages.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { AuthError, ConnectionError, OobError, TimeoutError } from '../../errors';
import { connectPinned } from '../../wsman/tls-pin';
import {
  AUTH,
  AUTH_URI,
  authenticate,
  FrameReader,
  lengthPrefixed,
  MSG,
  ProtocolError,
  readAuth,
  readLengthPrefixed,
  startKvmSession,
  startSession,
} from './protocol';

export interface RedirectionEndpoint {
  host: string;
  /** Default 16995 with TLS, 16994 without. */
  port?: number;
  tls?: boolean;
  username: string;
  password: string;
  /** Pinned SHA-256 fingerprint (the same certificate AMT shows on 16993). */
  fingerprint?: string;
  trustOnFirstUse?: boolean;
  /** Old firmware's TLS (see lib/wsman/tls-pin.ts). */
  legacyTls?: boolean;
  onFingerprintTrusted?: (fingerprint: string) => void;
  /** Connect and handshake limit. Default 15 s. */
  timeoutMs?: number;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** An authenticated redirection connection; emits 'message' (one whole message), 'close' (error?). */
export class RedirectionChannel extends EventEmitter {
  private readonly reader = new FrameReader();
  private closed = false;
  private raw = false;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly socket: net.Socket,
    readonly label: string,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.bytesIn += d.length;
      if (this.raw) {
        this.emit('data', d);
        return;
      }
      let frames: Buffer[];
      try {
        frames = this.reader.push(d);
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      for (const f of frames) {
        if (this.closed) return;
        this.emit('message', f);
      }
    });
    socket.on('error', (e) => this.destroy(e));
    socket.on('close', () => this.destroy());
  }

  /**
   * From now on the connection carries an unframed stream (KVM's RFB): 'data' events with the
   * bytes as received instead of 'message'. Returns what had arrived after the last message.
   */
  takeRawStream(): Buffer {
    this.raw = true;
    return this.reader.takePending();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Writes the parts in one system call (writev). False when the socket buffer is over its
   * high-water mark: wait for drained() before more.
   */
  send(...parts: Buffer[]): boolean {
    if (this.closed) return false;
    let ok = true;
    const corked = parts.length > 1;
    if (corked) this.socket.cork();
    for (const p of parts) {
      this.bytesOut += p.length;
      ok = this.socket.write(p);
    }
    if (corked) this.socket.uncork();
    return ok;
  }

  drained(): Promise<void> {
    if (this.closed || this.socket.writableLength === 0 || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.on('close', done);
    });
  }

  /** Flush what is queued, then close the socket. */
  end(): void {
    if (this.closed) return;
    this.socket.end();
    setTimeout(() => this.destroy(), 2000).unref();
  }

  destroy(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.emit('close', error);
  }

  /** The next message, for the request/answer steps of a handshake. */
  next(timeoutMs: number, what: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new TimeoutError(`${this.label} did not answer ${what} within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (m: Buffer) => finish(undefined, m);
      const onClose = (e?: Error) => finish(new ConnectionError(`${this.label} closed the redirection connection during ${what}${e ? `: ${e.message}` : ''}`, e));
      const finish = (e?: Error, m?: Buffer) => {
        clearTimeout(timer);
        this.off('message', onMessage);
        this.off('close', onClose);
        if (e) reject(e);
        else resolve(m as Buffer);
      };
      this.on('message', onMessage);
      this.once('close', onClose);
    });
  }
}

function connectSocket(e: RedirectionEndpoint, port: number, timeoutMs: number): Promise<net.Socket> {
  const label = `${e.host}:${port}`;
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const timer = setTimeout(() => fail(new TimeoutError(`${label} did not accept a redirection connection within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      if (err instanceof OobError) return fail(err);
      fail(new ConnectionError(`cannot open the redirection connection to ${label} (${err.code ?? err.message})`, err));
    };
    if (!e.tls) {
      socket = net.connect({ host: e.host, port });
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(socket);
      });
      return;
    }
    clearTimeout(timer);
    connectPinned({ host: e.host, port, fingerprint: e.fingerprint, trustOnFirstUse: e.trustOnFirstUse, legacyTls: e.legacyTls, timeoutMs }).then(({ socket: t, fingerprint, learned }) => {
      if (learned) e.onFingerprintTrusted?.(fingerprint);
      resolve(t);
    }, reject);
  });
}

/** Connects, starts a redirection session for `protocol` and authenticates. */
export async function openRedirection(e: RedirectionEndpoint, protocol = 'IDER'): Promise<RedirectionChannel> {
  const port = e.port ?? (e.tls ? 16995 : 16994);
  const timeoutMs = e.timeoutMs ?? 15000;
  const label = `${e.host}:${port}`;
  const channel = new RedirectionChannel(await connectSocket(e, port, timeoutMs), label);
  try {
    channel.send(protocol === 'KVMR' ? startKvmSession() : startSession(protocol));
    const started = await channel.next(timeoutMs, 'StartRedirectionSession');
    if (started[0] !== MSG.startSessionReply) throw new ProtocolError(`expected StartRedirectionSessionReply, got message 0x${started[0].toString(16)}`);
    if (started[1] !== 0) {
      throw new OobError('DEVICE_REFUSED', `${label} refused a ${protocol.trim()} redirection session (status ${started[1]}); is it enabled in AMT_RedirectionService?`);
    }
    await authenticateChannel(channel, e, timeoutMs);
    return channel;
  } catch (err) {
    channel.destroy();
    if (err instanceof ProtocolError) throw new ConnectionError(`${label} broke the redirection protocol: ${err.message}`, err);
    throw err;
  }
}

async function authReply(channel: RedirectionChannel, timeoutMs: number, what: string) {
  const m = await channel.next(timeoutMs, what);
  if (m[0] !== MSG.authenticateReply) throw new ProtocolError(`expected AuthenticateSessionReply, got message 0x${m[0].toString(16)}`);
  return readAuth(m);
}

async function authenticateChannel(channel: RedirectionChannel, e: RedirectionEndpoint, timeoutMs: number): Promise<void> {
  channel.send(authenticate(AUTH.query));
  const offered = [...(await authReply(channel, timeoutMs, 'the authentication query')).data];
  if (!offered.includes(AUTH.digest)) {
    throw new AuthError(`${channel.label} offers no Digest authentication on the redirection port (methods ${offered.join(', ') || 'none'}); OOBKit sends no plain passwords`);
  }
  const rejected = () => new AuthError(`${channel.label} rejected the username or password on the redirection port`);
  // The first message names the user and URI; realm, nonce, cnonce, nc, response and qop are empty.
  channel.send(authenticate(AUTH.digest, lengthPrefixed([e.username, '', '', AUTH_URI, '', '', '', ''])));
  const challenge = await authReply(channel, timeoutMs, 'the Digest challenge');
  if (challenge.status !== 1 || challenge.type !== AUTH.digest) throw rejected();
  const [realm, nonce, qop = 'auth'] = readLengthPrefixed(challenge.data);
  if (!realm || !nonce) throw new ProtocolError('Digest challenge without realm or nonce');
  const cnonce = randomBytes(16).toString('hex');
  // MeshCommander, used against real AMT every day, always sends nonce count 2 on this port.
  const nc = '00000002';
  const ha1 = md5(`${e.username}:${realm}:${e.password}`);
  const ha2 = md5(`POST:${AUTH_URI}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  channel.send(authenticate(AUTH.digest, lengthPrefixed([e.username, realm, nonce, AUTH_URI, cnonce, nc, response, qop])));
  if ((await authReply(channel, timeoutMs, 'the Digest response')).status !== 0) throw rejected();
}
