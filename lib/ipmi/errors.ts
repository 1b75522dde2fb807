/** Errors only IPMI has; everything else uses the shared classes in lib/errors. */
import { OobError } from '../errors';
import { completionText } from './constants';

/** The BMC ran the command and answered a non-zero completion code. */
export class IpmiCompletionError extends OobError {
  readonly completionCode: number;
  constructor(label: string, what: string, completionCode: number) {
    super('DEVICE_REFUSED', `${label} refused ${what}: completion code 0x${completionCode.toString(16).toUpperCase().padStart(2, '0')} (${completionText(completionCode)})`);
    this.completionCode = completionCode;
  }
}
