/**
 * Heartbeat watch: a device is expected to show signs of life at an interval. Signs come from a
 * presence check we run (AMT reachability today; an RMCP presence ping registers itself with
 * `registerPresenceCheck('rmcp', ...)` when lib/asf has one) or are pushed to us (`beat()`: a PET
 * heartbeat trap, a message from a flow). After `misses` intervals without one, a
 * `heartbeat-missed` trigger; at the next sign of life, its resolve.
 */
import { acquireAmt } from '../amt/connect';
import type { ManagedDevice } from '../device';
import { UnsupportedError } from '../errors';
import { Alert, AlertDevice, deviceLabel, makeAlert } from './alert';

export type PresenceCheck = (device: ManagedDevice, timeoutMs: number) => Promise<void>;

const checks = new Map<string, PresenceCheck>();

export function registerPresenceCheck(name: string, check: PresenceCheck): void {
  checks.set(name, check);
}

export function presenceCheck(name: string): PresenceCheck | undefined {
  return checks.get(name);
}

export function presenceCheckNames(): string[] {
  return [...checks.keys()];
}

/** AMT answers an authenticated WS-Management Get: the management engine is reachable. */
registerPresenceCheck('amt', async (device, timeoutMs) => {
  if (!device.amt) throw new UnsupportedError(`${device.name ?? device.host} has no AMT credentials`);
  const lease = acquireAmt({ ...device.amt, timeoutMs: Math.min(device.amt.timeoutMs ?? timeoutMs, timeoutMs) });
  try {
    await lease.client.get('CIM_AssociatedPowerManagementService');
  } finally {
    lease.release();
  }
});

export interface WatchedDevice {
  key: string;
  device: AlertDevice;
  /** Run on every interval; absent for devices that only push heartbeats. */
  check?: () => Promise<void>;
}

interface WatchState {
  w: WatchedDevice;
  lastSeen: number;
  missing: boolean;
  checking: boolean;
  lastError?: string;
  /** No sign of life yet since we started. */
  fresh: boolean;
}

export interface HeartbeatOptions {
  intervalMs: number;
  /** Intervals without a sign of life before heartbeat-missed. Default 2. */
  misses?: number;
  onAlert(a: Alert): void;
  now?: () => number;
  /** Start the timer (default true). */
  timer?: boolean;
}

export class HeartbeatWatch {
  private readonly devices = new Map<string, WatchState>();
  private timer?: NodeJS.Timeout;
  private lastRound = 0;
  private readonly now: () => number;

  constructor(private readonly o: HeartbeatOptions) {
    this.now = o.now ?? Date.now;
    if (o.timer !== false) {
      this.timer = setInterval(() => this.tick(), Math.min(1000, o.intervalMs));
      this.timer.unref();
    }
  }

  watch(w: WatchedDevice): void {
    this.devices.set(w.key, { w, lastSeen: this.now(), missing: false, checking: false, fresh: true });
  }

  get watched(): Array<{ key: string; missing: boolean; lastSeen: number; lastError?: string }> {
    return [...this.devices.values()].map((s) => ({ key: s.w.key, missing: s.missing, lastSeen: s.lastSeen, lastError: s.lastError }));
  }

  /** A sign of life; false when the device is not watched. */
  beat(key: string): boolean {
    const s = this.devices.get(key);
    if (!s) return false;
    const t = this.now();
    const wasMissing = s.missing;
    s.lastSeen = t;
    s.missing = false;
    s.lastError = undefined;
    // After a restart we do not know whether a heartbeat-missed is open: send the resolve on the
    // first sign of life anyway; the engine drops it when nothing is open.
    if (wasMissing || s.fresh) this.o.onAlert(this.alert(s, 'resolve', t));
    s.fresh = false;
    return true;
  }

  private alert(s: WatchState, state: 'trigger' | 'resolve', t: number): Alert {
    const label = deviceLabel(s.w.device);
    const silentFor = Math.round((t - s.lastSeen) / 1000);
    return makeAlert({
      device: s.w.device,
      source: 'heartbeat',
      kind: 'heartbeat-missed',
      severity: state === 'trigger' ? 'major' : 'ok',
      state,
      time: new Date(t),
      summary: state === 'trigger' ? `No heartbeat from ${label} for ${silentFor} s` : `Heartbeat from ${label} is back`,
      details: state === 'trigger' ? { silentSeconds: silentFor, lastSeen: new Date(s.lastSeen).toISOString(), lastError: s.lastError } : {},
    });
  }

  /** Runs due checks and raises heartbeat-missed where it is due. */
  tick(t = this.now()): void {
    const limit = this.o.intervalMs * (this.o.misses ?? 2);
    const round = t - this.lastRound >= this.o.intervalMs;
    if (round) this.lastRound = t;
    for (const s of this.devices.values()) {
      if (round && s.w.check && !s.checking) {
        s.checking = true;
        s.w
          .check()
          .then(
            () => this.beat(s.w.key),
            (e: Error) => {
              s.lastError = e.message;
            },
          )
          .finally(() => {
            s.checking = false;
          });
      }
      if (!s.missing && t - s.lastSeen >= limit) {
        s.missing = true;
        s.fresh = false;
        this.o.onAlert(this.alert(s, 'trigger', t));
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
