/**
 * The RMCP presence responder of a simulated PC, answering like Intel AMT's management engine:
 * it runs on standby power, so it answers whether the PC is on or off. The pong carries Intel's
 * IANA number 343 and the AMT facts in the OEM bytes (port 16992/16993, firmware major.minor,
 * provisioned), supported entities ASF 1.0 without IPMI and supported interactions "DASH".
 * No capture of a real AMT pong was available: the bytes follow ASF 2.0 and the OEM layout Intel's
 * own scanner reads, written in rmcp-codec.ts independently of lib/asf/rmcp.ts.
 *
 * A ping that asks for an RMCP ACK (sequence number other than 0xFF) gets one before the pong.
 * Datagrams are bounded in size and rate and, on loopback, accepted from loopback only.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { SimDevice } from './device';
import { ackFor, amtOem, pong, readPing } from './rmcp-codec';
import { UdpGuard, UdpGuardStats } from './udp-guard';

export interface RmcpResponderOptions {
  port: number;
  host?: string;
  allowFrom?: string[];
  ratePerSecond?: number;
  /**
   * Answer while the PC is off (default true, as AMT with its engine on standby power). False
   * models an engine that sleeps with the host (power policy "on in S0 only").
   */
  whileOff?: boolean;
}

export interface RmcpStats extends UdpGuardStats {
  pings: number;
  garbage: number;
  /** Pings left unanswered because the PC was off and whileOff is false. */
  silentWhileOff: number;
}

/** A ping is 12 bytes; nothing much larger is worth reading. */
const MAX_RMCP_DATAGRAM = 64;

/** The pong a simulated AMT device sends for a tag. */
export function amtPong(device: SimDevice, tag: number): Buffer {
  return pong(tag, { enterprise: 343, oem: amtOem(device.tls ? 16993 : 16992, device.firmware.version, 2), ipmi: false, dash: true });
}

export class RmcpResponder {
  readonly stats: RmcpStats;
  private readonly guard: UdpGuard;
  private socket?: dgram.Socket;
  port = 0;
  readonly host: string;

  constructor(
    readonly device: SimDevice,
    private readonly o: RmcpResponderOptions,
  ) {
    this.host = o.host ?? '127.0.0.1';
    this.guard = new UdpGuard({ maxBytes: MAX_RMCP_DATAGRAM, ratePerSecond: o.ratePerSecond, allowFrom: o.allowFrom, boundTo: this.host });
    this.stats = Object.assign(this.guard.stats as RmcpStats, { pings: 0, garbage: 0, silentWhileOff: 0 });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: net.isIPv6(this.host) ? 'udp6' : 'udp4' });
      s.once('error', reject);
      s.on('message', (m, r) => this.receive(s, m, r));
      s.bind(this.o.port, this.host, () => {
        s.off('error', reject);
        s.on('error', () => undefined);
        this.socket = s;
        this.port = s.address().port;
        resolve(this.port);
      });
    });
  }

  private receive(s: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.guard.admit(msg.length, rinfo.address)) return;
    const ping = readPing(msg);
    if (!ping) {
      this.stats.garbage++;
      return;
    }
    this.stats.pings++;
    if (this.o.whileOff === false && this.device.powerState !== 2) {
      this.stats.silentWhileOff++;
      return;
    }
    if (ping.wantsAck) s.send(ackFor(ping.sequence), rinfo.port, rinfo.address);
    s.send(amtPong(this.device, ping.tag), rinfo.port, rinfo.address);
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
