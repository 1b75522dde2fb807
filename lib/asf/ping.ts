/**
 * RMCP presence ping: does a host's management controller (Intel AMT's management engine, an ASF
 * NIC, an IPMI BMC) answer on UDP 623, and what does it say it supports?
 *
 * One Pinger owns one UDP socket and matches pongs to pings by message tag (at most 255 pings are
 * outstanding at once, so tags are unique). Anything else arriving on the socket (late pongs,
 * RMCP ACKs, garbage, a flood) is counted and dropped: nothing is buffered, nothing throws.
 */
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { checkHost, checkPort } from '../device';
import { ConnectionError, InputError } from '../errors';
import { AmtPongFacts, buildPresencePing, INTEL_IANA, ASF_IANA, MAX_TAG, readPresencePong, readRmcp, RMCP_PORT } from './rmcp';

export interface PongInfo {
  /** Enterprise number in the pong: 4542 plain ASF, 343 Intel. */
  iana: number;
  /** "intel-amt" for Intel's number, "asf" for 4542, else "iana-<n>". */
  vendor: string;
  /** What the controller says it supports: "asf", "ipmi", "dash". */
  supports: string[];
  asfVersion: string | null;
  ipmi: boolean;
  dash: boolean;
  securityExtensions: boolean;
  /** The OEM-defined word, as 8 hex digits. */
  oem: string;
  /** Intel AMT facts from the OEM bytes (layout as MeshCentral reads it; Intel publishes none). */
  amt?: AmtPongFacts;
}

export interface PresenceResult {
  /** The target as given (host name, address, or host:port). */
  host: string;
  address: string;
  port: number;
  answered: boolean;
  /** Round trip of the answered attempt. */
  rttMs?: number;
  attempts: number;
  /** The address the pong came from, when not the one pinged. */
  from?: string;
  pong?: PongInfo;
}

export interface PingOptions {
  /** Default 623. */
  port?: number;
  /** Per attempt (default 1000 ms). */
  timeoutMs?: number;
  /** Further attempts after a timeout (default 2). */
  retries?: number;
  signal?: AbortSignal;
}

export interface PingerStats {
  sent: number;
  pongs: number;
  /** RMCP ACKs (sent by controllers that acknowledge even a no-ACK ping). */
  acks: number;
  /** Datagrams that were not RMCP presence pongs. */
  garbage: number;
  /** Valid pongs nobody was waiting for (late, duplicated or unsolicited). */
  unexpected: number;
}

interface Pending {
  address: string;
  port: number;
  sentAt: number;
  done: (r: { rttMs: number; from: string; pong: PongInfo } | undefined) => void;
}

/** A pong larger than this is not a presence pong (they are 28 bytes). */
const MAX_DATAGRAM = 64;

export const PING_DEFAULTS = { timeoutMs: 1000, retries: 2 } as const;

function toInfo(p: NonNullable<ReturnType<typeof readPresencePong>>): PongInfo {
  const supports: string[] = [];
  if (p.asfVersion) supports.push('asf');
  if (p.ipmi) supports.push('ipmi');
  if (p.dash) supports.push('dash');
  const info: PongInfo = {
    iana: p.iana,
    vendor: p.iana === INTEL_IANA ? 'intel-amt' : p.iana === ASF_IANA ? 'asf' : `iana-${p.iana}`,
    supports,
    asfVersion: p.asfVersion,
    ipmi: p.ipmi,
    dash: p.dash,
    securityExtensions: p.securityExtensions,
    oem: p.oem.toString(16).padStart(8, '0'),
  };
  if (p.amt) info.amt = p.amt;
  return info;
}

export class Pinger {
  readonly stats: PingerStats = { sent: 0, pongs: 0, acks: 0, garbage: 0, unexpected: 0 };
  private readonly sockets = new Map<4 | 6, Promise<dgram.Socket>>();
  private readonly pending = new Map<number, Pending>();
  private nextTag = 0;
  private closed = false;

  constructor(private readonly o: { source?: string } = {}) {}

  /** The local port of the IPv4 socket (opens it); for tests that need to reach our listener. */
  async localPort(): Promise<number> {
    return (await this.socket(4)).address().port;
  }

  private socket(family: 4 | 6): Promise<dgram.Socket> {
    let s = this.sockets.get(family);
    if (!s) {
      s = new Promise((resolve, reject) => {
        const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
        const fail = (e: Error) => {
          sock.close();
          reject(new ConnectionError(`cannot open a UDP socket for presence pings (${(e as NodeJS.ErrnoException).code ?? e.message})`, e));
        };
        sock.once('error', fail);
        sock.bind({ address: this.o.source, port: 0 }, () => {
          sock.off('error', fail);
          sock.on('error', () => undefined);
          sock.on('message', (m, r) => this.receive(m, r));
          resolve(sock);
        });
      });
      this.sockets.set(family, s);
    }
    return s;
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length > MAX_DATAGRAM) {
      this.stats.garbage++;
      return;
    }
    const pong = readPresencePong(msg);
    if (!pong) {
      if (readRmcp(msg)?.kind === 'ack') this.stats.acks++;
      else this.stats.garbage++;
      return;
    }
    const p = this.pending.get(pong.tag);
    if (!p || p.port !== rinfo.port) {
      this.stats.unexpected++;
      return;
    }
    this.stats.pongs++;
    this.pending.delete(pong.tag);
    p.done({ rttMs: performance.now() - p.sentAt, from: rinfo.address, pong: toInfo(pong) });
  }

  private allocateTag(): number | undefined {
    for (let i = 0; i <= MAX_TAG; i++) {
      const t = this.nextTag;
      this.nextTag = (this.nextTag + 1) % (MAX_TAG + 1);
      if (!this.pending.has(t)) return t;
    }
    return undefined;
  }

  /** One attempt: send a ping, wait for its pong or the timeout. */
  private async attempt(address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<{ rttMs: number; from: string; pong: PongInfo } | undefined> {
    if (this.closed) throw new ConnectionError('pinger closed');
    const sock = await this.socket(net.isIPv6(address) ? 6 : 4);
    const tag = this.allocateTag();
    if (tag === undefined) throw new InputError('more than 255 presence pings outstanding on one socket');
    return new Promise((resolve, reject) => {
      const onAbort = () => finish(undefined, signal?.reason ?? new Error('aborted'));
      const finish = (r: { rttMs: number; from: string; pong: PongInfo } | undefined, err?: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.get(tag) === entry) this.pending.delete(tag);
        if (err) reject(err);
        else resolve(r);
      };
      const entry: Pending = { address, port, sentAt: performance.now(), done: (r) => finish(r) };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.pending.set(tag, entry);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.stats.sent++;
      sock.send(buildPresencePing(tag), port, address, (e) => {
        // A send error (no route, refused by a firewall) is "no answer" for this attempt.
        if (e) finish(undefined);
      });
    });
  }

  /** Ping an IP address (already resolved) with retries. */
  async pingAddress(host: string, address: string, o: PingOptions = {}): Promise<PresenceResult> {
    const port = o.port ?? RMCP_PORT;
    const timeoutMs = o.timeoutMs ?? PING_DEFAULTS.timeoutMs;
    const retries = o.retries ?? PING_DEFAULTS.retries;
    let attempts = 0;
    for (let i = 0; i <= retries; i++) {
      o.signal?.throwIfAborted();
      attempts++;
      const r = await this.attempt(address, port, timeoutMs, o.signal);
      if (r) {
        const result: PresenceResult = { host, address, port, answered: true, rttMs: Math.round(r.rttMs * 100) / 100, attempts, pong: r.pong };
        if (r.from !== address) result.from = r.from;
        return result;
      }
    }
    return { host, address, port, answered: false, attempts };
  }

  /** Ping a host name or address. */
  async ping(host: string, o: PingOptions = {}): Promise<PresenceResult> {
    const address = await resolveHost(host);
    return this.pingAddress(host, address, o);
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.done(undefined);
    this.pending.clear();
    for (const s of this.sockets.values()) s.then((sock) => sock.close(), () => undefined);
    this.sockets.clear();
  }
}

export async function resolveHost(host: string): Promise<string> {
  const h = checkHost(host);
  if (net.isIP(h)) return h;
  try {
    return (await lookup(h)).address;
  } catch (e) {
    throw new ConnectionError(`cannot resolve "${h}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
}

export function checkPingOptions(o: PingOptions): Required<Omit<PingOptions, 'signal'>> {
  const port = o.port === undefined ? RMCP_PORT : checkPort(o.port, 'RMCP port');
  const timeoutMs = o.timeoutMs ?? PING_DEFAULTS.timeoutMs;
  const retries = o.retries ?? PING_DEFAULTS.retries;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new InputError(`ping timeout ${timeoutMs} ms must be 1-60000`);
  if (!Number.isInteger(retries) || retries < 0 || retries > 10) throw new InputError(`ping retries ${retries} must be a whole number 0-10`);
  return { port, timeoutMs, retries };
}

/** Ping one host once (with retries) on a socket of its own. */
export async function presencePing(host: string, o: PingOptions = {}): Promise<PresenceResult> {
  const checked = checkPingOptions(o);
  const pinger = new Pinger();
  try {
    return await pinger.ping(host, { ...checked, signal: o.signal });
  } finally {
    pinger.close();
  }
}
