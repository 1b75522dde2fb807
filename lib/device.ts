/**
 * A managed device as every feature sees it: where it is, what it is called, and how to reach its
 * management engine. Built from an oob-device config node or from an inline `msg.device` object.
 */
import * as net from 'node:net';
import { clip, InputError } from './errors';
import type { AmtEndpoint } from './amt/connect';
import type { IpmiEndpoint } from './ipmi/client';
import type { RemoteEndpoint } from './remote/endpoint';
import { normalizeFingerprint } from './wsman/transport';

export interface ManagedDevice {
  name?: string;
  host: string;
  mac?: string;
  site?: string;
  /** Where it stands (a room, an office): HA's suggested area for it. */
  area?: string;
  /** AMT access, when the device has AMT and credentials are known. */
  amt?: AmtEndpoint;
  /** Wake-on-LAN settings. */
  wake?: WakeSettings;
  /** IPMI v2.0 access to the server's BMC, when it has one and credentials are known. */
  ipmi?: IpmiEndpoint;
  /** A device at another site, reached through that site's gateway over the MSP's broker. */
  remote?: RemoteEndpoint;
}


/** How to wake a device and confirm it woke; every field optional (defaults live in lib/wol, lib/wake). */
export interface WakeSettings {
  /** Where magic packets go: 255.255.255.255, a directed broadcast (192.168.1.255) or a unicast address. */
  address?: string;
  /** UDP port for magic packets (9 when unset). */
  port?: number;
  /** Interface name or local address to send from. */
  interface?: string;
  /** SecureOn password (a credential: never shown, logged or sent on). */
  secureOn?: string;
  /** UDP port of the device's RMCP presence responder (623 when unset). */
  presencePort?: number;
  /** A TCP port the OS listens on (22, 3389...), to confirm a wake without AMT. */
  confirmPort?: number;
}

/** Wake settings from an inline `msg.device.wake` object. */
export function wakeSettingsFromObject(value: unknown): WakeSettings | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InputError('device.wake must be an object');
  const o = value as Record<string, unknown>;
  const port = (k: string) => (o[k] === undefined || o[k] === '' ? undefined : checkPort(o[k], `device.wake.${k}`));
  const w: WakeSettings = {
    address: optionalString(o, 'address'),
    port: port('port'),
    interface: optionalString(o, 'interface'),
    secureOn: optionalString(o, 'secureOn'),
    presencePort: port('presencePort'),
    confirmPort: port('confirmPort'),
  };
  return w;
}

// ---------------------------------------------------------------------------------------------------

/** What may be shown, logged or sent on: no credentials. */
export interface DeviceInfo {
  name?: string;
  host: string;
  mac?: string;
  site?: string;
}

export function deviceInfo(d: ManagedDevice): DeviceInfo {
  const info: DeviceInfo = { host: d.host };
  if (d.name) info.name = d.name;
  if (d.mac) info.mac = d.mac;
  if (d.site) info.site = d.site;
  return info;
}

const SECRET_FIELDS = new Set(['password', 'secureOn', 'kg']);

/**
 * A copy of an inline device object (as given in `msg.device`) without its secrets (passwords,
 * SecureOn, IPMI Kg, at any depth), to put back in a message that goes on or into an error.
 * Anything that is not an object is returned as it is.
 */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 4) return typeof value === 'object' && value !== null ? {} : value;
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_FIELDS.has(k)) continue;
    Object.defineProperty(out, k, { value: withoutSecrets(v, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function deviceLabel(d: DeviceInfo): string {
  return d.name ? `${d.name} (${d.host})` : d.host;
}

const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * A host name or an IP address (IPv6 with or without brackets). "host:port" and dotted numbers
 * that are no IPv4 address are refused: they would go to DNS as names.
 */
export function checkHost(host: unknown, what = 'host'): string {
  const bad = () => new InputError(`${what} "${clip(String(host), 80)}" is not a host name or IP address`);
  if (typeof host !== 'string') throw bad();
  const h = host.trim();
  const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  if (net.isIP(bare)) return bare;
  if (bare !== h || !HOST_NAME.test(h) || /^[0-9.]+$/.test(h)) throw bad();
  return h;
}

export function checkPort(port: unknown, what = 'port'): number {
  const n = typeof port === 'string' && port.trim() !== '' ? Number(port) : port;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw new InputError(`${what} "${String(port)}" is not a port number (1-65535)`);
  return n;
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new InputError(`device.${key} must be text`);
  return v;
}

/**
 * An inline device from a message: `{ host, name?, mac?, site?, username?, password?, port?, tls?,
 * fingerprint?, trustOnFirstUse?, legacyTls?, redirectionPort?, wake?, ipmi? }`. AMT access is set when username and password are given;
 * IPMI access when `ipmi` is (see ipmiFromObject).
 */
export function deviceFromObject(value: unknown): ManagedDevice {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('msg.device must be a device name or an object with a host');
  const o = value as Record<string, unknown>;
  const host = checkHost(o.host, 'device.host');
  const d: ManagedDevice = { host, name: optionalString(o, 'name'), mac: optionalString(o, 'mac'), site: optionalString(o, 'site'), area: optionalString(o, 'area') };
  const wake = wakeSettingsFromObject(o.wake);
  if (wake) d.wake = wake;
  const amt = amtFromObject(o, host);
  if (amt) d.amt = amt;
  if (o.ipmi !== undefined && o.ipmi !== null) d.ipmi = ipmiFromObject(o.ipmi, host);
  return d;
}


const CIPHER_SUITE_VALUES = new Set(['auto', '3', '17']);
const PRIVILEGE_VALUES = new Set(['user', 'operator', 'admin']);

/** Checks a cipher suite setting: 3, 17 or auto (default). */
/**
 * AMT access from `{ username, password, port?, tls?, fingerprint?, trustOnFirstUse?, legacyTls?,
 * timeout? (seconds), redirectionPort? }`; undefined without credentials. `field` names a field in errors.
 */
export function amtFromObject(o: Record<string, unknown>, host: string, field: (name: string) => string = (f) => `device.${f}`): AmtEndpoint | undefined {
  const username = optionalString(o, 'username');
  const password = optionalString(o, 'password');
  if ((username === undefined) !== (password === undefined)) throw new InputError(`${field('username')} and ${field('password')} go together`);
  if (username === undefined || password === undefined) return undefined;
  let fingerprint = optionalString(o, 'fingerprint')?.trim() || undefined;
  if (fingerprint) {
    try {
      fingerprint = normalizeFingerprint(fingerprint);
    } catch (e) {
      throw new InputError(`${field('fingerprint')}: ${(e as Error).message}`);
    }
  }
  const port = (key: string) => (o[key] === undefined || o[key] === '' || o[key] === null ? undefined : checkPort(o[key], field(key)));
  return {
    host,
    port: port('port'),
    tls: o.tls === true || o.tls === 'true',
    username,
    password,
    fingerprint,
    trustOnFirstUse: o.trustOnFirstUse === true,
    ...(o.legacyTls === true || o.legacyTls === 'true' ? { legacyTls: true } : {}),
    timeoutMs: Number(o.timeout) > 0 ? Number(o.timeout) * 1000 : undefined,
    redirectionPort: port('redirectionPort'),
  };
}

export function checkCipherSuite(v: unknown, what = 'cipher suite'): 3 | 17 | 'auto' {
  if (v === undefined || v === null || v === '') return 'auto';
  const s = String(v).trim().toLowerCase();
  if (!CIPHER_SUITE_VALUES.has(s)) throw new InputError(`${what} "${String(v)}" is not supported; use 3, 17 or auto`);
  return s === 'auto' ? 'auto' : (Number(s) as 3 | 17);
}

export function checkPrivilege(v: unknown, what = 'privilege'): 'user' | 'operator' | 'admin' {
  if (v === undefined || v === null || v === '') return 'admin';
  const s = String(v).trim().toLowerCase();
  if (!PRIVILEGE_VALUES.has(s)) throw new InputError(`${what} "${String(v)}" is not one of user, operator, admin`);
  return s as 'user' | 'operator' | 'admin';
}

/**
 * IPMI access from an inline `msg.device.ipmi`: `{ username, password, host?, port?, cipherSuite?,
 * privilege?, kg? }`. The BMC's host defaults to the device's.
 */
export function ipmiFromObject(value: unknown, deviceHost: string, field: (name: string) => string = (f) => `device.ipmi.${f}`): IpmiEndpoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('device.ipmi must be an object with username and password');
  const o = value as Record<string, unknown>;
  const username = o.username;
  const password = o.password ?? '';
  if (typeof username !== 'string' || username === '') throw new InputError(`${field('username')} is missing`);
  if (typeof password !== 'string') throw new InputError(`${field('password')} must be text`);
  if (Buffer.byteLength(username) > 16) throw new InputError(`${field('username')} is longer than 16 bytes`);
  if (Buffer.byteLength(password) > 20) throw new InputError(`${field('password')} is longer than 20 bytes`);
  const kg = optionalString(o, 'kg');
  if (kg !== undefined && Buffer.byteLength(kg) > 20 && !/^0x[0-9a-f]{2,40}$/i.test(kg)) throw new InputError(`${field('kg')} is longer than 20 bytes`);
  return {
    host: o.host === undefined || o.host === '' ? deviceHost : checkHost(o.host, `${field('host')}`),
    port: o.port === undefined || o.port === '' ? undefined : checkPort(o.port, `${field('port')}`),
    username,
    password,
    kg,
    cipherSuite: checkCipherSuite(o.cipherSuite, `${field('cipherSuite')}`),
    privilege: checkPrivilege(o.privilege, `${field('privilege')}`),
    timeoutMs: o.timeout === undefined ? undefined : Number(o.timeout) > 0 ? Number(o.timeout) * 1000 : undefined,
  };
}
