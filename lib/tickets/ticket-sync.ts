/**
 * Keeps a ticketing system in step with alert-in's alerts: one ticket per incident (an open
 * condition, named by its dedupKey, from its trigger to its resolve). A trigger opens the ticket,
 * a repeat report comments on it, an escalation raises its priority, a resolve resolves it.
 *
 * Nothing accepted is lost and no incident gets a second ticket:
 * - an alert is written to the outbox (a file) before it is acknowledged, and leaves it only once
 *   the ticketing system has taken it; while that system is unreachable the outbox waits and is
 *   retried with backoff, across restarts;
 * - each ticket carries the incident key in a custom field, so a create whose answer was lost (a
 *   crash, a timeout) is found again by a search instead of being made twice; the ticket id is kept
 *   per incident, and the alert ids already applied are remembered, so a replayed alert is skipped.
 */
import { createHash } from 'node:crypto';
import { Alert, deviceLabel, Severity } from '../alerts/alert';
import { InputError } from '../errors';
import type { KeyValueFile } from '../util/key-value-file';
import type { FoundTicket, TicketFields } from './request-tracker';
import { isRetryable } from './request-tracker';

/** What a ticketing system must offer (RequestTracker does). */
export interface TicketBackend {
  findActive(key: string): Promise<FoundTicket | undefined>;
  create(fields: TicketFields, key: string): Promise<number>;
  comment(id: number, content: string): Promise<void>;
  update(id: number, fields: { Priority?: number; Status?: string }): Promise<void>;
}

export type TicketAction = 'opened' | 'found' | 'commented' | 'escalated' | 'resolved' | 'no-ticket' | 'replayed';

export interface TicketOutcome {
  alert: Alert;
  queue: string;
  ticket?: number;
  action: TicketAction;
}

interface IncidentRecord {
  ticket: number;
  priority: number;
  /** Ids of the alerts already applied to this ticket, newest last. */
  applied: string[];
}

interface PendingRecord {
  alert: Alert;
  queue: string;
}

type StoreValue = IncidentRecord | PendingRecord | number;

export interface TicketSyncOptions {
  backend: TicketBackend;
  store: KeyValueFile<StoreValue>;
  /** Most alerts waiting while the ticketing system is away; more are refused. Default 5,000. */
  maxPending?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  onOutcome(o: TicketOutcome): void;
  /** An alert the ticketing system refused for good (a queue that does not exist...): dropped, and said. */
  onRefused(alert: Alert, e: Error): void;
  /** The ticketing system cannot be reached; retried in retryInMs. */
  onWaiting(pending: number, retryInMs: number, e: Error): void;
}

const PRIORITY: Record<Severity, number> = { critical: 90, major: 70, minor: 50, warning: 30, info: 10, ok: 0 };
const ESCALATION_STEP = 20;
const APPLIED_KEPT = 32;

/** The key a ticket carries: short, search-safe, the same for every alert of one condition. */
export function incidentKey(dedupKey: string): string {
  return `oobkit-${createHash('sha256').update(dedupKey).digest('hex').slice(0, 24)}`;
}

/** The ticket's body: what a technician needs without opening the gateway. */
export function ticketText(a: Alert): string {
  const d = a.device;
  const lines = [
    a.summary,
    '',
    `Device:   ${deviceLabel(d)}${d.host && d.host !== d.name ? ` (${d.host})` : ''}`,
    ...(d.site ? [`Site:     ${d.site}`] : []),
    ...(d.mac ? [`MAC:      ${d.mac}`] : []),
    ...(d.guid ? [`GUID:     ${d.guid}`] : []),
    `Kind:     ${a.kind}`,
    `Severity: ${a.severity}`,
    `Source:   ${a.source}`,
    `Time:     ${a.time}`,
    `Incident: ${a.dedupKey}`,
    `Alert:    ${a.id}`,
  ];
  const details = Object.entries(a.details).filter(([k, v]) => k !== 'raw' && v !== undefined);
  if (details.length) {
    lines.push('', 'Details:');
    for (const [k, v] of details) lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines.join('\n');
}

export class TicketSync {
  private running = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private backoffMs = 0;
  private readonly maxPending: number;
  private idle: Array<() => void> = [];

  constructor(private readonly o: TicketSyncOptions) {
    this.maxPending = o.maxPending ?? 5000;
  }

  /** Alerts taken and not yet in the ticketing system. */
  get pending(): number {
    return this.pendingKeys().length;
  }

  /** Starts working through what an earlier run left in the outbox. */
  start(): void {
    this.kick();
  }

  /** Takes an alert: written to the outbox before this returns. */
  accept(alert: Alert, queue: string): void {
    if (this.closed) throw new InputError('the ticket node is closing');
    if (!queue) throw new InputError('no queue for the ticket: set one on the node or give msg.queue');
    if (this.pending >= this.maxPending) throw new InputError(`${this.maxPending} alerts are already waiting for the ticketing system; refusing more`);
    const seq = ((this.o.store.get('seq') as number | undefined) ?? 0) + 1;
    this.o.store.set('seq', seq);
    this.o.store.set(`p:${String(seq).padStart(12, '0')}`, { alert, queue });
    this.kick();
  }

  /** Resolves when the outbox is empty (or the sync is waiting to retry). */
  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private pendingKeys(): string[] {
    return this.o.store
      .keys()
      .filter((k) => k.startsWith('p:'))
      .sort();
  }

  private kick(): void {
    if (this.running || this.closed || this.timer) return;
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      // Taken while the last round was ending: not seen by it.
      if (!this.closed && !this.timer && this.pendingKeys().length) return this.kick();
      for (const r of this.idle.splice(0)) r();
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const key = this.pendingKeys()[0];
      if (!key) return;
      const p = this.o.store.get(key) as PendingRecord;
      try {
        const outcome = await this.apply(p.alert, p.queue);
        this.o.store.delete(key);
        this.backoffMs = 0;
        this.o.onOutcome(outcome);
      } catch (e) {
        if (isRetryable(e)) {
          this.backoffMs = Math.min(this.o.retryMaxMs ?? 60_000, Math.max(this.o.retryMinMs ?? 1000, this.backoffMs * 2));
          this.o.onWaiting(this.pending, this.backoffMs, e as Error);
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.kick();
          }, this.backoffMs);
          this.timer.unref();
          return;
        }
        this.o.store.delete(key);
        this.o.onRefused(p.alert, e as Error);
      }
    }
  }

  private remember(key: string, r: IncidentRecord, alertId: string): void {
    this.o.store.set(`i:${key}`, { ...r, applied: [...r.applied, alertId].slice(-APPLIED_KEPT) });
  }

  private async apply(a: Alert, queue: string): Promise<TicketOutcome> {
    const key = incidentKey(a.dedupKey);
    const known = this.o.store.get(`i:${key}`) as IncidentRecord | undefined;
    if (known?.applied.includes(a.id)) return { alert: a, queue, ticket: known.ticket, action: 'replayed' };
    const b = this.o.backend;

    if (a.state === 'resolve') {
      const ticket = known?.ticket ?? (await b.findActive(key))?.id;
      if (ticket === undefined) return { alert: a, queue, action: 'no-ticket' };
      await b.comment(ticket, `Resolved: ${a.summary} (${a.time})`);
      await b.update(ticket, { Status: 'resolved' });
      this.o.store.delete(`i:${key}`);
      return { alert: a, queue, ticket, action: 'resolved' };
    }

    if (a.state === 'acknowledge') {
      // Someone took it on: said in its ticket, never a ticket of its own.
      const ticket = known?.ticket ?? (await b.findActive(key))?.id;
      if (ticket === undefined) return { alert: a, queue, action: 'no-ticket' };
      await b.comment(ticket, `${a.summary} (${a.time})`);
      if (known) this.remember(key, known, a.id);
      return { alert: a, queue, ticket, action: 'commented' };
    }

    let record = known;
    let action: TicketAction | undefined;
    if (!record) {
      const found = await b.findActive(key);
      if (found) {
        record = { ticket: found.id, priority: found.priority, applied: [] };
        action = 'found';
      } else {
        const priority = PRIORITY[a.severity];
        const ticket = await b.create({ Queue: queue, Subject: a.summary.slice(0, 200), Content: ticketText(a), Priority: priority }, key);
        this.remember(key, { ticket, priority, applied: [] }, a.id);
        return { alert: a, queue, ticket, action: 'opened' };
      }
    }
    if (a.details.escalated === true) {
      const priority = Math.min(99, Math.max(record.priority, PRIORITY[a.severity]) + ESCALATION_STEP);
      await b.update(record.ticket, { Priority: priority });
      await b.comment(record.ticket, `${a.summary}\n\nPriority raised to ${priority}.`);
      this.remember(key, { ...record, priority }, a.id);
      return { alert: a, queue, ticket: record.ticket, action: 'escalated' };
    }
    // A trigger that finds its ticket by search is the one whose create answer was lost: nothing to add.
    if (action === 'found' && typeof a.details.repeats !== 'number') {
      this.remember(key, record, a.id);
      return { alert: a, queue, ticket: record.ticket, action: 'found' };
    }
    await b.comment(record.ticket, ticketText(a));
    this.remember(key, record, a.id);
    return { alert: a, queue, ticket: record.ticket, action: 'commented' };
  }
}

/** An alert as alert-in sends it (msg.alert), checked before it is written anywhere. */
export function alertForTicket(value: unknown): Alert {
  const a = value as Partial<Alert> | null;
  if (!a || typeof a !== 'object' || Array.isArray(a)) throw new InputError('no alert: send what alert-in sends (msg.alert)');
  for (const k of ['id', 'dedupKey', 'summary', 'time', 'kind'] as const) {
    if (typeof a[k] !== 'string' || !a[k]) throw new InputError(`the alert has no ${k}`);
    if ((a[k] as string).length > 4096) throw new InputError(`the alert's ${k} is longer than 4096 characters`);
  }
  if (a.state !== 'trigger' && a.state !== 'acknowledge' && a.state !== 'resolve') throw new InputError('the alert\'s state must be "trigger", "acknowledge" or "resolve"');
  if (!a.severity || !(a.severity in PRIORITY)) throw new InputError(`the alert's severity "${String(a.severity)}" is not one of ${Object.keys(PRIORITY).join(', ')}`);
  if (!a.device || typeof a.device !== 'object') throw new InputError('the alert has no device');
  const details = a.details && typeof a.details === 'object' && !Array.isArray(a.details) ? { ...a.details } : {};
  // The raw capture is not for a ticket, and would make every write of the outbox larger.
  delete details.raw;
  let text: string;
  try {
    text = JSON.stringify(details);
  } catch {
    throw new InputError("the alert's details are not plain data");
  }
  if (text.length > 64 * 1024) throw new InputError("the alert's details are larger than 64 KiB");
  return { ...(a as Alert), details: JSON.parse(text) as Record<string, unknown> };
}
