/**
 * Durable state for alert-in, in plain files under a directory (Node-RED's user directory in a
 * flow): no context store has to be configured for alerts to survive a restart, and we decide
 * when a write is durable.
 *
 *  - alert-in-<id>.json and alert-in-<id>.changes: the hub's state (the engine's open keys and
 *    run-time maintenance windows, event-log and SEL positions, subscriptions) as a snapshot and
 *    a log of changed entries (lib/util/snapshot-log). A trap that bumps the count of an open
 *    condition appends that one condition, not the whole state. `HubChange` is one logged
 *    change; `applyHubChanges` replays them over the snapshot after a restart. A snapshot written
 *    before there was a log (a whole document, engine state version 1 or 2) reads the same.
 *  - alert-in-<id>.journal: the alerts we acknowledged to a device (a WS-Eventing push is
 *    answered only after its alert is on disk) and not yet emitted. Appends are synced; after a
 *    restart `pending()` gives back what was acknowledged but never emitted.
 */
import type { EventLogPosition } from '../amt/event-log';
import type { SubscriptionRecord } from '../amt/event-subscription';
import type { PushRegistration } from '../amt/event-listener';
import type { SelCursor } from '../ipmi/sel';
import { removeLeftoverTemps } from '../util/atomic-file';
import { readRecordLog, RecordLog } from '../util/record-log';
import type { Alert } from './alert';
import type { EngineChange, EngineState, KeyRecord, StoredEngineState } from './engine';
import { isKeyRecord } from './open-keys';

export interface HubState {
  engine?: EngineState | StoredEngineState;
  eventLog?: Record<string, EventLogPosition>;
  /** IPMI: where each server's SEL was read up to. */
  sel?: Record<string, SelCursor>;
  subscriptions?: Record<string, { reg: Omit<PushRegistration, 'device'>; record?: SubscriptionRecord }>;
}

/** The hub's sections that are maps of device keys to small records. */
export type HubSection = 'eventLog' | 'sel' | 'subscriptions';

/** One change as logged: the engine's (see EngineChange), or an entry of a hub section (null when removed). */
export type HubChange = EngineChange | KeyRecord | { section: HubSection; key: string; value: unknown };

/** The state after a restart: the snapshot with the logged changes applied in order. */
export function applyHubChanges(snapshot: HubState, changes: readonly HubChange[]): HubState {
  if (changes.length === 0) return snapshot;
  const engine = snapshot.engine;
  const keys = new Map<string, unknown>();
  for (const entry of engine && Array.isArray(engine.keys) ? (engine.keys as unknown[]) : []) {
    if (isKeyRecord(entry)) keys.set(entry[1], entry);
    else if (Array.isArray(entry) && typeof entry[0] === 'string') keys.set(entry[0], entry[1]);
  }
  let maintenance = engine?.maintenance ?? [];
  const sections: Required<Omit<HubState, 'engine'>> = { eventLog: { ...snapshot.eventLog }, sel: { ...snapshot.sel }, subscriptions: { ...snapshot.subscriptions } };
  for (const c of changes) {
    if (typeof c !== 'object' || c === null) continue;
    if (isKeyRecord(c)) {
      keys.delete(c[1]);
      keys.set(c[1], c);
    } else if ('key' in c && 'section' in c) {
      if (!Object.prototype.hasOwnProperty.call(sections, c.section) || typeof c.key !== 'string') continue;
      const s = sections[c.section] as Record<string, unknown>;
      if (c.value === null || c.value === undefined) delete s[c.key];
      else s[c.key] = c.value;
    } else if ('k' in c && typeof c.k === 'string') {
      keys.delete(c.k);
      if (c.v) keys.set(c.k, c.v);
    } else if ('forgotten' in c && Array.isArray(c.forgotten)) {
      for (const k of c.forgotten) keys.delete(k);
    } else if ('maintenance' in c && Array.isArray(c.maintenance)) {
      maintenance = c.maintenance;
    }
  }
  return {
    // Each key as it was read (an OpenKey's JSON, or a KeyRecord): the engine reads either per key.
    engine: { version: 2, keys: [...keys] as EngineState['keys'], maintenance },
    ...sections,
  };
}

interface JournalLine {
  a?: Alert;
  e?: string;
}

export class Journal {
  private readonly log: RecordLog;
  private readonly open = new Map<string, Alert>();
  private lines = 0;

  constructor(readonly file: string) {
    this.log = new RecordLog(file);
  }

  /** Opens (creating it) and returns what was acknowledged but not emitted before. */
  start(): Alert[] {
    // A crash while the journal was rewritten leaves its temporary file: the journal itself is intact.
    removeLeftoverTemps(this.file);
    // Each line stands on its own: a torn or damaged one (never acknowledged, or unreadable) is
    // left out, the others are used. Lines written before they had checksums are read too.
    const { records } = readRecordLog(this.file, { afterDamage: 'skip', unframed: true });
    for (const r of records as JournalLine[]) {
      if (r.a && typeof r.a === 'object' && typeof r.a.id === 'string') this.open.set(r.a.id, r.a);
      else if (typeof r.e === 'string') this.open.delete(r.e);
    }
    this.rewrite();
    return [...this.open.values()];
  }

  get pendingCount(): number {
    return this.open.size;
  }

  /** Durably records an alert before it is acknowledged. */
  append(alert: Alert): void {
    if (!this.log.isOpen) throw new Error('journal not started');
    this.log.appendSync([{ a: alert }], true);
    this.open.set(alert.id, alert);
    this.lines++;
  }

  /** The alert went through the engine (emitted or suppressed by policy): no replay needed. */
  done(id: string): void {
    if (!this.log.isOpen || !this.open.delete(id)) return;
    this.log.appendSync([{ e: id }], false);
    this.lines++;
    if (this.open.size === 0 && this.lines > 1000) this.rewrite();
  }

  private rewrite(): void {
    this.log.replace([...this.open.values()].map((a) => ({ a })));
    this.lines = this.open.size;
  }

  close(): void {
    this.log.close();
  }
}
