/**
 * Sending magic packets over UDP: to the limited broadcast 255.255.255.255 (default), a directed
 * subnet broadcast (192.168.1.255) or a unicast address, on port 9 (default), 7 or any other,
 * optionally from a chosen interface or source address.
 *
 * Packets get lost (a switch that has forgotten the sleeping PC's port floods them, a busy link
 * drops them), so each MAC is sent `repeat` times, in rounds `spacingMs` apart. A list of many MACs
 * is paced at `packetsPerSecond` instead of leaving in one burst that overflows socket buffers and
 * switch queues. Binding the source address also picks the interface a limited broadcast leaves
 * by (Linux routes 255.255.255.255 out of the interface that owns the bound address).
 */
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkHost, checkPort } from '../device';
import { ConnectionError, InputError } from '../errors';
import { buildMagicPacket, parseSecureOn } from './magic-packet';
import { formatMac, parseMac } from './mac';

export const WOL_DEFAULT_PORT = 9;
export const LIMITED_BROADCAST = '255.255.255.255';
export const DEFAULTS = { repeat: 3, spacingMs: 100, packetsPerSecond: 1000 } as const;

export interface WakeOptions {
  /** One MAC or a list, in any accepted notation. */
  macs: string | Buffer | ReadonlyArray<string | Buffer>;
  /** SecureOn password (4 or 6 bytes), sent with every packet. */
  secureOn?: string | Buffer;
  /** Destination: broadcast, directed broadcast, unicast IP or host name. Default 255.255.255.255. */
  address?: string;
  /** Default 9. */
  port?: number | string;
  /** Interface name (eth0) or local address to send from. */
  interface?: string;
  /** Packets per MAC, in rounds (default 3). */
  repeat?: number | string;
  /** Pause between rounds (default 100 ms). */
  spacingMs?: number;
  /** Pacing within a round (default 1000/s); 0 sends as fast as the socket takes them. */
  packetsPerSecond?: number;
  signal?: AbortSignal;
}

export interface WakeResult {
  macs: string[];
  packets: number;
  address: string;
  port: number;
  /** The local address the packets left from, when one was chosen. */
  source?: string;
  durationMs: number;
}

/** Everything checked before a socket is opened, so bad input fails without sending anything. */
export interface WakePlan {
  packets: Buffer[];
  macs: string[];
  address: string;
  family: 4 | 6;
  port: number;
  source?: string;
  repeat: number;
  spacingMs: number;
  packetsPerSecond: number;
}

function numberIn(v: unknown, min: number, max: number, what: string, dflt: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw new InputError(`${what} "${String(v)}" must be a number from ${min} to ${max}`);
  return n;
}

/** The destination as an IP address; a dotted number that is not an IPv4 address is refused. */
export async function resolveWakeAddress(value: unknown): Promise<{ address: string; family: 4 | 6 }> {
  if (value === undefined || value === null || value === '') return { address: LIMITED_BROADCAST, family: 4 };
  if (typeof value !== 'string') throw new InputError(`broadcast address must be text, got ${typeof value}`);
  const s = value.trim().replace(/^\[|\]$/g, '');
  const ip = net.isIP(s);
  if (ip) return { address: s, family: ip as 4 | 6 };
  if (/^[\d.]+$/.test(s)) throw new InputError(`broadcast address "${value}" is not an IPv4 address`);
  let host: string;
  try {
    host = checkHost(s, 'broadcast address');
  } catch {
    throw new InputError(`broadcast address "${value}" is not an IP address or host name`);
  }
  try {
    const r = await lookup(host);
    return { address: r.address, family: r.family as 4 | 6 };
  } catch (e) {
    throw new ConnectionError(`cannot resolve "${host}" to send the magic packet to (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
}

/** The local address to bind for an interface name or address; an unknown one is an InputError. */
export function sourceAddressFor(iface: string, family: 4 | 6): string {
  const all = os.networkInterfaces();
  const wanted = `IPv${family}`;
  const s = iface.trim();
  if (net.isIP(s)) {
    const owned = Object.values(all).some((list) => list?.some((a) => a.address === s));
    if (!owned) throw new InputError(`no network interface of this machine has the address ${s}`);
    if (net.isIP(s) !== family) throw new InputError(`source address ${s} is IPv${net.isIP(s)} but the destination is ${wanted}`);
    return s;
  }
  const list = all[s];
  if (!list) throw new InputError(`unknown network interface "${iface}" (this machine has: ${Object.keys(all).join(', ') || 'none'})`);
  const a = list.find((x) => x.family === wanted && !(family === 6 && x.scopeid !== 0 && x.address.startsWith('fe80')));
  const any = a ?? list.find((x) => x.family === wanted);
  if (!any) throw new InputError(`network interface "${iface}" has no ${wanted} address`);
  return any.address;
}

/** MAC addresses one wake may name: a whole site's PCs, not a flood of the LAN. */
export const MAX_MACS_PER_WAKE = 1024;

/** Checks every option and builds the packets; nothing is sent. */
export async function planWake(o: WakeOptions): Promise<WakePlan> {
  const list = Array.isArray(o.macs) ? o.macs : [o.macs];
  if (list.length === 0) throw new InputError('no MAC address to wake');
  if (list.length > MAX_MACS_PER_WAKE) throw new InputError(`${list.length} MAC addresses in one wake; at most ${MAX_MACS_PER_WAKE} (split them over several messages)`);
  const macs = list.map((m, i) => parseMac(m, list.length > 1 ? `MAC address #${i + 1}` : 'MAC address'));
  const password = o.secureOn === undefined || o.secureOn === '' ? undefined : parseSecureOn(o.secureOn);
  const port = o.port === undefined || o.port === '' ? WOL_DEFAULT_PORT : checkPort(o.port, 'WOL port');
  const repeat = numberIn(o.repeat, 1, 100, 'repeat', DEFAULTS.repeat);
  if (!Number.isInteger(repeat)) throw new InputError(`repeat "${String(o.repeat)}" must be a whole number`);
  const spacingMs = numberIn(o.spacingMs, 0, 60_000, 'spacing (ms)', DEFAULTS.spacingMs);
  const packetsPerSecond = numberIn(o.packetsPerSecond, 0, 1_000_000, 'packets per second', DEFAULTS.packetsPerSecond);
  const { address, family } = await resolveWakeAddress(o.address);
  const source = o.interface ? sourceAddressFor(o.interface, family) : undefined;
  return {
    packets: macs.map((m) => buildMagicPacket(m, password)),
    macs: macs.map(formatMac),
    address,
    family,
    port,
    source,
    repeat,
    spacingMs,
    packetsPerSecond,
  };
}

function openSocket(family: 4 | 6, source?: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    const fail = (e: Error) => {
      socket.close();
      reject(new ConnectionError(`cannot open a UDP socket${source ? ` on ${source}` : ''} (${(e as NodeJS.ErrnoException).code ?? e.message})`, e));
    };
    socket.once('error', fail);
    socket.bind({ address: source, port: 0 }, () => {
      socket.off('error', fail);
      // Errors after this point come back through each send's callback.
      socket.on('error', () => undefined);
      if (family === 4) socket.setBroadcast(true);
      resolve(socket);
    });
  });
}

function sendOne(socket: dgram.Socket, packet: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(packet, port, address, (e) => {
      if (e) reject(new ConnectionError(`cannot send the magic packet to ${address}:${port} (${(e as NodeJS.ErrnoException).code ?? e.message})`, e));
      else resolve();
    });
  });
}

/** Sends the packets of a plan: `repeat` rounds over every MAC, paced, `spacingMs` between rounds. */
export async function sendPlan(plan: WakePlan, signal?: AbortSignal): Promise<WakeResult> {
  const started = performance.now();
  const socket = await openSocket(plan.family, plan.source);
  let sent = 0;
  try {
    const interval = plan.packetsPerSecond > 0 ? 1000 / plan.packetsPerSecond : 0;
    let due = performance.now();
    for (let round = 0; round < plan.repeat; round++) {
      if (round > 0 && plan.spacingMs > 0) {
        await sleep(plan.spacingMs, undefined, { signal });
        due = performance.now();
      }
      for (const packet of plan.packets) {
        signal?.throwIfAborted();
        if (interval > 0) {
          // Sleep only when at least a millisecond ahead: timers are not finer than that, so at high
          // rates several packets leave per tick and the average rate is still the one asked for.
          // After a stall (a slow send, a busy event loop) do not catch up in a burst.
          const now = performance.now();
          if (due < now - interval) due = now;
          const wait = due - now;
          if (wait >= 1) await sleep(wait, undefined, { signal });
          due += interval;
        }
        await sendOne(socket, packet, plan.port, plan.address);
        sent++;
      }
    }
  } finally {
    socket.close();
  }
  return {
    macs: plan.macs,
    packets: sent,
    address: plan.address,
    port: plan.port,
    ...(plan.source ? { source: plan.source } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

/** Wake one or many PCs: check everything, then send. */
export async function wake(o: WakeOptions): Promise<WakeResult> {
  return sendPlan(await planWake(o), o.signal);
}
