/**
 * The alert policy's dialog in the Node-RED editor: rules and maintenance windows as ordered
 * lists (RED.editableList, as the core switch and change nodes do), the outputs a rule can route
 * to, and validators that give the runtime's own messages. Shared by oob-alert-policy and the
 * inline policy of oob-alert-in; bundled with ../policy-check and put inline into both editor
 * files by scripts/build-editor.js (window.OOBKitAlertPolicy).
 * Labels come from the oob-alert-policy message catalog ("oob-alert-policy.editor.*").
 */
import * as check from '../policy-check';

/* The editor's globals: jQuery with Node-RED's widgets, and RED. */
declare const $: any;
declare const RED: any;

type Prefix = 'node-input' | 'node-config-input';
type Item = Record<string, unknown>;

interface RuleData {
  original?: Item;
  rule?: () => Item;
  check?: () => void;
}
interface WindowData {
  original?: Item;
  window?: () => Item;
  check?: () => void;
}

interface DialogState {
  node: any;
  prefix: Prefix;
  rules: any;
  windows: any;
  /** Stored text that could not be read: kept as it is until the list is edited. */
  unreadRules?: string;
  unreadWindows?: string;
  /** Where a list that cannot be read is reported. Held here: while the JSON editor is open, Node-RED takes this dialog out of the page. */
  notices: { rules: any; windows: any };
  outputs: () => string[];
}

const dialogs = new Map<Prefix, DialogState>();

function t(key: string, args?: Record<string, unknown>): string {
  const def = RED.nodes.getType('oob-alert-policy');
  const full = `oob-alert-policy.editor.${key}`;
  return def && def._ ? def._(full, args) : full;
}

const STYLE = `
.oob-pol-item { white-space: normal; }
.oob-pol-line { display: flex; align-items: center; gap: 6px; margin-bottom: 4px; }
.oob-pol-grid { display: flex; flex-wrap: wrap; column-gap: 12px; row-gap: 4px; margin-bottom: 4px; }
.oob-pol-field { display: flex; align-items: center; gap: 6px; flex: 1 1 300px; min-width: 0; }
.oob-pol-item label.oob-pol-label { width: 70px; flex: none; margin: 0; font-size: 0.9em; color: var(--red-ui-secondary-text-color, #666); }
.oob-pol-item input[type="text"], .oob-pol-item input[type="datetime-local"] { flex: 1 1 auto; width: auto; min-width: 0; margin: 0; }
.oob-pol-item select { width: auto; margin: 0; }
.oob-pol-field select { flex: 1 1 0; min-width: 0; }
.oob-pol-field-wide { flex-grow: 1.5; }
.oob-pol-item .red-ui-typedInput-container { flex: 1 1 auto; width: auto !important; min-width: 0; }
.oob-pol-index { display: inline-block; min-width: 22px; text-align: center; font-weight: bold; color: var(--red-ui-secondary-text-color, #666); }
.oob-pol-error { color: var(--red-ui-text-color-error, #d00); font-size: 0.9em; white-space: normal; }
.oob-pol-preview { color: var(--red-ui-secondary-text-color, #666); font-size: 0.9em; white-space: normal; }
.oob-pol-notice { color: var(--red-ui-text-color-error, #d00); margin-bottom: 6px; white-space: normal; }
ol.oob-pol-list:empty::before { content: attr(data-empty); display: block; padding: 8px 10px; font-style: italic; color: var(--red-ui-secondary-text-color, #666); }
.oob-pol-item .input-error { border-color: var(--red-ui-form-input-border-error-color, #d00) !important; }
`;

function injectStyle(): void {
  if ($('#oob-alert-policy-style').length) return;
  $('<style id="oob-alert-policy-style">').text(STYLE).appendTo('head');
}

function line(parent: any, cls = ''): any {
  return $('<div>', { class: `oob-pol-line ${cls}` }).appendTo(parent);
}

function field(parent: any, labelKey: string): any {
  const f = $('<div>', { class: 'oob-pol-field' }).appendTo(parent);
  $('<label>', { class: 'oob-pol-label' }).text(t(labelKey)).appendTo(f);
  return f;
}

function textInput(parent: any, cls: string, value: string, placeholderKey?: string): any {
  const input = $('<input>', { type: 'text', class: cls }).appendTo(parent).val(value);
  if (placeholderKey) input.attr('placeholder', t(placeholderKey));
  return input;
}

/** A select with these choices; a value it does not offer is shown as such, so it is not lost. */
function fillSelect(select: any, choices: Array<[string, string]>, value: string): void {
  select.empty();
  for (const [v, label] of choices) $('<option>').val(v).text(label).appendTo(select);
  if (!choices.some(([v]) => v === value)) $('<option>').val(value).text(t('unknownChoice', { value: value || '""' })).appendTo(select);
  select.val(value);
}

function outputChoices(names: string[]): Array<[string, string]> {
  return names.map((n, i) => [String(i + 1), `${i + 1}: ${n}`]);
}

const SOURCE_OPTIONS = () => check.ALERT_SOURCES.map((s) => ({ value: s, label: t(`source.${s}`) }));
const SEVERITY_OPTIONS = () => check.SEVERITIES.map((s) => ({ value: s, label: t(`severity.${s}`) }));

function sourceTypes(): unknown[] {
  return [
    { value: 'any', label: t('match.anySource'), hasValue: false },
    { value: 'list', label: t('match.oneOf'), options: SOURCE_OPTIONS(), multiple: true },
    { value: 'pattern', label: t('match.pattern') },
  ];
}

function severityTypes(): unknown[] {
  return [
    { value: 'any', label: t('match.anySeverity'), hasValue: false },
    { value: 'min', label: t('match.atLeast'), options: SEVERITY_OPTIONS() },
    { value: 'max', label: t('match.atMost'), options: SEVERITY_OPTIONS() },
    { value: 'list', label: t('match.oneOf'), options: SEVERITY_OPTIONS(), multiple: true },
    { value: 'pattern', label: t('match.pattern') },
  ];
}

function typed(parent: any, cls: string, types: unknown[], f: { type: string; value: string }): any {
  const input = $('<input>', { type: 'text', class: cls }).appendTo(parent);
  input.typedInput({ types, default: f.type });
  input.typedInput('type', f.type);
  input.typedInput('value', f.value);
  return input;
}

function showError(container: any, problem: string): void {
  container.children('.oob-pol-error').text(problem).toggle(Boolean(problem));
  container.toggleClass('oob-pol-invalid', Boolean(problem));
}

// --- rules -------------------------------------------------------------------------------------

function addRule(state: DialogState, container: any, data: RuleData): void {
  container.addClass('oob-pol-item oob-rule');
  const row = data.original ? check.ruleToRow(data.original) : check.ruleToRow({ match: {}, action: 'route', output: 1 });

  const head = line(container);
  $('<span>', { class: 'oob-pol-index' }).appendTo(head);
  const name = textInput(head, 'oob-rule-name', row.name, 'rule.namePlaceholder');

  const grid = $('<div>', { class: 'oob-pol-grid' }).appendTo(container);
  const source = typed(field(grid, 'rule.source'), 'oob-rule-source', sourceTypes(), row.source);
  const severity = typed(field(grid, 'rule.severity'), 'oob-rule-severity', severityTypes(), row.severity);
  const kind = textInput(field(grid, 'rule.kind'), 'oob-rule-kind', row.kind, 'rule.kindPlaceholder');
  const device = textInput(field(grid, 'rule.device'), 'oob-rule-device', row.device, 'rule.devicePlaceholder');
  const site = textInput(field(grid, 'rule.site'), 'oob-rule-site', row.site, 'rule.sitePlaceholder');
  const stateField = field(grid, 'rule.state').addClass('oob-pol-field-wide');
  const stateSel = $('<select>', { class: 'oob-rule-state' }).appendTo(stateField);
  fillSelect(
    stateSel,
    [
      ['', t('state.any')],
      ['trigger', t('state.trigger')],
      ['resolve', t('state.resolve')],
    ],
    row.state,
  );
  const escalated = $('<select>', { class: 'oob-rule-escalated' }).appendTo(stateField);
  fillSelect(
    escalated,
    [
      ['', t('escalated.any')],
      ['only', t('escalated.only')],
      ['never', t('escalated.never')],
    ],
    row.escalated,
  );

  const then = line(container, 'oob-rule-then');
  $('<label>', { class: 'oob-pol-label' }).text(t('rule.then')).appendTo(then);
  const action = $('<select>', { class: 'oob-rule-action' }).appendTo(then);
  fillSelect(
    action,
    [
      ['route', t('action.route')],
      ['drop', t('action.drop')],
      ['severity', t('action.severity')],
    ],
    row.action,
  );
  const output = $('<select>', { class: 'oob-rule-output' }).appendTo(then);
  fillSelect(output, outputChoices(state.outputs()), row.output);
  const newSeverity = $('<select>', { class: 'oob-rule-new-severity' }).appendTo(then);
  fillSelect(
    newSeverity,
    check.SEVERITIES.map((s) => [s, t(`severity.${s}`)]),
    row.newSeverity,
  );
  const goOn = $('<span>', { class: 'oob-pol-preview oob-rule-go-on' }).text(t('rule.goOn')).appendTo(then);
  $('<div>', { class: 'oob-pol-error' }).hide().appendTo(container);

  const read = (): check.RuleRow => ({
    name: String(name.val() ?? ''),
    source: { type: source.typedInput('type'), value: String(source.typedInput('value') ?? '') } as check.SourceField,
    kind: String(kind.val() ?? ''),
    severity: { type: severity.typedInput('type'), value: String(severity.typedInput('value') ?? '') } as check.SeverityField,
    device: String(device.val() ?? ''),
    site: String(site.val() ?? ''),
    state: stateSel.val() as check.RuleRow['state'],
    escalated: escalated.val() as check.RuleRow['escalated'],
    action: String(action.val() ?? ''),
    output: String(output.val() ?? ''),
    newSeverity: String(newSeverity.val() ?? ''),
  });
  data.rule = () => check.rowToRule(read(), data.original) as unknown as Item;
  data.check = () => {
    const index = state.rules.editableList('indexOf', data);
    container.find('.oob-pol-index').text(String(index + 1));
    const a = action.val();
    output.toggle(a === 'route');
    newSeverity.toggle(a === 'severity');
    goOn.toggle(a === 'severity');
    // The output list follows the outputs field; a missing one stays, shown as missing. Rebuilt
    // only when it changes, so a select in use is left alone.
    const names = state.outputs();
    const current = String(output.val() ?? '');
    const choices = outputChoices(names);
    const shape = JSON.stringify([choices, choices.some(([v]) => v === current) ? '' : current]);
    if (output.data('shape') !== shape) {
      fillSelect(output, choices, current);
      output.data('shape', shape);
    }
    const problem = index < 0 ? '' : check.ruleProblem(data.rule!() as never, index, names.length);
    showError(container, problem);
    output.toggleClass('input-error', /output .* does not exist/.test(problem));
    severity.next('.red-ui-typedInput-container').toggleClass('input-error', /severity "/.test(problem) && a !== 'severity');
    source.next('.red-ui-typedInput-container').toggleClass('input-error', /source "/.test(problem));
  };
  // Typed inputs trigger change on their own input, which bubbles here too.
  container.on('change keyup input', 'input, select', () => data.check!());
  data.check();
}

function checkAll(list: any): void {
  list.editableList('items').each((_i: number, el: any) => {
    const d = $(el).data('data');
    if (d && d.check) d.check();
  });
}

// --- maintenance windows -----------------------------------------------------------------------

function formatTime(d: Date): string {
  return d.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

function addWindow(state: DialogState, container: any, data: WindowData): void {
  container.addClass('oob-pol-item oob-window');
  const row = check.windowToRow(data.original ?? { cron: '', minutes: 60 });

  const head = line(container);
  const name = textInput(head, 'oob-win-name', row.name, 'window.namePlaceholder');
  const grid = $('<div>', { class: 'oob-pol-grid' }).appendTo(container);
  const device = textInput(field(grid, 'window.device'), 'oob-win-device', row.device, 'window.devicePlaceholder');
  const site = textInput(field(grid, 'window.site'), 'oob-win-site', row.site, 'window.sitePlaceholder');

  const whenLine = line(container);
  $('<label>', { class: 'oob-pol-label' }).text(t('window.when')).appendTo(whenLine);
  const when = $('<select>', { class: 'oob-win-when' }).appendTo(whenLine);
  fillSelect(
    when,
    [
      ['cron', t('window.repeating')],
      ['once', t('window.once')],
    ],
    row.when,
  );

  const cronLine = line(container, 'oob-win-cron-line');
  $('<label>', { class: 'oob-pol-label' }).text(t('window.cron')).appendTo(cronLine);
  const cron = textInput(cronLine, 'oob-win-cron', row.cron, 'window.cronPlaceholder');
  $('<span>').text(t('window.for')).appendTo(cronLine);
  const minutes = textInput(cronLine, 'oob-win-minutes', row.minutes).css({ flex: '0 0 60px' });
  $('<span>').text(t('window.minutes')).appendTo(cronLine);

  const onceLine = line(container, 'oob-win-once-line');
  $('<label>', { class: 'oob-pol-label' }).text(t('window.from')).appendTo(onceLine);
  const from = $('<input>', { type: 'datetime-local', class: 'oob-win-from', step: 60 }).appendTo(onceLine).val(row.from);
  $('<span>').text(t('window.until')).appendTo(onceLine);
  const until = $('<input>', { type: 'datetime-local', class: 'oob-win-until', step: 60 }).appendTo(onceLine).val(row.until);

  const preview = $('<div>', { class: 'oob-pol-preview' }).appendTo(container);
  $('<div>', { class: 'oob-pol-error' }).hide().appendTo(container);

  const read = (): check.WindowRow => ({
    name: String(name.val() ?? ''),
    device: String(device.val() ?? ''),
    site: String(site.val() ?? ''),
    when: when.val() === 'once' ? 'once' : 'cron',
    cron: String(cron.val() ?? ''),
    minutes: String(minutes.val() ?? ''),
    from: String(from.val() ?? ''),
    until: String(until.val() ?? ''),
  });
  data.window = () => check.rowToWindow(read(), data.original) as unknown as Item;
  data.check = () => {
    const isCron = when.val() !== 'once';
    cronLine.toggle(isCron);
    onceLine.toggle(!isCron);
    const index = state.windows.editableList('indexOf', data);
    const w = data.window!();
    const problem = index < 0 ? '' : check.windowProblem(w as never, index);
    showError(container, problem);
    cron.toggleClass('input-error', /cron/.test(problem));
    minutes.toggleClass('input-error', /minutes/.test(problem));
    until.toggleClass('input-error', /until/.test(problem));
    from.toggleClass('input-error', /from/.test(problem));
    let text = '';
    if (!problem && isCron) {
      const next = check.nextOpenings(String(w.cron), Date.now(), 3);
      text = next.length ? t('window.next', { times: next.map(formatTime).join(' · ') }) : t('window.never');
    } else if (!problem && typeof w.until === 'string' && Date.parse(w.until) <= Date.now()) text = t('window.over');
    preview.text(text).toggle(Boolean(text));
  };
  container.on('change keyup input', 'input, select', () => data.check!());
  data.check();
}

// --- the dialog --------------------------------------------------------------------------------

function notice(state: DialogState, which: 'rules' | 'windows', error: string | undefined): void {
  state.notices[which]
    .text(error ? t('unreadable', { error }) : '')
    .toggle(Boolean(error));
}

function editAsJson(state: DialogState, which: 'rules' | 'windows'): void {
  const list = which === 'rules' ? state.rules : state.windows;
  const unread = which === 'rules' ? state.unreadRules : state.unreadWindows;
  const value = unread ?? JSON.stringify(currentItems(list, which), null, 2);
  RED.editor.editJSON({
    value,
    requireValid: true,
    complete: (text: string) => {
      const { items, error } = check.readList(text, which === 'rules' ? 'rules' : 'maintenance windows');
      if (error) {
        RED.notify(error, 'error');
        return;
      }
      if (which === 'rules') state.unreadRules = undefined;
      else state.unreadWindows = undefined;
      notice(state, which, undefined);
      list.editableList('empty');
      for (const original of items) list.editableList('addItem', { original });
      checkAll(list);
    },
  });
}

function currentItems(list: any, which: 'rules' | 'windows'): Item[] {
  const out: Item[] = [];
  list.editableList('items').each((_i: number, el: any) => {
    const d = $(el).data('data');
    out.push(which === 'rules' ? d.rule() : d.window());
  });
  return out;
}

/** "+ rule" (or "+ window") and "JSON", with ids: `<prefix>-rule-add`, `<prefix>-rule-json`... */
function listButtons(state: DialogState, which: 'rules' | 'windows'): unknown[] {
  const one = which === 'rules' ? 'rule' : 'window';
  const list = () => (which === 'rules' ? state.rules : state.windows);
  return [
    { id: `${state.prefix}-${one}-add`, label: t(`${one}.add`), icon: 'fa fa-plus', click: () => list().editableList('addItem', {}) },
    { id: `${state.prefix}-${one}-json`, label: t('json'), icon: 'fa fa-code', title: t('jsonTitle'), click: () => editAsJson(state, which) },
  ];
}

/** The output names: what the dialog's outputs field says while it is open, else what is stored. */
function outputNamesOf(node: any): string[] {
  for (const state of dialogs.values()) if (state.node === node) return state.outputs();
  return check.outputNamesOf(node.outputNames);
}

/** Builds the lists in the dialog of `node` (an oob-alert-policy, or an oob-alert-in's inline policy). */
export function prepare(node: any, prefix: Prefix): void {
  injectStyle();
  const outputsInput = $(`#${prefix}-outputNames`);
  const state: DialogState = {
    node,
    prefix,
    rules: undefined,
    windows: undefined,
    notices: { rules: $(`#${prefix}-rule-notice`), windows: $(`#${prefix}-window-notice`) },
    outputs: () => check.outputNamesOf(String(outputsInput.val() ?? '')),
  };
  dialogs.set(prefix, state);

  // A new config node's dialog leaves a default of 0 empty (Node-RED copies only truthy defaults), and empty fails the number check.
  const escalate = $(`#${prefix}-escalateMinutes`);
  if (escalate.val() === '' && (node.escalateMinutes === undefined || node.escalateMinutes === '')) escalate.val('0');

  const dflt = $(`#${prefix}-defaultOutput`);
  const fillDefault = (current: string) => {
    fillSelect(dflt, [...outputChoices(state.outputs()), ['0', t('action.drop')]], current);
    dflt.toggleClass('input-error', Boolean(check.defaultOutputProblem({ outputNames: String(outputsInput.val() ?? ''), defaultOutput: current })));
  };
  fillDefault(node.defaultOutput === undefined || node.defaultOutput === '' ? '1' : String(node.defaultOutput));
  dflt.on('change', () => fillDefault(String(dflt.val() ?? '')));

  const storedRules = check.readList(node.rules, 'rules');
  if (storedRules.error) state.unreadRules = typeof node.rules === 'string' ? node.rules : JSON.stringify(node.rules);
  state.rules = $(`#${prefix}-rule-list`).editableList({
    addButton: false,
    buttons: listButtons(state, 'rules'),
    height: 'auto',
    sortable: true,
    removable: true,
    addItem: (container: any, _i: number, data: RuleData) => {
      if (!data.original && state.unreadRules !== undefined) {
        // Building a new list on top of one that could not be read: that one is replaced.
        state.unreadRules = undefined;
        notice(state, 'rules', undefined);
      }
      addRule(state, container, data);
    },
    removeItem: () => checkAll(state.rules),
    sortItems: () => checkAll(state.rules),
  });
  // What an empty list says; set after the list is made, which sizes itself on its content then.
  state.rules.addClass('oob-pol-list').attr('data-empty', t('rule.none'));
  notice(state, 'rules', storedRules.error);
  for (const original of storedRules.items) state.rules.editableList('addItem', { original });
  checkAll(state.rules);

  const storedWindows = check.readList(node.maintenance, 'maintenance windows');
  if (storedWindows.error) state.unreadWindows = typeof node.maintenance === 'string' ? node.maintenance : JSON.stringify(node.maintenance);
  state.windows = $(`#${prefix}-window-list`).editableList({
    addButton: false,
    buttons: listButtons(state, 'windows'),
    height: 'auto',
    sortable: false,
    removable: true,
    addItem: (container: any, _i: number, data: WindowData) => {
      if (!data.original && state.unreadWindows !== undefined) {
        state.unreadWindows = undefined;
        notice(state, 'windows', undefined);
      }
      addWindow(state, container, data);
    },
    removeItem: () => checkAll(state.windows),
  });
  state.windows.addClass('oob-pol-list').attr('data-empty', t('window.none'));
  notice(state, 'windows', storedWindows.error);
  for (const original of storedWindows.items) state.windows.editableList('addItem', { original });
  checkAll(state.windows);

  outputsInput.on('change keyup input', () => {
    fillDefault(String(dflt.val() ?? ''));
    checkAll(state.rules);
  });
}

/** Writes the lists into the dialog's hidden rules/maintenance inputs, in the stored format. */
export function save(prefix: Prefix): void {
  const state = dialogs.get(prefix);
  if (!state) return;
  const rules = state.unreadRules ?? check.storeList(currentItems(state.rules, 'rules'), state.node.rules);
  const windows = state.unreadWindows ?? check.storeList(currentItems(state.windows, 'windows'), state.node.maintenance);
  $(`#${prefix}-rules`).val(rules);
  $(`#${prefix}-maintenance`).val(windows);
  dialogs.delete(prefix);
}

export function cancel(prefix: Prefix): void {
  dialogs.delete(prefix);
}

/** The outputs a node's policy has (for an alert-in with a shared policy: that policy's). */
export function outputsOf(node: any): string[] {
  if (node.type === 'oob-alert-in' && node.policy) {
    const policy = RED.nodes.node(node.policy);
    return policy ? outputNamesOf(policy) : ['alerts'];
  }
  return outputNamesOf(node);
}

const inlineUnused = (node: any) => node.type === 'oob-alert-in' && Boolean(node.policy) && node.policy !== '_ADD_';

/**
 * Validators for registerType's defaults. Two parameters, so Node-RED (3.0 and later) shows the
 * returned text as the reason; several problems are joined into one text, which every version
 * takes (a list is only understood from 4.0 on).
 */
const verdict = (problems: string[]): true | string => (problems.length ? problems.join('; ') : true);

export const validators = {
  rules(this: any, v: unknown, _opt?: unknown): true | string {
    if (inlineUnused(this)) return true;
    return verdict(check.rulesProblems({ rules: v as string, outputNames: outputNamesOf(this).join(',') }));
  },
  maintenance(this: any, v: unknown, _opt?: unknown): true | string {
    if (inlineUnused(this)) return true;
    return verdict(check.windowsProblems({ maintenance: v as string }));
  },
  outputNames(this: any, v: unknown, _opt?: unknown): true | string {
    if (inlineUnused(this)) return true;
    return check.outputsProblem({ outputNames: String(v ?? '') }) || true;
  },
  defaultOutput(this: any, v: unknown, _opt?: unknown): true | string {
    if (inlineUnused(this)) return true;
    return check.defaultOutputProblem({ outputNames: outputNamesOf(this).join(','), defaultOutput: v as string }) || true;
  },
};
