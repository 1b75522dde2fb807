/**
 * Chassis commands (IPMI v2.0 section 28): Get Chassis Status, Chassis Control, Chassis Identify,
 * and the boot flags of Set/Get System Boot Options (parameter 5) for a one-time boot override.
 */
import { InputError, OobError } from '../errors';
import type { IpmiClient } from './client';
import { CMD, NETFN } from './constants';

export interface ChassisStatus {
  powerOn: boolean;
  powerOverload: boolean;
  interlock: boolean;
  powerFault: boolean;
  powerControlFault: boolean;
  /** What the server does when AC power returns. */
  restorePolicy: 'always-off' | 'previous' | 'always-on' | 'unknown';
  /** Causes of the last power event the BMC recorded. */
  lastPowerEvent: string[];
  intrusion: boolean;
  frontPanelLockout: boolean;
  driveFault: boolean;
  fanFault: boolean;
  /** Identify LED state, when the BMC reports it. */
  identify?: 'off' | 'timed' | 'on';
}

const RESTORE = ['always-off', 'previous', 'always-on', 'unknown'] as const;
const LAST_EVENT: Array<[number, string]> = [
  [0x01, 'ac-failed'],
  [0x02, 'overload'],
  [0x04, 'interlock'],
  [0x08, 'fault'],
  [0x10, 'ipmi-command'],
];
const IDENTIFY = ['off', 'timed', 'on'] as const;

export function parseChassisStatus(d: Buffer, label = 'BMC'): ChassisStatus {
  if (d.length < 3) throw new OobError('BAD_XML', `${label} sent a Get Chassis Status answer of ${d.length} bytes`);
  const s: ChassisStatus = {
    powerOn: (d[0] & 0x01) !== 0,
    powerOverload: (d[0] & 0x02) !== 0,
    interlock: (d[0] & 0x04) !== 0,
    powerFault: (d[0] & 0x08) !== 0,
    powerControlFault: (d[0] & 0x10) !== 0,
    restorePolicy: RESTORE[(d[0] >> 5) & 0x03],
    lastPowerEvent: LAST_EVENT.filter(([bit]) => d[1] & bit).map(([, name]) => name),
    intrusion: (d[2] & 0x01) !== 0,
    frontPanelLockout: (d[2] & 0x02) !== 0,
    driveFault: (d[2] & 0x04) !== 0,
    fanFault: (d[2] & 0x08) !== 0,
  };
  if (d[2] & 0x40) s.identify = IDENTIFY[(d[2] >> 4) & 0x03] ?? 'on';
  return s;
}

export async function getChassisStatus(c: IpmiClient): Promise<ChassisStatus> {
  return parseChassisStatus(await c.call(NETFN.chassis, CMD.getChassisStatus, [], 'Get Chassis Status'), c.label);
}

/** Chassis Control values (table 28-4). */
export const CHASSIS_CONTROL = {
  off: 0x00,
  on: 0x01,
  cycle: 0x02,
  reset: 0x03,
  nmi: 0x04,
  'soft-off': 0x05,
} as const;
export type ChassisAction = keyof typeof CHASSIS_CONTROL;

export async function chassisControl(c: IpmiClient, action: ChassisAction): Promise<void> {
  const v = CHASSIS_CONTROL[action];
  if (v === undefined) throw new InputError(`unknown chassis control "${String(action)}"`);
  await c.call(NETFN.chassis, CMD.chassisControl, [v], `Chassis Control ${action}`);
}

/**
 * Blinks the identify light for `seconds` (1-255; 0 turns it off), or keeps it on until turned off
 * with `forceOn`.
 */
export async function chassisIdentify(c: IpmiClient, o: { seconds?: number; forceOn?: boolean } = {}): Promise<void> {
  if (o.forceOn) {
    await c.call(NETFN.chassis, CMD.chassisIdentify, [0, 0x01], 'Chassis Identify');
    return;
  }
  const seconds = o.seconds ?? 15;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 255) throw new InputError(`identify time ${String(o.seconds)} is not 0-255 seconds`);
  await c.call(NETFN.chassis, CMD.chassisIdentify, [seconds], 'Chassis Identify');
}

/** Boot device selector of boot flags byte 2, bits 5:2 (table 28-14). */
export const BOOT_DEVICES = {
  none: 0x0,
  pxe: 0x1,
  disk: 0x2,
  'disk-safe-mode': 0x3,
  diagnostic: 0x4,
  cdrom: 0x5,
  bios: 0x6,
  'remote-floppy': 0x7,
  'remote-cdrom': 0x8,
  'remote-media': 0x9,
  'remote-disk': 0xb,
  floppy: 0xf,
} as const;
export type BootDevice = keyof typeof BOOT_DEVICES;

export interface BootOverride {
  device: BootDevice | `selector-${number}`;
  /** The BMC still holds the override for the next boot. */
  valid: boolean;
  /** Applies to every boot, not only the next one. */
  persistent: boolean;
  /** Boot in UEFI mode rather than legacy BIOS. */
  efi: boolean;
}

const BOOT_FLAGS_PARAM = 5;

export function bootDeviceName(selector: number): BootOverride['device'] {
  return (Object.entries(BOOT_DEVICES).find(([, v]) => v === selector)?.[0] as BootDevice | undefined) ?? `selector-${selector}`;
}

export function encodeBootFlags(device: BootDevice, o: { persistent?: boolean; efi?: boolean } = {}): Buffer {
  const selector = BOOT_DEVICES[device];
  if (selector === undefined) throw new InputError(`unknown boot device "${String(device)}"; use one of: ${Object.keys(BOOT_DEVICES).join(', ')}`);
  const flags = Buffer.alloc(5);
  flags[0] = device === 'none' ? 0x00 : 0x80 | (o.persistent ? 0x40 : 0) | (o.efi ? 0x20 : 0);
  flags[1] = selector << 2;
  return flags;
}

export function parseBootFlags(d: Buffer): BootOverride {
  return { device: bootDeviceName((d[1] >> 2) & 0x0f), valid: (d[0] & 0x80) !== 0, persistent: (d[0] & 0x40) !== 0, efi: (d[0] & 0x20) !== 0 };
}

/**
 * Sets the boot device for the next boot (or every boot with `persistent`). BMCs drop a one-time
 * override that is not followed by a restart within about 60 seconds, so power on or reset next.
 */
export async function setBootOverride(c: IpmiClient, device: BootDevice, o: { persistent?: boolean; efi?: boolean } = {}): Promise<void> {
  const flags = encodeBootFlags(device, o);
  await c.call(NETFN.chassis, CMD.setSystemBootOptions, Buffer.concat([Buffer.from([BOOT_FLAGS_PARAM]), flags]), `Set System Boot Options (boot ${device})`);
}

export async function getBootOverride(c: IpmiClient): Promise<BootOverride> {
  const d = await c.call(NETFN.chassis, CMD.getSystemBootOptions, [BOOT_FLAGS_PARAM, 0, 0], 'Get System Boot Options');
  if (d.length < 4 || (d[1] & 0x7f) !== BOOT_FLAGS_PARAM) throw new OobError('BAD_XML', `${c.label} answered Get System Boot Options with ${d.length} bytes for parameter ${d[1] & 0x7f}`);
  return parseBootFlags(d.subarray(2));
}
