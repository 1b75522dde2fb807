/**
 * Alert policy cases the mutation run found unchecked, with expectations worked out from the
 * node's help (nodes/oob-alert-policy/locales/en-US): a pattern never matches a field the alert
 * does not have (and its exclusion always does), a device matches when its name or its host is
 * listed, every condition of a rule must hold, a route rule routes, and the error texts name the
 * rule and the field.
 */
import type { AlertFacts } from '../../lib/alerts/alert';
import { Policy, Rule, RuleMatch } from '../../lib/alerts/policy';
import { InputError } from '../../lib/errors';

function alert(o: Partial<AlertFacts> = {}): AlertFacts {
  return { source: 'pet', kind: 'fan-failure', severity: 'major', state: 'trigger', device: { name: 'pc-07', host: '10.0.0.7', site: 'branch-3' }, details: {}, ...o };
}

const routed = (match: RuleMatch, a: AlertFacts) => new Policy({ outputs: ['default', 'matched'], defaultOutput: 1, rules: [{ match, action: 'route', output: 2 }] }).decide(a).output;

function refusal(rules: Rule[]): string {
  try {
    new Policy({ outputs: ['a', 'b'], rules });
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('fields the alert does not have', () => {
  it.each([
    [{ site: 's*' }, { name: 'a' }, false],
    [{ site: '!s*' }, { name: 'a' }, true],
    [{ site: '*' }, { name: 'a' }, true],
    [{ device: 'u*' }, { host: '10.0.0.1' }, false],
    [{ device: 'undefined' }, { host: '10.0.0.1' }, false],
    [{ device: 's*' }, {}, false],
    [{ device: '!s*' }, {}, true],
    [{ device: '!u*' }, { host: '10.0.0.1' }, true],
  ] as Array<[RuleMatch, AlertFacts['device'], boolean]>)('%j on device %j -> %s', (match, device, matches) => {
    expect(routed(match, alert({ device }))).toBe(matches ? 2 : 1);
  });
});

describe('lists', () => {
  it('a device matches when any one of its names matches any one alternative', () => {
    expect(routed({ device: 'pc-*, 10.0.0.*' }, alert({ device: { name: 'pc-1', host: '192.168.1.1' } }))).toBe(2);
    expect(routed({ device: 'srv-*, 192.168.*' }, alert({ device: { name: 'pc-1', host: '192.168.1.1' } }))).toBe(2);
    expect(routed({ device: 'srv-*, 10.*' }, alert({ device: { name: 'pc-1', host: '192.168.1.1' } }))).toBe(1);
  });

  it('severity comparisons may have white space around them, but are a single comparison', () => {
    expect(routed({ severity: ' >= major ' }, alert({ severity: 'critical' }))).toBe(2);
    expect(routed({ severity: ' >= major ' }, alert({ severity: 'minor' }))).toBe(1);
    expect(refusal([{ match: { severity: '>=major, minor' }, action: 'route', output: 2 }])).toBe('rule 1: severity ">=major" is not one of critical, major, minor, warning, info, ok');
    expect(refusal([{ match: { severity: 'ma!jor' }, action: 'route', output: 2 }])).toBe('rule 1: severity "ma!jor" is not one of critical, major, minor, warning, info, ok');
    expect(refusal([{ match: { severity: '>= loud' }, action: 'route', output: 2 }])).toBe('rule 1: severity "loud" is not one of critical, major, minor, warning, info, ok');
  });
});

describe('every condition of a rule must hold', () => {
  it.each([
    // Two, three and four conditions, each failing in turn.
    [{ kind: 'x*', state: 'trigger' }, false],
    [{ kind: 'fan-*', state: 'resolve' }, false],
    [{ kind: 'fan-*', state: 'trigger' }, true],
    [{ kind: 'x*', state: 'trigger', source: 'pet' }, false],
    [{ kind: 'fan-*', state: 'resolve', source: 'pet' }, false],
    [{ kind: 'fan-*', state: 'trigger', source: 'wsevent' }, false],
    [{ kind: 'fan-*', state: 'trigger', source: 'pet' }, true],
    [{ kind: 'x*', state: 'trigger', source: 'pet', site: 'branch-*' }, false],
    [{ kind: 'fan-*', state: 'trigger', source: 'pet', site: 'hq' }, false],
    [{ kind: 'fan-*', state: 'trigger', source: 'pet', site: 'branch-*' }, true],
  ] as Array<[RuleMatch, boolean]>)('%j -> %s', (match, matches) => {
    expect(routed(match, alert())).toBe(matches ? 2 : 1);
  });

  it('escalated is a condition only as true or false', () => {
    expect(routed({ escalated: 'true' as unknown as boolean }, alert())).toBe(2);
    expect(routed({ escalated: 'true' as unknown as boolean }, alert({ details: { escalated: true } }))).toBe(2);
  });
});

describe('actions', () => {
  it('a route rule routes, whatever else it carries; a severity rule changes the severity and goes on', () => {
    const p = new Policy({
      outputs: ['a', 'b', 'c'],
      rules: [
        { match: { kind: 'x*' }, action: 'route', output: 2, severity: 'critical' },
        { match: { kind: 'fan-*' }, action: 'severity', severity: 'minor' },
        { match: { severity: 'minor' }, action: 'route', output: 3 },
      ],
    });
    expect(p.decide(alert({ kind: 'x1' }))).toEqual({ output: 2, severity: 'major', ruleIndex: 0, ruleName: undefined });
    expect(p.decide(alert())).toEqual({ output: 3, severity: 'minor', ruleIndex: 2, ruleName: undefined });
  });
});

describe('decisions are remembered per alert, never across alerts that differ', () => {
  it('in site or in escalation', () => {
    const p = new Policy({
      outputs: ['a', 'b', 'c'],
      rules: [
        { match: { site: 'hq' }, action: 'route', output: 2 },
        { match: { escalated: true }, action: 'route', output: 3 },
      ],
    });
    const seen: number[] = [];
    for (let i = 0; i < 2; i++) {
      seen.push(p.decide(alert({ device: { name: 'pc', site: 'hq' } })).output);
      seen.push(p.decide(alert({ device: { name: 'pc', site: 'branch' } })).output);
      seen.push(p.decide(alert({ device: { name: 'pc', site: 'branch' }, details: { escalated: true } })).output);
      seen.push(p.decide(alert({ device: { name: 'pc' } })).output);
    }
    expect(seen).toEqual([2, 1, 3, 1, 2, 1, 3, 1]);
  });
});

describe('error texts name the rule and the field', () => {
  it.each([
    [[{ name: 'pets', match: { source: 'pets' }, action: 'route', output: 2 }], 'rule 1 (pets): source "pets" is not one of'],
    [[{ match: {}, action: 'route', output: 1 }, { match: { source: '!bogus' }, action: 'drop' }], 'rule 2: source "bogus" is not one of'],
    [[{ match: { source: '!' }, action: 'route', output: 2 }], 'rule 1 source: "!" needs a value after it'],
    [[{ match: { source: 'pe!t' }, action: 'route', output: 2 }], 'rule 1: source "pe!t" is not one of'],
    [[{ match: { kind: 'a, !' }, action: 'route', output: 2 }], 'rule 1 kind: "!" needs a value after it'],
    [[{ match: { device: '!' }, action: 'route', output: 2 }], 'rule 1 device: "!" needs a value after it'],
    [[{ match: { site: '!' }, action: 'route', output: 2 }], 'rule 1 site: "!" needs a value after it'],
    [[{ match: { severity: '!' }, action: 'route', output: 2 }], 'rule 1: severity: "!" needs a value after it'],
    [[{ name: 'x', match: { severity: 'loud' }, action: 'route', output: 2 }], 'rule 1 (x): severity "loud" is not one of critical, major, minor, warning, info, ok'],
  ] as Array<[Rule[], string]>)('%j', (rules, text) => {
    expect(refusal(rules).startsWith(text)).toBe(true);
  });
});
