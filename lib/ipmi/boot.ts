/**
 * Boot-from-media targets for a server's BMC: the one-time boot override (PXE, BIOS setup, or
 * back to normal) followed by a power-on or reset, in the terms of AMT's boot from media
 * (lib/amt/boot-media) so the same node and the same output serve both. A BMC has no IDE-R
 * and no UEFI HTTPS boot; those targets are refused before anything is sent.
 */
import { recordOwnAction } from '../activity';
import { BootTarget, canonicalBootTarget } from '../amt/boot';
import type { MediaBootOutcome } from '../amt/boot-media';
import { UnsupportedError } from '../errors';
import { BootDevice, chassisControl, getChassisStatus, setBootOverride } from './chassis';
import type { IpmiClient } from './client';

const DEVICE_FOR: Partial<Record<BootTarget, BootDevice>> = { pxe: 'pxe', bios: 'bios', normal: 'none' };

/** The boot targets a BMC can take. */
export const IPMI_BOOT_TARGETS = Object.keys(DEVICE_FOR) as BootTarget[];

export interface IpmiBootOptions {
  /** auto: power on when off, reset when on (default); none: only set the override. */
  power?: 'auto' | 'none';
  efi?: boolean;
  /** Host recorded as our own action, so the alerts it causes can be suppressed. */
  host?: string;
}

export async function ipmiBootTarget(c: IpmiClient, target: string, o: IpmiBootOptions = {}): Promise<MediaBootOutcome> {
  const started = Date.now();
  const t = canonicalBootTarget(target);
  const device = DEVICE_FOR[t];
  if (!device) throw new UnsupportedError(`${c.label} is an IPMI BMC: it cannot boot "${t}" (it offers: pxe, bios, normal)`);
  await setBootOverride(c, device, { efi: o.efi });
  let power: MediaBootOutcome['power'] = 'none';
  if (o.power !== 'none') {
    const s = await getChassisStatus(c);
    power = s.powerOn ? 'reset' : 'on';
    await chassisControl(c, power);
  }
  if (o.host) recordOwnAction(o.host, 'boot', t);
  return { target: t, result: 'requested', power, bytesServed: 0, seconds: (Date.now() - started) / 1000 };
}
