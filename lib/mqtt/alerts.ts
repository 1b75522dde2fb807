/**
 * Alerts as the bridge keeps them per device: the open ones (a trigger not yet resolved, by
 * dedupKey; an acknowledged one stays open) make the `problem` sensor ON; the latest one is the `last_alert` sensor and the
 * retained `.../alert` topic. The shape is the Alert of DESIGN.md (what oob-alert-in emits).
 */
import type { ReceivedAlert } from '../alerts/alert';
import { isSeverity, Severity, SEVERITIES } from '../alerts/vocabulary';
import { InputError } from '../errors';

/** The Alert as the bridge receives it (lib/alerts/alert: ReceivedAlert). */
export type AlertLike = ReceivedAlert;

/** Severities that do not make a device "have a problem". */
const BENIGN: ReadonlySet<Severity> = new Set(['info', 'ok']);
const MAX_OPEN = 100;
const MAX_SUMMARY = 1000;

/** The alert in a message, checked; an InputError saying what is wrong otherwise. */
export function checkAlert(value: unknown): AlertLike {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('an alert must be an object (the Alert of oob-alert-in)');
  const a = value as Record<string, unknown>;
  const text = (k: string) => {
    if (typeof a[k] !== 'string' || !(a[k] as string).trim()) throw new InputError(`alert.${k} must be non-empty text`);
    return a[k] as string;
  };
  text('dedupKey');
  text('summary');
  text('kind');
  text('source');
  if (a.state !== 'trigger' && a.state !== 'acknowledge' && a.state !== 'resolve') throw new InputError(`alert.state must be "trigger", "acknowledge" or "resolve", got ${JSON.stringify(a.state)}`);
  if (!isSeverity(a.severity)) throw new InputError(`alert.severity must be one of ${SEVERITIES.join(', ')}`);
  if (typeof a.device !== 'object' || a.device === null) throw new InputError('alert.device must be an object with a name, host or mac');
  return value as AlertLike;
}

/** What is published on `.../alert`: the alert without raw bytes, the summary bounded. */
export function publishableAlert(a: AlertLike): Record<string, unknown> {
  const details = { ...(a.details ?? {}) };
  delete details.raw;
  return {
    id: a.id,
    dedupKey: a.dedupKey,
    time: a.time ?? new Date().toISOString(),
    source: a.source,
    kind: a.kind,
    severity: a.severity,
    state: a.state,
    summary: a.summary.length > MAX_SUMMARY ? `${a.summary.slice(0, MAX_SUMMARY - 1)}…` : a.summary,
    device: a.device,
    details,
  };
}

export class DeviceAlerts {
  private readonly open = new Map<string, AlertLike>();
  last?: AlertLike;

  /** Record an alert; true when the problem state or count changed. */
  apply(a: AlertLike): boolean {
    const before = this.count;
    this.last = a;
    if (a.state === 'resolve') this.open.delete(a.dedupKey);
    else if (a.state === 'acknowledge') {
      // Someone is on it: still open (the problem stays), now with who took it.
      if (this.open.has(a.dedupKey)) this.open.set(a.dedupKey, a);
    } else if (!BENIGN.has(a.severity)) {
      this.open.delete(a.dedupKey);
      this.open.set(a.dedupKey, a);
      // Bounded: the oldest open alert goes first.
      if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value as string);
    }
    return this.count !== before;
  }

  get count(): number {
    return this.open.size;
  }
}

/** Heartbeat/presence alerts speak for the connection of a device that has no AMT to poll. */
export function heartbeatVerdict(a: AlertLike): boolean | undefined {
  if (a.source !== 'heartbeat' && a.source !== 'presence') return undefined;
  return a.state === 'resolve';
}
