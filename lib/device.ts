/**
 * A managed device as every feature sees it: where it is, what it is called, and how to reach its
 * management engine. Built from an oob-device config node or from an inline `msg.device` object.
 */
import { InputError } from './errors';
import type { AmtEndpoint } from './amt/connect';
import { normalizeFingerprint } from './wsman/transport';

export interface ManagedDevice {
  name?: string;
  host: string;
  mac?: string;
  site?: string;
  /** AMT access, when the device has AMT and credentials are known. */
  amt?: AmtEndpoint;
  /** Wake-on-LAN settings (issue 3). */
  wake?: WakeSettings;
}

// --- Wake-on-LAN settings of a device (issue 3) ---------------------------------------------------

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

export function deviceLabel(d: DeviceInfo): string {
  return d.name ? `${d.name} (${d.host})` : d.host;
}

const HOST_RE = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$|^\[?[0-9A-Fa-f:.]+\]?$/;

export function checkHost(host: unknown, what = 'host'): string {
  if (typeof host !== 'string' || !HOST_RE.test(host.trim())) throw new InputError(`${what} "${String(host)}" is not a host name or IP address`);
  return host.trim().replace(/^\[|\]$/g, '');
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
 * fingerprint?, trustOnFirstUse?, redirectionPort?, wake? }`. AMT access is set when username and password are given.
 */
export function deviceFromObject(value: unknown): ManagedDevice {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('msg.device must be a device name or an object with a host');
  const o = value as Record<string, unknown>;
  const host = checkHost(o.host, 'device.host');
  const d: ManagedDevice = { host, name: optionalString(o, 'name'), mac: optionalString(o, 'mac'), site: optionalString(o, 'site') };
  const wake = wakeSettingsFromObject(o.wake); // issue 3
  if (wake) d.wake = wake;
  const username = optionalString(o, 'username');
  const password = optionalString(o, 'password');
  if ((username === undefined) !== (password === undefined)) throw new InputError('device.username and device.password go together');
  if (username !== undefined && password !== undefined) {
    const tls = o.tls === undefined ? false : o.tls === true || o.tls === 'true';
    const fingerprint = optionalString(o, 'fingerprint');
    if (fingerprint) {
      try {
        normalizeFingerprint(fingerprint);
      } catch (e) {
        throw new InputError(`device.fingerprint: ${(e as Error).message}`);
      }
    }
    d.amt = {
      host,
      port: o.port === undefined || o.port === '' ? undefined : checkPort(o.port, 'device.port'),
      tls,
      username,
      password,
      fingerprint,
      trustOnFirstUse: o.trustOnFirstUse === true,
      redirectionPort: o.redirectionPort === undefined || o.redirectionPort === '' ? undefined : checkPort(o.redirectionPort, 'device.redirectionPort'),
    };
  }
  return d;
}
