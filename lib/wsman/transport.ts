/**
 * HTTP/1.1 to one device over keep-alive sockets, plain or TLS with a pinned certificate.
 *
 * A request goes out as one socket write (head and body in one buffer) and its answer is read by
 * http-reply-reader.ts with every part capped; one request at a time per socket, at most
 * `maxSockets` sockets. TLS sockets come from tls-pin.ts, checked against the pinned certificate
 * before a byte is written: no request byte (not even the Authorization header) reaches a device
 * whose certificate is not the pinned one.
 */
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { ConnectionError, HttpStatusError, OobError, TimeoutError } from '../errors';
import { HttpReply, HttpReplyError, HttpReplyReader } from './http-reply-reader';
import { connectPinned, normalizeFingerprint } from './tls-pin';

export { fetchFingerprint, normalizeFingerprint } from './tls-pin';
export type { HttpReply } from './http-reply-reader';

export interface TlsPinOptions {
  /** Pinned SHA-256 fingerprint, any case, with or without colons. */
  fingerprint?: string;
  /** Accept and record the first certificate seen when nothing is pinned. */
  trustOnFirstUse?: boolean;
  /** Called once when trust-on-first-use records a fingerprint. */
  onTrusted?: (fingerprint: string) => void;
  /** Lowest TLS version to offer; AMT before 11 speaks only TLS 1.0/1.1. */
  minVersion?: tls.SecureVersion;
  /** Speak old AMT firmware's TLS (1.0/1.1, no secure renegotiation); see tls-pin.ts. */
  legacyTls?: boolean;
}

export interface TransportOptions {
  host: string;
  port: number;
  tls: boolean;
  pin?: TlsPinOptions;
  /** Sockets kept open to this device. */
  maxSockets: number;
  maxResponseBytes: number;
  /** TCP connect plus TLS handshake must end within this. Default 10 s. */
  connectTimeoutMs?: number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);
/** What a header value may hold (as Node's own HTTP client checks): nothing that breaks framing. */
const UNSAFE_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value of printable ASCII (the usual case): safe, and written as it is. */
const ASCII_VALUE = /^[\t\x20-\x7e]*$/;
const NOT_ASCII = /[\u0080-\uffff]/;
/** An idle kept-alive socket is closed by us after this long (AMT closes its own sooner). */
const IDLE_MS = 60_000;

/**
 * Plain sockets read into this one buffer (Node's `onread`) instead of a new buffer per read and
 * the stream machinery around it: every read is handed to its exchange's reader, which copies what
 * it keeps, before the next read can happen. One buffer serves every socket, as reads and their
 * callbacks run one at a time.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Body buffers between replies: a socket borrows one for a reply and gives it back once the
 * reply's text is made. A few serve a whole fleet (replies in progress at once are few), where one
 * kept per socket would be 4 KB or more for every PC, idle between polls.
 */
const idleBodyBuffers: Buffer[] = [];
const IDLE_BODY_BUFFERS_KEPT = 16;

/** Where a plain socket's reads go, set once the socket is taken into the pool. */
const READ_SINK = Symbol('read sink');
type SinkSocket = net.Socket & { [READ_SINK]?: { data?: (data: Buffer) => void } };

/** One socket and what is happening on it. */
interface Conn {
  socket: net.Socket;
  /** Reads arrive in READ_BUFFER, reused after each: readers must copy. */
  transient: boolean;
  /** Where the readers of this socket's replies copy bodies, one reply at a time. */
  scratch: { buffer?: Buffer };
  /** It has carried a request before this one (so a failure before any answer may be retried). */
  reused: boolean;
  /** The exchange in progress, if any. */
  current?: Exchange;
  /**
   * The deadline of an exchange started on this socket while it was idle: one timer per socket,
   * re-armed for each exchange (cheaper than a new timer per request); firing with no exchange in
   * progress it does nothing. Unreferenced: the socket itself keeps the process alive.
   */
  deadline?: NodeJS.Timeout;
  deadlineMs: number;
  /** Kept from reply to reply on this socket, reset for each. */
  reader?: HttpReplyReader;
}

interface Exchange {
  reader: HttpReplyReader;
  settle: (err: Error | null, reply?: HttpReply) => void;
}

export class HttpTransport {
  private pinned?: string;
  private closed = false;
  private readonly idle: Conn[] = [];
  private readonly open = new Set<Conn>();
  /** Requests waiting for a socket when all `maxSockets` are busy. */
  private readonly waiting: Array<(c: Conn | undefined) => void> = [];
  /** Sockets still connecting (or handshaking): close() ends them too. */
  private readonly connecting = new Set<net.Socket>();
  private readonly hostHeader: string;
  private readonly hostIsAscii: boolean;

  constructor(private readonly o: TransportOptions) {
    this.pinned = o.pin?.fingerprint ? normalizeFingerprint(o.pin.fingerprint) : undefined;
    this.hostHeader = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
    this.hostIsAscii = !NOT_ASCII.test(this.hostHeader);
  }

  /** AMT 16.1 and later keep port 16992 closed: a refusal there most likely means that. */
  private refusedHint(code: string): string {
    return code === 'ECONNREFUSED' && !this.o.tls && this.o.port === 16992 ? '; Intel AMT 16.1 and later close port 16992: turn on TLS (port 16993) for this device' : '';
  }

  /** The fingerprint this transport trusts (pinned, or learned on first use). */
  get fingerprint(): string | undefined {
    return this.pinned;
  }

  get label(): string {
    return `${this.o.host}:${this.o.port}`;
  }

  /**
   * One POST. `authorization` is one more header, given apart because it changes with every
   * request; `bodyBytes` is the body's length in UTF-8 bytes when the caller knows it.
   */
  post(path: string, headers: Record<string, string>, body: string, timeoutMs: number, authorization?: string, bodyBytes?: number): Promise<HttpReply> {
    if (this.closed) return Promise.reject(new ConnectionError(`transport to ${this.label} is closed`));
    let request: Buffer | string;
    try {
      request = this.requestBytes(path, headers, body, authorization, bodyBytes);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.once(request, timeoutMs, true);
  }

  /**
   * The whole request, head and body, as what is written to the socket in one write: text when
   * the head is ASCII (the socket encodes it as UTF-8 straight into its write), else a buffer with
   * the head in latin1 (one byte per character) and the body in UTF-8.
   */
  private requestBytes(path: string, headers: Record<string, string>, body: string, authorization?: string, knownBodyBytes?: number): Buffer | string {
    if (path[0] !== '/' || !/^[\x21-\x7e]+$/.test(path)) throw new ConnectionError(`bad request path for ${this.label}`);
    let head = `POST ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    // The path and the header names are ASCII once checked; the host and the values are looked at.
    let ascii = this.hostIsAscii;
    for (const name in headers) {
      const value = headers[name];
      if (!TOKEN.test(name)) throw new ConnectionError(`bad request header for ${this.label}`);
      if (!this.isAsciiValue(value)) ascii = false;
      head += `${name}: ${value}\r\n`;
    }
    if (authorization !== undefined) {
      if (!this.isAsciiValue(authorization)) ascii = false;
      head += `Authorization: ${authorization}\r\n`;
    }
    const bodyBytes = knownBodyBytes ?? Buffer.byteLength(body);
    head += `Content-Length: ${bodyBytes}\r\n\r\n`;
    if (ascii) return head + body;
    const out = Buffer.allocUnsafe(head.length + bodyBytes);
    const at = out.write(head, 0, 'latin1');
    return out.subarray(0, at + out.write(body, at, 'utf8'));
  }

  /** Whether a header value is ASCII; one that would break the request's framing is refused. */
  private isAsciiValue(value: string): boolean {
    if (ASCII_VALUE.test(value)) return true;
    if (UNSAFE_VALUE.test(value)) throw new ConnectionError(`bad request header for ${this.label}`);
    return false;
  }

  /** One exchange; `retry`: send once more if a kept-alive socket turns out dead before any answer. */
  private once(request: Buffer | string, timeoutMs: number, retry: boolean): Promise<HttpReply> {
    if (this.closed) return Promise.reject(new ConnectionError(`transport to ${this.label} is closed`));
    return new Promise<HttpReply>((resolve, reject) => {
      let settled = false;
      let conn: Conn | undefined;
      const settle = (err: Error | null, reply?: HttpReply): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        if (conn) conn.current = undefined;
        if (err && retry && (err as { retryable?: boolean }).retryable && !this.closed) resolve(this.once(request, timeoutMs, false));
        else if (err) reject(err);
        else resolve(reply as HttpReply);
      };
      const start = (c: Conn, armed: boolean): void => {
        if (settled) {
          // Timed out while connecting or waiting: the socket serves the next request.
          this.release(c, false);
          return;
        }
        conn = c;
        // A deadline left armed by an earlier exchange must not cut this one short.
        if (!armed) this.disarmDeadline(c);
        const reader = this.readerFor(c);
        c.current = {
          reader,
          settle: (err, reply) => {
            settle(err, reply);
            if (!err && reply) {
              returnBodyBuffer(c);
              this.release(c, reader.closeAfter);
            }
          },
        };
        c.socket.write(request);
      };
      const idle = this.takeIdle();
      // A request that has to wait for a socket gets a timer of its own; one sent on an idle
      // socket at once uses that socket's deadline.
      const timer = idle
        ? undefined
        : setTimeout(() => {
            if (conn) this.drop(conn);
            settle(new TimeoutError(`${this.label} did not answer within ${timeoutMs} ms`));
          }, timeoutMs);
      if (idle) {
        this.armDeadline(idle, timeoutMs);
        start(idle, true);
        return;
      }
      this.acquire(timeoutMs).then(
        (c) => start(c, false),
        (e: Error) => settle(e),
      );
    });
  }

  /** The socket's reply reader, made ready for a new reply. */
  private readerFor(c: Conn): HttpReplyReader {
    if (c.transient) c.scratch.buffer ??= idleBodyBuffers.pop();
    if (c.reader) c.reader.reset();
    else c.reader = new HttpReplyReader(this.o.maxResponseBytes, c.transient, c.scratch);
    return c.reader;
  }

  /** The exchange about to start on `c` must end within `ms`, or the socket is closed. */
  private armDeadline(c: Conn, ms: number): void {
    if (c.deadline && c.deadlineMs === ms) {
      c.deadline.refresh();
      return;
    }
    if (c.deadline) clearTimeout(c.deadline);
    c.deadlineMs = ms;
    c.deadline = setTimeout(() => {
      const x = c.current;
      if (!x) return;
      this.drop(c);
      x.settle(new TimeoutError(`${this.label} did not answer within ${ms} ms`));
    }, ms);
    c.deadline.unref();
  }

  /** A kept-alive socket ready for a request, if there is one. */
  private takeIdle(): Conn | undefined {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (!c.socket.destroyed && c.socket.writable) {
        c.reused = true;
        return c;
      }
      this.drop(c);
    }
    return undefined;
  }

  /** A free socket: an idle one, a new one if fewer than maxSockets are open, or the next freed. */
  private acquire(timeoutMs: number): Promise<Conn> {
    const idle = this.takeIdle();
    if (idle) return Promise.resolve(idle);
    if (this.open.size + this.connecting.size < this.o.maxSockets) return this.connect(Math.min(timeoutMs, this.o.connectTimeoutMs ?? 10_000));
    return new Promise<Conn>((resolve, reject) => {
      this.waiting.push((c) => {
        if (c) resolve(c);
        else if (this.closed) reject(new ConnectionError(`transport to ${this.label} is closed`));
        else this.acquire(timeoutMs).then(resolve, reject);
      });
    });
  }

  /** After an answer: keep the socket for the next request unless it is to be closed. */
  private release(c: Conn, close: boolean): void {
    if (close || this.closed || c.socket.destroyed) {
      this.drop(c);
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      c.reused = true;
      next(c);
      return;
    }
    this.idle.push(c);
  }

  private disarmDeadline(c: Conn): void {
    if (!c.deadline) return;
    clearTimeout(c.deadline);
    c.deadline = undefined;
  }

  /** Close a socket for good, and let a waiting request open another. */
  private drop(c: Conn): void {
    this.disarmDeadline(c);
    if (this.open.delete(c)) {
      const i = this.idle.indexOf(c);
      if (i >= 0) this.idle.splice(i, 1);
      c.socket.destroy();
      const next = this.waiting.shift();
      if (next) next(undefined);
    } else {
      c.socket.destroy();
    }
  }

  private connect(timeoutMs: number): Promise<Conn> {
    return new Promise<Conn>((resolve, reject) => {
      let over = false;
      const ready = (socket: net.Socket): void => {
        if (over) return void socket.destroy();
        over = true;
        this.connecting.delete(raw);
        if (this.closed) {
          socket.destroy();
          reject(new ConnectionError(`transport to ${this.label} is closed`));
          return;
        }
        resolve(this.adopt(socket));
      };
      const failed = (e: NodeJS.ErrnoException): void => {
        if (over) return;
        over = true;
        this.connecting.delete(raw);
        raw.destroy();
        const next = this.waiting.shift();
        if (next) next(undefined);
        reject(this.networkError(e));
      };
      let raw: net.Socket;
      if (this.o.tls) {
        const pin = this.o.pin;
        // Counts the handshake among the connecting until tls-pin hands over its socket.
        raw = new net.Socket();
        this.connecting.add(raw);
        connectPinned({
          host: this.o.host,
          port: this.o.port,
          fingerprint: this.pinned,
          trustOnFirstUse: pin?.trustOnFirstUse,
          minVersion: pin?.minVersion,
          legacyTls: pin?.legacyTls,
          timeoutMs,
          onSocket: (s) => {
            this.connecting.delete(raw);
            raw = s;
            this.connecting.add(s);
          },
        }).then(
          ({ socket, fingerprint, learned }) => {
            if (learned && !this.pinned && !this.closed) {
              this.pinned = fingerprint;
              pin?.onTrusted?.(fingerprint);
            }
            ready(socket);
          },
          failed,
        );
      } else {
        const sink: { data?: (data: Buffer) => void } = {};
        raw = net.connect({
          host: this.o.host,
          port: this.o.port,
          noDelay: true,
          onread: {
            buffer: READ_BUFFER,
            callback: (n: number, buf: Uint8Array) => {
              if (sink.data) sink.data(Buffer.from(buf.buffer, buf.byteOffset, n));
              // Bytes before the socket is in the pool (before any request): not a device to trust.
              else raw.destroy(new ConnectionError(`${this.label} sent bytes before any request`));
              return true;
            },
          },
        });
        (raw as SinkSocket)[READ_SINK] = sink;
        this.connecting.add(raw);
        const timer = setTimeout(() => failed(new TimeoutError(`${this.label} did not accept a connection within ${timeoutMs} ms`)), timeoutMs);
        const onError = (e: Error): void => {
          clearTimeout(timer);
          failed(e);
        };
        // Destroyed by close() while connecting.
        const onClose = (): void => onError(new ConnectionError(`transport to ${this.label} is closed`));
        raw.once('error', onError);
        raw.once('close', onClose);
        raw.once('connect', () => {
          clearTimeout(timer);
          raw.off('error', onError);
          raw.off('close', onClose);
          ready(raw);
        });
      }
    });
  }

  /** Take a connected socket into the pool: its answers go to the exchange in progress. */
  private adopt(socket: net.Socket): Conn {
    socket.setNoDelay(true);
    // Idle sockets are closed after a while; one with a request in flight has that request's timer.
    socket.setTimeout(IDLE_MS);
    const sink = (socket as SinkSocket)[READ_SINK];
    const c: Conn = { socket, reused: false, transient: sink !== undefined, scratch: {}, deadlineMs: 0 };
    this.open.add(c);
    const onData = (data: Buffer): void => {
      const x = c.current;
      if (!x) {
        // Bytes nobody asked for: the connection cannot be trusted to frame the next answer.
        this.drop(c);
        return;
      }
      let reply: HttpReply | undefined;
      try {
        reply = x.reader.push(data);
      } catch (e) {
        this.drop(c);
        x.settle(this.replyError(e as Error));
        return;
      }
      if (reply) x.settle(null, reply);
    };
    if (sink) sink.data = onData;
    else socket.on('data', onData);
    socket.on('end', () => {
      const x = c.current;
      this.drop(c);
      if (!x) return;
      let reply: HttpReply | undefined;
      try {
        reply = x.reader.end();
      } catch (e) {
        x.settle(this.replyError(e as Error));
        return;
      }
      if (reply) x.settle(null, reply);
      else x.settle(this.lost(c, x));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const x = c.current;
      this.drop(c);
      if (!x) return;
      if (e instanceof OobError) return x.settle(e);
      const code = e.code ?? '';
      if ((code === 'ECONNRESET' || code === 'EPIPE') && c.reused && x.reader.received === 0) return x.settle(this.lost(c, x));
      x.settle(this.networkError(e));
    });
    socket.on('close', () => {
      const x = c.current;
      this.drop(c);
      if (x) x.settle(this.lost(c, x));
    });
    socket.on('timeout', () => {
      if (!c.current) this.drop(c);
    });
    return c;
  }

  /** The connection ended before a whole answer: retryable when a kept-alive socket died unread. */
  private lost(c: Conn, x: Exchange): Error {
    if (c.reused && x.reader.received === 0) return Object.assign(new ConnectionError(`${this.label} closed a kept-alive connection`), { retryable: true });
    return new ConnectionError(`${this.label} dropped the connection mid-reply`);
  }

  private replyError(e: Error): Error {
    if (e instanceof HttpReplyError) {
      return e.tooBig ? new HttpStatusError(0, `${this.label} sent a reply over ${this.o.maxResponseBytes} bytes`) : new ConnectionError(`${this.label} sent a malformed HTTP reply: ${e.message}`);
    }
    return e;
  }

  private networkError(e: NodeJS.ErrnoException): Error {
    if (e instanceof OobError) return e;
    const code = e.code ?? '';
    if (NETWORK_CODES.has(code)) return new ConnectionError(`cannot reach ${this.label} (${code})${this.refusedHint(code)}`, e);
    return new ConnectionError(`connection to ${this.label} failed: ${e.message}${code ? ` (${code})` : ''}`, e);
  }

  close(): void {
    this.closed = true;
    for (const c of [...this.open]) {
      const x = c.current;
      this.drop(c);
      x?.settle(new ConnectionError(`transport to ${this.label} is closed`));
    }
    for (const s of this.connecting) s.destroy();
    this.connecting.clear();
    for (const w of this.waiting.splice(0)) w(undefined);
  }
}

/** The reply's text is made: its body buffer may serve another socket's reply. */
function returnBodyBuffer(c: Conn): void {
  const b = c.scratch.buffer;
  if (!b) return;
  c.scratch.buffer = undefined;
  if (idleBodyBuffers.length < IDLE_BODY_BUFFERS_KEPT) idleBodyBuffers.push(b);
}
