/**
 * Policy settings at their limits, as the node's help gives them: 1 to 10 outputs, at most 500
 * rules, windows and limits of 0 or more (a number may come as text from a form; blank text is no
 * number), an output left blank or not text gets its number, the default output is named "alerts".
 */
import type { AlertFacts } from '../../lib/alerts/alert';
import { compileList, Policy } from '../../lib/alerts/policy';
import { InputError } from '../../lib/errors';

const make = (c: Record<string, unknown>) => new Policy(c as never);
const alert = (device: AlertFacts['device']): AlertFacts => ({ source: 'pet', kind: 'k', severity: 'major', state: 'trigger', device, details: {} });

describe('policy settings at their limits', () => {
  it('10 outputs and 500 rules are allowed', () => {
    expect(make({ outputs: Array.from({ length: 10 }, (_, i) => `o${i}`) }).outputCount).toBe(10);
    expect(make({ rules: Array.from({ length: 500 }, () => ({ match: {}, action: 'drop' })) }).config.rules).toHaveLength(500);
  });

  it('blank text, text that is no number and negative numbers are refused for windows', () => {
    for (const v of ['', '  ', 'abc', -1, '-1', Number.NaN, Number.POSITIVE_INFINITY, null]) {
      expect(() => make({ dedupSeconds: v })).toThrow(InputError);
    }
    expect(() => make({ dedupSeconds: '' })).toThrow('dedup window must be a number of 0 or more, got ""');
    expect(make({ dedupSeconds: ' 30 ' }).config.dedupSeconds).toBe(30);
  });

  it('a rule that is not an object is refused by its number', () => {
    expect(() => make({ rules: [{ match: {}, action: 'drop' }, null] })).toThrow(new InputError('rule 2 is not an object'));
    expect(() => make({ rules: ['drop'] })).toThrow(new InputError('rule 1 is not an object'));
  });

  it('outputs left blank or not text are numbered; the default output is "alerts"', () => {
    const p = make({ outputs: ['  ', 5, ' pager '] });
    expect(p.config.outputs).toEqual(['output 1', 'output 2', 'pager']);
    expect(p.outputName(3)).toBe('pager');
    expect(p.outputName(4)).toBe('output 4');
    expect(new Policy().outputName(1)).toBe('alerts');
    expect(new Policy({ maintenance: undefined }).config.maintenance).toEqual([]);
  });
});

describe('lists of alternatives', () => {
  it('compileList: empty matches everything; alternatives, exclusions and * as the help says', () => {
    expect(compileList('', 'kind')('anything')).toBe(true);
    expect(compileList(undefined, 'kind')(undefined)).toBe(true);
    const m = compileList('fan-*, temp*, !fan-ok', 'kind');
    expect(['fan-failure', 'temperature-high', 'fan-ok', 'disk'].map((k) => m(k))).toEqual([true, true, false, false]);
  });

  it('two site alternatives never match a device without a site', () => {
    const p = new Policy({ outputs: ['a', 'b'], rules: [{ match: { site: 's*, hq' }, action: 'route', output: 2 }] });
    expect([p.decide(alert({ name: 'x' })).output, p.decide(alert({ name: 'x', site: 'hq' })).output, p.decide(alert({ name: 'x', site: 'south' })).output]).toEqual([1, 2, 2]);
  });
});
