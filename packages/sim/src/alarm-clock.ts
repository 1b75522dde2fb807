/**
 * The simulated PC's alarm clock: the wake-ups AMT_AlarmClockService.AddAlarm set
 * (IPS_AlarmClockOccurrence), and the firmware powering the PC on when one is due, with no console
 * involved. A single wake-up with DeleteOnCompletion goes away once done; a repeating one moves on
 * by its interval. The device emits 'alarm' `{ name, at, powered }` for each wake-up.
 *
 * Time comes from `Date.now()` and one timer per device; `runAlarmClock(d, at)` lets a test act as
 * if the clock read `at` (an injectable clock, so a nightly wake-up is testable without waiting).
 */
import type { SimDevice } from './device';

export interface SimAlarm {
  name: string;
  elementName?: string;
  /** Next time it wakes the PC (ms since 1970). */
  next: number;
  /** First start as set, ISO 8601. */
  start: string;
  /** Interval in minutes; none: once. */
  everyMinutes?: number;
  /** The interval as the console wrote it (P<d>DT<h>H<m>M), answered back as is. */
  interval?: string;
  deleteOnCompletion: boolean;
}

export interface AlarmEvent {
  name: string;
  /** When it was due, ISO 8601. */
  at: string;
  /** True when it powered the PC on; false when the PC was already on. */
  powered: boolean;
}

export interface AlarmClockState {
  alarms: SimAlarm[];
  timer?: NodeJS.Timeout;
}

export const MAX_SIM_ALARMS = 5;
/** setTimeout's limit; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function alarmClockState(d: SimDevice): AlarmClockState {
  return d.classState<AlarmClockState>('IPS_AlarmClockOccurrence', () => {
    const s: AlarmClockState = { alarms: [] };
    d.onClose(() => clearTimeout(s.timer));
    return s;
  });
}

/** Fires every wake-up due at `now` and re-arms the timer for the next one. */
export function runAlarmClock(d: SimDevice, now = Date.now()): AlarmEvent[] {
  const s = alarmClockState(d);
  const fired: AlarmEvent[] = [];
  for (const a of [...s.alarms]) {
    if (a.next > now) continue;
    const at = new Date(a.next).toISOString();
    const powered = d.powerOn('alarm-clock');
    const e: AlarmEvent = { name: a.name, at, powered };
    fired.push(e);
    d.emit('alarm', e);
    if (a.everyMinutes) {
      const step = a.everyMinutes * 60_000;
      a.next += Math.ceil((now - a.next + 1) / step) * step;
    } else if (a.deleteOnCompletion) {
      s.alarms.splice(s.alarms.indexOf(a), 1);
    } else {
      a.next = Number.POSITIVE_INFINITY;
    }
  }
  schedule(d);
  return fired;
}

function schedule(d: SimDevice): void {
  const s = alarmClockState(d);
  clearTimeout(s.timer);
  s.timer = undefined;
  const next = Math.min(...s.alarms.map((a) => a.next));
  if (!Number.isFinite(next)) return;
  s.timer = setTimeout(() => runAlarmClock(d), Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS));
  s.timer.unref();
}

export function addSimAlarm(d: SimDevice, a: SimAlarm): void {
  alarmClockState(d).alarms.push(a);
  schedule(d);
}

export function removeSimAlarm(d: SimDevice, name: string): boolean {
  const s = alarmClockState(d);
  const i = s.alarms.findIndex((a) => a.name === name);
  if (i < 0) return false;
  s.alarms.splice(i, 1);
  schedule(d);
  return true;
}

/** Minutes in a CIM interval (P<d>DT<h>H<m>M<s>S); undefined when it is not one or is zero. */
export function cimIntervalMinutes(text: string | undefined): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec((text ?? '').trim());
  if (!m) return undefined;
  const minutes = Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Math.floor(Number(m[4] ?? 0) / 60);
  return minutes > 0 ? minutes : undefined;
}
