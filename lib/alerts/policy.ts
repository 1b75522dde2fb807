/**
 * The alert policy: ordered rules that match an alert on source, kind, severity, device and site
 * (and state, escalation) and decide what happens to it: route it to an output, drop it, or change
 * its severity and go on to the next rule. The first `route` or `drop` rule that matches decides;
 * an alert no rule decides goes to the default route.
 *
 * Matching values are written the way a person types them in the editor: comma-separated
 * alternatives with `*` wildcards ("fan-*, temperature-*"), "!" to negate ("!info"), and for
 * severity also ">=major" (major or worse) and "<=warning" (warning or milder).
 */
import { InputError } from '../errors';
import type { AlertFacts } from './alert';
import { ALERT_SOURCES, isSeverity, isSource, Severity, severityRank, SEVERITIES } from './vocabulary';
import { MaintenanceWindow, parseWindows } from './maintenance';

export interface RuleMatch {
  source?: string;
  kind?: string;
  severity?: string;
  device?: string;
  site?: string;
  state?: 'trigger' | 'resolve' | '';
  /** true: only escalations; false: never escalations. */
  escalated?: boolean;
}

export interface Rule {
  name?: string;
  match: RuleMatch;
  action: 'route' | 'drop' | 'severity';
  /** For route: 1-based output number. */
  output?: number;
  /** For severity: the new severity. */
  severity?: Severity;
}

export interface RateLimit {
  count: number;
  seconds: number;
}

export interface PolicyConfig {
  rules: Rule[];
  /** Names of the outputs, in order; one output each. */
  outputs: string[];
  /** 1-based output for alerts no rule decides; 0 drops them. */
  defaultOutput: number;
  /** Same dedupKey inside this many seconds: emitted once, counted. 0 = off. */
  dedupSeconds: number;
  /** Per dedupKey. */
  rateLimitPerKey?: RateLimit;
  /** Across all alerts of this policy. */
  rateLimitGlobal?: RateLimit;
  /** Unresolved after this many minutes: emitted again, escalated. 0 = off. */
  escalateMinutes: number;
  maintenance: MaintenanceWindow[];
  /** Alerts OOBKit's own power/wake/boot actions cause are suppressed for this long. 0 = off. */
  ownActionSeconds: number;
}

export const DEFAULT_POLICY: PolicyConfig = {
  rules: [],
  outputs: ['alerts'],
  defaultOutput: 1,
  dedupSeconds: 300,
  rateLimitPerKey: { count: 5, seconds: 60 },
  rateLimitGlobal: { count: 200, seconds: 60 },
  escalateMinutes: 0,
  maintenance: [],
  ownActionSeconds: 180,
};

type Matcher = (value: string | undefined) => boolean;

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

/** "a, b*, !c" -> matches a or b-anything, and never c. Empty -> matches everything. */
export function compileList(pattern: string | undefined, what: string): Matcher {
  return compileListOrAny(pattern, what) ?? (() => true);
}

interface ListPattern {
  include: RegExp[];
  exclude: RegExp[];
}

/** The alternatives of a pattern; undefined for an empty one (nothing to test). */
function parseList(pattern: string | undefined, what: string): ListPattern | undefined {
  const parts = (pattern ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return undefined;
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const p of parts) {
    const neg = p.startsWith('!');
    const g = neg ? p.slice(1).trim() : p;
    if (!g) throw new InputError(`${what}: "!" needs a value after it`);
    (neg ? exclude : include).push(globToRegExp(g));
  }
  return { include, exclude };
}

/** As compileList, but undefined for an empty pattern (nothing to test). */
function compileListOrAny(pattern: string | undefined, what: string): Matcher | undefined {
  const list = parseList(pattern, what);
  if (!list) return undefined;
  const { include, exclude } = list;
  // One alternative is the usual case: test it directly.
  if (exclude.length === 0 && include.length === 1) {
    const [r] = include;
    return (value) => r.test(value ?? '');
  }
  if (include.length === 0 && exclude.length === 1) {
    const [r] = exclude;
    return (value) => !r.test(value ?? '');
  }
  return (value) => {
    const v = value ?? '';
    for (const r of exclude) if (r.test(v)) return false;
    if (include.length === 0) return true;
    for (const r of include) if (r.test(v)) return true;
    return false;
  };
}

/**
 * For a thing known by several names (a device: its name and its host): excluded when any of its
 * names is excluded, else matched when any is included (or nothing is listed to include).
 */
function compileNamesOrAny(pattern: string | undefined, what: string): ((names: Array<string | undefined>) => boolean) | undefined {
  const list = parseList(pattern, what);
  if (!list) return undefined;
  const { include, exclude } = list;
  return (names) => {
    const known = names.filter((n): n is string => n !== undefined);
    const vs = known.length ? known : [''];
    if (vs.some((v) => exclude.some((r) => r.test(v)))) return false;
    return include.length === 0 || vs.some((v) => include.some((r) => r.test(v)));
  };
}

function compileSeverity(pattern: string | undefined): Matcher | undefined {
  const p = (pattern ?? '').trim();
  const m = /^(>=|<=|>|<)\s*([a-z]+)$/.exec(p);
  if (!m) {
    for (const part of p.split(',').map((x) => x.trim().replace(/^!/, ''))) {
      if (part && !part.includes('*') && !isSeverity(part)) throw new InputError(`severity "${part}" is not one of ${SEVERITIES.join(', ')}`);
    }
    return compileListOrAny(p, 'severity');
  }
  const [, op, name] = m;
  if (!isSeverity(name)) throw new InputError(`severity "${name}" is not one of ${SEVERITIES.join(', ')}`);
  const r = severityRank(name);
  // Lower rank = more severe; ">=major" means major or more severe.
  const test = { '>=': (x: number) => x <= r, '>': (x: number) => x < r, '<=': (x: number) => x >= r, '<': (x: number) => x > r }[op as '>='];
  return (value) => isSeverity(value) && test(severityRank(value));
}

/** What the memory of decisions keys an alert by: one part of it that a rule can test. */
type Fact = (a: AlertFacts) => unknown;

// Each part as the alert has it: a missing device text and an empty one are kept apart, which
// only ever costs a second entry (rules read both as empty).
const SEVERITY: Fact = (a) => a.severity;
const SOURCE: Fact = (a) => a.source;
const KIND: Fact = (a) => a.kind;
const STATE: Fact = (a) => a.state;
const NAME: Fact = (a) => a.device.name;
const HOST: Fact = (a) => a.device.host;
const SITE: Fact = (a) => a.device.site;
const ESCALATED: Fact = (a) => a.details.escalated;

interface CompiledRule {
  rule: Rule;
  index: number;
  /** The parts of an alert its test looks at. */
  reads: Fact[];
  test(a: AlertFacts): boolean;
}

/** Decisions already made: one level per part of the key, the decision at the end. */
interface Memory {
  next: Map<unknown, Memory>;
  decision?: Decision;
}

export interface Decision {
  /** 1-based output, or 0 when dropped. */
  output: number;
  severity: Severity;
  /** The rule that decided (index in the policy), or -1 for the default. */
  ruleIndex: number;
  ruleName?: string;
}

export class Policy {
  readonly config: PolicyConfig;
  private readonly compiled: CompiledRule[];
  /** What the memory of decisions is keyed by: the severity (every decision carries it) and what any rule looks at. */
  private readonly key: Fact[];

  constructor(config: Partial<PolicyConfig> = {}) {
    this.config = checkPolicy({ ...DEFAULT_POLICY, ...config });
    this.compiled = this.config.rules.map((rule, index) => compileRule(rule, index));
    this.key = [...new Set([SEVERITY, ...this.compiled.flatMap((c) => c.reads)])];
  }

  get outputCount(): number {
    return this.config.outputs.length;
  }

  /** The name of output `n` (1-based): the route an alert leaves by. */
  outputName(n: number): string {
    return this.config.outputs[n - 1] ?? `output ${n}`;
  }

  /**
   * Decisions already made, by what the rules look at: the severity, then each part of an alert
   * that some rule tests (source, kind, state, device name and host, site, escalated). Alerts come
   * in a few combinations and a flood repeats them: the rules run once per combination, and a part
   * no rule reads costs no look-up and does not multiply the combinations (a policy with no device
   * rule remembers one decision for all devices). Bounded: emptied when full.
   */
  private memory: Memory = { next: new Map() };
  private remembered = 0;

  /** Walks the rules; the alert is not changed (the severity to use is in the decision). */
  decide(alert: AlertFacts): Decision {
    let m = this.memory;
    for (const fact of this.key) {
      const value = fact(alert);
      let next = m.next.get(value);
      if (!next) m.next.set(value, (next = { next: new Map() }));
      m = next;
    }
    if (m.decision) return m.decision;
    const decision = Object.freeze(this.walk(alert));
    if (++this.remembered > 4096) {
      this.memory = { next: new Map() };
      this.remembered = 0;
    } else m.decision = decision;
    return decision;
  }

  private walk(alert: AlertFacts): Decision {
    let severity = alert.severity;
    let view = alert;
    for (const c of this.compiled) {
      if (!c.test(view)) continue;
      const r = c.rule;
      if (r.action === 'severity' && r.severity) {
        if (r.severity !== severity) {
          severity = r.severity;
          view = { ...view, severity };
        }
        continue;
      }
      return { output: r.action === 'drop' ? 0 : (r.output ?? 1), severity, ruleIndex: c.index, ruleName: r.name };
    }
    return { output: this.config.defaultOutput, severity, ruleIndex: -1 };
  }
}

function compileRule(rule: Rule, index: number): CompiledRule {
  const what = `rule ${index + 1}${rule.name ? ` (${rule.name})` : ''}`;
  const m = rule.match ?? {};
  for (const s of (m.source ?? '').split(',').map((x) => x.trim().replace(/^!/, ''))) {
    if (s && !s.includes('*') && !isSource(s)) throw new InputError(`${what}: source "${s}" is not one of ${ALERT_SOURCES.join(', ')}`);
  }
  const source = compileListOrAny(m.source, `${what} source`);
  const kind = compileListOrAny(m.kind, `${what} kind`);
  const device = compileNamesOrAny(m.device, `${what} device`);
  const site = compileListOrAny(m.site, `${what} site`);
  let severity: Matcher | undefined;
  try {
    severity = compileSeverity(m.severity);
  } catch (e) {
    throw new InputError(`${what}: ${(e as Error).message}`);
  }
  const state = m.state || undefined;
  const escalated = typeof m.escalated === 'boolean' ? m.escalated : undefined;
  // Only the conditions the rule has, cheapest and most selective first (kind, then state).
  const tests: Array<(a: AlertFacts) => boolean> = [];
  const reads: Fact[] = [];
  if (kind) {
    tests.push((a) => kind(a.kind));
    reads.push(KIND);
  }
  if (state !== undefined) {
    tests.push((a) => a.state === state);
    reads.push(STATE);
  }
  if (source) {
    tests.push((a) => source(a.source));
    reads.push(SOURCE);
  }
  if (severity) {
    const sev = severity;
    tests.push((a) => sev(a.severity));
  }
  if (device) {
    tests.push((a) => device([a.device.name, a.device.host]));
    reads.push(NAME, HOST);
  }
  if (site) {
    tests.push((a) => site(a.device.site));
    reads.push(SITE);
  }
  if (escalated !== undefined) {
    tests.push((a) => (a.details.escalated === true) === escalated);
    reads.push(ESCALATED);
  }
  const [t1, t2, t3] = tests;
  const test: (a: AlertFacts) => boolean =
    tests.length === 0
      ? () => true
      : tests.length === 1
        ? t1
        : tests.length === 2
          ? (a) => t1(a) && t2(a)
          : tests.length === 3
            ? (a) => t1(a) && t2(a) && t3(a)
            : (a) => {
                for (const t of tests) if (!t(a)) return false;
                return true;
              };
  return { rule, index, reads, test };
}

function positiveOrZero(v: unknown, what: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new InputError(`${what} must be a number of 0 or more, got "${String(v)}"`);
  return n;
}

function checkRate(r: RateLimit | undefined, what: string): RateLimit | undefined {
  if (!r) return undefined;
  const count = positiveOrZero(r.count, `${what} count`);
  const seconds = positiveOrZero(r.seconds, `${what} seconds`);
  if (count === 0 || seconds === 0) return undefined;
  return { count: Math.floor(count), seconds };
}

/** One rule's action and output checked and normalized (its match is checked when compiled). */
function normalizeRule(r: Rule, i: number, outputCount: number): Rule {
  const what = `rule ${i + 1}`;
  if (typeof r !== 'object' || r === null) throw new InputError(`${what} is not an object`);
  if (!['route', 'drop', 'severity'].includes(r.action)) throw new InputError(`${what}: action must be route, drop or severity, got "${String(r.action)}"`);
  if (r.action === 'route') {
    const o = Number(r.output ?? 1);
    if (!Number.isInteger(o) || o < 1 || o > outputCount) throw new InputError(`${what}: output ${String(r.output)} does not exist (1-${outputCount})`);
    return { ...r, output: o, match: r.match ?? {} };
  }
  if (r.action === 'severity' && !isSeverity(r.severity)) throw new InputError(`${what}: severity "${String(r.severity)}" is not one of ${SEVERITIES.join(', ')}`);
  return { ...r, match: r.match ?? {} };
}

/**
 * One rule, the way a policy with `outputCount` outputs would take it at position `index`
 * (0-based): throws the InputError the runtime would, so an editor can say it next to the rule.
 */
export function checkRule(rule: Rule, index: number, outputCount: number): Rule {
  const r = normalizeRule(rule, index, outputCount);
  compileRule(r, index);
  return r;
}

/** Validates and normalizes a policy; throws an InputError a person can act on. */
export function checkPolicy(c: PolicyConfig): PolicyConfig {
  if (!Array.isArray(c.outputs) || c.outputs.length < 1 || c.outputs.length > 10) throw new InputError('a policy needs 1 to 10 outputs');
  const outputs = c.outputs.map((o, i) => (typeof o === 'string' && o.trim() ? o.trim() : `output ${i + 1}`));
  if (!Array.isArray(c.rules)) throw new InputError('policy rules must be a list');
  if (c.rules.length > 500) throw new InputError('a policy holds at most 500 rules');
  const rules: Rule[] = c.rules.map((r, i) => normalizeRule(r, i, outputs.length));
  const defaultOutput = Number(c.defaultOutput);
  if (!Number.isInteger(defaultOutput) || defaultOutput < 0 || defaultOutput > outputs.length) {
    throw new InputError(`default output ${String(c.defaultOutput)} does not exist (0 to drop, or 1-${outputs.length})`);
  }
  return {
    rules,
    outputs,
    defaultOutput,
    dedupSeconds: positiveOrZero(c.dedupSeconds, 'dedup window'),
    rateLimitPerKey: checkRate(c.rateLimitPerKey, 'rate limit per key'),
    rateLimitGlobal: checkRate(c.rateLimitGlobal, 'global rate limit'),
    escalateMinutes: positiveOrZero(c.escalateMinutes, 'escalation'),
    maintenance: parseWindows(c.maintenance ?? []),
    ownActionSeconds: positiveOrZero(c.ownActionSeconds, 'own-action suppression'),
  };
}
