/**
 * What the MQTT bridge can do with one device: a small adapter over the same lib/ code the
 * Node-RED nodes use. Each method is optional; an entity is announced only when its method is
 * there (see entities.ts), so a capability appears in Home Assistant when its lib/ code does.
 *
 *   poll, identity, setPower, reset   lib/amt/power.ts, lib/amt/identity.ts
 *   wake                              lib/wake: Wake-on-LAN confirmed, AMT power-on as fallback
 *   pxeBoot                           lib/amt/boot-media.ts (one-time PXE boot, then on or reset)
 *   setIsolation                      lib/amt/defense (isolate template / release), when the
 *                                     bridge is told which management hosts stay reachable
 *   (servers) poll, setPower, reset, wake, pxeBoot, sensors   lib/ipmi (issue 8)
 */
import { recordOwnAction } from '../activity';
import { bootFromMedia } from '../amt/boot-media';
import { acquireAmt } from '../amt/connect';
import { applyTemplate, readStatus, releaseTemplate } from '../amt/defense';
import { readIdentity } from '../amt/identity';
import { OFF_STATES, readPowerStatus, requestPowerAction } from '../amt/power';
import type { ManagedDevice } from '../device';
import { OobError } from '../errors';
import { wakeAndConfirm } from '../wake';
import type { WsmanClient } from '../wsman/client';
// --- IPMI (issue 8) ---
import { ipmiBootTarget } from '../ipmi/boot';
import { acquireIpmi } from '../ipmi/connect';
import { ipmiPowerAction, ipmiPowerStatus } from '../ipmi/power';
import { readSensors, SensorReading } from '../ipmi/sensors';
import { powerOnViaBmc } from '../power';

export interface DeviceIdentity {
  manufacturer?: string;
  model?: string;
  amtVersion?: string;
  serial?: string;
  uuid?: string;
}

export interface PollResult {
  power: string;
  /** System Defense isolation, when the control can read it. */
  isolated?: boolean | null;
}

/** What a command did, for the result topic and the node's output. */
export interface ActionOutcome {
  /** The action taken (an AMT power action name, 'wake', 'pxe-boot'...), or 'none'. */
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
  /** IPMI (issue 8): temperatures, fans, voltages and currents, each a sensor entity. */
  sensors?(): Promise<SensorReading[]>;
  close(): void;
}

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

/** The control for a device: AMT-backed when it has AMT credentials; wake only, by MAC, otherwise. */
export function controlFor(device: ManagedDevice, o: ControlOptions = {}): DeviceControl {
  if (device.amt) return amtControl(device, o);
  if (device.ipmi) return ipmiControl(device, o); // IPMI (issue 8)
  if (device.mac) return { hasAmt: false, wake: () => wake(device), close: () => undefined };
  return { hasAmt: false, close: () => undefined };
}

/** Wake-on-LAN, confirmed (AMT power state or presence ping); AMT power-on when WOL does nothing. */
async function wake(device: ManagedDevice): Promise<ActionOutcome> {
  const r = await wakeAndConfirm({ device, confirm: 'auto' });
  if (r.alreadyOn) return { action: 'none', note: 'already on' };
  if (r.woke === false) throw new OobError('TIMEOUT', `${device.name ?? device.host} did not come up${r.note ? `: ${r.note}` : ''}`);
  return { action: r.method, note: r.note };
}

/** The System Defense state, or null when the PC cannot tell (no System Defense, client mode). */
async function isolated(client: WsmanClient): Promise<boolean | null> {
  try {
    return (await readStatus(client)).state === 'isolated';
  } catch (e) {
    if (e instanceof OobError && (e.code === 'WSMAN_FAULT' || e.code === 'UNSUPPORTED')) return null;
    throw e;
  }
}

function amtControl(device: ManagedDevice, o: ControlOptions): DeviceControl {
  const lease = acquireAmt(device.amt!);
  const client: WsmanClient = lease.client;
  const offAction = o.offAction ?? 'auto';
  const isolation = o.managementHosts?.length ? o.managementHosts : undefined;

  async function act(action: string): Promise<ActionOutcome> {
    await requestPowerAction(client, action);
    recordOwnAction(device.host, 'power', action);
    return { action };
  }

  return {
    hasAmt: true,
    async poll() {
      const s = await readPowerStatus(client, { osPowerSaving: false });
      return isolation ? { power: s.state, isolated: await isolated(client) } : { power: s.state };
    },
    identity: () => readIdentity(client),
    async setPower(on) {
      const s = await readPowerStatus(client, { osPowerSaving: false });
      if (on) {
        if (s.state === 'on') return { action: 'none', note: 'already on' };
        return act('on');
      }
      if (OFF_STATES.has(s.state)) return { action: 'none', note: `already ${s.state}` };
      const graceful = s.available.includes('soft-off');
      if (offAction === 'off' || (offAction === 'auto' && !graceful)) return act('off');
      return act('soft-off');
    },
    reset: () => act('reset'),
    async wake() {
      if (device.mac) return wake(device);
      // No MAC to send a magic packet to: AMT's power-on works from standby too.
      const s = await readPowerStatus(client, { osPowerSaving: false });
      if (s.state === 'on') return { action: 'none', note: 'already on' };
      await requestPowerAction(client, 'on');
      recordOwnAction(device.host, 'wake', 'amt-power-on');
      return { action: 'amt-power-on' };
    },
    async pxeBoot() {
      const boot = bootFromMedia(client, device.host, { target: 'pxe', power: 'auto' });
      const outcome = await boot.outcome;
      return { action: 'pxe-boot', note: outcome.power === 'none' ? 'armed for the next boot' : `one-time PXE boot, then ${outcome.power}` };
    },
    ...(isolation
      ? {
          async setIsolation(isolate: boolean): Promise<ActionOutcome> {
            const change = isolate ? await applyTemplate(client, 'isolate', { managementHosts: isolation }, { replace: true }) : await releaseTemplate(client);
            if (change.changed) recordOwnAction(device.host, 'defense', isolate ? 'isolate' : 'release');
            return change.changed ? { action: isolate ? 'isolate' : 'release' } : { action: 'none', note: isolate ? 'already isolated' : 'not isolated' };
          },
        }
      : {}),
    close: () => lease.release(),
  };
}

// --- IPMI (issue 8) ---------------------------------------------------------------------------
/** A server without AMT, through its BMC: power, reset, wake (power-on), PXE boot and sensors. */
function ipmiControl(device: ManagedDevice, o: ControlOptions): DeviceControl {
  const lease = acquireIpmi(device.ipmi!);
  const client = lease.client;
  const offAction = o.offAction ?? 'auto';

  async function act(action: string): Promise<ActionOutcome> {
    await ipmiPowerAction(client, action);
    recordOwnAction(device.host, 'power', action);
    return { action };
  }

  return {
    hasAmt: false,
    async poll() {
      return { power: (await ipmiPowerStatus(client)).state };
    },
    async setPower(on) {
      const s = await ipmiPowerStatus(client);
      if (on) return s.state === 'on' ? { action: 'none', note: 'already on' } : act('on');
      if (s.state === 'off') return { action: 'none', note: 'already off' };
      // A BMC's soft-off is the ACPI power button: the OS shuts down if it listens.
      return act(offAction === 'off' ? 'off' : 'soft-off');
    },
    reset: () => act('reset'),
    async wake() {
      const r = await powerOnViaBmc(device);
      return r.wasOn ? { action: 'none', note: 'already on' } : { action: 'ipmi-power-on' };
    },
    async pxeBoot() {
      const r = await ipmiBootTarget(client, 'pxe', { host: device.host });
      return { action: 'pxe-boot', note: r.power === 'on' ? 'powered on into PXE' : 'reset into PXE' };
    },
    sensors: () => readSensors(client),
    close: () => lease.release(),
  };
}
