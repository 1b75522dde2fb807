/**
 * Wake-on-LAN for the simulated fleet: one UDP socket that the whole fleet shares (oob-sim
 * --wol-port P), where each simulated PC picks out the magic packets for its own MAC, checks its
 * SecureOn password when one is set, and powers on (cause 'wol').
 *
 * Like a NIC, it looks for the magic pattern anywhere in the datagram and ignores everything else.
 * It reads the datagram with its own code (wol-codec.ts), not lib/wol's, so tests through it check
 * the client against an independent reading.
 * Datagrams are bounded in size and rate and, on loopback, accepted from loopback only (UdpGuard);
 * every outcome is counted in `stats`.
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import type { SimDevice } from './device';
import { UdpGuard, UdpGuardStats } from './udp-guard';
import { findWakePatterns, macBytes } from './wol-codec';

export interface WolListenerOptions {
  /** 0 = an ephemeral port. */
  port: number;
  /** Default 127.0.0.1. Bind 0.0.0.0 to receive broadcasts. */
  host?: string;
  allowFrom?: string[];
  ratePerSecond?: number;
}

export interface WolStats extends UdpGuardStats {
  /** Datagrams without a magic packet in them. */
  garbage: number;
  /** Magic packets for a MAC no simulated PC has. */
  unknownMac: number;
  /** Magic packets whose SecureOn password was missing or wrong. */
  wrongPassword: number;
  /** Magic packets that powered a PC on. */
  woke: number;
  /** Magic packets for a PC that was on already. */
  alreadyOn: number;
}

export interface WolEvent {
  device: SimDevice;
  from: string;
  /** False when the PC was already on. */
  woke: boolean;
}

/** Largest datagram looked at: a magic packet with a password is 108 bytes; leave room for headers. */
const MAX_WOL_DATAGRAM = 1500;

export class WolListener extends EventEmitter {
  readonly stats: WolStats;
  private readonly byMac = new Map<string, SimDevice>();
  private readonly guard: UdpGuard;
  private socket?: dgram.Socket;
  port = 0;
  readonly host: string;

  constructor(
    devices: SimDevice[],
    private readonly o: WolListenerOptions,
  ) {
    super();
    this.host = o.host ?? '127.0.0.1';
    for (const d of devices) {
      const mac = macBytes(d.mac);
      if (mac) this.byMac.set(mac.toString('hex'), d);
    }
    this.guard = new UdpGuard({ maxBytes: MAX_WOL_DATAGRAM, ratePerSecond: o.ratePerSecond, allowFrom: o.allowFrom, boundTo: this.host });
    this.stats = Object.assign(this.guard.stats as WolStats, { garbage: 0, unknownMac: 0, wrongPassword: 0, woke: 0, alreadyOn: 0 });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: net.isIPv6(this.host) ? 'udp6' : 'udp4' });
      s.once('error', reject);
      s.on('message', (m, r) => this.receive(m, r));
      s.bind(this.o.port, this.host, () => {
        s.off('error', reject);
        s.on('error', () => undefined);
        this.socket = s;
        this.port = s.address().port;
        resolve(this.port);
      });
    });
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.guard.admit(msg.length, rinfo.address)) return;
    const patterns = findWakePatterns(msg);
    if (!patterns.length) {
      this.stats.garbage++;
      return;
    }
    const packet = patterns.find((p) => this.byMac.has(p.mac.toString('hex')));
    const device = packet && this.byMac.get(packet.mac.toString('hex'));
    if (!packet || !device) {
      this.stats.unknownMac++;
      return;
    }
    // SecureOn: the password is what follows the sixteenth copy, and nothing else.
    if (device.secureOn && !packet.trailer.equals(device.secureOn)) {
      this.stats.wrongPassword++;
      return;
    }
    const woke = device.powerOn('wol');
    if (woke) this.stats.woke++;
    else this.stats.alreadyOn++;
    this.emit('wake', { device, from: rinfo.address, woke } satisfies WolEvent);
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
