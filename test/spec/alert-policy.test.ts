/**
 * The alert policy's match operators against expectations worked out by hand from the node's help
 * (nodes/oob-alert-policy/locales/en-US): severities from worst are critical, major, minor,
 * warning, info, ok; ">=major" is major or worse, ">major" worse than major; "<=warning" is
 * warning or milder; text fields are comma-separated alternatives with `*` wildcards, read
 * without regard to case, and "!" excludes; Device is the device's name or its host; State is
 * trigger or resolve. No expectation here is computed by the policy code itself.
 */
import type { AlertFacts } from '../../lib/alerts/alert';
import { Policy, RuleMatch } from '../../lib/alerts/policy';
import type { Severity } from '../../lib/alerts/vocabulary';
import { InputError } from '../../lib/errors';

function alert(o: Partial<AlertFacts> = {}): AlertFacts {
  return {
    source: 'pet',
    kind: 'fan-failure',
    severity: 'major',
    state: 'trigger',
    device: { name: 'pc-07', host: '10.0.0.7', site: 'branch-3' },
    details: {},
    ...o,
  };
}

/** 2 when the single rule (route to output 2) matches, 1 when the alert falls through. */
function routed(match: RuleMatch, a: AlertFacts, policy?: Policy): number {
  const p = policy ?? new Policy({ outputs: ['default', 'matched'], defaultOutput: 1, rules: [{ match, action: 'route', output: 2 }] });
  return p.decide(a).output;
}

const ALL: Severity[] = ['critical', 'major', 'minor', 'warning', 'info', 'ok'];

/** Severity pattern -> the severities it matches, by hand. */
const SEVERITY_TABLE: Array<[string, Severity[]]> = [
  ['>=major', ['critical', 'major']],
  ['>major', ['critical']],
  ['>= minor', ['critical', 'major', 'minor']],
  ['>=critical', ['critical']],
  ['>critical', []],
  ['<=warning', ['warning', 'info', 'ok']],
  ['<warning', ['info', 'ok']],
  ['<ok', []],
  ['<=ok', ['ok']],
  ['>ok', ['critical', 'major', 'minor', 'warning', 'info']],
  ['!info', ['critical', 'major', 'minor', 'warning', 'ok']],
  ['!info, !ok', ['critical', 'major', 'minor', 'warning']],
  ['major, critical', ['critical', 'major']],
  ['minor', ['minor']],
  ['', ALL],
];

describe('severity operators', () => {
  it.each(SEVERITY_TABLE)('"%s" matches %j', (pattern, expected) => {
    const p = new Policy({ outputs: ['default', 'matched'], rules: [{ match: { severity: pattern }, action: 'route', output: 2 }] });
    // Twice each: the second answer comes from the policy's decision cache.
    for (let round = 0; round < 2; round++) {
      expect(ALL.filter((s) => routed({}, alert({ severity: s }), p) === 2)).toEqual(expected);
    }
  });

  it.each(['severe', '>=severe', '>=', '=>major', '!', 'major, loud'])('"%s" is refused with an InputError', (pattern) => {
    expect(() => new Policy({ rules: [{ match: { severity: pattern }, action: 'route', output: 1 }] })).toThrow(InputError);
  });
});

/** [pattern, value, matches] for the text fields (kind here). */
const KIND_TABLE: Array<[string, string, boolean]> = [
  ['fan-*, temperature-*', 'fan-failure', true],
  ['fan-*, temperature-*', 'temperature-high', true],
  ['fan-*, temperature-*', 'chassis-intrusion', false],
  // Anchored at both ends; `*` may be empty.
  ['fan-*', 'xfan-failure', false],
  ['fan-*', 'fan-', true],
  ['*-failure', 'fan-failure', true],
  ['*-failure', 'fan-failure-x', false],
  ['fan*failure', 'fan-redundancy-failure', true],
  // Case-blind.
  ['Fan-*', 'fan-failure', true],
  ['os-watchdog', 'OS-Watchdog', true],
  // Other characters are literal.
  ['fan.failure', 'fanXfailure', false],
  ['fan.failure', 'fan.failure', true],
  ['a+b', 'aab', false],
  ['a+b', 'a+b', true],
  ['(x)', '(x)', true],
  // Exclusion alone: everything else matches.
  ['!chassis-*', 'chassis-intrusion', false],
  ['!chassis-*', 'fan-failure', true],
  // Exclusion in a list with inclusions: only the included, minus the excluded.
  ['fan-*, !fan-redundancy-*', 'fan-failure', true],
  ['fan-*, !fan-redundancy-*', 'fan-redundancy-lost', false],
  ['fan-*, !fan-redundancy-*', 'temperature-high', false],
  ['!fan-redundancy-*, fan-*', 'fan-redundancy-lost', false],
  ['! chassis-intrusion', 'chassis-intrusion', false],
  ['!chassis-intrusion, !fan-failure', 'fan-failure', false],
  ['!chassis-intrusion, !fan-failure', 'temperature-high', true],
  // Empty alternatives are ignored; a field of only separators matches everything.
  [' , ', 'anything', true],
  ['fan-failure,,', 'fan-failure', true],
  ['fan-failure,,', 'temperature-high', false],
];

describe('text patterns (kind)', () => {
  it.each(KIND_TABLE)('"%s" on "%s" -> %s', (pattern, kind, matches) => {
    expect(routed({ kind: pattern }, alert({ kind }))).toBe(matches ? 2 : 1);
  });

  it('"!" with nothing after it is refused', () => {
    expect(() => new Policy({ rules: [{ match: { kind: 'fan-*, !' }, action: 'route', output: 1 }] })).toThrow(InputError);
  });
});

describe('device: its name or its host', () => {
  const pc07 = { name: 'pc-07', host: '10.0.0.7', site: 'branch-3' };
  const TABLE: Array<[string, AlertFacts['device'], boolean]> = [
    ['pc-07', pc07, true],
    ['PC-07', pc07, true],
    ['10.0.0.7', pc07, true],
    ['10.0.0.*', pc07, true],
    ['10.0.1.*', pc07, false],
    ['pc-070', pc07, false],
    ['pc-07', { host: 'pc-07' }, true],
    ['pc-07', { name: 'other', host: 'pc-07' }, true],
    ['pc-07', {}, false],
    ['*', {}, true],
    // Excluding a device by either of its names excludes the device.
    ['!pc-07', pc07, false],
    ['!10.0.0.7', pc07, false],
    ['!pc-*', pc07, false],
    ['!pc-08', pc07, true],
    ['!pc-07', {}, true],
    ['pc-*, !10.0.0.7', pc07, false],
    ['pc-*, !10.0.0.8', pc07, true],
  ];
  it.each(TABLE)('"%s" on %j -> %s', (pattern, device, matches) => {
    expect(routed({ device: pattern }, alert({ device }))).toBe(matches ? 2 : 1);
  });
});

describe('site, source, state, escalation', () => {
  const TABLE: Array<[RuleMatch, Partial<AlertFacts>, boolean]> = [
    [{ site: 'branch-*' }, { device: { name: 'a', site: 'branch-3' } }, true],
    [{ site: 'branch-*' }, { device: { name: 'a', site: 'head-office' } }, false],
    [{ site: 'branch-*' }, { device: { name: 'a' } }, false],
    [{ site: '!head-office' }, { device: { name: 'a' } }, true],
    [{ site: '!head-office' }, { device: { name: 'a', site: 'Head-Office' } }, false],
    [{ source: 'pet, wsevent' }, { source: 'wsevent' }, true],
    [{ source: 'pet, wsevent' }, { source: 'eventlog' }, false],
    [{ source: '!heartbeat' }, { source: 'heartbeat' }, false],
    [{ source: '!heartbeat' }, { source: 'presence' }, true],
    [{ source: 'p*' }, { source: 'power' }, true],
    [{ source: 'p*' }, { source: 'heartbeat' }, false],
    [{ state: 'resolve' }, { state: 'resolve' }, true],
    [{ state: 'resolve' }, { state: 'trigger' }, false],
    [{ state: 'trigger' }, { state: 'resolve' }, false],
    [{ state: '' }, { state: 'resolve' }, true],
    [{ escalated: true }, { details: { escalated: true } }, true],
    [{ escalated: true }, { details: {} }, false],
    [{ escalated: false }, { details: { escalated: true } }, false],
    [{ escalated: false }, { details: {} }, true],
    // Every condition of a rule must hold.
    [{ severity: '>=major', site: 'branch-*' }, { severity: 'major', device: { name: 'a', site: 'head-office' } }, false],
    [{ severity: '>=major', site: 'branch-*' }, { severity: 'minor', device: { name: 'a', site: 'branch-1' } }, false],
    [{ severity: '>=major', site: 'branch-*' }, { severity: 'critical', device: { name: 'a', site: 'branch-1' } }, true],
    [{ kind: 'fan-*', state: 'trigger', source: 'pet', severity: '!info', device: 'pc-*', site: 'branch-*', escalated: false }, {}, true],
    [{ kind: 'fan-*', state: 'trigger', source: 'pet', severity: '!info', device: 'pc-*', site: 'branch-*', escalated: true }, {}, false],
    [{ kind: 'fan-*', state: 'trigger', source: 'pet', severity: '!major', device: 'pc-*', site: 'branch-*' }, {}, false],
  ];
  it.each(TABLE)('%j on %j -> %s', (match, a, matches) => {
    expect(routed(match, alert(a))).toBe(matches ? 2 : 1);
  });

  it('a source that is not one of ours is refused', () => {
    expect(() => new Policy({ rules: [{ match: { source: 'pets' }, action: 'route', output: 1 }] })).toThrow(InputError);
  });
});

describe('rule order and actions', () => {
  const policy = new Policy({
    outputs: ['chat', 'pager'],
    defaultOutput: 1,
    rules: [
      { name: 'quiet', match: { severity: '<=info' }, action: 'drop' },
      { name: 'chassis is critical', match: { kind: 'chassis-*' }, action: 'severity', severity: 'critical' },
      { name: 'page', match: { severity: '>major' }, action: 'route', output: 2 },
      { name: 'also quiet', match: { kind: 'fan-*' }, action: 'drop' },
    ],
  });
  const TABLE: Array<[Partial<AlertFacts>, { output: number; severity: Severity; ruleIndex: number }]> = [
    [{ kind: 'x', severity: 'info' }, { output: 0, severity: 'info', ruleIndex: 0 }],
    // Raised to critical, then the next rule sees critical.
    [{ kind: 'chassis-intrusion', severity: 'minor' }, { output: 2, severity: 'critical', ruleIndex: 2 }],
    // The drop rule comes first, before the severity is raised.
    [{ kind: 'chassis-intrusion', severity: 'ok' }, { output: 0, severity: 'ok', ruleIndex: 0 }],
    [{ kind: 'temperature-high', severity: 'critical' }, { output: 2, severity: 'critical', ruleIndex: 2 }],
    [{ kind: 'temperature-high', severity: 'major' }, { output: 1, severity: 'major', ruleIndex: -1 }],
    [{ kind: 'fan-failure', severity: 'major' }, { output: 0, severity: 'major', ruleIndex: 3 }],
  ];
  it.each(TABLE)('%j -> %j', (a, expected) => {
    for (let round = 0; round < 2; round++) expect(policy.decide(alert(a))).toMatchObject(expected);
  });

  it('alerts that differ in one field only get their own decisions', () => {
    const p = new Policy({ outputs: ['a', 'b'], rules: [{ match: { device: '10.0.0.8' }, action: 'route', output: 2 }] });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      seen.push(p.decide(alert({ device: { name: 'pc', host: '10.0.0.7' } })).output);
      seen.push(p.decide(alert({ device: { name: 'pc', host: '10.0.0.8' } })).output);
    }
    expect(seen).toEqual([1, 2, 1, 2, 1, 2]);
  });

  it('the default output 0 drops what no rule decides', () => {
    const p = new Policy({ outputs: ['a'], defaultOutput: 0, rules: [{ match: { kind: 'fan-*' }, action: 'route', output: 1 }] });
    expect(p.decide(alert({ kind: 'fan-failure' })).output).toBe(1);
    expect(p.decide(alert({ kind: 'chassis-intrusion' })).output).toBe(0);
  });
});
