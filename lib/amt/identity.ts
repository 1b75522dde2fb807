/**
 * Who a device is: AMT version, host name and Digest realm, system UUID, and the chassis
 * manufacturer, model and serial number.
 */
import { OobError } from '../errors';
import { detachedString } from '../util/detached-string';
import type { WsmanClient } from '../wsman/client';

export interface AmtIdentity {
  amtVersion?: string;
  hostname?: string;
  domain?: string;
  realm?: string;
  uuid?: string;
  manufacturer?: string;
  model?: string;
  serial?: string;
}

/**
 * CIM_ComputerSystemPackage.PlatformGUID is the SMBIOS UUID as 16 bytes in hex, with the first
 * three fields little-endian (44454C4C4B00... is Dell's 4C4C4544-004B-...). Returns the canonical
 * lower-case UUID, or undefined for anything that is not 32 hex digits.
 */
export function uuidFromPlatformGuid(hex: string): string | undefined {
  const h = hex.trim();
  if (!/^[0-9a-fA-F]{32}$/.test(h)) return undefined;
  const b = h.match(/../g) as string[];
  const swap = (from: number, to: number) => b.slice(from, to).reverse().join('');
  return `${swap(0, 4)}-${swap(4, 6)}-${swap(6, 8)}-${b.slice(8, 10).join('')}-${b.slice(10).join('')}`.toLowerCase();
}

/** "1.2.3" from CIM_SoftwareIdentity entries: the one whose InstanceID is "AMT". */
export function amtVersionFrom(entries: Array<{ props: Record<string, unknown> }>): string | undefined {
  const amt = entries.find((e) => e.props.InstanceID === 'AMT');
  return typeof amt?.props.VersionString === 'string' ? detachedString(amt.props.VersionString) : undefined;
}

async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    // A class missing on this firmware leaves its fields out; anything else is a real failure.
    if (e instanceof OobError && e.code === 'WSMAN_FAULT') return undefined;
    throw e;
  }
}

// Kept for the life of the device: copied out of the reply, which can then be collected.
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? detachedString(v) : undefined);

export async function readIdentity(client: WsmanClient): Promise<AmtIdentity> {
  const software = await optional(client.enumerate('CIM_SoftwareIdentity'));
  const general = await optional(client.get('AMT_GeneralSettings'));
  const pkg = await optional(client.get('CIM_ComputerSystemPackage'));
  const chassis = await optional(client.get('CIM_Chassis'));
  return {
    amtVersion: software ? amtVersionFrom(software) : undefined,
    hostname: str(general?.props.HostName),
    domain: str(general?.props.DomainName),
    realm: str(general?.props.DigestRealm) ?? client.realm,
    uuid: typeof pkg?.props.PlatformGUID === 'string' ? uuidFromPlatformGuid(pkg.props.PlatformGUID) : undefined,
    manufacturer: str(chassis?.props.Manufacturer),
    model: str(chassis?.props.Model),
    serial: str(chassis?.props.SerialNumber),
  };
}
