/**
 * The power state machine of a simulated PC, with the host OS on top of it.
 *
 * PowerState values are CIM's (CIM_AssociatedPowerManagementService.PowerState): 2 on (S0),
 * 4 sleep (S3), 7 hibernate (S4), 8 off-soft (S5), 6 off-hard. Requests are
 * CIM_PowerManagementService.RequestPowerStateChange values:
 *
 *   2 on          from off (8/6), hibernate (7): firmware boots ('boot' event), OS runs after bootTimeMs;
 *                 from sleep (4): the OS resumes at once (no firmware boot)
 *   5 cycle       on -> off -> (offDwellMs) -> on, boots
 *   8 off         on/sleep -> off at once, the OS dies
 *   10 reset      on -> off -> (offDwellMs) -> on, boots ("passes through off")
 *   11 NMI        on: 'nmi' event, no state change
 *   12 soft-off   OS running only: the OS shuts down (osShutdownMs) -> off
 *   14 soft-reset OS running only: the OS restarts -> off -> on, boots
 *   4 sleep, 7 hibernate   OS running only
 *
 * AvailableRequestedPowerStates: on with the OS running 10,8,5,11,4,7,14,12 and off 2 (both as in
 * real captures); on without a running OS 10,8,5,11; sleep 2,8; hibernate 2 (S4 is "off" to the
 * chipset). Choice documented here: a request outside that list is a SOAP fault
 * wsman:InvalidParameter (HTTP 400) rather than a ReturnValue, so a client cannot mistake it for
 * success; the reason names the current state and the allowed values.
 */
import { faults } from './sim-fault';

export const PowerState = { on: 2, sleep: 4, offHard: 6, hibernate: 7, off: 8 } as const;
export type PowerStateValue = 2 | 4 | 6 | 7 | 8;

export const PowerRequest = { on: 2, sleep: 4, cycle: 5, hibernate: 7, off: 8, reset: 10, nmi: 11, softOff: 12, softReset: 14 } as const;

export const REQUEST_NAMES: Record<number, string> = {
  2: 'on',
  4: 'sleep',
  5: 'cycle',
  7: 'hibernate',
  8: 'off',
  10: 'reset',
  11: 'nmi',
  12: 'soft-off',
  14: 'soft-reset',
};

export type OsState = 'off' | 'booting' | 'running' | 'stopping' | 'sleeping' | 'hibernated';

export interface PowerEvent {
  from: PowerStateValue;
  to: PowerStateValue;
  cause: string;
}

/** What the firmware was told to boot (AMT_BootSettingData / CIM_BootConfigSetting), consumed by the boot. */
export interface BootDetails {
  /** InstanceID of the forced CIM_BootSourceSetting ("Intel(r) AMT: Force PXE Boot"...), if one was set. */
  source?: string;
  /** Non-default AMT_BootSettingData properties that applied to this boot (UseIDER, BIOSSetup...). */
  settings: Record<string, string>;
}

export interface BootEvent extends BootDetails {
  cause: string;
  /** Set by whoever handles the boot (IDE-R, PXE...): then the OS is not started automatically. */
  preventOsStart(): void;
}

export interface OsEvent {
  from: OsState;
  to: OsState;
  cause: string;
}

export interface PowerTimings {
  /** From firmware boot to a running OS. 0 = at once. */
  bootTimeMs: number;
  /** How long reset and cycle stay off. 0 = the "off" step happens but is not observable by a request. */
  offDwellMs: number;
  /** How long a graceful shutdown takes. */
  osShutdownMs: number;
}

export interface PowerHost {
  /** Called once per firmware boot: the one-time boot request, which is then cleared. */
  bootDetails(): BootDetails;
  emit(event: 'power', e: PowerEvent): boolean;
  emit(event: 'boot', e: BootEvent): boolean;
  emit(event: 'os', e: OsEvent): boolean;
  emit(event: 'nmi', e: { cause: string }): boolean;
}

export class PowerMachine {
  state: PowerStateValue;
  os: OsState;
  /** OS in a power-saving mode (IPS_PowerManagementService.OSPowerSavingState 3). */
  osPowerSaving = false;
  /** When false the PC boots into nothing (no OS): useful for boot-from-media tests. */
  osInstalled = true;
  readonly timings: PowerTimings;
  private readonly timers = new Set<NodeJS.Timeout>();
  private generation = 0;

  constructor(
    private readonly host: PowerHost,
    initial: 'on' | 'off',
    timings: Partial<PowerTimings> = {},
  ) {
    this.timings = { bootTimeMs: 0, offDwellMs: 0, osShutdownMs: 0, ...timings };
    this.state = initial === 'on' ? PowerState.on : PowerState.off;
    this.os = initial === 'on' ? 'running' : 'off';
  }

  get osRunning(): boolean {
    return this.os === 'running';
  }

  available(): number[] {
    switch (this.state) {
      case PowerState.on:
        return this.osRunning ? [10, 8, 5, 11, 4, 7, 14, 12] : [10, 8, 5, 11];
      case PowerState.sleep:
        return [2, 8];
      default:
        return [2];
    }
  }

  /** OSPowerSavingState: 0 unknown (not running), 2 full power, 3 power saving. */
  osPowerSavingState(): number {
    if (this.state !== PowerState.on) return 0;
    return this.osPowerSaving && this.osRunning ? 3 : 2;
  }

  /** RequestPowerStateChange; throws the SimFault for a value not available now. */
  request(value: number, cause = `amt-${REQUEST_NAMES[value] ?? value}`): void {
    if (!this.available().includes(value)) {
      const name = REQUEST_NAMES[value] ?? 'unknown';
      throw faults.invalidParameter(
        `PowerState ${value} (${name}) is not available while PowerState is ${this.state} with the OS ${this.os}; available: ${this.available().join(',')}`,
      );
    }
    switch (value) {
      case 2:
        this.powerOn(cause);
        return;
      case 5:
      case 10:
        this.reset(cause);
        return;
      case 8:
        this.powerOff(cause);
        return;
      case 11:
        this.host.emit('nmi', { cause });
        return;
      case 12:
        this.gracefully(cause, () => this.powerOff(cause));
        return;
      case 14:
        this.gracefully(cause, () => this.reset(cause));
        return;
      case 4:
        this.setOs('sleeping', cause);
        this.setState(PowerState.sleep, cause);
        return;
      case 7:
        this.setOs('hibernated', cause);
        this.setState(PowerState.hibernate, cause);
        return;
    }
  }

  /** Turn on from off/sleep/hibernate. Returns false when already on. */
  powerOn(cause: string): boolean {
    if (this.state === PowerState.on) return false;
    const from = this.state;
    this.setState(PowerState.on, cause);
    if (from === PowerState.sleep) this.setOs('running', cause);
    else this.boot(cause);
    return true;
  }

  /** Off at once (no OS shutdown). Returns false when already off. */
  powerOff(cause: string): boolean {
    if (this.state === PowerState.off || this.state === PowerState.offHard) return false;
    this.cancelTimers();
    this.setOs('off', cause);
    this.setState(PowerState.off, cause);
    return true;
  }

  /** Reset or power cycle: through off, then on and a firmware boot. */
  reset(cause: string): void {
    this.powerOff(cause);
    this.later(this.timings.offDwellMs, () => {
      this.setState(PowerState.on, cause);
      this.boot(cause);
    });
  }

  setOsRunning(running: boolean, cause = 'os'): void {
    if (running) {
      if (this.state !== PowerState.on) throw new Error('the OS cannot run while the PC is not on');
      this.setOs('running', cause);
    } else if (this.state === PowerState.on) {
      this.setOs('off', cause);
    }
  }

  private gracefully(cause: string, then: () => void): void {
    this.setOs('stopping', cause);
    this.later(this.timings.osShutdownMs, then);
  }

  private boot(cause: string): void {
    let prevented = false;
    this.setOs(this.osInstalled ? 'booting' : 'off', cause);
    this.host.emit('boot', { cause, ...this.host.bootDetails(), preventOsStart: () => (prevented = true) });
    if (prevented || !this.osInstalled) return;
    const gen = this.generation;
    this.later(this.timings.bootTimeMs, () => {
      if (gen === this.generation && this.state === PowerState.on && this.os === 'booting') this.setOs('running', cause);
    });
  }

  private setState(to: PowerStateValue, cause: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.generation++;
    this.host.emit('power', { from, to, cause });
  }

  private setOs(to: OsState, cause: string): void {
    const from = this.os;
    if (from === to) return;
    this.os = to;
    if (to !== 'running') this.osPowerSaving = false;
    this.host.emit('os', { from, to, cause });
  }

  private later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
