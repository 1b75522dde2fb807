/**
 * The Alert: one shape for every source (PET traps, AMT WS-Eventing, the AMT event log,
 * presence and heartbeats, system defense, power). It is what oob-alert-in emits and what
 * integrators wire to chat, PagerDuty, Opsgenie or a ticket system.
 */
import * as crypto from 'node:crypto';
import { isoTime } from '../util/iso-time';
import { AlertSource, Severity, severityRank } from './vocabulary';

export { ALERT_SOURCES, SEVERITIES, isSeverity, isSource, severityRank } from './vocabulary';
export type { AlertSource, Severity } from './vocabulary';

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
  state: 'trigger' | 'resolve';
  /** One line a person reads in chat. */
  summary: string;
  /** Decoded fields; raw bytes/XML under details.raw. */
  details: Record<string, unknown>;
}

export function moreSevere(a: Severity, b: Severity): Severity {
  return severityRank(a) <= severityRank(b) ? a : b;
}

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
  return [deviceKey(device), source, kind, qualifier].filter((x) => x !== undefined && x !== '').join('/');
}

/** A stable id from fields that identify one event instance (so a re-delivery keeps its id). */
export function stableId(...parts: Array<string | number | undefined>): string {
  // join writes undefined as ''. The first 128 bits of SHA-256, in hex.
  return sha256(parts.join('\0')).toString('hex', 0, 16);
}

/** crypto.hash (Node >= 20.12) hashes in one call, several times faster than createHash; same digest. */
const sha256: (text: string) => Buffer =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'buffer') : (text) => crypto.createHash('sha256').update(text).digest();

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

const DEVICE_FIELDS = ['name', 'host', 'mac', 'guid', 'site'] as const;

/** Build an Alert with the defaults filled in; the device keeps only its non-empty fields. */
export function makeAlert(a: AlertInit): Alert {
  const device: AlertDevice = {};
  for (const k of DEVICE_FIELDS) if (a.device[k]) device[k] = a.device[k];
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
