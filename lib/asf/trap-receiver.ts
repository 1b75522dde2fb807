/**
 * An SNMP trap listener for PET: every datagram is checked before it is parsed (sender on the
 * allow-list, size, a rate per sender and overall, and SNMP version: v1 and v2c only, v3 would
 * make us answer strangers with reports); then a well-formed v1 or v2c trap is read by our own
 * quick reader (lib/asf/trap-parse) and its community checked here, and anything else (informs,
 * which get their answer from net-snmp; odd encodings; other PDUs) goes to net-snmp, which parses
 * it and checks the community. Whatever is refused or cannot be read is counted by reason, never
 * thrown.
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { InputError } from '../errors';
import { TokenBuckets } from '../util/token-bucket';
import { parseTrap, TRAP_V1_PDU } from './trap-parse';

// net-snmp ships no types; the few parts we use are typed where they are used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

export type DropReason = 'not-allowed' | 'too-big' | 'rate-limited' | 'garbage' | 'wrong-community' | 'unsupported-version' | 'unexpected-pdu';

export interface TrapVarbind {
  oid: string;
  type: number;
  value: unknown;
}

export interface ReceivedTrap {
  from: string;
  fromPort: number;
  /** 1 for SNMPv1 Trap-PDU, 2 for SNMPv2c notifications. */
  version: 1 | 2;
  community?: string;
  enterprise?: string;
  agentAddr?: string;
  generic?: number;
  specific?: number;
  /** snmpTrapOID.0 of a v2c notification. */
  trapOid?: string;
  inform: boolean;
  varbinds: TrapVarbind[];
  receivedAt: number;
  raw: Buffer;
}

export interface TrapReceiverOptions {
  /** Default 162. 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0. */
  address?: string;
  /** Accepted communities; default ["public"]. */
  communities?: string[];
  /** Senders allowed (addresses or CIDR subnets, IPv4/IPv6); empty = any sender. */
  allow?: string[];
  /** Largest datagram read (default 2048 bytes; a PET trap is about 120). */
  maxBytes?: number;
  /** Datagrams per second and per sender (default 50) and overall (default 2000). */
  perSenderPerSecond?: number;
  globalPerSecond?: number;
  onTrap(t: ReceivedTrap): void;
  onDrop?(reason: DropReason, from: string, detail?: string): void;
}

export interface TrapCounts {
  datagrams: number;
  accepted: number;
  dropped: Record<DropReason, number>;
}

/** Allow-list entries as a BlockList (addresses and subnets of both families). */
export function compileAllowList(entries: string[]): net.BlockList | undefined {
  const list = entries.map((e) => e.trim()).filter(Boolean);
  if (list.length === 0) return undefined;
  const bl = new net.BlockList();
  for (const e of list) {
    const [addr, bits] = e.split('/');
    const family = net.isIPv6(addr) ? 'ipv6' : net.isIPv4(addr) ? 'ipv4' : undefined;
    if (!family) throw new InputError(`allowed sender "${e}" is not an IP address or subnet (a.b.c.d, a.b.c.d/nn, IPv6)`);
    if (bits === undefined) bl.addAddress(addr, family);
    else {
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 0 || n > (family === 'ipv4' ? 32 : 128)) throw new InputError(`allowed sender "${e}" has a bad prefix length`);
      bl.addSubnet(addr, n, family);
    }
  }
  return bl;
}

function allowed(list: net.BlockList | undefined, addr: string): boolean {
  if (!list) return true;
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr)?.[1];
  if (v4mapped) return list.check(v4mapped, 'ipv4');
  return list.check(addr, net.isIPv6(addr) ? 'ipv6' : 'ipv4');
}

/** A varbind as net-snmp gives it, with its OID as a string (the object itself when it already is). */
function varbindOf(v: TrapVarbind): TrapVarbind {
  return typeof v.oid === 'string' ? v : { oid: String(v.oid), type: v.type, value: v.value };
}

/** snmpTrapOID.0 of a v2c notification. */
function trapOidOf(varbinds: TrapVarbind[]): string | undefined {
  const v = varbinds.find((x) => x.oid === '1.3.6.1.6.3.1.1.4.1.0');
  return v ? String(v.value) : undefined;
}

/** SNMP version from the message header without parsing the rest; undefined when not SNMP-shaped. */
export function peekSnmpVersion(b: Buffer): number | undefined {
  if (b.length < 5 || b[0] !== 0x30) return undefined;
  let at = 1;
  const len = b[at++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) return undefined;
    at += n;
  }
  if (b[at] !== 0x02 || b[at + 1] !== 0x01) return undefined;
  return b[at + 2];
}

/** A dgram socket whose 'message' events pass our checks first (and are not taken by our own reader); what net-snmp binds to. */
class CheckedSocket extends EventEmitter {
  constructor(
    readonly real: dgram.Socket,
    admit: (msg: Buffer, rinfo: dgram.RemoteInfo) => boolean,
    private readonly port: number,
  ) {
    super();
    real.on('message', (msg, rinfo) => {
      if (admit(msg, rinfo)) this.emit('message', msg, rinfo);
    });
    real.on('error', (e) => this.emit('error', e));
  }
  /** net-snmp turns port 0 into 162; we bind the port we were asked for. */
  bind(_port: number, address?: string): void {
    this.real.bind(this.port, address ?? undefined);
  }
  address(): net.AddressInfo {
    return this.real.address();
  }
  send(...args: unknown[]): void {
    (this.real.send as (...a: unknown[]) => void)(...args);
  }
  close(cb?: () => void): void {
    try {
      this.real.close(cb);
    } catch {
      cb?.();
    }
  }
  ref(): this {
    this.real.ref();
    return this;
  }
  unref(): this {
    this.real.unref();
    return this;
  }
}

export class TrapReceiver {
  readonly counts: TrapCounts = {
    datagrams: 0,
    accepted: 0,
    dropped: { 'not-allowed': 0, 'too-big': 0, 'rate-limited': 0, garbage: 0, 'wrong-community': 0, 'unsupported-version': 0, 'unexpected-pdu': 0 },
  };
  private receiver?: { close(cb?: () => void): void };
  private socket?: CheckedSocket;
  private readonly allow?: net.BlockList;
  private readonly allowedCache = new Map<string, boolean>();
  private readonly buckets: TokenBuckets;
  private readonly maxBytes: number;
  private readonly communities: string[];
  /** Raw bytes of the datagram net-snmp is parsing right now (it parses synchronously). */
  private current?: Buffer;
  port = 0;

  constructor(private readonly o: TrapReceiverOptions) {
    this.allow = compileAllowList(o.allow ?? []);
    this.maxBytes = o.maxBytes ?? 2048;
    this.communities = (o.communities ?? ['public']).filter((c) => typeof c === 'string' && c !== '');
    if (this.communities.length === 0) throw new InputError('at least one SNMP community is needed');
    this.buckets = new TokenBuckets(o.perSenderPerSecond ?? 50, o.globalPerSecond ?? 2000);
  }

  private drop(reason: DropReason, from: string, detail?: string): false {
    this.counts.dropped[reason]++;
    this.o.onDrop?.(reason, from, detail);
    return false;
  }

  /** The allow-list's answer per sender address, remembered (a BlockList check costs a microsecond or more). */
  private isAllowed(address: string): boolean {
    if (!this.allow) return true;
    let ok = this.allowedCache.get(address);
    if (ok === undefined) {
      ok = allowed(this.allow, address);
      // Bounded: a flood of spoofed sources empties it now and then, never grows it.
      if (this.allowedCache.size >= 4096) this.allowedCache.clear();
      this.allowedCache.set(address, ok);
    }
    return ok;
  }

  private admit(msg: Buffer, rinfo: dgram.RemoteInfo): boolean {
    this.counts.datagrams++;
    if (!this.isAllowed(rinfo.address)) return this.drop('not-allowed', rinfo.address);
    if (msg.length > this.maxBytes) return this.drop('too-big', rinfo.address, `${msg.length} bytes`);
    if (!this.buckets.take(rinfo.address)) return this.drop('rate-limited', rinfo.address);
    const v = peekSnmpVersion(msg);
    if (v === undefined) return this.drop('garbage', rinfo.address, 'not an SNMP message');
    if (v !== 0 && v !== 1) return this.drop('unsupported-version', rinfo.address, v === 3 ? 'SNMPv3' : `version ${v}`);
    const quick = parseTrap(msg);
    if (quick) {
      // As net-snmp does: the community must be one of ours (the same exact comparison).
      if (!this.communities.includes(quick.community)) return this.drop('wrong-community', rinfo.address);
      this.deliver(quick, rinfo, msg, quick.varbinds);
      return false;
    }
    this.current = msg;
    return true;
  }

  /** Binds; resolves with the port, rejects with the bind error (EADDRINUSE, EACCES...). */
  start(): Promise<number> {
    const family = this.o.address && net.isIPv6(this.o.address) ? 'udp6' : 'udp4';
    return new Promise<number>((resolve, reject) => {
      let listening = false;
      const dgramModule = {
        createSocket: () => {
          const real = dgram.createSocket({ type: family });
          this.socket = new CheckedSocket(real, (m, r) => this.admit(m, r), this.o.port ?? 162);
          real.once('listening', () => {
            listening = true;
            this.port = real.address().port;
            resolve(this.port);
          });
          return this.socket;
        },
      };
      const callback = (error: (Error & { rinfo?: dgram.RemoteInfo }) | null, data?: { pdu: Record<string, any>; rinfo: dgram.RemoteInfo }) => {
        const raw = this.current ?? Buffer.alloc(0);
        this.current = undefined;
        if (error) {
          if (!listening) return reject(error);
          const from = error.rinfo?.address ?? '?';
          if (error instanceof snmp.RequestFailedError) return void this.drop('wrong-community', from);
          if (error instanceof snmp.RequestInvalidError) return void this.drop('unexpected-pdu', from, error.message);
          return void this.drop('garbage', from, error.message);
        }
        if (!data) return;
        this.deliver(data.pdu, data.rinfo, raw);
      };
      try {
        const receiver = snmp.createReceiver(
          { port: this.o.port ?? 162, address: this.o.address ?? null, transport: family, includeAuthentication: true, dgramModule },
          callback,
        );
        for (const c of this.communities) receiver.getAuthorizer().addCommunity(c);
        this.receiver = receiver;
      } catch (e) {
        reject(e);
      }
    });
  }

  /** A trap read by net-snmp (its PDU, with the community) or by parseTrap (`read`: its varbinds, as they are given). */
  private deliver(pdu: Record<string, any>, rinfo: dgram.RemoteInfo, raw: Buffer, read?: TrapVarbind[]): void {
    const varbinds: TrapVarbind[] = read ?? (Array.isArray(pdu.varbinds) ? pdu.varbinds.map(varbindOf) : []);
    const v1 = pdu.type === TRAP_V1_PDU;
    // Made in one piece: every trap of a flood has the same fields.
    const t: ReceivedTrap = {
      from: rinfo.address,
      fromPort: rinfo.port,
      version: v1 ? 1 : 2,
      community: typeof pdu.community === 'string' ? pdu.community : undefined,
      enterprise: v1 ? String(pdu.enterprise) : undefined,
      agentAddr: v1 ? pdu.agentAddr : undefined,
      generic: v1 ? pdu.generic : undefined,
      specific: v1 ? pdu.specific : undefined,
      trapOid: v1 ? undefined : trapOidOf(varbinds),
      inform: pdu.type === snmp.PduType.InformRequest,
      varbinds,
      receivedAt: Date.now(),
      raw,
    };
    this.counts.accepted++;
    try {
      this.o.onTrap(t);
    } catch (e) {
      this.o.onDrop?.('garbage', rinfo.address, `handler failed: ${(e as Error).message}`);
    }
  }

  close(): Promise<void> {
    const r = this.receiver;
    this.receiver = undefined;
    if (!r) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        r.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
