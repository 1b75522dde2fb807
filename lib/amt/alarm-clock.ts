/**
 * AMT's alarm clock: the firmware itself powers the PC on at a set time, once or every so often,
 * with no gateway awake ("every night at 02:00 for patching").
 *
 *   IPS_AlarmClockOccurrence    one wake-up: InstanceID (its name), ElementName, StartTime (UTC,
 *                               a CIM Datetime), Interval (a CIM interval, P<d>DT<h>H<m>M; absent
 *                               for a single wake-up), DeleteOnCompletion
 *   AMT_AlarmClockService       AddAlarm(AlarmTemplate: an embedded IPS_AlarmClockOccurrence);
 *                               fails when 5 occurrences exist already (Intel's class notes)
 *
 * Listing enumerates the occurrences; deleting is a WS-Man Delete by InstanceID. The AddAlarm body
 * comes from Intel's wsman-messages (its builder writes the embedded instance).
 */
import { AMT } from '@device-management-toolkit/wsman-messages';
import { DeviceRefusedError, InputError, UnsupportedError, WsmanFaultError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import { readMethodOutput } from '../wsman/envelope';
import { buildInvokeWithBody } from '../wsman/messages';
import { escapeXml } from '../wsman/xml';

/** Most occurrences a PC holds. */
export const MAX_ALARMS = 5;
const MAX_NAME = 32;

export interface AlarmSpec {
  /** Name of the wake-up (its InstanceID): letters, digits, space, and . _ - : up to 32. */
  name: string;
  /** First wake-up: a Date, an ISO 8601 date-time, or "HH:MM" (the next such time, in the gateway's time zone). */
  start: Date | string;
  /** Repeat: minutes, "daily"/"hourly"/"weekly", "24h", "30m", "1d", or an ISO 8601 duration (PT12H, P1D). None: once. */
  every?: number | string;
  /** A single wake-up deletes itself once done (default true when it does not repeat). */
  deleteOnCompletion?: boolean;
}

export interface Alarm {
  name: string;
  elementName?: string;
  /** ISO 8601 (UTC) as the device holds it. */
  start: string;
  /** Repeat interval in minutes; absent when it wakes once. */
  everyMinutes?: number;
  deleteOnCompletion: boolean;
}

function checkName(name: unknown): string {
  const n = typeof name === 'string' ? name.trim() : '';
  if (!n || n.length > MAX_NAME || !/^[A-Za-z0-9 ._:-]+$/.test(n)) {
    throw new InputError(`alarm name must be 1-${MAX_NAME} letters, digits, spaces or . _ - : (got "${String(name)}")`);
  }
  return n;
}

/** The start as a Date: a Date, an ISO date-time, or "HH:MM" (the next one after `now`, local time). */
export function alarmStart(start: Date | string, now = new Date()): Date {
  if (start instanceof Date) {
    if (Number.isNaN(start.getTime())) throw new InputError('alarm start is not a valid date');
    return start;
  }
  const text = String(start).trim();
  const hm = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (hm) {
    const h = Number(hm[1]);
    const m = Number(hm[2]);
    if (h > 23 || m > 59) throw new InputError(`alarm time "${text}" is not a time of day`);
    const at = new Date(now);
    at.setHours(h, m, 0, 0);
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
    return at;
  }
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(d.getTime())) throw new InputError(`alarm start "${text}" is neither "HH:MM" nor an ISO 8601 date-time`);
  return d;
}

const NAMED: Record<string, number> = { hourly: 60, daily: 1440, nightly: 1440, day: 1440, weekly: 10080, week: 10080, hour: 60 };

/** An interval in minutes from what a person writes, or from the device's CIM interval. */
export function intervalMinutes(every: number | string): number {
  let minutes: number | undefined;
  if (typeof every === 'number') minutes = every;
  else {
    const t = every.trim().toLowerCase();
    const iso = /^p(?:(\d+)d)?(?:t(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?)?$/.exec(t);
    const short = /^(\d+)\s*(m|min|minutes?|h|hours?|d|days?)$/.exec(t);
    if (NAMED[t] !== undefined) minutes = NAMED[t];
    else if (/^\d+$/.test(t)) minutes = Number(t);
    else if (short) minutes = Number(short[1]) * (short[2].startsWith('d') ? 1440 : short[2].startsWith('h') ? 60 : 1);
    else if (iso && t !== 'p' && t !== 'pt') minutes = Number(iso[1] ?? 0) * 1440 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0) + Math.floor(Number(iso[4] ?? 0) / 60);
  }
  if (minutes === undefined || !Number.isInteger(minutes) || minutes < 1 || minutes > 366 * 1440) {
    throw new InputError(`alarm interval "${String(every)}" is not a whole number of minutes (1 minute to 366 days): use minutes, "daily", "12h", or P1D`);
  }
  return minutes;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Every wake-up the PC holds. */
export async function listAlarms(client: WsmanClient): Promise<Alarm[]> {
  const items = await client.enumerate('IPS_AlarmClockOccurrence').catch((e: unknown) => {
    if (e instanceof WsmanFaultError && e.subcode === 'DestinationUnreachable') throw new UnsupportedError(`${client.label} has no alarm clock (IPS_AlarmClockOccurrence; older AMT firmware has none)`);
    throw e;
  });
  return items.map(({ props: p }) => {
    const interval = typeof p.Interval === 'string' && p.Interval.trim() ? p.Interval : undefined;
    let everyMinutes: number | undefined;
    try {
      everyMinutes = interval ? intervalMinutes(interval) : undefined;
    } catch {
      everyMinutes = undefined; // an interval of 0 or one we cannot read: it wakes once
    }
    return {
      name: String(p.InstanceID ?? ''),
      ...(typeof p.ElementName === 'string' && p.ElementName ? { elementName: p.ElementName } : {}),
      start: String(p.StartTime ?? ''),
      ...(everyMinutes ? { everyMinutes } : {}),
      deleteOnCompletion: p.DeleteOnCompletion === true || p.DeleteOnCompletion === 'true',
    };
  });
}

/** Sets a wake-up. Refused before sending: a bad name, a start in the past, a name in use, or no room left. */
export async function addAlarm(client: WsmanClient, spec: AlarmSpec, now = new Date()): Promise<Alarm> {
  const name = checkName(spec.name);
  const start = alarmStart(spec.start, now);
  if (start.getTime() <= now.getTime()) throw new InputError(`alarm start ${iso(start)} is in the past`);
  const everyMinutes = spec.every === undefined || spec.every === '' ? undefined : intervalMinutes(spec.every);
  const deleteOnCompletion = spec.deleteOnCompletion ?? everyMinutes === undefined;
  const existing = await listAlarms(client);
  if (existing.some((a) => a.name === name)) throw new InputError(`${client.label} already has an alarm named "${name}"; delete it first`);
  if (existing.length >= MAX_ALARMS) throw new InputError(`${client.label} already holds ${existing.length} alarms, the most AMT keeps; delete one first`);
  const xml = new AMT.Messages().AlarmClockService.AddAlarm({
    InstanceID: escapeXml(name),
    ElementName: escapeXml(name),
    StartTime: new Date(Math.floor(start.getTime() / 1000) * 1000),
    ...(everyMinutes !== undefined ? { Interval: everyMinutes } : {}),
    DeleteOnCompletion: deleteOnCompletion,
  } as never);
  const body = xml.slice(xml.indexOf('<Body>'), xml.lastIndexOf('</Body>') + '</Body>'.length);
  const out = readMethodOutput(await client.call(buildInvokeWithBody('AMT_AlarmClockService', 'AddAlarm', body)), 'AddAlarm');
  const rv = Number(out.ReturnValue);
  if (rv !== 0) throw new DeviceRefusedError(`AMT_AlarmClockService.AddAlarm("${name}")`, rv, 'a start in the past, a name in use, or no room for another alarm');
  return { name, elementName: name, start: iso(start), ...(everyMinutes !== undefined ? { everyMinutes } : {}), deleteOnCompletion };
}

/** Deletes the wake-up named `name`; false when the PC has none of that name. */
export async function deleteAlarm(client: WsmanClient, name: string): Promise<boolean> {
  const n = checkName(name);
  if (!(await listAlarms(client)).some((a) => a.name === n)) return false;
  await client.delete('IPS_AlarmClockOccurrence', { InstanceID: n });
  return true;
}

export const ALARM_ACTIONS = ['alarm-set', 'alarm-list', 'alarm-delete'] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

export function isAlarmAction(v: unknown): v is AlarmAction {
  return typeof v === 'string' && (ALARM_ACTIONS as readonly string[]).includes(v.trim().toLowerCase());
}

export interface AlarmActionResult {
  action: AlarmAction;
  /** The wake-up set, for alarm-set. */
  alarm?: Alarm;
  /** For alarm-delete: whether one of that name existed. */
  deleted?: boolean;
  name?: string;
  /** Every wake-up the PC holds afterwards. */
  alarms: Alarm[];
}

/**
 * One alarm action from what a message carries: `spec` is `{ name, start | at, every, deleteOnCompletion }`
 * for alarm-set, and the name (or `{ name }`) for alarm-delete.
 */
export async function runAlarmAction(client: WsmanClient, action: AlarmAction, spec: unknown): Promise<AlarmActionResult> {
  const o = typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>) : {};
  switch (action) {
    case 'alarm-list':
      return { action, alarms: await listAlarms(client) };
    case 'alarm-set': {
      const start = o.start ?? o.at;
      if (typeof start !== 'string' && !(start instanceof Date)) throw new InputError('alarm-set needs msg.alarm.at ("HH:MM" or an ISO 8601 date-time)');
      const every = o.every;
      if (every !== undefined && typeof every !== 'string' && typeof every !== 'number') throw new InputError('msg.alarm.every must be minutes or a text such as "daily" or "12h"');
      const deleteOnCompletion = typeof o.deleteOnCompletion === 'boolean' ? o.deleteOnCompletion : undefined;
      const alarm = await addAlarm(client, { name: String(o.name ?? ''), start, every, deleteOnCompletion });
      return { action, alarm, alarms: await listAlarms(client) };
    }
    case 'alarm-delete': {
      const name = typeof spec === 'string' ? spec : String(o.name ?? '');
      const deleted = await deleteAlarm(client, name);
      return { action, deleted, name: name.trim(), alarms: await listAlarms(client) };
    }
  }
}
