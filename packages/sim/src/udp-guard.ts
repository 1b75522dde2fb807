/**
 * The limits every UDP listener of the simulator applies before looking at a datagram: who may
 * send (loopback only when the listener is on loopback), how large a datagram may be, and how
 * many per second are looked at (a token bucket; the rest are dropped and counted). A flood of
 * garbage therefore costs a counter increment per datagram and nothing else.
 */
import * as net from 'node:net';

export interface UdpGuardOptions {
  /** Largest datagram looked at. */
  maxBytes: number;
  /** Datagrams per second looked at (burst: the same number). */
  ratePerSecond?: number;
  /** CIDR blocks (IPv4) or addresses allowed to send; default: loopback when bound to loopback, else anyone. */
  allowFrom?: string[];
  /** The address the listener is bound to, to choose the default allow list. */
  boundTo: string;
}

export interface UdpGuardStats {
  received: number;
  tooLarge: number;
  rateLimited: number;
  notAllowed: number;
}

export const DEFAULT_UDP_RATE = 5000;

export function isLoopback(address: string): boolean {
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

function matcher(rule: string): (address: string) => boolean {
  const [base, bitsText] = rule.split('/');
  if (net.isIPv4(base)) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`bad CIDR "${rule}"`);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    const want = (toInt(base) & mask) >>> 0;
    return (a) => {
      const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
      return net.isIPv4(v4) && ((toInt(v4) & mask) >>> 0) === want;
    };
  }
  if (net.isIPv6(base)) return (a) => a === base;
  throw new Error(`bad allow rule "${rule}": use an IPv4 CIDR block or an address`);
}

function toInt(a: string): number {
  return a.split('.').reduce((n, p) => n * 256 + Number(p), 0) >>> 0;
}

export class UdpGuard {
  readonly stats: UdpGuardStats = { received: 0, tooLarge: 0, rateLimited: 0, notAllowed: 0 };
  private readonly allowed: (address: string) => boolean;
  private readonly rate: number;
  private tokens: number;
  private refilledAt = performance.now();

  constructor(private readonly o: UdpGuardOptions) {
    this.rate = o.ratePerSecond ?? DEFAULT_UDP_RATE;
    this.tokens = this.rate;
    if (o.allowFrom) {
      const rules = o.allowFrom.map(matcher);
      this.allowed = (a) => rules.some((r) => r(a));
    } else if (isLoopback(o.boundTo)) {
      this.allowed = isLoopback;
    } else {
      this.allowed = () => true;
    }
  }

  /** True when the datagram may be processed; otherwise it has been counted as dropped. */
  admit(size: number, from: string): boolean {
    this.stats.received++;
    if (!this.allowed(from)) {
      this.stats.notAllowed++;
      return false;
    }
    if (size > this.o.maxBytes) {
      this.stats.tooLarge++;
      return false;
    }
    const now = performance.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) * this.rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.stats.rateLimited++;
      return false;
    }
    this.tokens -= 1;
    return true;
  }
}
