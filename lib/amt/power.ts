/**
 * AMT power: read the state (CIM_AssociatedPowerManagementService, plus the OS power-saving state
 * of IPS_PowerManagementService where the firmware has it) and change it by name through
 * CIM_PowerManagementService.RequestPowerStateChange.
 */
import { canonicalPowerAction, POWER_ACTION_ALIASES, POWER_ACTION_TABLE } from '../drivers/power-actions';
import { DeviceRefusedError, OobError, UnsupportedError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import { ANONYMOUS, resourceUri } from '../wsman/namespaces';
import type { EndpointReference } from '../wsman/xml';

/** CIM PowerState values as names. */
export const POWER_STATE_NAMES: Readonly<Record<number, string>> = {
  1: 'other',
  2: 'on',
  3: 'sleep-light',
  4: 'sleep',
  5: 'cycle',
  6: 'off-hard',
  7: 'hibernate',
  8: 'off',
  9: 'cycle-hard',
  10: 'reset',
  11: 'nmi',
  12: 'soft-off',
  13: 'graceful-off-hard',
  14: 'graceful-reset',
  15: 'graceful-cycle',
  16: 'graceful-cycle-hard',
  17: 'init',
};

/** Action names and the PowerState each requests (from the one table of power actions). */
export const POWER_ACTIONS: Readonly<Record<string, number>> = Object.fromEntries(
  [...POWER_ACTION_TABLE].sort((a, b) => a.cim - b.cim).map((a) => [a.name, a.cim]),
);

export { POWER_ACTION_ALIASES };

/** States a device can be in and still count as "off" for a user (no OS running). */
export const OFF_STATES = new Set(['off', 'off-hard', 'hibernate']);

const OS_POWER_SAVING: Readonly<Record<number, string>> = { 0: 'unknown', 1: 'unsupported', 2: 'full-power', 3: 'power-saving' };

/** RequestPowerStateChange's ReturnValue (the CIM schema's ValueMap), 0 and 4096 being success. */
const RETURN_VALUES: Readonly<Record<number, string>> = {
  1: 'not supported',
  2: 'unknown or unspecified error',
  3: 'cannot complete within timeout',
  4: 'failed',
  5: 'invalid parameter',
  6: 'in use',
  4097: 'invalid state transition',
  4098: 'use of timeout parameter not supported',
  4099: 'busy',
};

/**
 * What a user can do about a refusal. AMT answers 2 to a power state its current state does not
 * offer (the PC changed state since it was read) and to a power off or power cycle while a KVM,
 * SOL or IDE-R session is open (Intel's AMT guide, "Change System Power State").
 */
const POWER_REFUSAL_HINTS: Readonly<Record<number, string>> = {
  2: '; AMT answers this when the PC changed power state since it was read, or to a power off or power cycle while a KVM, SOL or IDE-R session is open: close the session or read the state again, then retry',
};

/** 4096: the parameters were checked and a job started that makes the change. */
const JOB_STARTED = 4096;

export function returnValueMeaning(rv: number): string {
  if (RETURN_VALUES[rv]) return RETURN_VALUES[rv];
  if (rv >= 32768 && rv <= 65535) return 'vendor specific';
  return 'reserved';
}

export interface PowerStatus {
  /** Name of the state: on, off, sleep, hibernate, ... */
  state: string;
  /** CIM PowerState value as the device reported it. */
  code: number;
  /** Action names the device accepts in this state. */
  available: string[];
  /** OS power-saving state (AMT 10+), when the device reports one. */
  osPowerSaving?: string;
}

export function powerStateName(code: number): string {
  return POWER_STATE_NAMES[code] ?? `state-${code}`;
}

/** Action names for a list of PowerState codes. */
export function actionsFor(codes: number[]): string[] {
  const names: string[] = [];
  for (const name in POWER_ACTIONS) if (codes.includes(POWER_ACTIONS[name])) names.push(name);
  return names;
}

export { canonicalPowerAction };

export function powerActionCode(action: string): number {
  return POWER_ACTIONS[canonicalPowerAction(action)];
}

const POWER_STATUS_PROPERTIES = ['PowerState', 'AvailableRequestedPowerStates'] as const;

export async function readPowerStatus(client: WsmanClient, o: { osPowerSaving?: boolean } = {}): Promise<PowerStatus> {
  const { props } = await client.get('CIM_AssociatedPowerManagementService', undefined, POWER_STATUS_PROPERTIES);
  const code = Number(props.PowerState);
  if (!Number.isInteger(code)) throw new OobError('BAD_XML', `${client.label} reported no PowerState`);
  const availableCodes = (Array.isArray(props.AvailableRequestedPowerStates) ? props.AvailableRequestedPowerStates : []).map(Number);
  const status: PowerStatus = { state: powerStateName(code), code, available: actionsFor(availableCodes) };
  if (o.osPowerSaving !== false && status.state === 'on') {
    try {
      const ips = await client.get('IPS_PowerManagementService');
      const v = Number(ips.props.OSPowerSavingState);
      if (Number.isInteger(v)) status.osPowerSaving = OS_POWER_SAVING[v] ?? `state-${v}`;
    } catch (e) {
      // Firmware before AMT 10 has no IPS_PowerManagementService: the state is simply not known.
      if (!(e instanceof OobError && e.code === 'WSMAN_FAULT')) throw e;
    }
  }
  return status;
}

/** The managed host, as CIM_PowerManagementService wants it named. */
export const MANAGED_SYSTEM: EndpointReference = {
  address: ANONYMOUS,
  resourceUri: resourceUri('CIM_ComputerSystem'),
  selectors: { CreationClassName: 'CIM_ComputerSystem', Name: 'ManagedSystem' },
};

/**
 * Ask for a power action by name. Refuses, before sending anything, an action the device does not
 * list in its AvailableRequestedPowerStates right now. Returns the state read before acting.
 */
export async function requestPowerAction(client: WsmanClient, action: string): Promise<PowerStatus> {
  const canonical = canonicalPowerAction(action);
  const code = POWER_ACTIONS[canonical];
  const before = await readPowerStatus(client, { osPowerSaving: false });
  if (!before.available.includes(canonical)) {
    throw new UnsupportedError(
      `${client.label} does not offer "${action}" while ${before.state}` +
        (before.available.length ? ` (it offers: ${before.available.join(', ')})` : ' (it offers no power action now)'),
    );
  }
  const out = await client.invoke('CIM_PowerManagementService', 'RequestPowerStateChange', { PowerState: code, ManagedElement: MANAGED_SYSTEM });
  const rv = Number(out.ReturnValue);
  if (rv !== 0 && rv !== JOB_STARTED) throw new DeviceRefusedError(`power action "${action}"`, rv, returnValueMeaning(rv) + (POWER_REFUSAL_HINTS[rv] ?? ''));
  return before;
}
