/**
 * The actions a gateway can run without the driver layer: power read and change (lib/power.ts,
 * AMT or IPMI as the device has). Anything else is not supported at this site.
 */
import { InputError, UnsupportedError } from '../errors';
import { changeDevicePower, readDevicePower } from '../power';
import type { Executor } from './responder';

export const powerExecutor: Executor = async (device, action, args) => {
  switch (action) {
    case 'readPower':
      return readDevicePower(device);
    case 'changePower': {
      if (typeof args.action !== 'string' || !args.action) throw new InputError('changePower needs args.action (on, off, reset...)');
      return changeDevicePower(device, args.action);
    }
    default:
      throw new UnsupportedError(`${action} is not available at this site`);
  }
};
