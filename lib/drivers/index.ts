/**
 * The one place that decides how a device is reached: `driverFor(device)`. AMT when the device has
 * AMT credentials, else IPMI when it has a BMC's; a device at another site will get a remote driver
 * here, and nothing that uses drivers changes.
 */
import { deviceLabel, ManagedDevice } from '../device';
import { UnsupportedError } from '../errors';
import { amtDriver } from './amt';
import { ipmiDriver } from './ipmi';
import type { DeviceDriver, DriverKind } from './types';

export * from './types';
export { canonicalPowerAction, POWER_ACTION_ALIASES, POWER_ACTION_NAMES, POWER_ACTION_TABLE, powerActionSpec } from './power-actions';
export type { PowerActionSpec } from './power-actions';

/** How this device would be driven, or undefined when it has no management access at all. */
export function driverKindOf(d: ManagedDevice): DriverKind | undefined {
  if (d.amt) return 'amt';
  if (d.ipmi) return 'ipmi';
  return undefined;
}

/** True when the device has some management controller to drive (not only a MAC to wake). */
export function hasDriver(d: ManagedDevice): boolean {
  return driverKindOf(d) !== undefined;
}

/** The driver for a device; an UnsupportedError when it has no AMT or IPMI credentials. Close it after use. */
export function driverFor(d: ManagedDevice): DeviceDriver {
  switch (driverKindOf(d)) {
    case 'amt':
      return amtDriver(d);
    case 'ipmi':
      return ipmiDriver(d);
    default:
      throw new UnsupportedError(`${deviceLabel(d)} has no AMT or IPMI credentials`);
  }
}

/** Runs `fn` with the device's driver and closes it after. */
export async function withDriver<T>(d: ManagedDevice, fn: (driver: DeviceDriver) => Promise<T>): Promise<T> {
  const driver = driverFor(d);
  try {
    return await fn(driver);
  } finally {
    driver.close();
  }
}

/** The device's user-consent capability, or an UnsupportedError that says the device has none here. */
export function consentOf(driver: DeviceDriver): NonNullable<DeviceDriver['consent']> {
  if (!driver.consent) throw new UnsupportedError(`${deviceLabel(driver.device)}: user consent is not supported through its ${driver.protocol.toUpperCase()} driver`);
  return driver.consent;
}
