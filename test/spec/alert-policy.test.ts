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

/**
 * The policy's settings as the node's help describes them: 1 to 10 outputs (a blank name becomes
 * "output N"), Otherwise = an output or 0 to drop, windows and limits of 0 or more (0 = off; a
 * number may come as text from a form), at most 500 rules, each route to an output that exists.
 */
describe('policy settings', () => {
  const make = (c: Record<string, unknown>) => new Policy(c as never);

  it.each([
    [{ outputs: [] }, /1 to 10 outputs/],
    [{ outputs: Array(11).fill('x') }, /1 to 10 outputs/],
    [{ outputs: 'chat' }, /1 to 10 outputs/],
    [{ rules: 'none' }, /rules must be a list/],
    [{ rules: Array(501).fill({ match: {}, action: 'drop' }) }, /at most 500 rules/],
    [{ outputs: ['a', 'b'], defaultOutput: 3 }, /default output 3 does not exist \(0 to drop, or 1-2\)/],
    [{ defaultOutput: -1 }, /default output -1 does not exist/],
    [{ defaultOutput: 1.5 }, /default output 1.5 does not exist/],
    [{ dedupSeconds: -1 }, /dedup window must be a number of 0 or more, got "-1"/],
    [{ dedupSeconds: 'soon' }, /dedup window must be a number/],
    [{ dedupSeconds: Infinity }, /dedup window must be a number/],
    [{ escalateMinutes: -5 }, /escalation must be a number/],
    [{ ownActionSeconds: null }, /own-action suppression must be a number/],
    [{ rateLimitPerKey: { count: -1, seconds: 60 } }, /rate limit per key count must be a number/],
    [{ rateLimitGlobal: { count: 5, seconds: 'x' } }, /global rate limit seconds must be a number/],
    [{ rules: [null] }, /rule 1 is not an object/],
    [{ rules: [{ match: {}, action: 'forward' }] }, /rule 1: action must be route, drop or severity, got "forward"/],
    [{ outputs: ['a', 'b'], rules: [{ match: {}, action: 'drop' }, { match: {}, action: 'route', output: 3 }] }, /rule 2: output 3 does not exist \(1-2\)/],
    [{ rules: [{ match: {}, action: 'route', output: 0 }] }, /rule 1: output 0 does not exist/],
    [{ rules: [{ match: {}, action: 'severity', severity: 'loud' }] }, /rule 1: severity "loud" is not one of critical, major/],
    [{ rules: [{ name: 'pager', match: { severity: '>=loud' }, action: 'drop' }] }, /rule 1 \(pager\): severity "loud"/],
    [{ maintenance: 'weekends' }, /maintenance windows must be a list/],
  ])('%j is refused: %s', (config, message) => {
    expect(() => make(config)).toThrow(InputError);
    expect(() => make(config)).toThrow(message);
  });

  it('numbers typed as text are read; 0 turns a limit off; blank output names are numbered', () => {
    const p = make({
      outputs: [' chat ', '', 'pager'],
      defaultOutput: '0',
      dedupSeconds: ' 30 ',
      escalateMinutes: '0',
      ownActionSeconds: 0,
      rateLimitPerKey: { count: '2.7', seconds: '10' },
      rateLimitGlobal: { count: 0, seconds: 60 },
      rules: [{ match: {}, action: 'route', output: '3' }],
    });
    expect(p.config).toMatchObject({
      outputs: ['chat', 'output 2', 'pager'],
      defaultOutput: 0,
      dedupSeconds: 30,
      escalateMinutes: 0,
      ownActionSeconds: 0,
      rateLimitPerKey: { count: 2, seconds: 10 },
    });
    expect(p.config.rateLimitGlobal).toBeUndefined();
    expect(make({ rateLimitPerKey: { count: 5, seconds: 0 } }).config.rateLimitPerKey).toBeUndefined();
    expect(p.outputCount).toBe(3);
    expect([p.outputName(1), p.outputName(2), p.outputName(3), p.outputName(4)]).toEqual(['chat', 'output 2', 'pager', 'output 4']);
    expect(p.decide(alert()).output).toBe(3);
  });

  it('the defaults: one output "alerts", everything to it, 300 s dedup, 5 a minute per key, 200 a minute in all', () => {
    const p = new Policy();
    expect(p.config).toMatchObject({ outputs: ['alerts'], defaultOutput: 1, dedupSeconds: 300, rateLimitPerKey: { count: 5, seconds: 60 }, rateLimitGlobal: { count: 200, seconds: 60 }, ownActionSeconds: 180 });
    expect(p.decide(alert()).output).toBe(1);
  });

  it('a rule with no conditions matches everything; a severity rule without a severity changes nothing', () => {
    const p = make({ outputs: ['a', 'b'], rules: [{ match: {}, action: 'route', output: 2 }] });
    expect(ALL.map((severity) => p.decide(alert({ severity })).output)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('decisions stay right past the cache size (4,096 kinds of alerts)', () => {
    const p = make({ outputs: ['a', 'b'], rules: [{ match: { kind: 'k-1*' }, action: 'route', output: 2 }] });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) {
        const expected = String(i).startsWith('1') ? 2 : 1;
        const got = p.decide(alert({ kind: `k-${i}` })).output;
        if (got !== expected) throw new Error(`k-${i}: ${got}, not ${expected}`);
      }
    }
  });

  it('alerts with a field that is not text are still decided (not cached)', () => {
    const p = make({ outputs: ['a', 'b'], rules: [{ match: { device: 'pc-*' }, action: 'route', output: 2 }] });
    expect(p.decide(alert({ device: { name: 42 as unknown as string, host: 'pc-9' } })).output).toBe(2);
    expect(p.decide(alert({ device: { name: 42 as unknown as string, host: 'srv-9' } })).output).toBe(1);
  });
});
