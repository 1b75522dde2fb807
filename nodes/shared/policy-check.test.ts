/**
 * The alert policy editor without its DOM: stored rules and windows become form rows and come
 * back as the same JSON (so a dialog opened and closed changes nothing), what the rows give is
 * what lib/alerts/policy.ts takes, and the checks say what the runtime says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { Policy } from '../../lib/alerts/policy';
import { ALERT_SOURCES, SEVERITIES } from '../../lib/alerts/vocabulary';
import {
  defaultOutputProblem,
  isoFromLocalInput,
  localInputValue,
  outputsProblem,
  readList,
  ruleToRow,
  rowToRule,
  rowToWindow,
  rulesProblems,
  sameJson,
  severityField,
  severityPattern,
  sourceField,
  sourcePattern,
  storeList,
  windowsProblems,
  windowToRow,
} from './policy-check';
import { policyFromDef } from './policy-def';

const root = path.join(__dirname, '..', '..');

describe('severity and source fields', () => {
  it.each([
    ['', { type: 'any', value: '' }, undefined],
    ['>=major', { type: 'min', value: 'major' }, '>=major'],
    ['>= major', { type: 'min', value: 'major' }, '>=major'],
    ['<=warning', { type: 'max', value: 'warning' }, '<=warning'],
    ['critical', { type: 'list', value: 'critical' }, 'critical'],
    ['critical, major', { type: 'list', value: 'critical,major' }, 'critical, major'],
    ['!info', { type: 'pattern', value: '!info' }, '!info'],
    ['>major', { type: 'pattern', value: '>major' }, '>major'],
    ['crit*', { type: 'pattern', value: 'crit*' }, 'crit*'],
    ['>=urgent', { type: 'pattern', value: '>=urgent' }, '>=urgent'],
  ])('severity %j shows as %j and is stored as %j', (stored, shown, back) => {
    expect(severityField(stored)).toEqual(shown);
    expect(severityPattern(severityField(stored))).toBe(back);
  });

  it.each([
    ['', { type: 'any', value: '' }, undefined],
    ['pet', { type: 'list', value: 'pet' }, 'pet'],
    ['pet, wsevent', { type: 'list', value: 'pet,wsevent' }, 'pet, wsevent'],
    ['!power', { type: 'pattern', value: '!power' }, '!power'],
    ['ipmi', { type: 'pattern', value: 'ipmi' }, 'ipmi'],
  ])('source %j shows as %j and is stored as %j', (stored, shown, back) => {
    expect(sourceField(stored)).toEqual(shown);
    expect(sourcePattern(sourceField(stored))).toBe(back);
  });

  it('matches the same alerts after a round trip through the field, for any severity text', () => {
    const severityText = fc.oneof(
      fc.constantFrom('', ...SEVERITIES),
      fc.tuple(fc.constantFrom('>=', '<=', '>', '<', ''), fc.constantFrom(...SEVERITIES)).map(([op, s]) => op + s),
      fc.tuple(fc.uniqueArray(fc.constantFrom(...SEVERITIES), { minLength: 1 }), fc.constantFrom(',', ', ', ' , ')).map(([xs, sep]) => xs.join(sep)),
    );
    fc.assert(
      fc.property(severityText, (text) => {
        const back = severityPattern(severityField(text)) ?? '';
        const decide = (pattern: string) =>
          new Policy({ outputs: ['a', 'b'], rules: pattern ? [{ match: { severity: pattern }, action: 'route', output: 2 }] : [] });
        const before = decide(text);
        const after = decide(back);
        for (const s of SEVERITIES) {
          const alert = { source: 'pet', kind: 'x', severity: s, state: 'trigger', device: {}, details: {} } as never;
          expect(after.decide(alert).output).toBe(before.decide(alert).output);
        }
      }),
    );
  });
});

describe('rules as rows', () => {
  const examples = ['Alerts - PET to chat.json', 'Alerts - heartbeat to ticket.json', 'System defense.json'].flatMap((f) =>
    (JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<Record<string, any>>).filter((n) => typeof n.rules === 'string'),
  );

  it('gives back every example rule as it was stored, and the stored text itself', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const n of examples) {
      const { items } = readList(n.rules, 'rules');
      const back = items.map((r) => rowToRule(ruleToRow(r), r));
      expect(back).toEqual(items);
      expect(storeList(back, n.rules)).toBe(n.rules);
    }
  });

  it('keeps every field a rule can have, and what a later version may add', () => {
    const rules = [
      { name: 'no info', match: { severity: '<=info' }, action: 'drop' },
      { match: { source: 'pet, wsevent', severity: '!ok', site: 'branch-*', device: 'pc-*, 10.0.0.*' }, action: 'severity', severity: 'major' },
      { match: { kind: 'heartbeat-*', state: 'resolve', escalated: false }, action: 'route', output: 2 },
      { match: { escalated: true, hours: '8-18' }, action: 'route', output: 1, note: 'from a later version' },
      { match: {}, action: 'route' },
    ];
    for (const r of rules) expect(rowToRule(ruleToRow(r), r)).toEqual(r);
  });

  it('turns a new row into a rule the runtime takes as it is', () => {
    const row = ruleToRow({ match: {}, action: 'route', output: 1 });
    row.kind = ' chassis-intrusion ';
    row.severity = { type: 'min', value: 'major' };
    row.source = { type: 'list', value: 'pet,wsevent' };
    row.output = '2';
    const rule = rowToRule(row);
    expect(rule).toEqual({ match: { source: 'pet, wsevent', kind: 'chassis-intrusion', severity: '>=major' }, action: 'route', output: 2 });
    expect(new Policy({ outputs: ['chat', 'urgent'], rules: [rule] }).config.rules).toEqual([rule]);
    row.action = 'severity';
    row.newSeverity = 'critical';
    expect(rowToRule(row)).toEqual({ match: { source: 'pet, wsevent', kind: 'chassis-intrusion', severity: '>=major' }, action: 'severity', severity: 'critical' });
  });

  it('stores compact JSON when something changed, and the same text when nothing did', () => {
    const stored = '[ {"action":"drop", "match":{"kind":"os-boot"}} ]';
    expect(storeList([{ match: { kind: 'os-boot' }, action: 'drop' }], stored)).toBe(stored);
    expect(storeList([{ match: { kind: 'os-boot' }, action: 'drop' }], [{ match: { kind: 'os-boot' }, action: 'drop' }])).toBe('[{"match":{"kind":"os-boot"},"action":"drop"}]');
    expect(storeList([], '[{"match":{},"action":"drop"}]')).toBe('[]');
  });
});

describe('maintenance windows as rows', () => {
  it('keeps a window as stored when its row is not touched, including times in their own zone', () => {
    const windows = [
      { name: 'patch night', site: 'head-office', cron: '0 22 * * 6', minutes: 180 },
      { device: 'pc-07', from: '2025-05-01T08:00:00Z', until: '2025-05-01T12:00:00+02:00' },
      { device: 'pc-08', until: 'next tuesday' },
      { site: 'x', cron: '*/15 * * * 1-5', minutes: 5, reason: 'kept' },
    ];
    for (const w of windows) expect(rowToWindow(windowToRow(w), w)).toEqual(w);
    expect(windowToRow(windows[1])).toMatchObject({ when: 'once' });
    expect(windowToRow(windows[0])).toMatchObject({ when: 'cron', minutes: '180' });
  });

  it('stores a time picked in the browser as the ISO instant it means', () => {
    const row = windowToRow({});
    row.when = 'once';
    row.until = '2031-03-04T05:06';
    const w = rowToWindow(row);
    expect(w).toEqual({ until: new Date(2031, 2, 4, 5, 6).toISOString() });
    expect(localInputValue(w.until)).toBe('2031-03-04T05:06');
    expect(isoFromLocalInput('')).toBe('');
  });

  it('makes a new row a repeating window; a cron with its length is what the runtime takes', () => {
    const row = windowToRow({ cron: '', minutes: 60 });
    expect(row).toMatchObject({ when: 'cron', minutes: '60' });
    row.cron = '0 3 * * 0';
    row.device = 'pc-*';
    const w = rowToWindow(row);
    expect(w).toEqual({ device: 'pc-*', cron: '0 3 * * 0', minutes: 60 });
    expect(new Policy({ maintenance: [w] }).config.maintenance).toEqual([w]);
  });
});

describe('the checks say what the runtime says', () => {
  const runtimeSays = (def: Record<string, unknown>) => {
    try {
      new Policy(policyFromDef(def));
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };

  it.each([
    [{ outputNames: 'chat', rules: '[{"match":{},"action":"route","output":2}]' }, 'rule 1: output 2 does not exist (1-1)'],
    [{ outputNames: 'chat', rules: '[{"match":{"severity":">=urgent"},"action":"drop"}]' }, 'rule 1: severity "urgent" is not one of critical, major, minor, warning, info, ok'],
    [{ outputNames: 'chat', rules: '[{"match":{"source":"ipmi"},"action":"drop"}]' }, `rule 1: source "ipmi" is not one of ${ALERT_SOURCES.join(', ')}`],
    [{ outputNames: 'chat', rules: '[{"match":{},"action":"severity","severity":"bad"}]' }, 'rule 1: severity "bad" is not one of critical, major, minor, warning, info, ok'],
    [{ outputNames: 'chat', rules: '[{"match":{"kind":"!"},"action":"drop"}]' }, 'rule 1 kind: "!" needs a value after it'],
    [{ outputNames: 'chat', rules: '[{"match":{}' }, /^rules is not valid JSON: /],
  ])('rules of %j: %s', (def, said) => {
    const problems = rulesProblems(def);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(said);
    expect(runtimeSays(def)).toBe(problems[0]);
  });

  it.each([
    [{ maintenance: '[{"cron":"61 22 * * 6","minutes":60,"name":"patch night"}]' }, 'maintenance window patch night: cron minute "61" is outside 0-59'],
    [{ maintenance: '[{"cron":"0 22 * *","minutes":60}]' }, 'maintenance window 1: cron "0 22 * *" needs 5 fields: minute hour day-of-month month day-of-week'],
    [{ maintenance: '[{"cron":"0 22 * * 6"}]' }, 'maintenance window 1: minutes must be between 1 and 44640'],
    [{ maintenance: '[{"from":"2025-05-01T08:00:00Z"}]' }, 'maintenance window 1: needs a cron expression with minutes, or an until date'],
    [{ maintenance: '[{"from":"2025-05-01T08:00:00Z","until":"2025-04-01T08:00:00Z"}]' }, 'maintenance window 1: until is not after from'],
  ])('windows of %j: %s', (def, said) => {
    expect(windowsProblems(def)).toEqual([said]);
    expect(runtimeSays(def)).toBe(said);
  });

  it('lists every bad rule, where the runtime stops at the first', () => {
    const def = { outputNames: 'a, b', rules: JSON.stringify([{ match: {}, action: 'route', output: 3 }, { match: {}, action: 'drop' }, { match: {}, action: 'jump' }]) };
    expect(rulesProblems(def)).toEqual(['rule 1: output 3 does not exist (1-2)', 'rule 3: action must be route, drop or severity, got "jump"']);
    expect(runtimeSays(def)).toBe('rule 1: output 3 does not exist (1-2)');
  });

  it('checks the outputs and the default output as the runtime does', () => {
    expect(outputsProblem({ outputNames: 'a,b,c,d,e,f,g,h,i,j,k' })).toBe(runtimeSays({ outputNames: 'a,b,c,d,e,f,g,h,i,j,k' }));
    expect(outputsProblem({ outputNames: 'a, b' })).toBe('');
    expect(defaultOutputProblem({ outputNames: 'a', defaultOutput: 2 })).toBe(runtimeSays({ outputNames: 'a', defaultOutput: 2 }));
    expect(defaultOutputProblem({ outputNames: 'a', defaultOutput: '0' })).toBe('');
    expect(defaultOutputProblem({ outputNames: 'a' })).toBe('');
  });

  it('accepts what the examples store', () => {
    for (const f of fs.readdirSync(path.join(root, 'examples'))) {
      for (const n of JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<Record<string, any>>) {
        if (n.type !== 'oob-alert-policy' && !(n.type === 'oob-alert-in' && !n.policy)) continue;
        expect([...rulesProblems(n), ...windowsProblems(n), outputsProblem(n), defaultOutputProblem(n)].filter(Boolean)).toEqual([]);
      }
    }
  });
});

describe('the list helpers', () => {
  it('reads JSON text, arrays, and says why it cannot', () => {
    expect(readList('', 'rules')).toEqual({ items: [] });
    expect(readList([{ a: 1 }], 'rules')).toEqual({ items: [{ a: 1 }] });
    expect(readList('{"a":1}', 'rules').error).toBe('rules must be a list');
    expect(readList('[1]', 'rules').error).toBe('rules: item 1 is not an object');
  });

  it('compares JSON whatever the key order', () => {
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
});

describe('the editor bundle', () => {
  it('uses only labels its message catalog has', () => {
    const src = fs.readFileSync(path.join(__dirname, 'editor', 'alert-policy-editor.ts'), 'utf8');
    const catalog = JSON.parse(fs.readFileSync(path.join(root, 'nodes', 'oob-alert-policy', 'locales', 'en-US', 'oob-alert-policy.json'), 'utf8'))['oob-alert-policy'].editor;
    const has = (key: string) => key.split('.').reduce((o: any, k) => (o === undefined ? o : o[k]), catalog) !== undefined;
    const keys = new Set<string>();
    for (const m of src.matchAll(/\bt\('([a-zA-Z.]+)'/g)) keys.add(m[1]);
    for (const m of src.matchAll(/'((?:rule|window|match|state|escalated|action)\.[a-zA-Z]+)'/g)) keys.add(m[1]);
    for (const m of src.matchAll(/t\(`(source|severity)\.\$\{s\}`/g)) for (const s of m[1] === 'source' ? ALERT_SOURCES : SEVERITIES) keys.add(`${m[1]}.${s}`);
    for (const one of ['rule', 'window']) keys.add(`${one}.add`);
    expect(keys.size).toBeGreaterThan(40);
    expect([...keys].filter((k) => !has(k))).toEqual([]);
  });
});
