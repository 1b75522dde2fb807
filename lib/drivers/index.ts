/**
 * The one place that decides how a device is reached: `driverFor(device)`. AMT when the device has
 * AMT credentials, else IPMI when it has a BMC's; a device at another site will get a remote driver
 * here, and nothing that uses drivers changes.
 */
import { deviceLabel, ManagedDevice } from '../device';
import { UnsupportedError } from '../errors';
import { amtDriver } from './amt';
import { ipmiDriver } from './ipmi';
import { remoteDriver } from './remote';
import { Capability, capabilitiesOf, DeviceDriver, DriverKind } from './types';

export * from './types';
export { canonicalPowerAction, POWER_ACTION_ALIASES, POWER_ACTION_NAMES, POWER_ACTION_TABLE, powerActionSpec } from './power-actions';
export type { PowerActionSpec } from './power-actions';

/** Every way this device can be driven, the default first (a PC may have both AMT and a BMC). */
export function driverKindsOf(d: ManagedDevice): DriverKind[] {
  const kinds: DriverKind[] = [];
  // A device at another site is driven only through its site's gateway.
  if (d.remote) return ['remote'];
  if (d.amt) kinds.push('amt');
  if (d.ipmi) kinds.push('ipmi');
  return kinds;
}

/** How this device is driven by default, or undefined when it has no management access at all. */
export function driverKindOf(d: ManagedDevice): DriverKind | undefined {
  return driverKindsOf(d)[0];
}

/** True when the device has some management controller to drive (not only a MAC to wake). */
export function hasDriver(d: ManagedDevice): boolean {
  return driverKindOf(d) !== undefined;
}

/**
 * The driver for a device (AMT when it has AMT credentials, else IPMI; `kind` asks for one of
 * them); an UnsupportedError when it has no such access. Close it after use.
 */
export function driverFor(d: ManagedDevice, kind: DriverKind | undefined = driverKindOf(d)): DeviceDriver {
  if (kind && !driverKindsOf(d).includes(kind)) throw new UnsupportedError(`${deviceLabel(d)} has no ${kind.toUpperCase()} credentials`);
  switch (kind) {
    case 'amt':
      return amtDriver(d);
    case 'ipmi':
      return ipmiDriver(d);
    case 'remote':
      return remoteDriver(d);
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

/** Which protocol's access a capability needs, for the error when a device cannot (wording only). */
const NEEDS: Readonly<Record<Capability, string>> = {
  identity: 'AMT',
  inventory: 'AMT',
  'audit-log': 'AMT',
  identify: 'IPMI',
  sensors: 'IPMI',
  isolation: 'AMT',
  consent: 'AMT',
  defense: 'AMT',
  bmc: 'IPMI',
};

/**
 * Runs `fn` with the device's driver when the driver has `capability`; an UnsupportedError that says
 * which access is missing otherwise ("pc-01 has no AMT credentials").
 */
export async function withCapability<T>(d: ManagedDevice, capability: Capability, fn: (driver: DeviceDriver) => Promise<T>): Promise<T> {
  let driver: DeviceDriver | undefined;
  for (const kind of driverKindsOf(d)) {
    const candidate = driverFor(d, kind);
    if (capabilitiesOf(candidate).includes(capability)) {
      driver = candidate;
      break;
    }
    candidate.close();
  }
  if (!driver) throw new UnsupportedError(`${deviceLabel(d)} has no ${NEEDS[capability]} credentials`);
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
