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
 *  - Own actions: a trigger of a kind that OOBKit's own power/wake/boot action explains
 *    (heartbeat lost during our reset...) within `ownActionSeconds` is suppressed.
 *  - State (open keys, maintenance windows set by message) is exported by `snapshot()` and
 *    restored by the constructor, so a restart does not re-page for what was already sent.
 */
import { lastOwnAction } from '../activity';
import { isoTime } from '../util/iso-time';
import { Alert, AlertDevice, AlertDraft, AlertFacts, AlertSource, deviceLabel, isDraft, moreSevere, Severity } from './alert';
import { MaintenanceSchedule, MaintenanceWindow } from './maintenance';
import { Policy } from './policy';

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

export type SuppressReason = 'policy' | 'maintenance' | 'own-action' | 'duplicate' | 'rate-limit' | 'nothing-to-resolve' | 'capacity';

export interface Emission {
  /** 1-based output. */
  output: number;
  alert: Alert;
}

export interface EngineCounts {
  received: number;
  emitted: number;
  suppressed: number;
  byReason: Record<SuppressReason, number>;
}

/**
 * On an open key: the takeChanges() round in which it was queued as changed (negative: already
 * taken in that round). A symbol, so the state written to disk never holds it.
 */
const QUEUED: unique symbol = Symbol('queued');
/** On an open key: its latest repeat when it came as a draft, not built yet (see settle()). */
const DRAFT: unique symbol = Symbol('draft');

export interface OpenKey {
  [QUEUED]?: number;
  [DRAFT]?: AlertDraft;
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
  /** The per-key rate limit's window: when it started and how many alerts it let through. */
  rateStart?: number;
  rateN?: number;
}

interface RateWindow {
  start: number;
  n: number;
}

interface Held {
  count: number;
  severity: Severity;
  byKind: Record<string, number>;
  devices: Set<string>;
  first: AlertFacts;
}

export interface EngineState {
  /** 1: each key kept its whole latest alert (still read); 2: keys as OpenKey is now. */
  version: 1 | 2;
  keys: Array<[string, OpenKey]>;
  maintenance: MaintenanceWindow[];
}

/**
 * What changed in the state since the last takeChanges(): an open key as it is now (null when it
 * was forgotten), the keys forgotten (all in one: a flood forgets them by the hundred), or all
 * run-time maintenance windows.
 */
export type EngineChange = { k: string; v: OpenKey | null } | { forgotten: string[] } | { maintenance: MaintenanceWindow[] };

export interface EngineOptions {
  emit: (e: Emission) => void;
  onSuppressed?: (alert: Alert, reason: SuppressReason) => void;
  /** Called after anything that snapshot() would show changed. */
  onStateChange?: () => void;
  /** Remember what changed, for takeChanges() (whoever sets this must call it now and then). */
  trackChanges?: boolean;
  state?: EngineState;
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

/** Lets go of a key's whole alert once neither a follow-up nor an escalation can need it. */
function release(k: OpenKey): void {
  if (k.held === 0 && (k.escalateAt === undefined || k.escalated)) k.alert = undefined;
}

/** The alert as the policy left it: with its new severity, the original in the details. */
function withSeverity(a: Alert, severity: Severity): Alert {
  return severity === a.severity ? a : { ...a, severity, details: { ...a.details, originalSeverity: a.severity } };
}

/**
 * When a key's latest repeat came as a draft, builds it: its id and the whole alert become the
 * key's, as if it had come whole. Done when something needs them (a follow-up, an escalation, a
 * resolve naming the trigger, the state file), once per key however many repeats came.
 */
function settle(k: OpenKey): void {
  const d = k[DRAFT];
  if (!d) return;
  k[DRAFT] = undefined;
  const a = withSeverity(d.build(), k.severity);
  k.id = a.id;
  k.alert = a;
}

/** A key's latest alert: the one kept, else made again from what the key remembers of it. */
function alertOf(dedupKey: string, k: OpenKey): Alert {
  settle(k);
  return (
    k.alert ?? { id: k.id, dedupKey, time: isoTime(k.lastAt), device: k.device, source: k.source, kind: k.kind, severity: k.severity, state: 'trigger', summary: k.summary, details: {} }
  );
}

/** An open key read back from a state file (either version), or undefined when it cannot be used. */
function restoredKey(v: unknown): OpenKey | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const k = v as OpenKey;
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

const EMPTY_REASONS = (): Record<SuppressReason, number> => ({
  policy: 0,
  maintenance: 0,
  'own-action': 0,
  duplicate: 0,
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
  private globalRate: RateWindow = { start: 0, n: 0 };
  /** The per-key rate window allowedByRate() leaves for the key it let through. */
  private rateStart?: number;
  private rateN?: number;
  private readonly held = new Map<number, Held>();
  private heldWindowEnd = 0;
  private readonly schedule: MaintenanceSchedule;
  private readonly runtimeWindows: MaintenanceSchedule;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly maxKeyAgeMs: number;
  private timer?: NodeJS.Timeout;
  /** Keys changed since takeChanges() (with trackChanges), each live key once per round. */
  private changedKeys: string[] = [];
  private changeRound = 1;
  private maintenanceChanged = false;
  private readonly tracking: boolean;

  constructor(
    policy: Policy,
    private readonly o: EngineOptions,
  ) {
    this.policy = policy;
    this.now = o.now ?? Date.now;
    this.maxKeys = o.maxKeys ?? 50_000;
    this.maxKeyAgeMs = o.maxKeyAgeMs ?? 7 * 24 * 3600_000;
    this.tracking = o.trackChanges === true;
    this.schedule = new MaintenanceSchedule(policy.config.maintenance);
    this.runtimeWindows = new MaintenanceSchedule([]);
    if (o.state && (o.state.version === 1 || o.state.version === 2)) {
      const restored: Array<[string, OpenKey]> = [];
      for (const [k, v] of o.state.keys ?? []) {
        const key = restoredKey(v);
        if (key) restored.push([k, key]);
      }
      // Least recently seen first, as expiry and eviction expect (changes replayed from a log
      // come in the order they were written, not in that order).
      if (restored.some(([, v], i) => i > 0 && v.lastAt < restored[i - 1][1].lastAt)) restored.sort((a, b) => a[1].lastAt - b[1].lastAt);
      for (const [k, key] of restored) {
        this.keys.delete(k);
        this.keys.set(k, key);
        this.watch(k, key);
      }
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
      if (v) settle(v);
    }
    return { version: 2, keys: [...this.keys.entries()], maintenance: this.runtimeWindows.windows };
  }

  /**
   * What changed since the last call (with trackChanges): each changed key once, as it is now,
   * and the keys forgotten since. Each record says how things are now, so their order does not
   * matter. Persistence appends these instead of writing the whole state again.
   */
  takeChanges(): EngineChange[] {
    const out: EngineChange[] = [];
    const round = this.changeRound++;
    const changed = this.changedKeys;
    this.changedKeys = [];
    const forgotten: string[] = [];
    for (const k of changed) {
      const v = this.keys.get(k);
      if (!v) forgotten.push(k);
      else if (v[QUEUED] !== -round) {
        // A key forgotten and opened again in the round is queued twice: taken once.
        v[QUEUED] = -round;
        settle(v);
        out.push({ k, v });
      }
    }
    if (forgotten.length) out.push({ forgotten });
    if (this.maintenanceChanged) out.push({ maintenance: this.runtimeWindows.windows });
    this.maintenanceChanged = false;
    return out;
  }

  /** A window set at run time (from a message); kept across restarts until it ends. */
  addMaintenance(w: MaintenanceWindow): void {
    this.runtimeWindows.add(w);
    this.maintenanceChanged = this.tracking;
    this.changed();
  }

  /** Ends run-time windows for a device/site (all of them when neither is given). */
  clearMaintenance(device?: string, site?: string): number {
    const n = this.runtimeWindows.clear((w) => (device === undefined || w.device === device) && (site === undefined || w.site === site));
    if (n) {
      this.maintenanceChanged = this.tracking;
      this.changed();
    }
    return n;
  }

  /**
   * Notes that a key changed (v: as it is now) or was forgotten, for takeChanges(). Cheap for a
   * key already noted in this round: a flood of repeats changes the same keys over and over.
   */
  private mark(k: string, v?: OpenKey): void {
    if (!this.tracking) return;
    if (v) {
      if (v[QUEUED] === this.changeRound) return;
      v[QUEUED] = this.changeRound;
    }
    this.changedKeys.push(k);
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

  private send(output: number, alert: Alert): void {
    this.counts.emitted++;
    this.o.emit({ output, alert });
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
      settle(open);
      this.forget(dedupKey, open);
      this.changed();
      const alert = given ?? withSeverity(draft!.build(), severity);
      const details = { ...alert.details, count: open.count, openSeconds: Math.round((t - open.firstAt) / 1000), triggerId: open.id };
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
        open[DRAFT] = undefined;
      } else open[DRAFT] = draft;
      open.device = device;
      open.severity = severity;
      open.summary = input.summary;
      this.touch(dedupKey, open);
      this.heldKeys.add(dedupKey);
      this.mark(dedupKey, open);
      this.changed();
      return this.suppress(whole ?? input, severity, 'duplicate');
    }

    if (!this.allowedByRate(input, severity, decision.output, t, open)) return this.suppress(given ?? input, severity, 'rate-limit');

    const alert = given ?? withSeverity(draft!.build(), severity);
    const count = (open?.count ?? 0) + 1;
    const key: OpenKey = {
      id: alert.id,
      device: alert.device,
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
      rateStart: this.rateStart,
      rateN: this.rateN,
      // Made with the key: added later, they would cost every key a second object.
      [QUEUED]: 0,
      [DRAFT]: undefined,
    };
    if (open) {
      this.keys.delete(alert.dedupKey);
      this.heldKeys.delete(alert.dedupKey);
    } else if (this.keys.size >= this.maxKeys) this.evictOldest();
    this.keys.set(alert.dedupKey, key);
    if (key.escalateAt !== undefined && !key.escalated) this.escalating.add(alert.dedupKey);
    release(key);
    this.mark(alert.dedupKey, key);
    this.changed();
    this.send(decision.output, count > 1 ? { ...alert, details: { ...alert.details, count } } : alert);
  }

  private touch(k: string, v: OpenKey): void {
    // Map order = least recently seen first, for eviction and expiry.
    this.keys.delete(k);
    this.keys.set(k, v);
  }

  /** Remembers which keys tick() has to look at. */
  private watch(k: string, v: OpenKey): void {
    if (v.held > 0) this.heldKeys.add(k);
    if (v.escalateAt !== undefined && !v.escalated) this.escalating.add(k);
    else this.escalating.delete(k);
  }

  private forget(k: string, v = this.keys.get(k)): void {
    if (!v) return;
    this.keys.delete(k);
    this.heldKeys.delete(k);
    this.escalating.delete(k);
    // Queued already in this round: takeChanges() will find it gone.
    if (v[QUEUED] !== this.changeRound) this.mark(k);
  }

  /**
   * Forgets the least recently seen hundredth of the keys. In batches: finding a Map's first entry
   * walks over the entries deleted before it, so evicting one key per new key would cost a walk
   * over thousands of deleted entries every time.
   */
  private evictOldest(): void {
    let n = Math.max(1, Math.ceil(this.maxKeys / 100));
    for (const [k, v] of this.keys) {
      this.forget(k, v);
      this.suppressKey(k, v, 'capacity');
      if (--n === 0) break;
    }
  }

  /**
   * Whether the rate limits let the alert through (else it is held back). When they do and there
   * is a per-key limit, the key's window after this alert is left in rateStart and rateN.
   */
  private allowedByRate(alert: AlertFacts, severity: Severity, output: number, t: number, open?: OpenKey): boolean {
    const cfg = this.policy.config;
    const perKey = cfg.rateLimitPerKey;
    const global = cfg.rateLimitGlobal;
    let start: number | undefined;
    let n = 0;
    if (perKey) {
      const fresh = open?.rateStart === undefined || t - open.rateStart >= perKey.seconds * 1000;
      start = fresh ? t : open!.rateStart!;
      n = fresh ? 0 : (open!.rateN ?? 0);
      if (n >= perKey.count) return this.hold(alert, severity, output, t, perKey.seconds);
    }
    if (global) {
      if (t - this.globalRate.start >= global.seconds * 1000) this.globalRate = { start: t, n: 0 };
      if (this.globalRate.n >= global.count) return this.hold(alert, severity, output, t, global.seconds);
      this.globalRate.n++;
    }
    this.rateStart = start;
    this.rateN = start === undefined ? undefined : n + 1;
    return true;
  }

  private hold(alert: AlertFacts, severity: Severity, output: number, t: number, seconds: number): false {
    let h = this.held.get(output);
    if (!h) {
      h = { count: 0, severity, byKind: {}, devices: new Set(), first: alert };
      this.held.set(output, h);
    }
    h.count++;
    h.severity = moreSevere(h.severity, severity);
    h.byKind[alert.kind] = (h.byKind[alert.kind] ?? 0) + 1;
    if (h.devices.size < 1000) h.devices.add(deviceLabel(alert.device));
    if (this.heldWindowEnd === 0) this.heldWindowEnd = t + seconds * 1000;
    return false;
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
      const repeats = v.held;
      const minutes = Math.max(1, Math.round(cfg.dedupSeconds / 60));
      const latest = alertOf(k, v);
      v.held = 0;
      v.windowEnd = t + cfg.dedupSeconds * 1000;
      this.heldKeys.delete(k);
      this.mark(k, v);
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
      if (!v || v.escalateAt === undefined || v.escalated) {
        this.escalating.delete(k);
        continue;
      }
      if (t < v.escalateAt) continue;
      v.escalated = true;
      this.escalating.delete(k);
      this.mark(k, v);
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
    if (this.heldWindowEnd !== 0 && t >= this.heldWindowEnd) this.flushHeld(t);
    const before = this.runtimeWindows.windows.length;
    if (this.runtimeWindows.prune(t).length !== before) {
      this.maintenanceChanged = this.tracking;
      changed = true;
    }
    if (changed) this.changed();
  }

  private flushHeld(t: number): void {
    this.heldWindowEnd = 0;
    for (const [output, h] of this.held) {
      const kinds = Object.entries(h.byKind)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} ${k}`);
      const devices = [...h.devices];
      const shown = devices.slice(0, 3).join(', ') + (devices.length > 3 ? ` +${devices.length - 3} more` : '');
      this.send(output, {
        id: `held-${t}-${output}`,
        dedupKey: `oobkit/held-back/${output}`,
        time: new Date(t).toISOString(),
        device: devices.length === 1 ? h.first.device : {},
        source: h.first.source,
        kind: 'held-back',
        severity: h.severity,
        state: 'trigger',
        summary: `Rate limit held back ${h.count} alert${h.count === 1 ? '' : 's'}: ${kinds.join(', ')} (${shown})`,
        details: { held: h.count, byKind: h.byKind, devices },
      });
    }
    this.held.clear();
  }
}
