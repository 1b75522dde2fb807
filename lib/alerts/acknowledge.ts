/**
 * Acknowledging an open alert, from a message (alert-in's input) or from the MSP's centre (a
 * signed remote command the site's gateway applies): what a request holds, checked, and the
 * alert hubs running in this process that the gateway hands a centre's acknowledgement to. The
 * engine does the acknowledging (AlertEngine.acknowledge).
 */
import type { ManagedDevice } from '../device';
import { InputError } from '../errors';
import type { AlertDevice } from './alert';
import type { AckOutcome } from './engine';

export interface AckRequest {
  /** The condition's dedupKey, or the id of an alert it sent. */
  key: string;
  /** Who takes it on (a person's name, a dashboard user...). */
  by: string;
  note?: string;
}

const MAX_KEY = 1024;
const MAX_BY = 200;
const MAX_NOTE = 1000;

function text(v: unknown, what: string, max: number): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new InputError(`${what} must be text`);
  const t = v.trim();
  if (t.length > max) throw new InputError(`${what} is longer than ${max} characters`);
  return t || undefined;
}

/**
 * An acknowledgement as given: a key (text), or `{ dedupKey | id | key, by?, note? }`. `fallback`
 * gives the key (the alert a message carries) and who, when the request does not.
 */
export function ackRequest(value: unknown, fallback: { key?: string; by?: string } = {}): AckRequest {
  const o = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const given = typeof value === 'string' ? value : (o.dedupKey ?? o.key ?? o.id);
  const key = text(given, 'the alert to acknowledge (dedupKey or id)', MAX_KEY) ?? text(fallback.key, 'the alert to acknowledge (dedupKey or id)', MAX_KEY);
  if (!key) throw new InputError('say which alert to acknowledge: its dedupKey or id (msg.acknowledge, or msg.alert)');
  const by = text(o.by, 'who acknowledges (by)', MAX_BY) ?? text(fallback.by, 'who acknowledges (by)', MAX_BY) ?? 'Node-RED';
  const note = text(o.note, 'the note', MAX_NOTE);
  return note ? { key, by, note } : { key, by };
}

/** What can take an acknowledgement: an alert hub (lib/alerts/hub). */
export interface Acknowledger {
  acknowledge(r: AckRequest, device?: (d: AlertDevice) => boolean): AckOutcome | undefined;
}

const running = new Set<Acknowledger>();

/** An alert hub that has started; `unregister` when it closes. */
export function registerAcknowledger(a: Acknowledger): () => void {
  running.add(a);
  return () => running.delete(a);
}

/** Does an alert's device name this managed device (its name or its host)? */
export function sameDevice(d: ManagedDevice): (a: AlertDevice) => boolean {
  const name = d.name?.toLowerCase();
  const host = d.host.toLowerCase();
  return (a) => (a.name !== undefined && a.name.toLowerCase() === name) || (a.host !== undefined && a.host.toLowerCase() === host);
}

/**
 * A centre's acknowledgement at this site: every running alert hub that has the condition open for
 * that device takes it. Throws when none has: a key of another device is not found either, so a
 * command for one device cannot acknowledge another's alert.
 */
export function acknowledgeAtSite(device: ManagedDevice, r: AckRequest): AckOutcome {
  const mine = sameDevice(device);
  let first: AckOutcome | undefined;
  for (const a of running) {
    const o = a.acknowledge(r, mine);
    first ??= o;
  }
  if (!first) throw new InputError(`no open alert of ${device.name ?? device.host} has the key or id "${r.key.slice(0, 200)}" at this site`);
  return first;
}
