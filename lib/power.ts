/**
 * Power for any managed device, whatever it speaks, through its driver (lib/drivers): one
 * vocabulary of actions and one PowerStatus shape, so nodes and flows need not know which protocol
 * a device uses.
 */
import type { ManagedDevice } from './device';
import { driverKindOf, withDriver } from './drivers';
import type { DevicePowerStatus, DriverProtocol, PowerChange } from './drivers/types';
import { deviceLabel } from './device';
import { UnsupportedError } from './errors';

export type PowerProtocol = DriverProtocol;
export type { DevicePowerStatus };

/** AMT when the device has it, else IPMI; an UnsupportedError when it has neither. */
export function powerProtocol(d: ManagedDevice): PowerProtocol {
  const kind = driverKindOf(d);
  if (kind === 'amt' || kind === 'ipmi') return kind;
  throw new UnsupportedError(`${deviceLabel(d)} has no AMT or IPMI credentials`);
}

export function readDevicePower(d: ManagedDevice): Promise<DevicePowerStatus> {
  return withDriver(d, (driver) => driver.readPower());
}

/** Runs a power action and reads the state afterwards; recorded as our own action. */
export function changeDevicePower(d: ManagedDevice, action: string): Promise<PowerChange> {
  return withDriver(d, (driver) => driver.changePower(action));
}
