/**
 * Maintenance windows: while one covers a device (by name/host or site), its alerts are held
 * back. A window is either absolute (`from`/`until`, ISO 8601) or recurring: a cron expression
 * for when it opens ("0 22 * * 6" = Saturdays 22:00, the host's local time) plus its length in
 * minutes. Cron fields: minute hour day-of-month month day-of-week, each "*", a number, a range
 * "1-5", a list "1,3,5" or a step "*\/15"; day-of-week 0 or 7 is Sunday. As in cron, when both
 * day fields are restricted, either one matching is enough.
 */
import { InputError } from '../errors';
import type { AlertDevice } from './alert';

export interface MaintenanceWindow {
  name?: string;
  /** Device names or hosts, comma-separated, `*` wildcards; empty = every device (of the site). */
  device?: string;
  site?: string;
  cron?: string;
  /** Length of a recurring window. */
  minutes?: number;
  from?: string;
  until?: string;
}

interface CronSpec {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

const FIELDS: Array<[string, number, number]> = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

function parseField(text: string, [name, min, max]: [string, number, number]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new InputError(`cron ${name} "${part}" is not *, a number, a range or a step`);
    const lo = m[1] === '*' ? min : Number(m[2]);
    const hi = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1) throw new InputError(`cron ${name} "${part}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

export function parseCron(expr: string): CronSpec {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new InputError(`cron "${expr}" needs 5 fields: minute hour day-of-month month day-of-week`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]));
  return { minute, hour, dom, month, dow, domRestricted: parts[2] !== '*', dowRestricted: parts[4] !== '*' };
}

function cronMatches(c: CronSpec, d: Date): boolean {
  if (!c.minute.has(d.getMinutes()) || !c.hour.has(d.getHours()) || !c.month.has(d.getMonth() + 1)) return false;
  const domOk = c.dom.has(d.getDate());
  const dowOk = c.dow.has(d.getDay());
  if (c.domRestricted && c.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

/**
 * When a cron expression next fires at or after `after` (ms), up to `count` times, in the local
 * time of whoever calls it (the runtime uses the Node-RED host's). Looks at most 8 years ahead
 * (a 29 February that must also be a Monday is that rare); throws like parseCron on a bad one.
 */
export function nextOpenings(expr: string, after: number, count = 1): Date[] {
  const spec = parseCron(expr);
  const hours = [...spec.hour].sort((a, b) => a - b);
  const minutes = [...spec.minute].sort((a, b) => a - b);
  const out: Date[] = [];
  const start = new Date(after);
  const day = new Date(start.getFullYear(), start.getMonth(), start.getDate());
  for (let i = 0; i < 8 * 366 && out.length < count; i++, day.setDate(day.getDate() + 1)) {
    if (!spec.month.has(day.getMonth() + 1)) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m);
        // A time the clock skips (daylight saving) is not a match, as for the runtime.
        if (t.getTime() < after || !cronMatches(spec, t)) continue;
        out.push(t);
        if (out.length >= count) return out;
      }
    }
  }
  return out;
}

const MAX_MINUTES = 31 * 24 * 60;

interface CompiledWindow {
  window: MaintenanceWindow;
  appliesTo(d: AlertDevice): boolean;
  activeAt(t: number): boolean;
}

function compileNames(pattern: string | undefined): (values: Array<string | undefined>) => boolean {
  const parts = (pattern ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i'));
  if (parts.length === 0) return () => true;
  return (values) => values.some((v) => v !== undefined && parts.some((r) => r.test(v)));
}

/** Validates windows given in a policy or a message. */
export function parseWindows(list: unknown): MaintenanceWindow[] {
  if (!Array.isArray(list)) throw new InputError('maintenance windows must be a list');
  return list.map((w, i) => {
    if (typeof w !== 'object' || w === null) throw new InputError(`maintenance window ${i + 1} is not an object`);
    const win = w as MaintenanceWindow;
    compileWindow(win, i);
    return win;
  });
}

/** The end of a window that starts now and lasts `minutes` (from a message), as ISO text; an InputError when it cannot be one. */
export function untilAfterMinutes(minutes: number, now = Date.now()): string {
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_MINUTES) throw new InputError(`maintenance minutes must be between 1 and ${MAX_MINUTES}, got ${minutes}`);
  return new Date(now + minutes * 60_000).toISOString();
}

export function compileWindow(w: MaintenanceWindow, i = 0): CompiledWindow {
  const what = `maintenance window ${w.name ?? i + 1}`;
  const device = compileNames(w.device);
  const site = compileNames(w.site);
  const appliesTo = (d: AlertDevice) => device([d.name, d.host]) && site([d.site]);
  if (w.cron) {
    let spec: CronSpec;
    try {
      spec = parseCron(w.cron);
    } catch (e) {
      throw new InputError(`${what}: ${(e as Error).message}`);
    }
    const minutes = Number(w.minutes);
    if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_MINUTES) throw new InputError(`${what}: minutes must be between 1 and ${MAX_MINUTES}`);
    // The answer only changes once a minute: remember it for the current minute.
    let cachedMinute = -1;
    let cached = false;
    return {
      window: w,
      appliesTo,
      activeAt(t) {
        const minute = Math.floor(t / 60000);
        if (minute === cachedMinute) return cached;
        cached = false;
        for (let back = 0; back < minutes; back++) {
          if (cronMatches(spec, new Date((minute - back) * 60000))) {
            cached = true;
            break;
          }
        }
        cachedMinute = minute;
        return cached;
      },
    };
  }
  const from = w.from ? Date.parse(w.from) : -Infinity;
  const until = w.until ? Date.parse(w.until) : Number.NaN;
  if (Number.isNaN(from)) throw new InputError(`${what}: from "${w.from}" is not a date`);
  if (Number.isNaN(until)) throw new InputError(`${what}: needs a cron expression with minutes, or an until date`);
  if (until <= from) throw new InputError(`${what}: until is not after from`);
  return { window: w, appliesTo, activeAt: (t) => t >= from && t < until };
}

/** The windows, compiled once; `covering()` answers which one (if any) holds a device now. */
export class MaintenanceSchedule {
  private compiled: CompiledWindow[];

  constructor(windows: MaintenanceWindow[]) {
    this.compiled = windows.map((w, i) => compileWindow(w, i));
  }

  add(w: MaintenanceWindow): void {
    this.compiled.push(compileWindow(w, this.compiled.length));
  }

  /** Drops absolute windows that have ended; returns the windows still known. */
  prune(now: number): MaintenanceWindow[] {
    this.compiled = this.compiled.filter((c) => !c.window.until || Date.parse(c.window.until) > now);
    return this.compiled.map((c) => c.window);
  }

  clear(filter: (w: MaintenanceWindow) => boolean): number {
    const before = this.compiled.length;
    this.compiled = this.compiled.filter((c) => !filter(c.window));
    return before - this.compiled.length;
  }

  get windows(): MaintenanceWindow[] {
    return this.compiled.map((c) => c.window);
  }

  covering(d: AlertDevice, t: number): MaintenanceWindow | undefined {
    for (const c of this.compiled) if (c.appliesTo(d) && c.activeAt(t)) return c.window;
    return undefined;
  }
}
