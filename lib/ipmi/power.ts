/**
 * Power over IPMI in the same terms as AMT power (lib/amt/power): the same action names and the
 * same PowerStatus shape, so a flow does not care which protocol a device speaks. A BMC knows only
 * on and off; `code` carries the CIM PowerState a user of AMT would see for that state.
 */
import { canonicalPowerAction, PowerStatus } from '../amt/power';
import { POWER_ACTION_TABLE } from '../drivers/power-actions';
import { UnsupportedError } from '../errors';
import { ChassisAction, chassisControl, getChassisStatus } from './chassis';
import type { IpmiClient } from './client';

/** What a BMC can do, in OOBKit's action names (the table's rows with a Chassis Control command). */
const withChassis = (when: 'on' | 'off') => POWER_ACTION_TABLE.filter((a) => a.chassis && a.when === when).map((a) => a.chassis as ChassisAction);
const ACTIONS_WHEN_ON: ChassisAction[] = withChassis('on');
const ACTIONS_WHEN_OFF: ChassisAction[] = withChassis('off');

const CIM_ON = 2;
const CIM_OFF = 8;

export async function ipmiPowerStatus(c: IpmiClient): Promise<PowerStatus> {
  const s = await getChassisStatus(c);
  return s.powerOn ? { state: 'on', code: CIM_ON, available: [...ACTIONS_WHEN_ON] } : { state: 'off', code: CIM_OFF, available: [...ACTIONS_WHEN_OFF] };
}

/**
 * Runs a power action by name through Chassis Control. Refuses, before sending anything, an action
 * the BMC has no command for or that makes no sense in the current state. Returns the state read
 * before acting.
 */
export async function ipmiPowerAction(c: IpmiClient, action: string): Promise<PowerStatus> {
  const canonical = canonicalPowerAction(action);
  const before = await ipmiPowerStatus(c);
  if (!before.available.includes(canonical)) {
    const known = ([...ACTIONS_WHEN_ON, ...ACTIONS_WHEN_OFF] as string[]).includes(canonical);
    throw new UnsupportedError(
      known
        ? `${c.label} does not offer "${action}" while ${before.state} (it offers: ${before.available.join(', ')})`
        : `${c.label} is an IPMI BMC and has no "${action}" (it offers: ${before.available.join(', ')})`,
    );
  }
  await chassisControl(c, POWER_ACTION_TABLE.find((a) => a.name === canonical)?.chassis as ChassisAction);
  return before;
}

/** Power on through the BMC (wake for servers); a server already on is left alone. */
export async function ipmiPowerOn(c: IpmiClient): Promise<{ wasOn: boolean }> {
  const s = await getChassisStatus(c);
  if (s.powerOn) return { wasOn: true };
  await chassisControl(c, 'on');
  return { wasOn: false };
}
