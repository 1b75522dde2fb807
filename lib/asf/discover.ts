/**
 * Network discovery by presence ping: sweep a list of hosts and ranges, paced and with bounded
 * concurrency, and return the ones whose management controller answers, with what they are.
 *
 * Targets: an address (10.0.0.5), a host name, a CIDR block (10.0.0.0/24: network and broadcast
 * addresses are skipped below /31), a range (10.0.0.10-10.0.0.50 or 10.0.0.10-50), and any of the
 * single forms with a port (10.0.0.5:1623, [fe80::1]:623). The sweep never sends faster than
 * `packetsPerSecond` (retries included) and never has more than `concurrency` pings outstanding.
 */
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkPort } from '../device';
import { InputError } from '../errors';
import { checkPingOptions, Pinger, PingerStats, PresenceResult, resolveHost } from './ping';
import { MAX_TAG, RMCP_PORT } from './rmcp';

export interface DiscoverOptions {
  /** Addresses, host names, CIDR blocks, ranges; a string may hold several separated by commas or spaces. */
  targets: string | ReadonlyArray<string>;
  /** Default 623 (a target's own :port wins). */
  port?: number;
  /** Pings outstanding at once (default 64, at most 255). */
  concurrency?: number;
  /** Pings sent per second, retries included (default 200). */
  packetsPerSecond?: number;
  timeoutMs?: number;
  retries?: number;
  /** Refuse sweeps larger than this (default 65,536 addresses). */
  maxAddresses?: number;
  /** Local address to send from. */
  source?: string;
  signal?: AbortSignal;
  /** Called for each device as soon as it answers. */
  onFound?: (r: PresenceResult) => void;
}

export interface DiscoverResult {
  /** The targets that answered, in sweep order. */
  found: PresenceResult[];
  scanned: number;
  /** Host names that did not resolve (not pinged). */
  unresolved: string[];
  pingsSent: number;
  durationMs: number;
  /** What arrived on our socket that was not an expected pong. */
  ignored: Omit<PingerStats, 'sent' | 'pongs'>;
}

export const DISCOVER_DEFAULTS = { concurrency: 64, packetsPerSecond: 200, timeoutMs: 1000, retries: 1, maxAddresses: 65_536 } as const;

export interface Target {
  host: string;
  port?: number;
}

function ipv4ToInt(s: string): number {
  return s.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** One target written with an optional port: "h", "h:p", "[v6]:p". */
function splitPort(s: string): Target {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1], port: v6[2] === undefined ? undefined : checkPort(v6[2], `port in "${s}"`) };
  const m = /^([^:]+):(\d+)$/.exec(s);
  if (m) return { host: m[1], port: checkPort(m[2], `port in "${s}"`) };
  return { host: s };
}

/** Size of a target spec, without expanding it (so huge ranges are refused before any work). */
function expandOne(spec: string): { count: number; items: () => Iterable<Target> } {
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(spec);
  if (cidr) {
    if (net.isIPv4(cidr[1]) === false) throw new InputError(`"${spec}": ${cidr[1]} is not an IPv4 address`);
    const bits = Number(cidr[2]);
    if (bits > 32) throw new InputError(`"${spec}": prefix length must be 0-32`);
    const size = 2 ** (32 - bits);
    const base = (ipv4ToInt(cidr[1]) - (ipv4ToInt(cidr[1]) % size)) >>> 0;
    const first = size > 2 ? base + 1 : base;
    const last = size > 2 ? base + size - 2 : base + size - 1;
    return { count: last - first + 1, items: () => range(first, last) };
  }
  const dash = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3}|\d{1,3})$/.exec(spec);
  if (dash) {
    if (!net.isIPv4(dash[1])) throw new InputError(`"${spec}": ${dash[1]} is not an IPv4 address`);
    const end = dash[2].includes('.') ? dash[2] : `${dash[1].split('.').slice(0, 3).join('.')}.${dash[2]}`;
    if (!net.isIPv4(end)) throw new InputError(`"${spec}": ${end} is not an IPv4 address`);
    const first = ipv4ToInt(dash[1]);
    const last = ipv4ToInt(end);
    if (last < first) throw new InputError(`"${spec}": the range ends before it starts`);
    return { count: last - first + 1, items: () => range(first, last) };
  }
  const t = splitPort(spec);
  if (/^[\d.]+$/.test(t.host) && !net.isIPv4(t.host)) throw new InputError(`"${spec}" is not an IPv4 address`);
  return { count: 1, items: () => [t] };
}

function* range(first: number, last: number): Iterable<Target> {
  for (let n = first; n <= last; n++) yield { host: intToIpv4(n) };
}

/** Every target of a sweep, checked; throws an InputError naming the first bad one. */
export function expandTargets(targets: string | ReadonlyArray<string>, maxAddresses: number = DISCOVER_DEFAULTS.maxAddresses): { count: number; items: () => Iterable<Target> } {
  const specs = (typeof targets === 'string' ? [targets] : [...targets])
    .flatMap((t) => {
      if (typeof t !== 'string') throw new InputError(`discovery target must be text, got ${typeof t}`);
      return t.split(/[\s,;]+/);
    })
    .filter((s) => s !== '');
  if (specs.length === 0) throw new InputError('nothing to discover: give addresses, host names, CIDR blocks or ranges');
  const parts = specs.map(expandOne);
  const count = parts.reduce((n, p) => n + p.count, 0);
  if (count > maxAddresses) throw new InputError(`the sweep covers ${count} addresses, more than the limit of ${maxAddresses}`);
  return {
    count,
    items: function* () {
      for (const p of parts) yield* p.items();
    },
  };
}

/** Sends are spaced 1/rate apart; waits shorter than a millisecond are batched into one tick. */
class Pacer {
  private due = 0;
  constructor(private readonly intervalMs: number) {}

  async slot(signal?: AbortSignal): Promise<void> {
    if (this.intervalMs <= 0) return;
    const now = performance.now();
    if (this.due < now - this.intervalMs) this.due = now;
    const wait = this.due - now;
    this.due += this.intervalMs;
    if (wait >= 1) await sleep(wait, undefined, { signal });
  }
}

/** Sweep the targets and return the ones that answer. */
export async function discover(o: DiscoverOptions): Promise<DiscoverResult> {
  const started = performance.now();
  const checked = checkPingOptions({ port: o.port ?? RMCP_PORT, timeoutMs: o.timeoutMs ?? DISCOVER_DEFAULTS.timeoutMs, retries: o.retries ?? DISCOVER_DEFAULTS.retries });
  const concurrency = o.concurrency ?? DISCOVER_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_TAG + 1) throw new InputError(`concurrency ${concurrency} must be a whole number 1-${MAX_TAG + 1}`);
  const rate = o.packetsPerSecond ?? DISCOVER_DEFAULTS.packetsPerSecond;
  if (!Number.isFinite(rate) || rate < 0 || rate > 1_000_000) throw new InputError(`packets per second ${rate} must be 0 (unpaced) to 1000000`);
  const targets = expandTargets(o.targets, o.maxAddresses ?? DISCOVER_DEFAULTS.maxAddresses);
  const pacer = new Pacer(rate > 0 ? 1000 / rate : 0);
  const pinger = new Pinger({ source: o.source });
  const results: Array<PresenceResult | undefined> = [];
  const unresolved: string[] = [];
  const iterator = targets.items()[Symbol.iterator]();
  let index = 0;

  async function worker(): Promise<void> {
    for (;;) {
      o.signal?.throwIfAborted();
      const next = iterator.next();
      if (next.done) return;
      const slot = index++;
      const t = next.value;
      let address: string;
      try {
        address = await resolveHost(t.host);
      } catch {
        unresolved.push(t.host);
        continue;
      }
      const port = t.port ?? checked.port;
      let r: PresenceResult | undefined;
      for (let attempt = 0; attempt <= checked.retries && !r?.answered; attempt++) {
        await pacer.slot(o.signal);
        r = await pinger.pingAddress(t.port ? `${t.host}:${t.port}` : t.host, address, { port, timeoutMs: checked.timeoutMs, retries: 0, signal: o.signal });
        r.attempts = attempt + 1;
      }
      if (r?.answered) {
        results[slot] = r;
        o.onFound?.(r);
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.count) }, worker));
  } finally {
    pinger.close();
  }
  const { acks, garbage, unexpected } = pinger.stats;
  return {
    found: results.filter((r): r is PresenceResult => r !== undefined),
    scanned: targets.count,
    unresolved,
    pingsSent: pinger.stats.sent,
    durationMs: Math.round(performance.now() - started),
    ignored: { acks, garbage, unexpected },
  };
}
