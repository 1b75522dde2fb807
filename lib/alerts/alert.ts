/**
 * The Alert: one shape for every source (PET traps, AMT WS-Eventing, the AMT event log,
 * presence and heartbeats, system defense, power). It is what oob-alert-in emits and what
 * integrators wire to chat, PagerDuty, Opsgenie or a ticket system.
 */
import * as crypto from 'node:crypto';
import { isoTime } from '../util/iso-time';
import { AlertSource, Severity } from './vocabulary';

export { ALERT_SOURCES, SEVERITIES, isSeverity, isSource, moreSevere, severityRank } from './vocabulary';
export type { AlertSource, Severity } from './vocabulary';

export type AlertState = 'trigger' | 'acknowledge' | 'resolve';

export interface AlertDevice {
  name?: string;
  host?: string;
  mac?: string;
  guid?: string;
  site?: string;
}

export interface Alert {
  /** Stable per event instance. */
  id: string;
  /** Same condition on the same device => same key (PagerDuty dedup_key, Opsgenie alias). */
  dedupKey: string;
  /** ISO 8601, from the device where it carries one. */
  time: string;
  device: AlertDevice;
  source: AlertSource;
  /** e.g. 'chassis-intrusion', 'heartbeat-missed', 'agent-stopped'. */
  kind: string;
  severity: Severity;
  /**
   * 'acknowledge': someone took the open condition on (details.acknowledgedBy/At); it stays open,
   * sends no follow-ups or escalations, and its resolve still comes.
   */
  state: AlertState;
  /** One line a person reads in chat. */
  summary: string;
  /** Decoded fields; raw bytes/XML under details.raw. */
  details: Record<string, unknown>;
}

/**
 * An alert as another flow hands it over (to the MQTT bridge, or from a message): id, time and
 * details may be missing, and the source is any text (alerts of other tools pass through).
 */
export type ReceivedAlert = Omit<Alert, 'id' | 'time' | 'details' | 'source'> & Partial<Pick<Alert, 'id' | 'time' | 'details'>> & { source: string };

/** What a policy rule looks at in an alert. */
export type AlertFacts = Pick<Alert, 'source' | 'kind' | 'severity' | 'state' | 'device' | 'details'>;

/**
 * An alert not built yet: what the policy and dedup look at, and how to build the rest. A flood
 * of repeats of open conditions only counts them: a repeat is built (its id hashed, its details
 * written out) only when something needs it whole: a follow-up, the state file, a listener.
 * `device` has the fields the alert's device will have; it may be one object shared by drafts of
 * the same device, which the engine's open key keeps (build() gives the alert a copy of its own).
 * `details` is empty until built.
 */
export interface AlertDraft extends AlertFacts {
  dedupKey: string;
  summary: string;
  build(): Alert;
}

export function isDraft(a: Alert | AlertDraft): a is AlertDraft {
  return typeof (a as Partial<AlertDraft>).build === 'function';
}

/** The details of a draft: nothing yet (frozen, shared). */
export const NO_DETAILS: Record<string, unknown> = Object.freeze({});

/** The name a person knows the device by: name, else host, else MAC or GUID. */
export function deviceLabel(d: AlertDevice): string {
  return d.name ?? d.host ?? d.mac ?? d.guid ?? 'unknown device';
}

/** The part of the device that identifies it in a dedup key. */
function deviceKey(d: AlertDevice): string {
  return (d.name ?? d.host ?? d.guid ?? d.mac ?? 'unknown').toLowerCase();
}

/**
 * `<device>/<source>/<kind>[/<qualifier>]`: readable in PagerDuty's and Opsgenie's UIs, and the
 * same for a trigger and its resolve.
 */
export function makeDedupKey(device: AlertDevice, source: AlertSource, kind: string, qualifier?: string): string {
  // join makes one flat string (an open key keeps it), where += would keep a chain of pieces.
  const parts: string[] = [];
  const d = deviceKey(device);
  if (d !== '') parts.push(d);
  if (source !== undefined && (source as string) !== '') parts.push(source);
  if (kind !== undefined && kind !== '') parts.push(kind);
  if (qualifier !== undefined && qualifier !== '') parts.push(qualifier);
  return parts.join('/');
}

/** A stable id from fields that identify one event instance (so a re-delivery keeps its id). */
export function stableId(...parts: Array<string | number | undefined>): string {
  // join writes undefined as ''. The first 128 bits of SHA-256, in hex.
  return sha256Hex(parts.join('\0')).slice(0, 32);
}

/**
 * crypto.hash (Node >= 20.12) hashes in one call, several times faster than createHash; same
 * digest. Asked for hex, it answers in less than half the time it takes to answer with a Buffer
 * (which then still has to be written as hex).
 */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

export function newId(): string {
  return crypto.randomUUID();
}

export interface AlertInit {
  id?: string;
  dedupKey?: string;
  qualifier?: string;
  time?: Date | string;
  device: AlertDevice;
  source: AlertSource;
  kind: string;
  severity: Severity;
  state?: 'trigger' | 'resolve';
  summary: string;
  details?: Record<string, unknown>;
}

/** A copy of the device with only its non-empty fields, in the order alerts carry them; `guid` in place of its own. */
export function alertDeviceOf(d: AlertDevice, guid = d.guid): AlertDevice {
  const device: AlertDevice = {};
  if (d.name) device.name = d.name;
  if (d.host) device.host = d.host;
  if (d.mac) device.mac = d.mac;
  if (guid) device.guid = guid;
  if (d.site) device.site = d.site;
  return device;
}

/** Build an Alert with the defaults filled in; the device keeps only its non-empty fields. */
export function makeAlert(a: AlertInit): Alert {
  const device = alertDeviceOf(a.device);
  const time = a.time === undefined ? new Date() : typeof a.time === 'string' ? new Date(a.time) : a.time;
  return {
    id: a.id ?? newId(),
    dedupKey: a.dedupKey ?? makeDedupKey(device, a.source, a.kind, a.qualifier),
    time: isoTime(Number.isNaN(time.getTime()) ? Date.now() : time.getTime()),
    device,
    source: a.source,
    kind: a.kind,
    severity: a.severity,
    state: a.state ?? 'trigger',
    summary: a.summary,
    details: a.details ?? {},
  };
}
