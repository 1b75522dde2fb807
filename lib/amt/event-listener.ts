/**
 * The HTTP(S) endpoint AMT devices push WS-Eventing events to. Each subscription gets a path
 * with a random secret (/oobkit/events/<32 hex>) and credentials of its own; a push is accepted
 * only on a known path, from that device's address (when its host is an IP address), within the
 * size and rate limits, with the subscription's Digest (or Basic, over TLS) credentials, and as a
 * readable CIM_AlertIndication. The handler runs before the answer: a push is acknowledged (200
 * with a WS-Management Ack) only after the handler has taken it, so a device whose push was not
 * taken keeps it and retries.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as os from 'node:os';
import type { Alert, AlertDevice } from '../alerts/alert';
import { XmlError } from '../errors';
import { DigestAuthenticator } from '../wsman/digest-server';
import { TokenBuckets } from '../util/token-bucket';
import { ACTION, ANONYMOUS, NS } from '../wsman/namespaces';
import { escapeXml } from '../wsman/xml';
import { alertIndicationToAlert, readAlertIndication } from './events';

export const EVENT_PATH_PREFIX = '/oobkit/events/';
/** Where the listener binds when the user names no address. */
export const DEFAULT_BIND_ADDRESS = '0.0.0.0';

function localAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

/**
 * The address to bind for a public URL the devices are told to push to: that address when it is
 * one of this host's own (so the listener is not reachable on the other interfaces), else every
 * interface (the URL is a name, or an address forwarded by NAT).
 */
export function bindAddressFor(publicUrl: string, local: string[] = localAddresses()): string {
  let host: string;
  try {
    host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return DEFAULT_BIND_ADDRESS;
  }
  return net.isIP(host) && local.includes(host) ? host : DEFAULT_BIND_ADDRESS;
}
export const PUSH_REALM = 'OOBKit alerts';

export interface PushRegistration {
  /** Who this subscription is for. */
  device: AlertDevice;
  /** /oobkit/events/<secret>. */
  path: string;
  username: string;
  password: string;
}

export type PushRejection = 'unknown-path' | 'not-allowed' | 'too-big' | 'rate-limited' | 'unauthorized' | 'bad-xml' | 'bad-method' | 'handler-failed' | 'too-many-connections';

export interface EventListenerOptions {
  port: number;
  address?: string;
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** 'digest' (default), 'basic' (refused without TLS), or 'none'. */
  auth?: 'digest' | 'basic' | 'none';
  maxBodyBytes?: number;
  /** Open connections at once, from everyone (default 64) and from one address (default 4). */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /** A connection that sends nothing for this long is closed (default 10 s). */
  idleTimeoutMs?: number;
  /** Request headers (and the TLS handshake) must be complete within this (default 10 s). */
  headersTimeoutMs?: number;
  perSenderPerSecond?: number;
  globalPerSecond?: number;
  /** Takes the alert; throwing makes the push fail with 503 (the device retries). */
  onAlert(alert: Alert, reg: PushRegistration): void;
  onReject?(reason: PushRejection, from: string, detail?: string): void;
}

export interface ListenerCounts {
  requests: number;
  accepted: number;
  rejected: Record<PushRejection, number>;
}

interface Entry {
  reg: PushRegistration;
  digest: DigestAuthenticator;
}

/** A new registration with a random path and credentials. */
export function newRegistration(device: AlertDevice): PushRegistration {
  return {
    device,
    path: `${EVENT_PATH_PREFIX}${randomBytes(16).toString('hex')}`,
    username: `oobkit-${randomBytes(4).toString('hex')}`,
    password: randomBytes(18).toString('base64url'),
  };
}

function ackXml(relatesTo: string | undefined): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}"><s:Header>` +
    `<a:To>${ANONYMOUS}</a:To><a:Action s:mustUnderstand="true">${ACTION.ack}</a:Action>` +
    (relatesTo ? `<a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo>` : '') +
    `<a:MessageID>uuid:${randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}</a:MessageID></s:Header><s:Body/></s:Envelope>`
  );
}

export class EventListener {
  readonly counts: ListenerCounts = {
    requests: 0,
    accepted: 0,
    rejected: { 'unknown-path': 0, 'not-allowed': 0, 'too-big': 0, 'rate-limited': 0, unauthorized: 0, 'bad-xml': 0, 'bad-method': 0, 'handler-failed': 0, 'too-many-connections': 0 },
  };
  private readonly open = new Map<string, number>();
  /** Addresses a push may come from, or 'anywhere' when a device is known by name only. */
  private pushers?: Set<string> | 'anywhere';
  private openTotal = 0;
  private readonly entries = new Map<string, Entry>();
  private server?: http.Server | https.Server;
  private readonly buckets: TokenBuckets;
  private readonly maxBody: number;
  private readonly auth: 'digest' | 'basic' | 'none';
  port = 0;

  constructor(private readonly o: EventListenerOptions) {
    this.buckets = new TokenBuckets(o.perSenderPerSecond ?? 20, o.globalPerSecond ?? 500);
    this.maxBody = o.maxBodyBytes ?? 64 * 1024;
    this.auth = o.auth ?? 'digest';
    if (this.auth === 'basic' && !o.tls) throw new Error('Basic authentication of pushes needs TLS (it sends the password in clear)');
  }

  register(reg: PushRegistration): void {
    this.pushers = undefined;
    this.entries.set(reg.path, { reg, digest: new DigestAuthenticator({ realm: PUSH_REALM, user: reg.username, password: reg.password, nonceTtlMs: 10 * 60_000, maxNonces: 8 }) });
  }

  unregister(path: string): void {
    this.pushers = undefined;
    this.entries.delete(path);
  }

  get registrations(): PushRegistration[] {
    return [...this.entries.values()].map((e) => e.reg);
  }

  private reject(res: http.ServerResponse, status: number, reason: PushRejection, from: string, detail?: string, headers: Record<string, string> = {}): void {
    this.counts.rejected[reason]++;
    this.o.onReject?.(reason, from, detail);
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close', ...headers });
    res.end(`${status} ${reason}\n`);
  }

  /** Open TCP connections now (all addresses). */
  get connections(): number {
    return this.openTotal;
  }

  /**
   * Whether a new connection from this address could carry a push: when every registered device
   * has an IP address, only those addresses can; a device known by name could be anywhere.
   */
  private mayPush(from: string): boolean {
    if (!this.pushers) {
      // Rebuilt after a registration changes; a connection costs one lookup, not one per device.
      const ips = new Set<string>();
      let anywhere = false;
      for (const { reg } of this.entries.values()) {
        const host = reg.device.host;
        if (!host || !net.isIP(host)) anywhere = true;
        else ips.add(host.toLowerCase());
      }
      this.pushers = anywhere ? 'anywhere' : ips;
    }
    if (this.pushers === 'anywhere') return true;
    const a = from.replace(/^::ffff:/i, '').toLowerCase();
    return this.pushers.has(a);
  }

  /** Every connection: closed at once when it cannot be a device or is one too many; then timed. */
  private admit(socket: net.Socket): void {
    const from = (socket.remoteAddress ?? '?').replace(/^::ffff:/i, '');
    if (!this.mayPush(from)) {
      this.counts.rejected['not-allowed']++;
      this.o.onReject?.('not-allowed', from, 'connection');
      socket.destroy();
      return;
    }
    const mine = this.open.get(from) ?? 0;
    if (this.openTotal >= (this.o.maxConnections ?? 64) || mine >= (this.o.maxConnectionsPerAddress ?? 4)) {
      this.counts.rejected['too-many-connections']++;
      this.o.onReject?.('too-many-connections', from);
      socket.destroy();
      return;
    }
    this.open.set(from, mine + 1);
    this.openTotal++;
    socket.once('close', () => {
      this.openTotal--;
      const left = (this.open.get(from) ?? 1) - 1;
      if (left > 0) this.open.set(from, left);
      else this.open.delete(from);
    });
    socket.setTimeout(this.o.idleTimeoutMs ?? 10_000, () => socket.destroy());
  }

  private senderAllowed(reg: PushRegistration, from: string): boolean {
    const host = reg.device.host;
    if (!host || !net.isIP(host)) return true;
    const a = from.replace(/^::ffff:/i, '');
    return a === host || (host === 'localhost' && (a === '127.0.0.1' || a === '::1'));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.requests++;
    const from = req.socket.remoteAddress ?? '?';
    const path = (req.url ?? '').split('?')[0];
    const entry = this.entries.get(path);
    if (!entry) {
      req.resume();
      return this.reject(res, 404, 'unknown-path', from, path.slice(0, 64));
    }
    if (req.method !== 'POST') {
      req.resume();
      return this.reject(res, 405, 'bad-method', from, req.method, { Allow: 'POST' });
    }
    if (!this.senderAllowed(entry.reg, from)) {
      req.resume();
      return this.reject(res, 403, 'not-allowed', from);
    }
    if (!this.buckets.take(from)) {
      req.resume();
      return this.reject(res, 429, 'rate-limited', from, undefined, { 'Retry-After': '1' });
    }
    if (Number(req.headers['content-length'] ?? 0) > this.maxBody) {
      req.resume();
      return this.reject(res, 413, 'too-big', from);
    }
    const parts: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      if (aborted) return;
      size += c.length;
      if (size > this.maxBody) {
        aborted = true;
        parts.length = 0;
        this.reject(res, 413, 'too-big', from);
        req.socket.destroySoon?.();
        return;
      }
      parts.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (aborted) return;
      const body = Buffer.concat(parts);
      if (!this.authorized(entry, req, res, body, from)) return;
      let alert: Alert;
      let relatesTo: string | undefined;
      try {
        const xml = body.toString('utf8');
        const ind = readAlertIndication(xml);
        relatesTo = ind.pushMessageId;
        alert = alertIndicationToAlert(ind, entry.reg.device, xml);
      } catch (e) {
        return this.reject(res, 400, 'bad-xml', from, e instanceof XmlError ? e.message : 'unreadable');
      }
      try {
        this.o.onAlert(alert, entry.reg);
      } catch (e) {
        return this.reject(res, 503, 'handler-failed', from, (e as Error).message, { 'Retry-After': '5' });
      }
      this.counts.accepted++;
      const answer = ackXml(relatesTo);
      res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=UTF-8', 'Content-Length': String(Buffer.byteLength(answer)) });
      res.end(answer);
    });
  }

  private authorized(entry: Entry, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, from: string): boolean {
    if (this.auth === 'none') return true;
    const h = req.headers.authorization;
    if (this.auth === 'basic') {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h ?? '');
      const expected = Buffer.from(`${entry.reg.username}:${entry.reg.password}`).toString('base64');
      if (m && m[1] === expected) return true;
      this.reject(res, 401, 'unauthorized', from, h ? 'wrong credentials' : 'no credentials', { 'WWW-Authenticate': `Basic realm="${PUSH_REALM}"` });
      return false;
    }
    const verdict = entry.digest.verify(req.method ?? 'POST', req.url ?? '', h, body);
    if (verdict.ok) return true;
    // The first 401 is part of every Digest exchange; count only real failures.
    if (h) this.reject(res, 401, 'unauthorized', from, verdict.reason, { 'WWW-Authenticate': entry.digest.challenge(verdict.stale) });
    else {
      res.writeHead(401, { 'WWW-Authenticate': entry.digest.challenge(false), 'Content-Length': '0' });
      res.end();
    }
    return false;
  }

  /** Binds; rejects with the bind error (EADDRINUSE, EACCES...). */
  start(): Promise<number> {
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
      try {
        this.handle(req, res);
      } catch (e) {
        this.reject(res, 500, 'handler-failed', req.socket.remoteAddress ?? '?', (e as Error).message);
      }
    };
    const headersMs = this.o.headersTimeoutMs ?? 10_000;
    // Timeouts on headers and requests are checked this often; the default (30 s) lets them run over.
    const base = { connectionsCheckingInterval: Math.min(1000, headersMs), headersTimeout: headersMs, requestTimeout: headersMs + 5_000, keepAliveTimeout: 5_000 };
    const server = this.o.tls
      ? https.createServer({ ...base, key: this.o.tls.key, cert: this.o.tls.cert, handshakeTimeout: headersMs }, listener)
      : http.createServer(base, listener);
    server.maxHeadersCount = 50;
    // The raw TCP socket, before any TLS: refused or timed before it costs a handshake.
    server.on('connection', (socket: net.Socket) => this.admit(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.address ?? DEFAULT_BIND_ADDRESS, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        this.port = (server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
