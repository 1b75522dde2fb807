import fc from 'fast-check';
import { recordOwnAction } from '../activity';
import { Alert, AlertDraft, makeAlert, NO_DETAILS } from './alert';
import { AlertEngine, Emission, EngineChange, SuppressReason } from './engine';
import { Policy, PolicyConfig } from './policy';
import { keyRecord } from './open-keys';
import { decodePet, encodePet, petDraft } from '../asf/pet';
import { applyHubChanges, HubChange } from './store';

function setup(policy: Partial<PolicyConfig> = {}, state?: ReturnType<AlertEngine['snapshot']>) {
  let now = Date.now();
  const out: Emission[] = [];
  const held: Array<[string, SuppressReason]> = [];
  const engine = new AlertEngine(new Policy(policy), { emit: (e) => out.push(e), onSuppressed: (a, r) => held.push([a.kind, r]), now: () => now, timer: false, state });
  return { engine, out, held, advance: (ms: number) => ((now += ms), engine.tick(now)), at: () => now };
}

const alert = (o: Partial<Alert> & { kind?: string } = {}) =>
  makeAlert({ device: { name: 'pc-01', host: '10.0.0.1', site: 'hq' }, source: 'pet', kind: 'fan-failure', severity: 'critical', summary: 'Fan failed', ...o } as never);

describe('policy rules', () => {
  it('route, drop and severity rules apply in order; the default takes the rest', () => {
    const { engine, out, held } = setup({
      outputs: ['chat', 'ticket'],
      defaultOutput: 1,
      rules: [
        { match: { severity: '<=info' }, action: 'drop' },
        { match: { kind: 'chassis-*' }, action: 'severity', severity: 'critical' },
        { match: { severity: '>=major', site: 'hq' }, action: 'route', output: 2 },
      ],
    });
    engine.process(alert({ kind: 'firmware-progress', severity: 'info' }));
    engine.process(alert({ kind: 'chassis-intrusion', severity: 'warning' }));
    engine.process(alert({ kind: 'temperature-high', severity: 'warning' }));
    expect(held).toEqual([['firmware-progress', 'policy']]);
    expect(out.map((e) => [e.alert.kind, e.output, e.alert.severity])).toEqual([
      ['chassis-intrusion', 2, 'critical'],
      ['temperature-high', 1, 'warning'],
    ]);
    expect(out[0].alert.details.originalSeverity).toBe('warning');
  });

  it('refuses a rule that routes to an output that does not exist, naming it', () => {
    expect(() => new Policy({ outputs: ['a'], rules: [{ match: {}, action: 'route', output: 3 }] })).toThrow(/rule 1: output 3 does not exist \(1-1\)/);
    expect(() => new Policy({ rules: [{ match: { severity: '>=loud' }, action: 'drop' }] })).toThrow(/severity "loud"/);
    expect(() => new Policy({ rules: [{ match: { source: 'smtp' }, action: 'drop' }] })).toThrow(/source "smtp"/);
  });
});

describe('dedup, resolve and escalation', () => {
  it('sends the first trigger, counts repeats, and reports the count when the window ends', () => {
    const { engine, out, held, advance } = setup({ dedupSeconds: 60, rateLimitPerKey: undefined });
    for (let i = 0; i < 5; i++) engine.process(alert());
    expect(out).toHaveLength(1);
    expect(held.filter(([, r]) => r === 'duplicate')).toHaveLength(4);
    advance(61_000);
    expect(out).toHaveLength(2);
    expect(out[1].alert.summary).toBe('Fan failed (repeated 4 more times in 1 min)');
    expect(out[1].alert.details).toMatchObject({ count: 5, repeats: 4 });
  });

  it('a resolve clears the trigger, says how long it lasted, and a second resolve is held back', () => {
    const { engine, out, held, advance } = setup();
    engine.process(alert());
    advance(90_000);
    engine.process(alert({ state: 'resolve', severity: 'ok', summary: 'Cleared: Fan failed' }));
    expect(out[1].alert).toMatchObject({ state: 'resolve', details: { openSeconds: 90, count: 1 } });
    engine.process(alert({ state: 'resolve', severity: 'ok' }));
    expect(held.at(-1)).toEqual(['fan-failure', 'nothing-to-resolve']);
    engine.process(alert());
    expect(out).toHaveLength(3);
  });

  it('escalates an unresolved trigger once, to the output a rule picks for escalations', () => {
    const { engine, out, advance } = setup({ outputs: ['chat', 'pager'], escalateMinutes: 10, rules: [{ match: { escalated: true }, action: 'route', output: 2 }] });
    engine.process(alert());
    advance(9 * 60_000);
    expect(out).toHaveLength(1);
    advance(61_000);
    expect(out).toHaveLength(2);
    expect(out[1]).toMatchObject({ output: 2, alert: { details: { escalated: true } } });
    expect(out[1].alert.summary).toBe('Escalated, unresolved for 10 min: Fan failed');
    advance(60 * 60_000);
    expect(out).toHaveLength(2);
  });
});

describe('rate limits', () => {
  it('holds back past the per-key and global limits and summarizes what it held', () => {
    const { engine, out, held, advance } = setup({ dedupSeconds: 0, rateLimitPerKey: { count: 2, seconds: 60 }, rateLimitGlobal: { count: 5, seconds: 60 } });
    for (let i = 0; i < 4; i++) engine.process(alert({ device: { name: 'pc-01' } }));
    for (let d = 2; d <= 6; d++) engine.process(alert({ kind: 'temperature-high', device: { name: `pc-0${d}` } }));
    expect(out).toHaveLength(5);
    expect(held.filter(([, r]) => r === 'rate-limit')).toHaveLength(4);
    advance(61_000);
    const summary = out.at(-1)!.alert;
    expect(summary).toMatchObject({ kind: 'held-back', severity: 'critical', details: { held: 4, byKind: { 'fan-failure': 2, 'temperature-high': 2 } } });
    expect(summary.summary).toBe('Rate limit held back 4 alerts: 2 fan-failure, 2 temperature-high (pc-01, pc-05, pc-06)');
  });
});

describe('maintenance and own actions', () => {
  it('holds back alerts of a device in a window set at run time, and after it ends lets them through', () => {
    const { engine, out, held, at, advance } = setup();
    engine.addMaintenance({ device: 'pc-01', until: new Date(at() + 30 * 60_000).toISOString() });
    engine.process(alert());
    engine.process(alert({ device: { name: 'pc-02' } }));
    expect(held).toEqual([['fan-failure', 'maintenance']]);
    expect(out).toHaveLength(1);
    advance(31 * 60_000);
    engine.process(alert());
    expect(out).toHaveLength(2);
    expect(engine.maintenanceWindows).toEqual([]);
  });

  it('holds back alerts during a recurring cron window', () => {
    // 12:00 on a Monday (2025-01-06) in the local zone of this machine.
    const local = new Date(2025, 0, 6, 12, 10).getTime();
    const out: Emission[] = [];
    const engine = new AlertEngine(new Policy({ maintenance: [{ site: 'hq', cron: '0 12 * * 1', minutes: 30 }] }), { emit: (e) => out.push(e), now: () => local, timer: false });
    engine.process(alert());
    expect(out).toHaveLength(0);
    const later = new AlertEngine(new Policy({ maintenance: [{ site: 'hq', cron: '0 12 * * 1', minutes: 5 }] }), { emit: (e) => out.push(e), now: () => local, timer: false });
    later.process(alert());
    expect(out).toHaveLength(1);
  });

  it('holds back a heartbeat lost right after our own reset of that device, not of another', () => {
    const { engine, out, held } = setup();
    recordOwnAction('10.0.0.77', 'power', 'reset');
    engine.process(alert({ kind: 'heartbeat-missed', source: 'heartbeat', device: { name: 'pc-77', host: '10.0.0.77' } }));
    engine.process(alert({ kind: 'heartbeat-missed', source: 'heartbeat', device: { name: 'pc-78', host: '10.0.0.78' } }));
    engine.process(alert({ kind: 'chassis-intrusion', device: { name: 'pc-77', host: '10.0.0.77' } }));
    expect(held).toEqual([['heartbeat-missed', 'own-action']]);
    expect(out.map((e) => e.alert.device.name)).toEqual(['pc-78', 'pc-77']);
  });

  it('does not hold back an agent that stops after we only fenced the PC off (or added a watchdog)', () => {
    const { engine, out, held } = setup();
    recordOwnAction('10.0.0.79', 'defense', 'isolate');
    engine.process(alert({ kind: 'agent-stopped', source: 'wsevent', device: { name: 'pc-79', host: '10.0.0.79' } }));
    expect(held).toEqual([]);
    expect(out.map((e) => e.alert.kind)).toEqual(['agent-stopped']);
  });
});

describe('state across restarts', () => {
  it('a state file keeps every field of every kind of open key (KeyRecords), and reads back the same', () => {
    const first = setup({ dedupSeconds: 60, escalateMinutes: 30, rateLimitPerKey: { count: 5, seconds: 60 } });
    first.engine.process(alert({ device: { name: 'plain', host: '10.0.0.2', mac: 'aa:bb:cc:dd:ee:ff', guid: 'g-1', site: 'hq' } }));
    first.engine.process(alert({ device: { name: 'repeating' } }));
    first.engine.process(alert({ device: { name: 'repeating' }, id: 'latest-repeat', details: { sequence: 7 } }));
    first.engine.process(alert({ device: { name: 'taken' }, summary: 'Fan «failed», ünïcode' }));
    first.engine.acknowledge('taken/pet/fan-failure', 'Dana', 'on it');
    first.advance(31 * 60_000);
    first.engine.process(alert({ device: { name: 'repeating' }, id: 'after-follow-up' }));
    first.engine.process(alert({ device: { name: 'late' }, severity: 'minor' }));
    first.engine.process(alert({ device: { name: 'gone' } }));
    first.engine.process(alert({ device: { name: 'gone' }, state: 'resolve', severity: 'ok' }));
    const before = first.engine.snapshot();
    const kinds = before.keys.map(([, v]) => [v.device.name, v.held > 0, v.ack !== undefined, v.escalated === true, v.alert !== undefined]);
    // One of each: repeats held (its alert kept), acknowledged, escalated, waiting to escalate.
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['plain', false, false, true, false],
        ['repeating', true, false, true, true],
        ['taken', false, true, false, true],
        ['late', false, false, false, true],
      ]),
    );
    const stored = JSON.parse(JSON.stringify(first.engine.storedState()));
    expect(stored.version).toBe(3);
    expect(stored.keys.every((r: unknown[]) => Array.isArray(r) && r[0] === 1)).toBe(true);
    const second = setup({ dedupSeconds: 60, escalateMinutes: 30 }, stored);
    expect(second.engine.snapshot()).toEqual(JSON.parse(JSON.stringify(before)));
  });

  it('for any alerts, times, evictions and acknowledgements, the changes taken, replayed over the first state, give the state of now', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('alert' as const), device: fc.constantFrom('pc-1', 'pc-2', 'pc-3', 'pc-4', 'pc-5'), kind: fc.constantFrom('fan-failure', 'chassis-intrusion'), resolve: fc.boolean() }),
      fc.record({ op: fc.constant('wait' as const), ms: fc.constantFrom(1000, 61_000, 400_000) }),
      fc.record({ op: fc.constant('ack' as const), device: fc.constantFrom('pc-1', 'pc-2', 'pc-3') }),
      fc.record({ op: fc.constant('take' as const) }),
      fc.record({ op: fc.constant('withdraw' as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.constantFrom(0, 5), (steps, escalateMinutes) => {
        let now = 1_700_000_000_000;
        const out: Emission[] = [];
        const policy = new Policy({ dedupSeconds: 60, escalateMinutes, rateLimitPerKey: undefined, rateLimitGlobal: undefined });
        const engine = new AlertEngine(policy, { emit: (e) => out.push(e), now: () => now, timer: false, trackChanges: true, maxKeys: 3 });
        const first = JSON.parse(JSON.stringify(engine.storedState()));
        const log: unknown[] = [];
        // As alert-in writes them: an open key as its KeyRecord.
        const take = () => log.push(...JSON.parse(JSON.stringify(engine.takeChanges().map((c) => ('k' in c && c.v ? keyRecord(c.k, c.v) : c)))));
        for (const s of steps) {
          if (s.op === 'alert') engine.process(alert({ device: { name: s.device }, kind: s.kind, ...(s.resolve ? { state: 'resolve', severity: 'ok' } : {}) }));
          else if (s.op === 'wait') engine.tick((now += s.ms));
          else if (s.op === 'ack' && engine.findOpen(`${s.device}/pet/fan-failure`)) engine.acknowledge(`${s.device}/pet/fan-failure`, 'Dana');
          else if (s.op === 'take') take();
          else if (s.op === 'withdraw' && out.length) engine.withdraw(out[out.length - 1]);
        }
        take();
        const replayed = applyHubChanges({ engine: first }, log as HubChange[]);
        const again = new AlertEngine(policy, { emit: () => undefined, now: () => now, timer: false, state: JSON.parse(JSON.stringify(replayed.engine)) });
        const byKey = (e: AlertEngine) => JSON.parse(JSON.stringify(e.snapshot().keys)).sort(([a]: [string], [b]: [string]) => a.localeCompare(b));
        expect(byKey(again)).toEqual(byKey(engine));
      }),
      { numRuns: 300 },
    );
  });

  it('a round that forgets thousands of keys, some opened again, replays to the state of now', () => {
    let now = 1_700_000_000_000;
    const policy = new Policy({ dedupSeconds: 60, rateLimitPerKey: undefined, rateLimitGlobal: undefined });
    const engine = new AlertEngine(policy, { emit: () => undefined, now: () => now, timer: false, trackChanges: true, maxKeys: 2500 });
    const name = (i: number) => ({ device: { name: `pc-${i}` } });
    for (let i = 0; i < 2500; i++) engine.process(alert(name(i)));
    const first = JSON.parse(JSON.stringify(engine.storedState()));
    engine.takeChanges();
    // One round: 1,500 resolved, every third of them triggered again, then 2,000 new ones (the
    // oldest evicted), some of the evicted opened again and some of those resolved again.
    now += 1000;
    for (let i = 0; i < 1500; i++) engine.process(alert({ ...name(i), state: 'resolve', severity: 'ok' }));
    for (let i = 0; i < 1500; i += 3) engine.process(alert(name(i)));
    for (let i = 2500; i < 4500; i++) engine.process(alert(name(i)));
    for (let i = 1500; i < 2500; i += 4) engine.process(alert(name(i)));
    for (let i = 1500; i < 2500; i += 8) engine.process(alert({ ...name(i), state: 'resolve', severity: 'ok' }));
    const log = JSON.parse(JSON.stringify(engine.takeChanges().map((c) => ('k' in c && c.v ? keyRecord(c.k, c.v) : c))));
    const replayed = applyHubChanges({ engine: first }, log as HubChange[]);
    const again = new AlertEngine(policy, { emit: () => undefined, now: () => now, timer: false, state: JSON.parse(JSON.stringify(replayed.engine)) });
    const byKey = (e: AlertEngine) => JSON.parse(JSON.stringify(e.snapshot().keys)).sort(([a]: [string], [b]: [string]) => a.localeCompare(b));
    expect(engine.openKeys).toBeGreaterThan(2000);
    expect(byKey(again)).toEqual(byKey(engine));
  });

  it('a key with repeats held keeps its latest alert whole through a KeyRecord', () => {
    const first = setup({ dedupSeconds: 60 });
    first.engine.process(alert({ id: 'first' }));
    first.engine.process(alert({ id: 'second', details: { sequence: 2 } }));
    const [[, v]] = first.engine.snapshot().keys;
    expect(v.held).toBe(1);
    const second = setup({ dedupSeconds: 60 }, JSON.parse(JSON.stringify(first.engine.storedState())));
    second.advance(61_000);
    expect(second.out.map((e) => [e.alert.id, e.alert.details.sequence, e.alert.details.count])).toEqual([['second', 2, 2]]);
  });

  it('a KeyRecord that cannot be used is left out, the others are read', () => {
    const first = setup();
    first.engine.process(alert({ device: { name: 'good' } }));
    const stored = JSON.parse(JSON.stringify(first.engine.storedState()));
    stored.keys.push([1, 'bad/pet/fan-failure', 42], [1, 'no-time/pet/x', 'id', {}, 'pet', 'x', 'critical', 's', 1, 'soon'], [2, 'later-layout/pet/x'], 'junk');
    const second = setup({}, stored);
    expect(second.engine.snapshot().keys.map(([k]) => k)).toEqual(['good/pet/fan-failure']);
  });

  it('a restored engine still knows the open trigger: no new page, and the resolve goes out', () => {
    const first = setup();
    first.engine.process(alert());
    const saved = JSON.parse(JSON.stringify(first.engine.snapshot()));
    const second = setup({}, saved);
    second.engine.process(alert());
    expect(second.out).toHaveLength(0);
    second.engine.process(alert({ state: 'resolve', severity: 'ok' }));
    expect(second.out).toHaveLength(1);
  });

  it('keeps at most maxKeys open keys, forgetting the oldest (counted)', () => {
    const out: Emission[] = [];
    const held: SuppressReason[] = [];
    const engine = new AlertEngine(new Policy({ rateLimitGlobal: undefined }), { emit: (e) => out.push(e), onSuppressed: (_a, r) => held.push(r), timer: false, maxKeys: 3 });
    for (let i = 0; i < 5; i++) engine.process(alert({ device: { name: `pc-${i}` } }));
    expect(engine.openKeys).toBe(3);
    expect(held).toEqual(['capacity', 'capacity']);
  });

  it('restarted with fewer kept than the state holds: keeps the most recently seen, forgets the rest (counted, and in its changes)', () => {
    let now = Date.UTC(2026, 0, 1);
    const policy = new Policy({ rateLimitGlobal: undefined });
    const first = new AlertEngine(policy, { emit: () => undefined, now: () => now, timer: false });
    for (let i = 0; i < 6; i++) {
      now += 1000;
      first.process(alert({ device: { name: `pc-${i}` } }));
    }
    // pc-0 seen again last: the most recently seen, not the first opened.
    now += 1000;
    first.process(alert({ device: { name: 'pc-0' } }));
    const held: string[] = [];
    const out: Emission[] = [];
    const second = new AlertEngine(policy, { emit: (e) => out.push(e), onSuppressed: (a, r) => held.push(`${r} ${a.device.name}`), now: () => now, timer: false, trackChanges: true, maxKeys: 3, state: first.snapshot() });
    expect(second.openKeys).toBe(3);
    expect(held).toEqual(['capacity pc-1', 'capacity pc-2', 'capacity pc-3']);
    expect(second.takeChanges()).toEqual([{ forgotten: ['pc-1/pet/fan-failure', 'pc-2/pet/fan-failure', 'pc-3/pet/fan-failure'] }]);
    for (const name of ['pc-0', 'pc-5', 'pc-1']) second.process(alert({ device: { name } }));
    // pc-0 and pc-5 were kept: repeats; pc-1 was forgotten: it pages again.
    expect(out.map((e) => e.alert.device.name)).toEqual(['pc-1']);
  });

  it('refuses a limit of open keys that is not a whole number of at least 1', () => {
    for (const maxKeys of [0, -5, 2.5, Number.NaN, Infinity]) expect(() => new AlertEngine(new Policy({}), { emit: () => undefined, timer: false, maxKeys })).toThrow(/open keys kept at most/);
  });
});

describe('the policy decides the same with its memory of decisions', () => {
  it('for any alerts, in any order, as a policy deciding each alert afresh', () => {
    const rules: PolicyConfig['rules'] = [
      { match: { device: 'pc-1*, !pc-13' }, action: 'route', output: 2 },
      { match: { kind: 'fan-*', severity: '<=warning' }, action: 'drop' },
      { match: { kind: 'chassis-*' }, action: 'severity', severity: 'critical' },
      { match: { site: 'lab', state: 'resolve' }, action: 'drop' },
      { match: { escalated: true }, action: 'route', output: 3 },
      { match: { severity: '>=major', source: 'pet, wsevent' }, action: 'route', output: 2 },
    ];
    const values = {
      name: [undefined, 'pc-1', 'pc-13', 'PC-10', 'pc-2', '', 'pc\u00001', 'pc-1\u0000'],
      host: [undefined, '10.0.0.1', 'pc-11', ''],
      site: [undefined, 'lab', 'hq', 'lab\u0000hq'],
      kind: ['fan-failure', 'chassis-intrusion', 'temperature-high', 'fan'],
      severity: ['critical', 'major', 'minor', 'warning', 'info', 'ok'],
      source: ['pet', 'wsevent', 'heartbeat'],
      state: ['trigger', 'resolve'],
      escalated: [false, true],
    };
    type Facts = { [F in keyof typeof values]: (typeof values)[F][number] };
    const arbitraryAlert = fc.record(Object.fromEntries(Object.entries(values).map(([f, vs]) => [f, fc.constantFrom(...vs)])) as { [F in keyof Facts]: fc.Arbitrary<Facts[F]> });
    const alertOf = (x: Facts): Alert => ({
      id: 'i',
      dedupKey: 'k',
      time: '2024-01-01T00:00:00.000Z',
      device: { name: x.name, host: x.host, site: x.site },
      source: x.source as Alert['source'],
      kind: x.kind,
      severity: x.severity as Alert['severity'],
      state: x.state as Alert['state'],
      summary: 's',
      details: x.escalated ? { escalated: true } : {},
    });
    // Any subset of the rules: a policy remembers decisions only by what its rules look at. Each
    // alert comes with every alert that differs from it in one fact, so a decision remembered
    // under too coarse a key is asked for again with the fact that would change it.
    fc.assert(
      fc.property(fc.subarray(rules), fc.array(arbitraryAlert, { maxLength: 8 }), (chosen, list) => {
        const config = { outputs: ['a', 'b', 'c'], rules: chosen };
        const remembering = new Policy(config);
        for (const x of list) {
          const variants = [x];
          for (const [f, vs] of Object.entries(values)) for (const v of vs) variants.push({ ...x, [f]: v });
          for (const y of variants) expect(remembering.decide(alertOf(y))).toEqual(new Policy(config).decide(alertOf(y)));
        }
      }),
    );
  });
});

describe('open keys: what they keep, and for how long', () => {
  const pet = (o: Partial<Alert> = {}) => alert({ details: { raw: 'raw-marker-'.repeat(12), sensorNumber: 49 }, ...o });

  it('an open key keeps the whole alert only while a follow-up may need it: a repeat is reported with all its details', () => {
    const { engine, out, advance } = setup({ dedupSeconds: 60 });
    engine.process(pet());
    expect(JSON.stringify(engine.snapshot())).not.toContain('raw-marker-raw-marker');
    engine.process(pet({ summary: 'Fan failed again' }));
    advance(61_000);
    expect(out[1].alert).toMatchObject({ summary: 'Fan failed again (repeated 1 more time in 1 min)', details: { raw: 'raw-marker-'.repeat(12), sensorNumber: 49, count: 2, repeats: 1 } });
    expect(JSON.stringify(engine.snapshot())).not.toContain('raw-marker-raw-marker');
  });

  it('with escalation on, the key keeps the whole alert until it has escalated', () => {
    const { engine, out, advance } = setup({ escalateMinutes: 5 });
    engine.process(pet());
    expect(JSON.stringify(engine.snapshot())).toContain('raw-marker-raw-marker');
    advance(5 * 60_000 + 1000);
    expect(out[1].alert).toMatchObject({ details: { escalated: true, raw: 'raw-marker-'.repeat(12) } });
    expect(JSON.stringify(engine.snapshot())).not.toContain('raw-marker-raw-marker');
  });

  it('a resolve names the id of the latest trigger, also after a restart', () => {
    const first = setup({ dedupSeconds: 60 });
    const a = pet({ id: 'first' });
    first.engine.process(a);
    first.engine.process(pet({ id: 'second' }));
    const second = setup({ dedupSeconds: 60 }, JSON.parse(JSON.stringify(first.engine.snapshot())));
    second.engine.process(pet({ state: 'resolve', severity: 'ok', id: 'clear' }));
    expect(second.out[0].alert.details).toMatchObject({ triggerId: 'second', count: 2 });
  });

  it('reads a state file of the earlier format, in which each key kept its whole alert', () => {
    const now = Date.now();
    const old = (id: string, held: number) => ({ alert: { ...pet({ id }), details: { raw: 'cd'.repeat(10) } }, output: 1, firstAt: now - 10_000, lastAt: now - 5000, count: held + 1, held, windowEnd: now + 50_000 });
    const state = { version: 1 as const, keys: [['pc-01/pet/fan-failure', old('quiet', 0)], ['pc-02/pet/fan-failure', old('noisy', 3)]], maintenance: [] };
    const { engine, out, advance } = setup({ dedupSeconds: 60 }, state as never);
    expect(engine.openKeys).toBe(2);
    advance(51_000);
    expect(out).toHaveLength(1);
    expect(out[0].alert).toMatchObject({ id: 'noisy', details: { raw: 'cdcdcdcdcdcdcdcdcdcd', count: 4, repeats: 3 } });
    engine.process(pet({ state: 'resolve', severity: 'ok' }));
    expect(out[1].alert.details).toMatchObject({ triggerId: 'quiet' });
  });

  it('the per-key rate limit holds across a restart', () => {
    const policy = { dedupSeconds: 0, rateLimitPerKey: { count: 2, seconds: 60 }, rateLimitGlobal: undefined };
    const first = setup(policy);
    first.engine.process(pet());
    first.engine.process(pet());
    const second = setup(policy, JSON.parse(JSON.stringify(first.engine.snapshot())));
    second.engine.process(pet());
    expect(first.out).toHaveLength(2);
    expect(second.out).toHaveLength(0);
    expect(second.held).toEqual([['fan-failure', 'rate-limit']]);
  });

  it('forgets a key with no news for maxKeyAge, but not before its repeats are reported', () => {
    let now = Date.now();
    const out: Emission[] = [];
    const held: SuppressReason[] = [];
    const engine = new AlertEngine(new Policy({ dedupSeconds: 3600 }), { emit: (e) => out.push(e), onSuppressed: (_a, r) => held.push(r), now: () => now, timer: false, maxKeyAgeMs: 60_000 });
    engine.process(pet({ device: { name: 'pc-quiet' } }));
    engine.process(pet({ device: { name: 'pc-noisy' } }));
    engine.process(pet({ device: { name: 'pc-noisy' } }));
    now += 61_000;
    engine.tick(now);
    expect(engine.openKeys).toBe(1);
    now += 3600_000;
    engine.tick(now);
    expect(out.map((e) => e.alert.summary)).toEqual(['Fan failed', 'Fan failed', 'Fan failed (repeated 1 more time in 60 min)']);
    engine.tick(now + 61_000);
    expect(engine.openKeys).toBe(0);
    engine.process(pet({ device: { name: 'pc-quiet' }, state: 'resolve', severity: 'ok' }));
    expect(held.at(-1)).toBe('nothing-to-resolve');
  });

  it('tells what changed since it was last asked: each changed key once, as it is now, and the keys forgotten', () => {
    let now = Date.now();
    const engine = new AlertEngine(new Policy({ dedupSeconds: 60, rateLimitGlobal: undefined }), { emit: () => undefined, now: () => now, timer: false, trackChanges: true, maxKeys: 100 });
    engine.process(pet({ device: { name: 'pc-1' } }));
    engine.process(pet({ device: { name: 'pc-1' } }));
    engine.process(pet({ device: { name: 'pc-2' } }));
    engine.process(pet({ device: { name: 'pc-2' }, state: 'resolve', severity: 'ok' }));
    engine.addMaintenance({ device: 'pc-9', until: new Date(now + 60_000).toISOString() });
    const changes = engine.takeChanges();
    const show = (c: EngineChange) => ('k' in c ? [c.k, c.v?.count] : 'forgotten' in c ? ['forgotten', c.forgotten] : ['maintenance', c.maintenance.length]);
    expect(changes.map(show)).toEqual([
      ['pc-1/pet/fan-failure', 2],
      ['forgotten', ['pc-2/pet/fan-failure']],
      ['maintenance', 1],
    ]);
    expect(engine.takeChanges()).toEqual([]);
    // The follow-up with the count changes the key; the window's end prunes the maintenance.
    now += 61_000;
    engine.tick(now);
    expect(engine.takeChanges().map((c) => ('k' in c ? [c.k, c.v?.held] : 'maintenance' in c ? ['maintenance', c.maintenance.length] : c))).toEqual([
      ['pc-1/pet/fan-failure', 0],
      ['maintenance', 0],
    ]);
  });

  it('restores keys given in any order least recently seen first, so the oldest still expires first', () => {
    let now = Date.now();
    const first = new AlertEngine(new Policy({ dedupSeconds: 0 }), { emit: () => undefined, now: () => now, timer: false });
    first.process(pet({ device: { name: 'pc-old' } }));
    now += 30_000;
    first.process(pet({ device: { name: 'pc-new' } }));
    const state = first.snapshot();
    state.keys.reverse();
    const engine = new AlertEngine(new Policy({ dedupSeconds: 0 }), { emit: () => undefined, now: () => now, timer: false, maxKeyAgeMs: 60_000, state: JSON.parse(JSON.stringify(state)) });
    engine.tick(now + 45_000);
    expect(engine.snapshot().keys.map(([k]) => k)).toEqual(['pc-new/pet/fan-failure']);
  });

  it('when full, forgets the least recently seen hundredth at once, each counted, and keeps the rest', () => {
    const out: Emission[] = [];
    const forgotten: string[] = [];
    const engine = new AlertEngine(new Policy({ rateLimitGlobal: undefined }), {
      emit: (e) => out.push(e),
      onSuppressed: (a, r) => r === 'capacity' && forgotten.push(a.device.name!),
      timer: false,
      maxKeys: 200,
    });
    for (let i = 0; i < 200; i++) engine.process(pet({ device: { name: `pc-${i}` } }));
    engine.process(pet({ device: { name: 'pc-0' } })); // seen again: now the most recent
    engine.process(pet({ device: { name: 'pc-new' } }));
    expect(forgotten).toEqual(['pc-1', 'pc-2']);
    expect(engine.openKeys).toBe(199);
    expect(out.at(-1)!.alert.device.name).toBe('pc-new');
    for (let i = 0; i < 1000; i++) engine.process(pet({ device: { name: `pc-more-${i}` } }));
    expect(engine.openKeys).toBeLessThanOrEqual(200);
    // Every key opened is either still open or was forgotten and counted.
    expect(forgotten.length + engine.openKeys).toBe(200 + 1 + 1000);
  });
});

describe('drafts: alerts built only when needed', () => {
  /** A draft of `a` that counts how often it is built. */
  function draftOf(a: Alert, builds: { n: number }): AlertDraft {
    return { dedupKey: a.dedupKey, device: a.device, source: a.source, kind: a.kind, severity: a.severity, state: a.state, summary: a.summary, details: NO_DETAILS, build: () => (builds.n++, JSON.parse(JSON.stringify(a)) as Alert) };
  }

  it('a repeat of an open condition is counted, not built; the follow-up carries the latest repeat whole', () => {
    const builds = { n: 0 };
    let now = Date.now();
    const out: Emission[] = [];
    // Nobody listens to suppressions (as in oob-alert-in): nothing asks for a repeat whole.
    const engine = new AlertEngine(new Policy({ dedupSeconds: 60, rateLimitPerKey: undefined }), { emit: (e) => out.push(e), now: () => now, timer: false });
    for (let i = 0; i < 50; i++) engine.process(draftOf(alert({ id: `a-${i}`, details: { sequence: i } }), builds));
    expect(out).toHaveLength(1);
    expect(engine.counts.byReason.duplicate).toBe(49);
    expect(builds.n).toBe(1);
    now += 61_000;
    engine.tick(now);
    expect(builds.n).toBe(2);
    expect(out[1].alert).toMatchObject({ id: 'a-49', details: { sequence: 49, count: 50, repeats: 49 } });
  });

  it('PET traps of one device: a flow that changes an emitted alert\'s device changes neither later alerts of the device nor what is kept', () => {
    let now = Date.UTC(2026, 0, 1);
    const out: Emission[] = [];
    const engine = new AlertEngine(new Policy({ dedupSeconds: 60, rateLimitPerKey: undefined }), { emit: (e) => out.push(e), now: () => now, timer: false });
    // As the hub hands in a device it knows: the same device object and the same `kept` for each of its traps.
    const ctx = { device: { name: 'pc-07', host: '10.0.0.7', site: 'hq' }, kept: {}, from: '10.0.0.7' };
    const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const trap = (specific: number, sensorNumber: number) => petDraft(decodePet(specific, encodePet({ guid, sensorNumber, entity: 23 }), now), { ...ctx, receivedAt: now });
    const device = { name: 'pc-07', host: '10.0.0.7', guid: '00112233-4455-6677-8899-aabbccddeeff', site: 'hq' };
    engine.process(trap(0x056f00, 1));
    out[0].alert.device.name = 'renamed by a flow';
    engine.process(trap(0x040102, 2));
    engine.process(trap(0x040102, 2));
    expect(out).toHaveLength(2);
    expect(out[1].alert.device).toEqual(device);
    out[1].alert.device.site = 'moved by a flow';
    // The follow-up of the repeat is made from what the key kept.
    now += 61_000;
    engine.tick(now);
    expect(out).toHaveLength(3);
    expect(out[2].alert.device).toEqual(device);
    out[2].alert.device.host = 'changed';
    expect(engine.snapshot().keys.map(([k, v]) => [k, v.device])).toEqual([
      ['pc-07/pet/chassis-intrusion/0/s1', device],
      ['pc-07/pet/fan-failure/critical/s2', device],
    ]);
    const ack = engine.acknowledge('pc-07/pet/fan-failure/critical/s2', 'Dana');
    expect(ack.device).toEqual(device);
    // The acknowledge alert is made from what the key kept (its latest alert was let go).
    expect(out[3].alert.device).toEqual(device);
    out[3].alert.device.name = 'renamed again';
    ack.device.site = 'elsewhere';
    expect(engine.snapshot().keys.map(([, v]) => v.device)).toEqual([device, device]);
  });

  it('for any alerts, times and policy, the same emissions, suppressions and state as the alerts whole', () => {
    const event = fc.record({
      device: fc.constantFrom('pc-1', 'pc-2', 'pc-3'),
      kind: fc.constantFrom('fan-failure', 'chassis-intrusion', 'temperature-high'),
      severity: fc.constantFrom('critical', 'major', 'warning', 'info'),
      state: fc.constantFrom('trigger', 'trigger', 'trigger', 'resolve'),
      wait: fc.constantFrom(0, 0, 1000, 30_000, 61_000, 400_000),
      look: fc.constantFrom('no', 'no', 'changes', 'state'),
    });
    const policy = fc.record({
      dedupSeconds: fc.constantFrom(0, 60, 300),
      escalateMinutes: fc.constantFrom(0, 5),
      perKey: fc.constantFrom(0, 2),
      global: fc.constantFrom(0, 3),
      listen: fc.boolean(),
    });
    fc.assert(
      fc.property(policy, fc.array(event, { maxLength: 60 }), (p, events) => {
        const config: Partial<PolicyConfig> = {
          outputs: ['a', 'b'],
          dedupSeconds: p.dedupSeconds,
          escalateMinutes: p.escalateMinutes,
          rateLimitPerKey: p.perKey ? { count: p.perKey, seconds: 60 } : undefined,
          rateLimitGlobal: p.global ? { count: p.global, seconds: 60 } : undefined,
          rules: [
            { match: { kind: 'chassis-*' }, action: 'severity', severity: 'critical' },
            { match: { severity: 'info' }, action: 'drop' },
            { match: { escalated: true }, action: 'route', output: 2 },
          ],
        };
        let now = Date.UTC(2024, 0, 1);
        const run = (asDrafts: boolean) => {
          // Each as it is at that moment (open keys change afterwards).
          const out: unknown[] = [];
          const record = (...x: unknown[]) => out.push(JSON.parse(JSON.stringify(x)));
          const engine = new AlertEngine(new Policy(config), {
            emit: (e) => record('emit', e.output, e.alert),
            onSuppressed: p.listen ? (a, r) => record('held', r, a) : undefined,
            now: () => now,
            timer: false,
            trackChanges: true,
          });
          const builds = { n: 0 };
          now = Date.UTC(2024, 0, 1);
          events.forEach((x, i) => {
            now += x.wait;
            engine.tick(now);
            const a = alert({ id: `e-${i}`, time: new Date(now).toISOString(), device: { name: x.device }, kind: x.kind, severity: x.severity as Alert['severity'], state: x.state as Alert['state'], details: { sequence: i } });
            engine.process(asDrafts ? draftOf(a, builds) : a);
            if (x.look === 'changes') record('changes', engine.takeChanges());
            if (x.look === 'state') record('state', engine.snapshot());
          });
          engine.tick(now + 3600_000);
          record('state', engine.snapshot());
          return out;
        };
        expect(run(true)).toEqual(run(false));
      }),
      { numRuns: 200 },
    );
  });
});
