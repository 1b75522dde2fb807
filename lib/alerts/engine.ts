/**
 * The alert engine: every alert from every source goes through `process()`, which applies the
 * policy and decides, synchronously, whether it is emitted (on which output) or suppressed (and
 * why). Time-driven work (the count after a dedup window, escalations, the summary of what a
 * rate limit held back, expired maintenance) happens in `tick()`, which the engine runs once a
 * second on its own timer.
 *
 * Nothing is dropped silently: each suppression is counted by reason and reported to
 * `onSuppressed`, and what a rate limit holds back is summarized in one alert per output when
 * the limit's window ends.
 *
 *  - Dedup: the first trigger of a dedupKey is emitted at once. Repeats inside the window are
 *    counted, and when the window closes one follow-up carries the count ("repeated 14 times").
 *  - Resolve: clears the open trigger of its key (and its escalation) and is emitted with how
 *    long the condition lasted; a resolve with nothing open is suppressed.
 *  - Escalation: a trigger still open after `escalateMinutes` is emitted once more, marked
 *    escalated (rules can route escalations elsewhere with `match.escalated`).
 *  - Acknowledge: someone took an open condition on (acknowledge()). It goes out once as an alert
 *    with state 'acknowledge'; from then on its repeats are only counted (no follow-up, no new
 *    trigger after the dedup window: suppressed as 'acknowledged') and it does not escalate. Its
 *    resolve still goes out, and says who had acknowledged it.
 *  - Own actions: a trigger of a kind that OOBKit's own power/wake/boot action explains
 *    (heartbeat lost during our reset...) within `ownActionSeconds` is suppressed.
 *  - State (open keys, maintenance windows set by message) is exported by `snapshot()` and
 *    restored by the constructor, so a restart does not re-page for what was already sent
 *    (lib/alerts/open-keys: what a key holds, what is written, what changed). The rate limits
 *    are lib/alerts/rate-limit.
 */
import { lastOwnAction } from '../activity';
import { MaintenanceSchedule, MaintenanceWindow } from './maintenance';
import { InputError } from '../errors';
import { isoTime } from '../util/iso-time';
import { LazyList } from '../util/json-pieces';
import { Alert, AlertDraft, isDraft, Severity, stableId } from './alert';
import { alertOf, buildLazyRepeat, ChangeTracker, EngineChange, EngineState, keyRecord, LAZY_REPEAT, OpenKey, QUEUED, release, restoredKeys, StoredEngineState, withSeverity } from './open-keys';
import { Policy } from './policy';
import { RateLimits } from './rate-limit';

export type { Acknowledgement, EngineChange, EngineState, KeyRecord, OpenKey, StoredEngineState } from './open-keys';

/** Own actions that make a device go quiet for a while (fencing it off does not). */
const DISRUPTIVE_OWN_ACTIONS = ['power', 'wake', 'boot'] as const;

/** Alert kinds those actions cause on a device, suppressed for `ownActionSeconds` after one. */
export const OWN_ACTION_KINDS = new Set([
  'heartbeat-missed',
  'presence-lost',
  'agent-stopped',
  'agent-expired',
  'os-shutdown',
  'os-stop',
  'system-restart',
  'power-change',
  'firmware-progress',
  'redirection-session',
  'network-isolated',
]);

/** Open keys kept by default, and the bounds a user may set (see EngineOptions.maxKeys). */
export const OPEN_KEYS_DEFAULT = 50_000;
export const OPEN_KEYS_MIN = 100;
export const OPEN_KEYS_MAX = 1_000_000;

export type SuppressReason = 'policy' | 'maintenance' | 'own-action' | 'duplicate' | 'acknowledged' | 'rate-limit' | 'nothing-to-resolve' | 'capacity';

/** What acknowledge() did: the condition, who acknowledged it and when, and whether someone had already. */
export interface AckOutcome {
  dedupKey: string;
  /** The id of the condition's latest alert. */
  triggerId: string;
  device: Alert['device'];
  by: string;
  at: string;
  note?: string;
  /** It was acknowledged before (by `by`, at `at`): nothing went out this time. */
  already: boolean;
}

export interface Emission {
  /** 1-based output. */
  output: number;
  alert: Alert;
  /** This alert opened its condition (a first trigger, or one after the dedup window): see withdraw(). */
  opens?: boolean;
}

export interface EngineCounts {
  received: number;
  emitted: number;
  suppressed: number;
  byReason: Record<SuppressReason, number>;
}

export interface EngineOptions {
  emit: (e: Emission) => void;
  onSuppressed?: (alert: Alert, reason: SuppressReason) => void;
  /** Called after anything that snapshot() would show changed. */
  onStateChange?: () => void;
  /** Remember what changed, for takeChanges() (whoever sets this must call it now and then). */
  trackChanges?: boolean;
  /** What snapshot() or storedState() gave before (read from a state file). */
  state?: EngineState | StoredEngineState;
  now?: () => number;
  /**
   * Open keys kept at most. Default 50,000. When full, the least recently seen hundredth is
   * forgotten at once (each one counted as a 'capacity' suppression).
   */
  maxKeys?: number;
  /** An open trigger with no news for this long is forgotten. Default 7 days. */
  maxKeyAgeMs?: number;
  /** Run tick() on a timer (default true; tests drive it by hand). */
  timer?: boolean;
}

const EMPTY_REASONS = (): Record<SuppressReason, number> => ({
  policy: 0,
  maintenance: 0,
  'own-action': 0,
  duplicate: 0,
  acknowledged: 0,
  'rate-limit': 0,
  'nothing-to-resolve': 0,
  capacity: 0,
});

export class AlertEngine {
  readonly counts: EngineCounts = { received: 0, emitted: 0, suppressed: 0, byReason: EMPTY_REASONS() };
  private policy: Policy;
  /** Open keys, least recently seen first (every update moves a key to the end). */
  private readonly keys = new Map<string, OpenKey>();
  /** Keys with repeats not yet reported, and keys waiting to escalate: what tick() looks at. */
  private readonly heldKeys = new Set<string>();
  private readonly escalating = new Set<string>();
  private readonly rates = new RateLimits();
  private readonly schedule: MaintenanceSchedule;
  private readonly runtimeWindows: MaintenanceSchedule;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly maxKeyAgeMs: number;
  private timer?: NodeJS.Timeout;
  private readonly changes: ChangeTracker;

  constructor(
    policy: Policy,
    private readonly o: EngineOptions,
  ) {
    this.policy = policy;
    this.now = o.now ?? Date.now;
    if (o.maxKeys !== undefined && !(Number.isInteger(o.maxKeys) && o.maxKeys >= 1)) throw new InputError(`open keys kept at most must be a whole number of at least 1, not ${String(o.maxKeys)}`);
    this.maxKeys = o.maxKeys ?? OPEN_KEYS_DEFAULT;
    this.maxKeyAgeMs = o.maxKeyAgeMs ?? 7 * 24 * 3600_000;
    this.changes = new ChangeTracker(o.trackChanges === true);
    this.schedule = new MaintenanceSchedule(policy.config.maintenance);
    this.runtimeWindows = new MaintenanceSchedule([]);
    for (const [k, key] of restoredKeys(o.state)) {
      this.keys.delete(k);
      this.keys.set(k, key);
      this.watch(k, key);
    }
    // The state holds more than are kept now (the limit was lowered): the least recently seen go, counted.
    if (this.keys.size > this.maxKeys) {
      this.evictOldest(this.keys.size - this.maxKeys);
      this.changed();
    }
    if (o.state && (o.state.version === 1 || o.state.version === 2 || o.state.version === 3)) {
      for (const w of o.state.maintenance ?? []) {
        try {
          this.runtimeWindows.add(w);
        } catch {
          // a window that no longer parses is simply not restored
        }
      }
    }
    if (o.timer !== false) {
      this.timer = setInterval(() => this.tick(), 1000);
      this.timer.unref();
    }
  }

  get openKeys(): number {
    return this.keys.size;
  }

  setPolicy(p: Policy): void {
    this.policy = p;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  snapshot(): EngineState {
    for (const k of this.heldKeys) {
      const v = this.keys.get(k);
      if (v) buildLazyRepeat(v);
    }
    return { version: 2, keys: [...this.keys.entries()], maintenance: this.runtimeWindows.windows };
  }

  /**
   * The state as a state file keeps it: the open keys of now, each a KeyRecord of the key as it is
   * when the record is made (encoding a snapshot in pieces makes them one by one).
   */
  storedState(): StoredEngineState {
    const keys = new LazyList([...this.keys.entries()], ([k, v]: [string, OpenKey]) => {
      buildLazyRepeat(v);
      return keyRecord(k, v);
    });
    return { version: 3, keys, maintenance: this.runtimeWindows.windows };
  }

  /**
   * What changed since the last call (with trackChanges): each changed key once, as it is now,
   * and the keys forgotten since. Each record says how things are now, so their order does not
   * matter. Persistence appends these instead of writing the whole state again.
   */
  takeChanges(): EngineChange[] {
    return this.changes.take(this.keys, () => this.runtimeWindows.windows);
  }

  /** A window set at run time (from a message); kept across restarts until it ends. */
  addMaintenance(w: MaintenanceWindow): void {
    this.runtimeWindows.add(w);
    this.changes.markMaintenance();
    this.changed();
  }

  /** Ends run-time windows for a device/site (all of them when neither is given). */
  clearMaintenance(device?: string, site?: string): number {
    const n = this.runtimeWindows.clear((w) => (device === undefined || w.device === device) && (site === undefined || w.site === site));
    if (n) {
      this.changes.markMaintenance();
      this.changed();
    }
    return n;
  }

  get maintenanceWindows(): MaintenanceWindow[] {
    return [...this.schedule.windows, ...this.runtimeWindows.windows];
  }

  private changed(): void {
    this.o.onStateChange?.();
  }

  /**
   * Counts a suppression and tells the listener, if there is one, with the alert whole (a draft
   * is built only then) and `add` in its details.
   */
  private suppress(a: Alert | AlertDraft, severity: Severity, reason: SuppressReason, add?: Record<string, unknown>): void {
    this.counts.suppressed++;
    this.counts.byReason[reason]++;
    if (!this.o.onSuppressed) return;
    const whole = isDraft(a) ? withSeverity(a.build(), severity) : a;
    this.o.onSuppressed(add ? { ...whole, details: { ...whole.details, ...add } } : whole, reason);
  }

  /** As suppress, for a forgotten key: its alert is made again only when someone listens. */
  private suppressKey(k: string, v: OpenKey, reason: SuppressReason): void {
    this.counts.suppressed++;
    this.counts.byReason[reason]++;
    if (this.o.onSuppressed) this.o.onSuppressed(alertOf(k, v), reason);
  }

  private send(output: number, alert: Alert, opens?: boolean): void {
    this.counts.emitted++;
    this.o.emit(opens ? { output, alert, opens } : { output, alert });
  }

  /**
   * Takes back an emission that opened a condition but never reached anyone (the flow stopped
   * first): the condition is forgotten, so it is new again when it comes back.
   */
  withdraw(e: Emission): void {
    if (!e.opens) return;
    // Repeats counted since went to nobody either.
    const v = this.keys.get(e.alert.dedupKey);
    if (v) {
      this.forget(e.alert.dedupKey, v);
      this.changed();
    }
  }

  /**
   * One alert in; zero or one emission out, synchronously. A draft (AlertDraft) is built only if
   * it is emitted or something needs it whole: a repeat of an open condition is only counted.
   */
  process(input: Alert | AlertDraft): void {
    this.counts.received++;
    const t = this.now();
    const cfg = this.policy.config;
    const decision = this.policy.decide(input);
    const severity = decision.severity;
    const draft = isDraft(input) ? input : undefined;
    // The alert whole, as the policy left it (for a draft: not yet).
    const given = draft ? undefined : withSeverity(input as Alert, severity);
    if (decision.output === 0) return this.suppress(given ?? input, severity, 'policy');
    const dedupKey = input.dedupKey;
    const open = this.keys.get(dedupKey);

    if (input.state === 'resolve') {
      if (!open) return this.suppress(given ?? input, severity, 'nothing-to-resolve');
      buildLazyRepeat(open);
      this.forget(dedupKey, open);
      this.changed();
      const alert = given ?? withSeverity(draft!.build(), severity);
      const details: Record<string, unknown> = { ...alert.details, count: open.count, openSeconds: Math.round((t - open.firstAt) / 1000), triggerId: open.id };
      if (open.ack) Object.assign(details, ackDetails(open.ack));
      return this.send(decision.output, { ...alert, details });
    }

    const device = input.device;
    const window = this.schedule.covering(device, t) ?? this.runtimeWindows.covering(device, t);
    if (window) return this.suppress(given ?? input, severity, 'maintenance', { maintenance: window.name ?? true });

    if (cfg.ownActionSeconds > 0 && device.host && OWN_ACTION_KINDS.has(input.kind)) {
      // Power, wake and boot actions make PCs go quiet; fencing one off (defense) does not stop its
      // agent or heartbeat, so an alert after an isolate is real.
      const own = lastOwnAction(device.host, cfg.ownActionSeconds * 1000, t, DISRUPTIVE_OWN_ACTIONS);
      if (own) return this.suppress(given ?? input, severity, 'own-action', { ownAction: { kind: own.kind, action: own.action, at: new Date(own.at).toISOString() } });
    }

    if (open && t < open.windowEnd) {
      open.count++;
      open.held++;
      open.lastAt = t;
      // A draft stays one until the key needs it whole, unless a listener wants it now.
      const whole = given ?? (this.o.onSuppressed ? withSeverity(draft!.build(), severity) : undefined);
      if (whole) {
        open.alert = whole;
        open.id = whole.id;
        open[LAZY_REPEAT] = undefined;
      } else open[LAZY_REPEAT] = draft;
      open.device = device;
      open.severity = severity;
      open.summary = input.summary;
      this.touch(dedupKey, open);
      this.heldKeys.add(dedupKey);
      this.changes.mark(dedupKey, open);
      this.changed();
      return this.suppress(whole ?? input, severity, 'duplicate');
    }

    if (open?.ack) {
      // Someone is on it: the condition's news is kept, nobody is paged again until it resolves.
      open.count++;
      open.lastAt = t;
      open.device = device;
      open.severity = severity;
      open.summary = input.summary;
      this.touch(dedupKey, open);
      this.changes.mark(dedupKey, open);
      this.changed();
      return this.suppress(given ?? input, severity, 'acknowledged');
    }

    if (!this.rates.allow(cfg, input, severity, decision.output, t, open)) return this.suppress(given ?? input, severity, 'rate-limit');

    const alert = given ?? withSeverity(draft!.build(), severity);
    const count = (open?.count ?? 0) + 1;
    const key: OpenKey = {
      id: alert.id,
      // A draft's device: shared by the keys of the device (see AlertDraft), one object less per key.
      device: draft ? draft.device : alert.device,
      source: alert.source,
      kind: alert.kind,
      severity: alert.severity,
      summary: alert.summary,
      alert,
      output: decision.output,
      firstAt: open?.firstAt ?? t,
      lastAt: t,
      count,
      held: 0,
      windowEnd: t + cfg.dedupSeconds * 1000,
      escalateAt: cfg.escalateMinutes > 0 ? (open?.escalateAt ?? t + cfg.escalateMinutes * 60_000) : undefined,
      escalated: open?.escalated,
      rateStart: this.rates.rateStart,
      rateN: this.rates.rateN,
      // Made with the key: added later, they would cost every key a second object.
      [QUEUED]: 0,
      [LAZY_REPEAT]: undefined,
    };
    if (open) {
      this.keys.delete(alert.dedupKey);
      this.heldKeys.delete(alert.dedupKey);
      this.changes.forgot(alert.dedupKey, open);
    } else if (this.keys.size >= this.maxKeys) this.evictOldest();
    this.keys.set(alert.dedupKey, key);
    if (key.escalateAt !== undefined && !key.escalated) this.escalating.add(alert.dedupKey);
    release(key);
    this.changes.mark(alert.dedupKey, key);
    this.changed();
    this.send(decision.output, count > 1 ? { ...alert, details: { ...alert.details, count } } : alert, count === 1);
  }

  /** The open condition a person names: by its dedup key, or by the id of an alert it sent. */
  findOpen(ref: string): [string, OpenKey] | undefined {
    const byKey = this.keys.get(ref);
    if (byKey) return [ref, byKey];
    // An id: a linear look, made only when someone acknowledges by id.
    for (const [k, v] of this.keys) {
      buildLazyRepeat(v);
      if (v.id === ref || v.alert?.id === ref) return [k, v];
    }
    return undefined;
  }

  /**
   * Someone takes an open condition on. The acknowledgement is kept with the condition (and in
   * the state), goes out once as an alert with state 'acknowledge' on the condition's output, and
   * stops its follow-ups and escalation until it resolves. Acknowledging it again changes nothing.
   * Throws an InputError when nothing open has that key or id.
   */
  acknowledge(ref: string, by: string, note?: string, t = this.now()): AckOutcome {
    const found = this.findOpen(ref);
    if (!found) throw new InputError(`no open alert has the key or id "${ref.slice(0, 200)}" (resolved already, or never sent)`);
    const [k, v] = found;
    const outcome = (already: boolean): AckOutcome => ({
      dedupKey: k,
      triggerId: v.id,
      device: { ...v.device },
      by: v.ack!.by,
      at: isoTime(v.ack!.at),
      ...(v.ack!.note ? { note: v.ack!.note } : {}),
      already,
    });
    if (v.ack) return outcome(true);
    const latest = alertOf(k, v);
    v.ack = note ? { by, at: t, note } : { by, at: t };
    this.escalating.delete(k);
    this.changes.mark(k, v);
    this.changed();
    const details: Record<string, unknown> = { ...latest.details, count: v.count, triggerId: v.id, ...ackDetails(v.ack) };
    delete details.escalated;
    this.send(v.output, { ...latest, id: stableId(v.id, 'acknowledge', t), time: isoTime(t), state: 'acknowledge', summary: `Acknowledged by ${by}: ${latest.summary}`, details });
    release(v);
    return outcome(false);
  }

  private touch(k: string, v: OpenKey): void {
    // Map order = least recently seen first, for eviction and expiry.
    this.keys.delete(k);
    this.keys.set(k, v);
  }

  /** Remembers which keys tick() has to look at. */
  private watch(k: string, v: OpenKey): void {
    if (v.held > 0) this.heldKeys.add(k);
    if (v.escalateAt !== undefined && !v.escalated && !v.ack) this.escalating.add(k);
    else this.escalating.delete(k);
  }

  private forget(k: string, v = this.keys.get(k)): void {
    if (!v) return;
    this.keys.delete(k);
    this.heldKeys.delete(k);
    this.escalating.delete(k);
    this.changes.forgot(k, v);
  }

  /**
   * Forgets the `n` least recently seen keys (by default a hundredth of the limit), each counted.
   * In batches: finding a Map's first entry walks over the entries deleted before it, so evicting
   * one key per new key would cost a walk over thousands of deleted entries every time.
   */
  private evictOldest(n = Math.max(1, Math.ceil(this.maxKeys / 100))): void {
    for (const [k, v] of this.keys) {
      this.forget(k, v);
      this.suppressKey(k, v, 'capacity');
      if (--n === 0) break;
    }
  }

  /**
   * Time-driven work; safe to call at any rate. It looks only at keys with repeats to report,
   * keys waiting to escalate and the oldest keys, not at every open key.
   */
  tick(t = this.now()): void {
    const cfg = this.policy.config;
    let changed = false;
    for (const k of this.heldKeys) {
      const v = this.keys.get(k);
      if (!v || v.held === 0) {
        this.heldKeys.delete(k);
        continue;
      }
      if (t < v.windowEnd) continue;
      if (v.ack) {
        // Acknowledged: the repeats stay counted (v.count), no follow-up goes out.
        v.held = 0;
        v.windowEnd = t + cfg.dedupSeconds * 1000;
        this.heldKeys.delete(k);
        this.changes.mark(k, v);
        changed = true;
        release(v);
        continue;
      }
      const repeats = v.held;
      const minutes = Math.max(1, Math.round(cfg.dedupSeconds / 60));
      const latest = alertOf(k, v);
      v.held = 0;
      v.windowEnd = t + cfg.dedupSeconds * 1000;
      this.heldKeys.delete(k);
      this.changes.mark(k, v);
      changed = true;
      this.send(v.output, {
        ...latest,
        summary: `${latest.summary} (repeated ${repeats} more time${repeats === 1 ? '' : 's'} in ${minutes} min)`,
        details: { ...latest.details, count: v.count, repeats },
      });
      release(v);
    }
    for (const k of this.escalating) {
      const v = this.keys.get(k);
      if (!v || v.escalateAt === undefined || v.escalated || v.ack) {
        this.escalating.delete(k);
        continue;
      }
      if (t < v.escalateAt) continue;
      v.escalated = true;
      this.escalating.delete(k);
      this.changes.mark(k, v);
      changed = true;
      const minutes = Math.round((t - v.firstAt) / 60000);
      const latest = alertOf(k, v);
      const escalated: Alert = { ...latest, summary: `Escalated, unresolved for ${minutes} min: ${latest.summary}`, details: { ...latest.details, escalated: true, count: v.count } };
      const d = this.policy.decide(escalated);
      if (d.output > 0) this.send(d.output, { ...escalated, severity: d.severity });
      release(v);
    }
    // Least recently seen first: the keys with no news for too long are at the front.
    for (const [k, v] of this.keys) {
      if (t - v.lastAt <= this.maxKeyAgeMs) break;
      if (v.held > 0) continue;
      this.forget(k, v);
      changed = true;
    }
    for (const e of this.rates.takeSummaries(t)) this.send(e.output, e.alert);
    const before = this.runtimeWindows.windows.length;
    if (this.runtimeWindows.prune(t).length !== before) {
      this.changes.markMaintenance();
      changed = true;
    }
    if (changed) this.changed();
  }
}

/** What an alert says about an acknowledgement (the acknowledge itself, and the resolve after it). */
function ackDetails(a: { by: string; at: number; note?: string }): Record<string, unknown> {
  const d: Record<string, unknown> = { acknowledgedBy: a.by, acknowledgedAt: isoTime(a.at) };
  if (a.note) d.acknowledgeNote = a.note;
  return d;
}
