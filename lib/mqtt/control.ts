/**
 * What the MQTT bridge can do with one device: a small adapter over the device's driver
 * (lib/drivers), the same one the Node-RED nodes use. Each method is optional; an entity is
 * announced only when its method is there (see entities.ts), so a capability appears in Home
 * Assistant when the driver has it.
 *
 *   poll, setPower, reset   driver.readPower / changePower (AMT or a server's BMC)
 *   identity                driver.identity (AMT version, model, serial)
 *   wake                    Wake-on-LAN confirmed, the driver's power-on as fallback; or the
 *                           driver's power-on straight away when it wakes that way (servers)
 *   pxeBoot                 driver.startBoot (one-time PXE boot, then on or reset)
 *   setIsolation            driver.setIsolation (System Defense), when the bridge is told which
 *                           management hosts stay reachable
 *   sensors                 driver.sensors (servers' temperatures, fans, voltages)
 */
import type { ManagedDevice } from '../device';
import { DeviceDriver, driverFor, hasDriver } from '../drivers';
import { OFF_STATES } from '../amt/power';
import { OobError } from '../errors';
import type { SensorReading } from '../ipmi/sensors';
import { wakeAndConfirm } from '../wake';

export type { DeviceIdentity } from '../drivers';
import type { DeviceIdentity } from '../drivers';

export interface PollResult {
  power: string;
  /** System Defense isolation, when the control can read it. */
  isolated?: boolean | null;
}

/** What a command did, for the result topic and the node's output. */
export interface ActionOutcome {
  /** The action taken (a power action name, 'wake', 'pxe-boot'...), or 'none'. */
  action: string;
  /** Why nothing was done, when nothing was. */
  note?: string;
}

export interface DeviceControl {
  /** The device has AMT credentials: the AMT version sensor is offered. */
  readonly hasAmt: boolean;
  /** Read the current state; rejects when the device does not answer. */
  poll?(): Promise<PollResult>;
  identity?(): Promise<DeviceIdentity>;
  setPower?(on: boolean): Promise<ActionOutcome>;
  reset?(): Promise<ActionOutcome>;
  wake?(): Promise<ActionOutcome>;
  pxeBoot?(): Promise<ActionOutcome>;
  setIsolation?(isolate: boolean): Promise<ActionOutcome>;
  /** Servers: temperatures, fans, voltages and currents, each a sensor entity. */
  sensors?(): Promise<SensorReading[]>;
  close(): void;
}

/** What the power switch's OFF may do (see ControlOptions.offAction). */
export const OFF_ACTIONS = ['auto', 'soft-off', 'off'] as const;

export interface ControlOptions {
  /**
   * What the power switch's OFF does: 'auto' shuts the OS down gracefully when the device offers
   * it (OS and agent running) and powers off otherwise; 'soft-off' only ever asks the OS; 'off'
   * cuts power at once.
   */
  offAction?: 'auto' | 'soft-off' | 'off';
  /**
   * Hosts an isolated PC may still reach (remediation, update server; addresses, networks or
   * ranges as the isolate template takes them). Without them the isolation switch is not offered.
   */
  managementHosts?: string[];
}

/** The control for a device: over its driver when it has one; wake only, by MAC, otherwise. */
export function controlFor(device: ManagedDevice, o: ControlOptions = {}): DeviceControl {
  if (hasDriver(device)) return driverControl(device, driverFor(device), o);
  if (device.mac) return { hasAmt: false, wake: () => wolWake(device), close: () => undefined };
  return { hasAmt: false, close: () => undefined };
}

/** Wake-on-LAN, confirmed (power state or presence ping); the driver's power-on when WOL does nothing. */
async function wolWake(device: ManagedDevice): Promise<ActionOutcome> {
  const r = await wakeAndConfirm({ device, confirm: 'auto' });
  if (r.alreadyOn) return { action: 'none', note: 'already on' };
  if (r.woke === false) throw new OobError('TIMEOUT', `${device.name ?? device.host} did not come up${r.note ? `: ${r.note}` : ''}`);
  return { action: r.method, note: r.note };
}

/** A poll reads the power state alone, not also the OS power-saving state (a second request). */
const WITHOUT_OS_POWER_SAVING = Object.freeze({ osPowerSaving: false });
const powerOnly = (s: { state: string }): PollResult => ({ power: s.state });

function driverControl(device: ManagedDevice, driver: DeviceDriver, o: ControlOptions): DeviceControl {
  const offAction = o.offAction ?? 'auto';
  const isolation = driver.setIsolation && o.managementHosts?.length ? o.managementHosts : undefined;
  const state = () => driver.readPower(WITHOUT_OS_POWER_SAVING);

  // The bridge reads the state again after every command, so the driver need not.
  async function act(action: string): Promise<ActionOutcome> {
    await driver.requestPower(action);
    return { action };
  }

  return {
    hasAmt: driver.protocol === 'amt',
    poll() {
      if (!isolation || !driver.readIsolation) return state().then(powerOnly);
      return state().then(async (s) => ({ power: s.state, isolated: await driver.readIsolation!() }));
    },
    ...(driver.identity ? { identity: () => driver.identity!() } : {}),
    async setPower(on) {
      const s = await state();
      if (on) return s.state === 'on' ? { action: 'none', note: 'already on' } : act('on');
      if (OFF_STATES.has(s.state)) return { action: 'none', note: `already ${s.state}` };
      const graceful = s.available.includes('soft-off');
      if (offAction === 'off' || (offAction === 'auto' && !graceful)) return act('off');
      return act('soft-off');
    },
    reset: () => act('reset'),
    async wake() {
      if (driver.wakeBy === 'wol' && device.mac) return wolWake(device);
      const r = await driver.powerOn();
      return r.wasOn ? { action: 'none', note: 'already on' } : { action: r.method };
    },
    async pxeBoot() {
      const job = await driver.startBoot({ target: 'pxe', power: 'auto' });
      const outcome = await job.outcome;
      if (outcome.power === 'none') return { action: 'pxe-boot', note: 'armed for the next boot' };
      return { action: 'pxe-boot', note: `${outcome.power === 'on' ? 'powered on' : 'reset'} into PXE` };
    },
    ...(isolation
      ? {
          async setIsolation(isolate: boolean): Promise<ActionOutcome> {
            const change = await driver.setIsolation!(isolate, isolation);
            return change.changed ? { action: isolate ? 'isolate' : 'release' } : { action: 'none', note: isolate ? 'already isolated' : 'not isolated' };
          },
        }
      : {}),
    ...(driver.sensors ? { sensors: () => driver.sensors!() } : {}),
    close: () => driver.close(),
  };
}
