/**
 * The Home Assistant entities of a managed PC, and what each needs from the device's control
 * (lib/mqtt/control.ts): an entity is announced only when its device can back it, so HA never
 * shows a button that cannot work.
 *
 * States come from one retained JSON document per device (`.../state`) and the latest alert
 * (`.../alert`); each entity picks its field with a value template. This table drives both the
 * discovery documents and the routing of commands: a new entity is one row here and, when it
 * needs one, one method of the control.
 */
import type { ActionOutcome, DeviceControl } from './control';

export type Component = 'switch' | 'button' | 'binary_sensor' | 'sensor';

export interface EntitySpec {
  /** Stable id: part of the unique_id, the object_id and the command topic. */
  id: string;
  component: Component;
  name: string;
  deviceClass?: string;
  entityCategory?: 'config' | 'diagnostic';
  icon?: string;
  /** Which retained topic carries the entity's state. */
  source?: 'state' | 'alert';
  valueTemplate?: string;
  /** The alert topic's JSON as the entity's attributes. */
  jsonAttributes?: boolean;
  /** Servers: unit_of_measurement and state_class of a sensor entity. */
  unit?: string;
  stateClass?: 'measurement';
  /** Shown by HA only once the user enables it (readings that change at every poll). */
  disabledByDefault?: boolean;
  /** 'gateway': available while the gateway is online; 'device': also needs AMT to answer. */
  availability: 'gateway' | 'device';
  /** Does this device's control back the entity? */
  offeredBy(control: DeviceControl): boolean;
  /** Switches and buttons: what a command (ON, OFF or PRESS) does, through the control. */
  command?(control: DeviceControl, word: string): Promise<ActionOutcome>;
}

/** What `.../state` carries (retained JSON). */
export interface DeviceStateDoc {
  /** Power state name from AMT (on, off, sleep, hibernate...), null before the first answer. */
  power: string | null;
  /** AMT answered the last poll (or, for devices without AMT, the heartbeat is not missing). */
  connected: boolean;
  amtVersion: string | null;
  /** System Defense isolation in force, null when unknown or not offered. */
  isolated: boolean | null;
  /** At least one alert is open (triggered and not resolved). */
  problem: boolean;
  openAlerts: number;
  /** Servers: sensor values by sensor number (null while the BMC has no reading). */
  sensors?: Record<string, number | null>;
  /** ISO time of the last change of any field above. */
  changed: string;
}

const on = (expr: string) => `{{ 'ON' if ${expr} else 'OFF' }}`;

export const ENTITIES: readonly EntitySpec[] = [
  {
    id: 'power',
    component: 'switch',
    name: 'Power',
    icon: 'mdi:power',
    source: 'state',
    valueTemplate: on("value_json.power == 'on'"),
    availability: 'device',
    offeredBy: (c) => typeof c.setPower === 'function',
    command: (c, word) => c.setPower!(word === 'ON'),
  },
  {
    id: 'wake',
    component: 'button',
    name: 'Wake',
    icon: 'mdi:power-on',
    availability: 'gateway',
    offeredBy: (c) => typeof c.wake === 'function',
    command: (c) => c.wake!(),
  },
  {
    id: 'reset',
    component: 'button',
    name: 'Reset',
    deviceClass: 'restart',
    availability: 'device',
    offeredBy: (c) => typeof c.reset === 'function',
    command: (c) => c.reset!(),
  },
  {
    id: 'pxe_boot',
    component: 'button',
    name: 'Boot from network (PXE)',
    icon: 'mdi:lan-pending',
    entityCategory: 'config',
    availability: 'device',
    offeredBy: (c) => typeof c.pxeBoot === 'function',
    command: (c) => c.pxeBoot!(),
  },
  {
    id: 'isolation',
    component: 'switch',
    name: 'Network isolation',
    icon: 'mdi:lan-disconnect',
    entityCategory: 'config',
    source: 'state',
    // null (not read yet, or the PC cannot tell) is HA's "None": the switch shows unknown, not OFF.
    valueTemplate: "{{ 'ON' if value_json.isolated == true else ('OFF' if value_json.isolated == false else 'None') }}",
    availability: 'device',
    offeredBy: (c) => typeof c.setIsolation === 'function',
    command: (c, word) => c.setIsolation!(word === 'ON'),
  },
  {
    id: 'connectivity',
    component: 'binary_sensor',
    name: 'Management connection',
    deviceClass: 'connectivity',
    entityCategory: 'diagnostic',
    source: 'state',
    valueTemplate: on('value_json.connected'),
    // It must stay available to show "disconnected" when the device is not.
    availability: 'gateway',
    offeredBy: () => true,
  },
  {
    id: 'problem',
    component: 'binary_sensor',
    name: 'Problem',
    deviceClass: 'problem',
    source: 'state',
    valueTemplate: on('value_json.problem'),
    availability: 'gateway',
    offeredBy: () => true,
  },
  {
    id: 'last_alert',
    component: 'sensor',
    name: 'Last alert',
    icon: 'mdi:alert-circle-outline',
    source: 'alert',
    // HA keeps at most 255 characters of a state.
    valueTemplate: '{{ value_json.summary[:255] }}',
    jsonAttributes: true,
    availability: 'gateway',
    offeredBy: () => true,
  },
  {
    id: 'amt_version',
    component: 'sensor',
    name: 'AMT version',
    icon: 'mdi:chip',
    entityCategory: 'diagnostic',
    source: 'state',
    valueTemplate: '{{ value_json.amtVersion }}',
    availability: 'gateway',
    offeredBy: (c) => c.hasAmt,
  },
];

export function entityById(id: string): EntitySpec | undefined {
  return ENTITIES.find((e) => e.id === id) ?? (SENSOR_ID.test(id) ? sensorSpec(Number(id.slice(7)), id, '', '') : undefined);
}

// --- one sensor entity per BMC sensor ---------------------------------------------------------

const SENSOR_ID = /^sensor_\d+$/;

/**
 * HA's sensor device class for an IPMI unit, and the unit as HA spells it. The class follows the
 * unit, never the IPMI sensor type: a BMC reports power draw under the "current" type in watts.
 * Each pair is one HA's sensor integration accepts (its DEVICE_CLASS_UNITS), with state class
 * measurement allowed for it (its DEVICE_CLASS_STATE_CLASSES). Units HA has no class for (RPM,
 * CFM, errors...) get no class.
 */
export const UNIT_CLASSES: Readonly<Record<string, { unit: string; deviceClass?: string }>> = {
  '°C': { unit: '°C', deviceClass: 'temperature' },
  '°F': { unit: '°F', deviceClass: 'temperature' },
  K: { unit: 'K', deviceClass: 'temperature' },
  V: { unit: 'V', deviceClass: 'voltage' },
  A: { unit: 'A', deviceClass: 'current' },
  W: { unit: 'W', deviceClass: 'power' },
  VA: { unit: 'VA', deviceClass: 'apparent_power' },
  Hz: { unit: 'Hz', deviceClass: 'frequency' },
  kPa: { unit: 'kPa', deviceClass: 'pressure' },
  psi: { unit: 'psi', deviceClass: 'pressure' },
  lx: { unit: 'lx', deviceClass: 'illuminance' },
  dB: { unit: 'dB', deviceClass: 'sound_pressure' },
  ms: { unit: 'ms', deviceClass: 'duration' },
  s: { unit: 's', deviceClass: 'duration' },
  min: { unit: 'min', deviceClass: 'duration' },
  h: { unit: 'h', deviceClass: 'duration' },
  d: { unit: 'd', deviceClass: 'duration' },
  RPM: { unit: 'rpm' },
  '%': { unit: '%' },
};

/** Sensors worth seeing at once (with fan speeds); the rest (voltage rails, currents...) are there, disabled, for whoever wants them. */
const ENABLED_CLASSES = new Set(['temperature', 'power']);

function sensorSpec(number: number, id: string, name: string, type: string, unit?: string): EntitySpec {
  const known = unit ? UNIT_CLASSES[unit] : undefined;
  const deviceClass = known?.deviceClass;
  return {
    id,
    component: 'sensor',
    name,
    deviceClass,
    icon: type === 'fan' || unit === 'RPM' ? 'mdi:fan' : undefined,
    unit: known ? known.unit : unit,
    stateClass: 'measurement',
    disabledByDefault: !(deviceClass && ENABLED_CLASSES.has(deviceClass)) && unit !== 'RPM',
    source: 'state',
    valueTemplate: `{{ value_json.sensors['${number}'] }}`,
    availability: 'device',
    offeredBy: () => true,
  };
}

/** The sensor entities of a server: one per analog sensor the BMC reads. */
export function sensorEntities(readings: Array<{ number: number; name: string; type: string; unit: string; value: number | null; states?: number[] }>): EntitySpec[] {
  return readings.filter((r) => r.states === undefined).map((r) => sensorSpec(r.number, `sensor_${r.number}`, r.name, r.type, r.unit || undefined));
}

/** The entities this device's control backs, in catalogue order. */
export function entitiesFor(control: DeviceControl): EntitySpec[] {
  return ENTITIES.filter((e) => e.offeredBy(control));
}
