/**
 * Server management actions by name, as a flow asks for them: chassis status, sensors, the event
 * log (all, only new, clear), the identify light and the boot override. Each returns a plain
 * object ready to be a message payload; bad parameters are InputErrors.
 */
import type { DeviceInfo } from '../device';
import { InputError } from '../errors';
import { Alert, selRecordToAlert } from './alert';
import { BOOT_DEVICES, BootDevice, BootOverride, chassisIdentify, ChassisStatus, getBootOverride, getChassisStatus, setBootOverride } from './chassis';
import type { IpmiClient } from './client';
import { privilegeName } from './constants';
import { clearSel, readNewSel, readSel, SelCursor, SelRecord } from './sel';
import { DEFAULT_SENSOR_TYPES, readSensors, SensorReading, sensorRecords } from './sensors';

export const IPMI_ACTIONS = ['status', 'sensors', 'sel', 'sel-new', 'sel-clear', 'identify', 'identify-off', 'boot'] as const;
export type IpmiActionName = (typeof IPMI_ACTIONS)[number];

export function checkIpmiAction(action: unknown): IpmiActionName {
  const a = String(action ?? '').trim().toLowerCase();
  if (!(IPMI_ACTIONS as readonly string[]).includes(a)) throw new InputError(`unknown IPMI action "${String(action)}"; use one of: ${IPMI_ACTIONS.join(', ')}`);
  return a as IpmiActionName;
}

export interface IpmiActionParams {
  device: DeviceInfo;
  /** identify: seconds to blink (1-255), default 15. */
  seconds?: unknown;
  /** boot: pxe, disk, cdrom, bios, none... */
  bootDevice?: unknown;
  persistent?: unknown;
  efi?: unknown;
  /** sensors: sensor types to read; default temperature, fan, voltage, current; [] = all. */
  types?: unknown;
  /** sel-new: where the last read stopped. */
  cursor?: SelCursor;
}

export interface IpmiActionResult {
  payload: Record<string, unknown>;
  /** sel-new: the cursor to keep for next time. */
  cursor?: SelCursor;
  /** sel, sel-new: one Alert per record, oldest first. */
  alerts?: Alert[];
}

function checkBootDevice(v: unknown): BootDevice {
  const d = String(v ?? '').trim().toLowerCase();
  if (!(d in BOOT_DEVICES)) throw new InputError(`boot device "${String(v)}" is not one of: ${Object.keys(BOOT_DEVICES).join(', ')}`);
  return d as BootDevice;
}

function checkSeconds(v: unknown): number {
  if (v === undefined || v === null || v === '') return 15;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new InputError(`identify time "${String(v)}" is not 1-255 seconds`);
  return n;
}

function checkTypes(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return DEFAULT_SENSOR_TYPES;
  const list = Array.isArray(v) ? v : String(v).split(',');
  const out = list.map((x) => String(x).trim().toLowerCase()).filter((x) => x !== '');
  if (out.includes('all')) return [];
  return out;
}

const bool = (v: unknown) => v === true || v === 'true';

async function alertsFor(c: IpmiClient, records: SelRecord[], device: DeviceInfo): Promise<Alert[]> {
  if (records.length === 0) return [];
  // Sensor names make alerts readable; a BMC without an SDR repository still gets alerts.
  let sensors: Map<number, Awaited<ReturnType<typeof sensorRecords>>[number]> | undefined;
  try {
    sensors = new Map((await sensorRecords(c)).map((s) => [s.number, s]));
  } catch {
    sensors = undefined;
  }
  const readAt = new Date();
  return records.map((r) => selRecordToAlert(r, { device, sensors, readAt }));
}

export async function runIpmiAction(c: IpmiClient, action: IpmiActionName, p: IpmiActionParams): Promise<IpmiActionResult> {
  switch (action) {
    case 'status': {
      const chassis: ChassisStatus = await getChassisStatus(c);
      let bootOverride: BootOverride | undefined;
      try {
        bootOverride = await getBootOverride(c);
      } catch {
        // Not every BMC lets a user-level session read boot options.
      }
      const s = c.sessionInfo;
      return {
        payload: {
          power: chassis.powerOn ? 'on' : 'off',
          chassis,
          ...(bootOverride ? { bootOverride } : {}),
          session: s ? { cipherSuite: s.cipherSuite, privilege: privilegeName(s.privilege) } : undefined,
          device: p.device,
        },
      };
    }
    case 'sensors': {
      const sensors: SensorReading[] = await readSensors(c, { types: checkTypes(p.types) });
      return { payload: { sensors, device: p.device } };
    }
    case 'sel': {
      const alerts = await alertsFor(c, await readSel(c), p.device);
      return { payload: { alerts, count: alerts.length, device: p.device }, alerts };
    }
    case 'sel-new': {
      const r = await readNewSel(c, p.cursor ?? {});
      const alerts = await alertsFor(c, r.records, p.device);
      return { payload: { alerts, count: alerts.length, cleared: r.cleared, device: p.device }, alerts, cursor: r.cursor };
    }
    case 'sel-clear':
      await clearSel(c);
      return { payload: { cleared: true, device: p.device } };
    case 'identify': {
      const seconds = checkSeconds(p.seconds);
      await chassisIdentify(c, { seconds });
      return { payload: { identify: seconds, device: p.device } };
    }
    case 'identify-off':
      await chassisIdentify(c, { seconds: 0 });
      return { payload: { identify: 0, device: p.device } };
    case 'boot': {
      const device = checkBootDevice(p.bootDevice);
      const o = { persistent: bool(p.persistent), efi: bool(p.efi) };
      await setBootOverride(c, device, o);
      return { payload: { bootOverride: { device, ...o }, device: p.device } };
    }
  }
}
