/**
 * Power for any managed device, whatever it speaks: Intel AMT when the device has AMT access,
 * otherwise IPMI through its BMC. One vocabulary of actions and one PowerStatus shape for both,
 * so nodes and flows need not know which protocol a device uses.
 */
import { recordOwnAction } from './activity';
import { withAmt } from './amt/connect';
import { PowerStatus, readPowerStatus, requestPowerAction } from './amt/power';
import { deviceLabel, ManagedDevice } from './device';
import { UnsupportedError } from './errors';
import { withIpmi } from './ipmi/connect';
import { ipmiPowerAction, ipmiPowerOn, ipmiPowerStatus } from './ipmi/power';

export type PowerProtocol = 'amt' | 'ipmi';

export interface DevicePowerStatus extends PowerStatus {
  protocol: PowerProtocol;
}

/** AMT when the device has it, else IPMI; an UnsupportedError when it has neither. */
export function powerProtocol(d: ManagedDevice): PowerProtocol {
  if (d.amt) return 'amt';
  if (d.ipmi) return 'ipmi';
  throw new UnsupportedError(`${deviceLabel(d)} has no AMT or IPMI credentials`);
}


export async function readDevicePower(d: ManagedDevice): Promise<DevicePowerStatus> {
  const protocol = powerProtocol(d);
  const status = protocol === 'amt' ? await withAmt(d, (c) => readPowerStatus(c)) : await withIpmi(d.ipmi!, ipmiPowerStatus);
  return { ...status, protocol };
}

/**
 * Runs a power action (on, off, soft-off, reset, cycle...) and reads the state afterwards. The
 * action is recorded as our own, so alerts it causes can be suppressed.
 */
export async function changeDevicePower(d: ManagedDevice, action: string): Promise<{ before: DevicePowerStatus; after: DevicePowerStatus }> {
  const protocol = powerProtocol(d);
  if (protocol === 'amt') {
    return withAmt(d, async (c) => {
      const before = await requestPowerAction(c, action);
      recordOwnAction(d.host, 'power', action);
      return { before: { ...before, protocol }, after: { ...(await readPowerStatus(c)), protocol } };
    });
  }
  return withIpmi(d.ipmi!, async (c) => {
    const before = await ipmiPowerAction(c, action);
    recordOwnAction(d.host, 'power', action);
    return { before: { ...before, protocol }, after: { ...(await ipmiPowerStatus(c)), protocol } };
  });
}

/** Power on through the BMC (the "wake" of a server without Wake-on-LAN). */
export async function powerOnViaBmc(d: ManagedDevice): Promise<{ wasOn: boolean }> {
  if (!d.ipmi) throw new UnsupportedError(`${deviceLabel(d)} has no IPMI credentials`);
  const r = await withIpmi(d.ipmi, ipmiPowerOn);
  if (!r.wasOn) recordOwnAction(d.host, 'wake', 'ipmi-power-on');
  return r;
}
