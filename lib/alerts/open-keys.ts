/**
 * What the engine remembers per open condition (an OpenKey, by dedup key) and how that memory
 * is kept across restarts: the state a snapshot holds (EngineState; StoredEngineState as written),
 * the changes appended between snapshots (EngineChange, collected by ChangeTracker; a key is
 * written as its KeyRecord), and reading a key back.
 *
 * Two speed-ups live on an OpenKey, each under a symbol so the state written to disk never holds
 * them: QUEUED (a flood of repeats changes the same keys over and over; each is noted once per
 * round) and LAZY_REPEAT (a repeat of an open condition is only counted: building the alert,
 * hashing its id and writing out its details waits until something needs it whole).
 */
import { isoTime } from '../util/iso-time';
import type { LazyList } from '../util/json-pieces';
import { Alert, AlertDevice, AlertDraft, AlertSource, Severity } from './alert';
import type { MaintenanceWindow } from './maintenance';
import type { KeyRateWindow } from './rate-limit';

/** The ChangeTracker round in which a key was queued as changed (negative: already taken in that round). */
export const QUEUED: unique symbol = Symbol('queued');
/**
 * QUEUED of a key no longer open (forgotten, or replaced by a new OpenKey under its name). A key
 * in the changed list was queued in a round (1, 2, ...), so 0 there can only mean this. A small
 * integer like the rounds: a double here would change the layout of every OpenKey.
 */
const GONE = 0;
/** Names let go in one round that ChangeTracker keeps exact (see there). */
const GONE_SET_MAX = 1024;
/** A key's latest repeat when it came as a draft, not built yet (see buildLazyRepeat). */
export const LAZY_REPEAT: unique symbol = Symbol('lazy-repeat');

export interface OpenKey extends KeyRateWindow {
  [QUEUED]?: number;
  [LAZY_REPEAT]?: AlertDraft;
  /** The id of the key's latest alert (a resolve names it), and what a person knows the condition by. */
  id: string;
  device: AlertDevice;
  source: AlertSource;
  kind: string;
  severity: Severity;
  summary: string;
  /**
   * The latest alert whole: kept only while a follow-up (repeats held) or an escalation may still
   * be sent from it. Without it an open key costs a few hundred bytes, in memory and in the state
   * file, not the whole decoded event.
   */
  alert?: Alert;
  output: number;
  firstAt: number;
  lastAt: number;
  /** Occurrences since the key opened. */
  count: number;
  /** Repeats not yet reported. */
  held: number;
  windowEnd: number;
  escalateAt?: number;
  escalated?: boolean;
  /** Someone took the condition on: no follow-ups or escalations until it resolves (lib/alerts/acknowledge). */
  ack?: Acknowledgement;
}

/** Who acknowledged an open condition, when (epoch ms), and what they said. */
export interface Acknowledgement {
  by: string;
  at: number;
  note?: string;
}

export interface EngineState {
  /** 1: each key kept its whole latest alert (still read); 2: keys as OpenKey is now. */
  version: 1 | 2;
  keys: Array<[string, OpenKey]>;
  maintenance: MaintenanceWindow[];
}

/**
 * The engine's state as a state file holds it now: each open key one KeyRecord (versions 1 and 2
 * are still read). Written from a LazyList: each record is made as it is encoded.
 */
export interface StoredEngineState {
  version: 3;
  keys: KeyRecord[] | LazyList<[string, OpenKey], KeyRecord>;
  maintenance: MaintenanceWindow[];
}

/** The first element of a KeyRecord: its layout. */
export const KEY_RECORD = 1;

/**
 * An open key as written to the state log and snapshot: its fields by position, times after the
 * first as differences from `lastAt`. Why: the object's JSON (~470 bytes, five 13-digit times)
 * was the largest cost of writing a new condition; this is about two thirds the bytes and half
 * the encoding time. Layout (KEY_RECORD 1):
 *   [1, dedupKey, id, device, source, kind, severity, summary, output, lastAt, firstAt - lastAt,
 *    count, held, windowEnd - lastAt, escalateAt - lastAt, escalated, rateStart - lastAt, rateN,
 *    ack, alert]
 * An absent field is null (JSON has no undefined); the last two are left out when both are absent.
 */
export type KeyRecord = [typeof KEY_RECORD, string, ...unknown[]];

/** A key as its KeyRecord. */
export function keyRecord(dedupKey: string, k: OpenKey): KeyRecord {
  const last = k.lastAt;
  const r: KeyRecord = [
    KEY_RECORD,
    dedupKey,
    k.id,
    k.device,
    k.source,
    k.kind,
    k.severity,
    k.summary,
    k.output,
    last,
    k.firstAt - last,
    k.count,
    k.held,
    k.windowEnd - last,
    k.escalateAt === undefined ? null : k.escalateAt - last,
    k.escalated ?? null,
    k.rateStart === undefined ? null : k.rateStart - last,
    k.rateN ?? null,
  ];
  if (k.ack !== undefined || k.alert !== undefined) r.push(k.ack ?? null, k.alert ?? null);
  return r;
}

export function isKeyRecord(r: unknown): r is KeyRecord {
  return Array.isArray(r) && r[0] === KEY_RECORD && typeof r[1] === 'string';
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The OpenKey a KeyRecord holds (fields of the wrong type left out; restoredKey decides whether it is usable). */
function keyOfRecord(r: KeyRecord): OpenKey {
  const last = num(r[9]);
  const at = (v: unknown) => (last === undefined || num(v) === undefined ? undefined : last + (v as number));
  const k = { id: r[2], device: r[3], source: r[4], kind: r[5], severity: r[6], summary: r[7], output: r[8], lastAt: last, firstAt: at(r[10]), count: r[11], held: r[12], windowEnd: at(r[13]) } as OpenKey;
  const escalateAt = at(r[14]);
  if (escalateAt !== undefined) k.escalateAt = escalateAt;
  if (typeof r[15] === 'boolean') k.escalated = r[15];
  const rateStart = at(r[16]);
  if (rateStart !== undefined) k.rateStart = rateStart;
  if (num(r[17]) !== undefined) k.rateN = r[17] as number;
  if (typeof r[18] === 'object' && r[18] !== null) k.ack = r[18] as Acknowledgement;
  if (typeof r[19] === 'object' && r[19] !== null) k.alert = r[19] as Alert;
  return k;
}

/**
 * What changed in the state since the last take: an open key as it is now (null when it was
 * forgotten), the keys forgotten (all in one: a flood forgets them by the hundred), or all
 * run-time maintenance windows.
 */
export type EngineChange = { k: string; v: OpenKey | null } | { forgotten: string[] } | { maintenance: MaintenanceWindow[] };

/** Lets go of a key's whole alert once neither a follow-up nor an escalation can need it. */
export function release(k: OpenKey): void {
  if (k.held === 0 && (k.escalateAt === undefined || k.escalated)) k.alert = undefined;
}

/** The alert as the policy left it: with its new severity, the original in the details. */
export function withSeverity(a: Alert, severity: Severity): Alert {
  return severity === a.severity ? a : { ...a, severity, details: { ...a.details, originalSeverity: a.severity } };
}

/**
 * When a key's latest repeat came as a draft, builds it: its id and the whole alert become the
 * key's, as if it had come whole. Done when something needs them (a follow-up, an escalation, a
 * resolve naming the trigger, the state file), once per key however many repeats came.
 */
export function buildLazyRepeat(k: OpenKey): void {
  const d = k[LAZY_REPEAT];
  if (!d) return;
  k[LAZY_REPEAT] = undefined;
  const a = withSeverity(d.build(), k.severity);
  k.id = a.id;
  k.alert = a;
}

/** A key's latest alert: the one kept, else made again from what the key remembers of it. */
export function alertOf(dedupKey: string, k: OpenKey): Alert {
  buildLazyRepeat(k);
  return (
    // The key's device may be shared by the keys of the device: the alert gets its own.
    k.alert ?? { id: k.id, dedupKey, time: isoTime(k.lastAt), device: { ...k.device }, source: k.source, kind: k.kind, severity: k.severity, state: 'trigger', summary: k.summary, details: {} }
  );
}

/** An open key read back from a state file (an OpenKey's JSON of any version, or a KeyRecord), or undefined when it cannot be used. */
export function restoredKey(v: unknown): OpenKey | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const k = isKeyRecord(v) ? keyOfRecord(v) : (v as OpenKey);
  const a = k.alert;
  if (a && typeof a === 'object') {
    a.details ??= {};
    // Version 1 kept only the alert: the key's own fields come from it.
    k.id ??= a.id;
    k.device ??= a.device ?? {};
    k.source ??= a.source;
    k.kind ??= a.kind;
    k.severity ??= a.severity;
    k.summary ??= a.summary;
  }
  if (typeof k.id !== 'string' || typeof k.kind !== 'string' || typeof k.lastAt !== 'number') return undefined;
  k.device ??= {};
  k.held = Number(k.held) || 0;
  release(k);
  return k;
}

/** Open keys from a state file, least recently seen first (as expiry and eviction expect). */
export function restoredKeys(state: EngineState | StoredEngineState | undefined): Array<[string, OpenKey]> {
  if (!state || (state.version !== 1 && state.version !== 2 && state.version !== 3)) return [];
  const restored: Array<[string, OpenKey]> = [];
  for (const entry of state.keys ?? []) {
    // Version 3: KeyRecords; before: [dedup key, key]. (A state rebuilt from a log can hold both.)
    const [k, v] = isKeyRecord(entry) ? [entry[1], entry] : Array.isArray(entry) ? entry : [];
    const key = typeof k === 'string' ? restoredKey(v) : undefined;
    if (key) restored.push([k as string, key]);
  }
  // Changes replayed from a log come in the order they were written, not by when last seen.
  if (restored.some(([, v], i) => i > 0 && v.lastAt < restored[i - 1][1].lastAt)) restored.sort((a, b) => a[1].lastAt - b[1].lastAt);
  return restored;
}

/**
 * Which keys changed since the last take(), each live key once per round, and whether the
 * run-time maintenance windows did. Persistence appends these instead of writing the whole state.
 */
export class ChangeTracker {
  /** Keys changed in this round, each with its OpenKey (marked GONE once let go: then left out). */
  private changedKeys: string[] = [];
  private changedValues: OpenKey[] = [];
  /**
   * Names let go in this round and not opened again since. Why a set of its own: whether a name
   * was opened again is known when it is (mark), so take() does not look each forgotten name up
   * in the engine's map of open keys, where a look-up of an old key misses the cache. Only while
   * the set is small (a round of the default durability: what came in one turn of the event
   * loop): a larger one is no cheaper to look in than the map, so past GONE_SET_MAX names mark()
   * stops keeping it exact and take() checks its names against the map instead.
   */
  private gone = new Set<string>();
  private goneExact = true;
  private round = 1;
  private maintenanceChanged = false;

  constructor(readonly enabled: boolean) {}

  /** A key changed (v: as it is now). Cheap for a key already noted in this round. */
  mark(k: string, v: OpenKey): void {
    if (!this.enabled || v[QUEUED] === this.round) return;
    v[QUEUED] = this.round;
    this.changedKeys.push(k);
    this.changedValues.push(v);
    // Opened again under a name let go in this round: the name is open, not forgotten.
    if (this.gone.size !== 0 && this.goneExact) this.gone.delete(k);
  }

  /** A key is forgotten, or replaced by a new OpenKey under its name (which is marked after this). */
  forgot(k: string, v: OpenKey): void {
    v[QUEUED] = GONE;
    if (!this.enabled) return;
    this.gone.add(k);
    if (this.gone.size > GONE_SET_MAX) this.goneExact = false;
  }

  markMaintenance(): void {
    this.maintenanceChanged = this.enabled;
  }

  /** Each changed key once, as it is now, the keys forgotten, and the windows if they changed. Order does not matter. */
  take(keys: ReadonlyMap<string, OpenKey>, maintenance: () => MaintenanceWindow[]): EngineChange[] {
    const out: EngineChange[] = [];
    const round = this.round++;
    const changed = this.changedKeys;
    const values = this.changedValues;
    this.changedKeys = [];
    this.changedValues = [];
    for (let i = 0; i < changed.length; i++) {
      const v = values[i];
      // A key let go since it changed is left out: what is open under its name now was marked itself.
      if (v[QUEUED] === GONE || v[QUEUED] === -round) continue;
      v[QUEUED] = -round;
      buildLazyRepeat(v);
      out.push({ k: changed[i], v });
    }
    if (this.gone.size !== 0) {
      const forgotten = this.goneExact ? [...this.gone] : [...this.gone].filter((k) => !keys.has(k));
      if (forgotten.length) out.push({ forgotten });
      this.gone = new Set();
      this.goneExact = true;
    }
    if (this.maintenanceChanged) out.push({ maintenance: maintenance() });
    this.maintenanceChanged = false;
    return out;
  }
}
