/**
 * Every power action OOBKit knows, in one table: its name, the CIM PowerState AMT's
 * RequestPowerStateChange takes for it, and the IPMI Chassis Control command a BMC has for it (when
 * it has one). The AMT and IPMI power code, the input check and the oob-power-state dialog's option
 * list (generated at build time, checked by a test) all come from this table, so a new action is
 * one row here and its label in the node's message catalogs (plus, when a protocol needs a request
 * it does not make yet, one method there).
 *
 * This module imports only lib/errors: lib/amt and lib/ipmi read it, and the editor build reads it.
 */
import { InputError } from '../errors';

/** IPMI Chassis Control commands by our name (the values are in lib/ipmi/chassis.ts). */
export type ChassisCommand = 'on' | 'off' | 'cycle' | 'reset' | 'nmi' | 'soft-off';

export interface PowerActionSpec {
  name: string;
  /** CIM PowerState requested through AMT. */
  cim: number;
  /** The BMC's Chassis Control command, when a BMC can do this. */
  chassis?: ChassisCommand;
  /** The action runs only while the device is on / only while it is off (IPMI has no list to ask). */
  when?: 'on' | 'off';
}

/*
 * "off" is AMT's power down (CIM 8): immediate, the OS is not asked. "soft-off" (12) and
 * "graceful-reset" (14) ask the OS to shut down or restart and need the OS and its agent running;
 * on a BMC soft-off is the ACPI power button.
 */
export const POWER_ACTION_TABLE: readonly PowerActionSpec[] = [
  { name: 'on', cim: 2, chassis: 'on', when: 'off' },
  { name: 'off', cim: 8, chassis: 'off', when: 'on' },
  { name: 'soft-off', cim: 12, chassis: 'soft-off', when: 'on' },
  { name: 'reset', cim: 10, chassis: 'reset', when: 'on' },
  { name: 'graceful-reset', cim: 14 },
  { name: 'cycle', cim: 5, chassis: 'cycle', when: 'on' },
  { name: 'cycle-hard', cim: 9 },
  { name: 'graceful-cycle', cim: 15 },
  { name: 'off-hard', cim: 6 },
  { name: 'graceful-off-hard', cim: 13 },
  { name: 'sleep-light', cim: 3 },
  { name: 'sleep', cim: 4 },
  { name: 'hibernate', cim: 7 },
  { name: 'nmi', cim: 11, chassis: 'nmi', when: 'on' },
];

/** Other names people use for the same actions. */
export const POWER_ACTION_ALIASES: Readonly<Record<string, string>> = {
  'graceful-off': 'soft-off',
  'soft-reset': 'graceful-reset',
  'power-on': 'on',
  'power-off': 'off',
  restart: 'graceful-reset',
  shutdown: 'soft-off',
};

export const POWER_ACTION_NAMES: readonly string[] = POWER_ACTION_TABLE.map((a) => a.name);

export function powerActionSpec(name: string): PowerActionSpec | undefined {
  return POWER_ACTION_TABLE.find((a) => a.name === name);
}

/** The canonical name of an action ("shutdown" -> "soft-off"); an InputError for unknown names. */
export function canonicalPowerAction(action: string): string {
  const name = String(action).trim().toLowerCase();
  const canonical = POWER_ACTION_ALIASES[name] ?? name;
  if (!powerActionSpec(canonical)) throw new InputError(`unknown power action "${action}"; use one of: ${POWER_ACTION_NAMES.join(', ')}`);
  return canonical;
}
