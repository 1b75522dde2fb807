/**
 * What the alert policy editor needs, without the DOM: the stored rule and window lists turned
 * into form rows and back, and the runtime's own checks (lib/alerts), so the editor says exactly
 * what a deploy would. Bundled into resources/alert-policy-editor.js for the browser; the
 * stored format stays the one nodes/shared/policy-def.ts reads (JSON text of Rule[] and
 * MaintenanceWindow[]).
 */
import { compileWindow, MaintenanceWindow, nextOpenings } from '../../lib/alerts/maintenance';
import { checkRule, Rule, RuleMatch } from '../../lib/alerts/policy';
import { ALERT_SOURCES, isSeverity, isSource, Severity, SEVERITIES } from '../../lib/alerts/vocabulary';
import { outputNames, PolicyDef } from './policy-def';

export { ALERT_SOURCES, SEVERITIES, nextOpenings, outputNames };

/** The output names a comma-separated text gives ("chat, ticket"), as the runtime reads them. */
export function outputNamesOf(text: string | undefined): string[] {
  return outputNames({ outputNames: text ?? '' });
}

/** A stored list (JSON text, or an array from an older import): its items, or why it cannot be read. */
export function readList(stored: unknown, what: string): { items: Array<Record<string, unknown>>; error?: string } {
  let v = stored;
  if (v === undefined || v === null || v === '') return { items: [] };
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      // The runtime's words (policyFromDef).
      return { items: [], error: `${what} is not valid JSON: ${(e as Error).message}` };
    }
  }
  if (!Array.isArray(v)) return { items: [], error: `${what} must be a list` };
  const bad = v.findIndex((x) => typeof x !== 'object' || x === null || Array.isArray(x));
  if (bad >= 0) return { items: [], error: `${what}: item ${bad + 1} is not an object` };
  return { items: v as Array<Record<string, unknown>> };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** What the runtime says about rule `index` (0-based) of a policy with `outputCount` outputs; '' when fine. */
export function ruleProblem(rule: Rule, index: number, outputCount: number): string {
  try {
    checkRule(rule, index, outputCount);
    return '';
  } catch (e) {
    return message(e);
  }
}

/** What the runtime says about maintenance window `index` (0-based); '' when fine. */
export function windowProblem(w: MaintenanceWindow, index: number): string {
  try {
    compileWindow(w, index);
    return '';
  } catch (e) {
    return message(e);
  }
}

/**
 * Editor validators, one per stored property. Each returns the runtime's messages (all of them,
 * where the runtime stops at the first), or [] when a deploy would accept it.
 */
export function rulesProblems(def: PolicyDef): string[] {
  const { items, error } = readList(def.rules, 'rules');
  if (error) return [error];
  const count = outputNames(def).length;
  return items.map((r, i) => ruleProblem(r as unknown as Rule, i, count)).filter(Boolean);
}

export function windowsProblems(def: PolicyDef): string[] {
  const { items, error } = readList(def.maintenance, 'maintenance windows');
  if (error) return [error];
  return items.map((w, i) => windowProblem(w as MaintenanceWindow, i)).filter(Boolean);
}

export function outputsProblem(def: PolicyDef): string {
  return outputNames(def).length > 10 ? 'a policy needs 1 to 10 outputs' : '';
}

export function defaultOutputProblem(def: PolicyDef): string {
  const count = outputNames(def).length;
  const v = def.defaultOutput === undefined || def.defaultOutput === '' ? 1 : Number(def.defaultOutput);
  return Number.isInteger(v) && v >= 0 && v <= count ? '' : `default output ${String(def.defaultOutput)} does not exist (0 to drop, or 1-${count})`;
}

// --- the form's fields ------------------------------------------------------------------------

/** How the source field shows a match: any, a choice of sources, or a pattern typed by hand. */
export interface SourceField {
  type: 'any' | 'list' | 'pattern';
  /** list: sources joined by "," (Node-RED's multiple-choice value); pattern: the text. */
  value: string;
}

/** How the severity field shows a match: any, at least / at most one, a choice, or a pattern. */
export interface SeverityField {
  type: 'any' | 'min' | 'max' | 'list' | 'pattern';
  value: string;
}

const parts = (text: string) =>
  text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
const unique = (xs: string[]) => new Set(xs).size === xs.length;

export function sourceField(pattern: unknown): SourceField {
  if (pattern === undefined || pattern === null || pattern === '') return { type: 'any', value: '' };
  const text = String(pattern);
  const list = parts(text);
  if (list.length === 0) return { type: 'any', value: '' };
  if (list.every(isSource) && unique(list)) return { type: 'list', value: list.join(',') };
  return { type: 'pattern', value: text };
}

export function sourcePattern(f: SourceField): string | undefined {
  if (f.type === 'list') return parts(f.value).join(', ') || undefined;
  if (f.type === 'pattern') return f.value.trim() || undefined;
  return undefined;
}

export function severityField(pattern: unknown): SeverityField {
  if (pattern === undefined || pattern === null || pattern === '') return { type: 'any', value: '' };
  const text = String(pattern);
  const m = /^\s*(>=|<=)\s*([a-z]+)\s*$/.exec(text);
  if (m && isSeverity(m[2])) return { type: m[1] === '>=' ? 'min' : 'max', value: m[2] };
  const list = parts(text);
  if (list.length === 0) return { type: 'any', value: '' };
  if (list.every(isSeverity) && unique(list)) return { type: 'list', value: list.join(',') };
  return { type: 'pattern', value: text };
}

export function severityPattern(f: SeverityField): string | undefined {
  if (f.type === 'min') return f.value ? `>=${f.value}` : undefined;
  if (f.type === 'max') return f.value ? `<=${f.value}` : undefined;
  if (f.type === 'list') return parts(f.value).join(', ') || undefined;
  if (f.type === 'pattern') return f.value.trim() || undefined;
  return undefined;
}

/** One rule as the form shows it. Values the form cannot show (an unknown action) are kept as text. */
export interface RuleRow {
  name: string;
  source: SourceField;
  kind: string;
  severity: SeverityField;
  device: string;
  site: string;
  state: '' | 'trigger' | 'resolve';
  escalated: '' | 'only' | 'never';
  action: string;
  /** The output a route goes to (1-based), as text so a missing one can be shown. */
  output: string;
  /** The severity a "set severity" rule gives. */
  newSeverity: string;
}

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

export function ruleToRow(rule: Record<string, unknown>): RuleRow {
  const m = (typeof rule.match === 'object' && rule.match ? rule.match : {}) as Record<string, unknown>;
  return {
    name: text(rule.name),
    source: sourceField(m.source),
    kind: text(m.kind),
    severity: severityField(m.severity),
    device: text(m.device),
    site: text(m.site),
    state: m.state === 'trigger' || m.state === 'resolve' ? m.state : '',
    escalated: m.escalated === true ? 'only' : m.escalated === false ? 'never' : '',
    action: text(rule.action),
    output: rule.action === 'route' ? text(rule.output ?? 1) : '1',
    newSeverity: rule.action === 'severity' ? text(rule.severity) : 'critical',
  };
}

const MATCH_KEYS = ['source', 'kind', 'severity', 'device', 'site', 'state', 'escalated'];
const RULE_KEYS = ['name', 'match', 'action', 'output', 'severity'];

/**
 * The rule a row stands for, in the stored format: only the fields that say something, and
 * whatever else the original rule carried (fields of a later version) kept as they were.
 */
export function rowToRule(row: RuleRow, original: Record<string, unknown> = {}): Rule {
  const originalMatch = (typeof original.match === 'object' && original.match ? original.match : {}) as Record<string, unknown>;
  const match: Record<string, unknown> = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined && v !== '') match[k] = v;
  };
  set('source', sourcePattern(row.source));
  set('kind', row.kind.trim());
  set('severity', severityPattern(row.severity));
  set('device', row.device.trim());
  set('site', row.site.trim());
  set('state', row.state);
  set('escalated', row.escalated === 'only' ? true : row.escalated === 'never' ? false : undefined);
  for (const [k, v] of Object.entries(originalMatch)) if (!MATCH_KEYS.includes(k)) match[k] = v;

  const rule: Record<string, unknown> = {};
  if (row.name.trim()) rule.name = row.name.trim();
  rule.match = match as RuleMatch;
  rule.action = row.action;
  // A route without an output goes to output 1: left as it was written.
  const implicitFirst = original.action === 'route' && original.output === undefined && row.output === '1';
  if (row.action === 'route' && !implicitFirst) rule.output = /^\d+$/.test(row.output.trim()) ? Number(row.output) : row.output;
  if (row.action === 'severity') rule.severity = row.newSeverity as Severity;
  for (const [k, v] of Object.entries(original)) if (!RULE_KEYS.includes(k)) rule[k] = v;
  return rule as unknown as Rule;
}

/** One maintenance window as the form shows it; times as a datetime-local input takes them. */
export interface WindowRow {
  name: string;
  device: string;
  site: string;
  /** cron: opens on a schedule, for some minutes; once: from (optional) until. */
  when: 'cron' | 'once';
  cron: string;
  minutes: string;
  from: string;
  until: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO time as a datetime-local input shows it (the browser's time zone); '' when it is not a time. */
export function localInputValue(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  const seconds = d.getSeconds() ? `:${pad(d.getSeconds())}` : '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}${seconds}`;
}

/** A datetime-local value (local time) as the ISO text the runtime stores; '' stays ''. */
export function isoFromLocalInput(value: string): string {
  if (!value) return '';
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? value : new Date(t).toISOString();
}

export function windowToRow(w: Record<string, unknown>): WindowRow {
  return {
    name: text(w.name),
    device: text(w.device),
    site: text(w.site),
    when: w.cron || (!w.from && !w.until) ? 'cron' : 'once',
    cron: text(w.cron),
    minutes: text(w.minutes),
    from: localInputValue(w.from),
    until: localInputValue(w.until),
  };
}

const WINDOW_KEYS = ['name', 'device', 'site', 'cron', 'minutes', 'from', 'until'];

/**
 * The window a row stands for. A time the person did not touch keeps the text it was stored with
 * (its own zone or precision, or an unreadable value the check should still report).
 */
export function rowToWindow(row: WindowRow, original: Record<string, unknown> = {}): MaintenanceWindow {
  const w: Record<string, unknown> = {};
  if (row.name.trim()) w.name = row.name.trim();
  if (row.device.trim()) w.device = row.device.trim();
  if (row.site.trim()) w.site = row.site.trim();
  if (row.when === 'cron') {
    w.cron = row.cron.trim();
    const m = row.minutes.trim();
    if (m !== '') w.minutes = /^\d+(\.\d+)?$/.test(m) ? Number(m) : m;
  } else {
    const time = (field: 'from' | 'until') => {
      const kept = original[field];
      if (typeof kept === 'string' && kept && row[field] === localInputValue(kept)) return kept;
      return isoFromLocalInput(row[field]);
    };
    const from = time('from');
    const until = time('until');
    if (from) w.from = from;
    if (until) w.until = until;
  }
  for (const [k, v] of Object.entries(original)) if (!WINDOW_KEYS.includes(k)) w[k] = v;
  return w as MaintenanceWindow;
}

/** Same JSON content, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * The text to store for a list: the stored text itself when the list says the same (a dialog
 * opened and closed changes nothing), else compact JSON as the runtime reads it.
 */
export function storeList(items: unknown[], stored: unknown): string {
  if (typeof stored === 'string') {
    const { items: before, error } = readList(stored, 'list');
    if (!error && sameJson(before, items)) return stored;
  }
  return JSON.stringify(items);
}
