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
import { hardwareFor } from './hardware';

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
  /** Changes every generated UUID/MAC/realm; the default gives the same fleet every time. */
  seed?: string;
  /** Last word on each device's options. */
  configure?: (index: number, o: SimDeviceOptions) => SimDeviceOptions;
}

export interface Fleet {
  devices: SimDevice[];
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
  };
  if (o.tls) {
    const kp = o.keyPerDevice ? generateKeyPair() : keyPair;
    if (!kp) throw new Error('TLS needs a key pair');
    opts.tls = makeCertificate({ commonName: name, serial: index + 1, keyPair: kp });
  }
  return o.configure ? o.configure(index, opts) : opts;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  if (!Number.isInteger(o.devices) || o.devices < 1) throw new Error('devices must be a positive integer');
  const base = o.port ?? 0;
  if (!Number.isInteger(base) || base < 0 || (base > 0 && base + o.devices - 1 > 65535)) throw new Error('port range outside 1..65535');
  const host = o.host ?? '127.0.0.1';
  const shared = o.tls && !o.keyPerDevice ? generateKeyPair() : undefined;
  const devices: SimDevice[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(devices.map((d) => d.close()));
  };
  try {
    for (let i = 0; i < o.devices; i++) {
      const d = new SimDevice(deviceOptions(i, o, shared));
      devices.push(d);
      await d.listen(base === 0 ? 0 : base + i, host);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { devices, stop };
}

/** The line the CLI prints for a device. */
export function describeDevice(d: SimDevice): Record<string, unknown> {
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
  };
}
