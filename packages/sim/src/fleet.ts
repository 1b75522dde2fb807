/**
 * A fleet of simulated PCs in one process: device i listens on port + i (or an ephemeral port when
 * port is 0). Names, MACs and UUIDs are deterministic from the index (pc-01, pc-02...; MACs in the
 * locally administered range 02:00:86:xx:xx:xx), so a benchmark or a test can predict them.
 * Handles 1,000 devices: a device holds only its identity, a few counters and lazily created class
 * state; with TLS the fleet generates one RSA key pair and one certificate per device (see cert.ts).
 */
import { createHash } from 'node:crypto';
import { generateKeyPair, makeCertificate, SimKeyPair } from './cert';
import { SimDevice, SimDeviceOptions } from './device';
import type { PowerTimings } from './power';
import { RmcpResponder } from './rmcp-responder';
import { WolListener } from './wol-listener';
import { hardwareFor } from './hardware';
import { firmwareProfile } from './firmware-profile';

export interface FleetOptions {
  devices: number;
  /** First port; device i gets port + i. 0 = every device on an ephemeral port. */
  port?: number;
  host?: string;
  user?: string;
  password?: string;
  tls?: boolean;
  /** One RSA key pair per device instead of one shared by the fleet (slow: ~200 ms each). */
  keyPerDevice?: boolean;
  latencyMs?: number;
  /** Offer qop="auth-int, auth" like newer firmware. */
  authInt?: boolean;
  nonceTtlMs?: number;
  power?: 'on' | 'off';
  timings?: Partial<PowerTimings>;
  firmware?: SimDeviceOptions['firmware'];
  /** Firmware generation of every device ("11", "12", "15", "16", "18"); 16 and 18 imply TLS (no port 16992). */
  amtVersion?: string;
  /** Changes every generated UUID/MAC/realm; the default gives the same fleet every time. */
  seed?: string;
  /** First redirection (IDE-R) port; device i gets redirectionPort + i. 0 or unset = ephemeral ports. */
  redirectionPort?: number;
  /** Last word on each device's options. */
  configure?: (index: number, o: SimDeviceOptions) => SimDeviceOptions;
  /** One UDP port the whole fleet listens on for magic packets (0 = ephemeral); none when unset. */
  wolPort?: number;
  /** Address of the WOL socket (default: host). 0.0.0.0 receives broadcasts. */
  wolHost?: string;
  /** Device i answers RMCP presence pings on rmcpPort + i (0 = ephemeral ports); none when unset. */
  rmcpPort?: number;
  /** First IPv4 address for RMCP: device i answers on rmcpHosts + i, all on rmcpPort (which must then be > 0). */
  rmcpHosts?: string;
  /** False: the RMCP responder is silent while the PC is off (default: answers, like AMT on standby power). */
  rmcpWhileOff?: boolean;
  /** Who may send to the WOL and RMCP sockets (IPv4 CIDR blocks); default loopback when bound to loopback. */
  udpAllowFrom?: string[];
}

export interface Fleet {
  devices: SimDevice[];
  /** The shared magic-packet listener, when wolPort was given. */
  wol?: WolListener;
  /** Presence responders, device i at index i, when rmcpPort was given. */
  rmcp?: RmcpResponder[];
  stop(): Promise<void>;
}

export function deviceName(index: number, total: number): string {
  return `pc-${String(index + 1).padStart(Math.max(2, String(total).length), '0')}`;
}

/** 02:00:86:xx:xx:xx, xx = index + 1 in 24 bits. */
export function deviceMac(index: number): string {
  const n = index + 1;
  return ['02', '00', '86', (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((x) => (typeof x === 'string' ? x : x.toString(16).padStart(2, '0'))).join(':');
}

/** A version-4-shaped UUID from a hash of the seed and index. */
export function deviceUuid(index: number, seed = 'oobkit-sim'): string {
  const h = createHash('sha256').update(`${seed}:${index}`).digest();
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function deviceOptions(index: number, o: FleetOptions, keyPair?: SimKeyPair): SimDeviceOptions {
  const name = deviceName(index, o.devices);
  const uuid = deviceUuid(index, o.seed);
  const opts: SimDeviceOptions = {
    name,
    uuid,
    // Hardware models in turn (desktop, notebook, NUC, mini PC...), serials from the UUID.
    hardware: hardwareFor(index, uuid),
    mac: deviceMac(index),
    user: o.user ?? 'admin',
    password: o.password ?? 'P@ssw0rd',
    authInt: o.authInt,
    nonceTtlMs: o.nonceTtlMs,
    latencyMs: o.latencyMs,
    power: o.power,
    timings: o.timings,
    firmware: o.firmware,
    amtVersion: o.amtVersion,
  };
  if (o.tls || needsTls(o)) {
    const kp = o.keyPerDevice ? generateKeyPair() : keyPair;
    if (!kp) throw new Error('TLS needs a key pair');
    opts.tls = makeCertificate({ commonName: name, serial: index + 1, keyPair: kp });
  }
  return o.configure ? o.configure(index, opts) : opts;
}

/** Generations without port 16992 serve TLS whatever the fleet asked. */
function needsTls(o: FleetOptions): boolean {
  return o.amtVersion !== undefined && !firmwareProfile(o.amtVersion).plainHttp;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  if (!Number.isInteger(o.devices) || o.devices < 1) throw new Error('devices must be a positive integer');
  const base = o.port ?? 0;
  if (!Number.isInteger(base) || base < 0 || (base > 0 && base + o.devices - 1 > 65535)) throw new Error('port range outside 1..65535');
  const host = o.host ?? '127.0.0.1';
  if (o.amtVersion !== undefined) firmwareProfile(o.amtVersion); // an unknown generation fails here, clearly
  const shared = (o.tls || needsTls(o)) && !o.keyPerDevice ? generateKeyPair() : undefined;
  const devices: SimDevice[] = [];
  const fleet: Fleet = { devices, stop: async () => undefined };
  fleet.stop = async (): Promise<void> => {
    await Promise.all([...devices.map((d) => d.close()), fleet.wol?.close(), ...(fleet.rmcp ?? []).map((r) => r.close())]);
  };
  try {
    for (let i = 0; i < o.devices; i++) {
      const d = new SimDevice(deviceOptions(i, o, shared));
      devices.push(d);
      await d.listen(base === 0 ? 0 : base + i, host);
      await d.listenRedirection(o.redirectionPort ? o.redirectionPort + i : 0, host);
    }
    await startUdpListeners(fleet, o, host);
  } catch (e) {
    await fleet.stop();
    throw e;
  }
  return fleet;
}

/** The WOL listener and RMCP responders asked for in the options. */
async function startUdpListeners(fleet: Fleet, o: FleetOptions, host: string): Promise<void> {
  if (o.wolPort !== undefined) {
    const wol = new WolListener(fleet.devices, { port: o.wolPort, host: o.wolHost ?? host, allowFrom: o.udpAllowFrom });
    fleet.wol = wol;
    await wol.listen();
  }
  if (o.rmcpPort !== undefined) {
    if (o.rmcpHosts && o.rmcpPort === 0) throw new Error('rmcpHosts needs a fixed rmcpPort');
    const first = o.rmcpHosts ? ipv4ToInt(o.rmcpHosts) : undefined;
    if (o.rmcpHosts && (first === undefined || first + fleet.devices.length - 1 > 0xffffffff)) throw new Error(`rmcpHosts "${o.rmcpHosts}" is not an IPv4 address with room for the fleet`);
    if (first === undefined && o.rmcpPort > 0 && o.rmcpPort + fleet.devices.length - 1 > 65535) throw new Error('RMCP port range outside 1..65535');
    fleet.rmcp = [];
    for (let i = 0; i < fleet.devices.length; i++) {
      const r = new RmcpResponder(fleet.devices[i], {
        port: first !== undefined || o.rmcpPort === 0 ? o.rmcpPort : o.rmcpPort + i,
        host: first !== undefined ? intToIpv4(first + i) : host,
        allowFrom: o.udpAllowFrom,
        whileOff: o.rmcpWhileOff,
      });
      fleet.rmcp.push(r);
      await r.listen();
    }
  }
}

function ipv4ToInt(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return undefined;
  return m.slice(1).reduce((n, x) => n * 256 + Number(x), 0);
}

function intToIpv4(n: number): string {
  return [Math.floor(n / 2 ** 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The line the CLI prints for a device (with its WOL and RMCP endpoints when the fleet has them). */
export function describeDevice(d: SimDevice, fleet?: Fleet): Record<string, unknown> {
  const rmcp = fleet?.rmcp?.find((r) => r.device === d);
  return {
    name: d.name,
    host: d.host,
    port: d.port,
    url: d.url,
    mac: d.mac,
    uuid: d.uuid,
    realm: d.realm,
    tls: Boolean(d.tls),
    fingerprint256: d.tls?.fingerprint256 ?? null,
    amtVersion: d.firmware.version,
    ...(fleet?.wol ? { wolHost: fleet.wol.host, wolPort: fleet.wol.port } : {}),
    ...(rmcp ? { rmcpHost: rmcp.host, rmcpPort: rmcp.port } : {}),
    redirectionPort: d.redirectionPort,
  };
}
