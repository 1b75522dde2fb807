/**
 * HTTP/1.1 to one device over keep-alive sockets, plain or TLS with a pinned certificate.
 *
 * TLS sockets come from tls-pin.ts, checked against the pinned certificate before they are handed
 * to HTTP: no request byte (not even the Authorization header) reaches a device whose certificate
 * is not the pinned one.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { ConnectionError, HttpStatusError, OobError, TimeoutError } from '../errors';
import { connectPinned, normalizeFingerprint } from './tls-pin';

export { fetchFingerprint, normalizeFingerprint } from './tls-pin';

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

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}


const NETWORK_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);

export class HttpTransport {
  private readonly agent: http.Agent;
  private pinned?: string;
  private closed = false;
  /** TLS sockets still handshaking: the agent does not know them yet, so close() must. */
  private readonly handshaking = new Set<tls.TLSSocket>();

  constructor(private readonly o: TransportOptions) {
    this.pinned = o.pin?.fingerprint ? normalizeFingerprint(o.pin.fingerprint) : undefined;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets });
    if (o.tls) {
      (this.agent as unknown as { createConnection: unknown }).createConnection = (
        opts: net.NetConnectOpts,
        done: (err: Error | null, s?: net.Socket) => void,
      ) => {
        this.connectPinned(opts, done);
        return undefined;
      };
    }
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

  private connectPinned(_opts: net.NetConnectOpts, done: (err: Error | null, s?: net.Socket) => void): void {
    const pin = this.o.pin;
    if (this.closed) return done(new ConnectionError(`transport to ${this.label} is closed`));
    let pending: tls.TLSSocket | undefined;
    connectPinned({
      host: this.o.host,
      port: this.o.port,
      fingerprint: this.pinned,
      trustOnFirstUse: pin?.trustOnFirstUse,
      minVersion: pin?.minVersion,
      legacyTls: pin?.legacyTls,
      timeoutMs: this.o.connectTimeoutMs ?? 10_000,
      onSocket: (s) => {
        pending = s;
        this.handshaking.add(s);
      },
    }).then(
      ({ socket, fingerprint, learned }) => {
        if (pending) this.handshaking.delete(pending);
        if (this.closed) {
          socket.destroy();
          return done(new ConnectionError(`transport to ${this.label} is closed`));
        }
        if (learned && !this.pinned) {
          this.pinned = fingerprint;
          pin?.onTrusted?.(fingerprint);
        }
        done(null, socket);
      },
      (e: Error) => {
        if (pending) this.handshaking.delete(pending);
        done(e);
      },
    );
  }

  post(path: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpReply> {
    return this.once(path, headers, body, timeoutMs).catch((e: Error & { retryable?: boolean }) => {
      // A kept-alive socket the device closed while idle fails before the device read anything.
      if (e.retryable) return this.once(path, headers, body, timeoutMs);
      throw e;
    });
  }

  private once(path: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpReply> {
    if (this.closed) return Promise.reject(new ConnectionError(`transport to ${this.label} is closed`));
    return new Promise<HttpReply>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null, reply?: HttpReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(reply as HttpReply);
      };
      const req = http.request({
        host: this.o.host,
        port: this.o.port,
        method: 'POST',
        path,
        agent: this.agent,
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      });
      const timer = setTimeout(() => {
        req.destroy();
        settle(new TimeoutError(`${this.label} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof OobError) return settle(e);
        const code = e.code ?? '';
        if (req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          return settle(Object.assign(new ConnectionError(`${this.label} closed a kept-alive connection`, e), { retryable: true }));
        }
        if (NETWORK_CODES.has(code)) return settle(new ConnectionError(`cannot reach ${this.label} (${code})${this.refusedHint(code)}`, e));
        settle(new ConnectionError(`connection to ${this.label} failed: ${e.message}${code ? ` (${code})` : ''}`, e));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.o.maxResponseBytes) {
            req.destroy();
            settle(new HttpStatusError(res.statusCode ?? 0, `${this.label} sent a reply over ${this.o.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => settle(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => settle(new ConnectionError(`${this.label} dropped the connection mid-reply`, e)));
        res.on('aborted', () => settle(new ConnectionError(`${this.label} dropped the connection mid-reply`)));
      });
      req.end(body);
    });
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
    for (const s of this.handshaking) s.destroy();
    this.handshaking.clear();
  }
}
