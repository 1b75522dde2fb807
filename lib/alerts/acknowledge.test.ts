/**
 * Acknowledging an open alert: once, stops follow-ups and escalation but not the resolve, kept
 * across a restart (written before the acknowledge goes out), and at a site only for the device
 * the centre's command names.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shapeAlert } from './shape';
import { acknowledgeAtSite, ackRequest } from './acknowledge';
import { Alert, makeAlert } from './alert';
import { AlertEngine, Emission, SuppressReason } from './engine';
import { AlertHub } from './hub';
import { Policy, PolicyConfig } from './policy';

function setup(policy: Partial<PolicyConfig> = {}) {
  let now = Date.parse('2026-03-01T10:00:00Z');
  const out: Emission[] = [];
  const held: SuppressReason[] = [];
  const engine = new AlertEngine(new Policy({ rateLimitPerKey: undefined, rateLimitGlobal: undefined, ...policy }), {
    emit: (e) => out.push(e),
    onSuppressed: (_a, r) => held.push(r),
    now: () => now,
    timer: false,
  });
  return { engine, out, held, advance: (ms: number) => ((now += ms), engine.tick(now)) };
}

const fan = (o: Partial<Alert> = {}) => makeAlert({ device: { name: 'pc-01', host: '10.0.0.1', site: 'hq' }, source: 'pet', kind: 'fan-failure', severity: 'critical', summary: 'Fan failed', ...o } as never);

describe('acknowledging an open condition (engine)', () => {
  it('goes out once as state "acknowledge" on the trigger\'s output, with who and when; again changes nothing', () => {
    const { engine, out } = setup({ outputs: ['chat', 'pager'], rules: [{ match: { severity: 'critical' }, action: 'route', output: 2 }] });
    engine.process(fan({ id: 'trigger-1' }));
    const first = engine.acknowledge(out[0].alert.dedupKey, 'Dana', 'on my way');
    expect(first).toMatchObject({ dedupKey: 'pc-01/pet/fan-failure', triggerId: 'trigger-1', by: 'Dana', at: '2026-03-01T10:00:00.000Z', note: 'on my way', already: false });
    expect(out).toHaveLength(2);
    expect(out[1].output).toBe(2);
    expect(out[1].alert).toMatchObject({
      dedupKey: 'pc-01/pet/fan-failure',
      state: 'acknowledge',
      severity: 'critical',
      summary: 'Acknowledged by Dana: Fan failed',
      device: { name: 'pc-01', site: 'hq' },
      details: { acknowledgedBy: 'Dana', acknowledgedAt: '2026-03-01T10:00:00.000Z', acknowledgeNote: 'on my way', triggerId: 'trigger-1' },
    });
    expect(out[1].alert.id).not.toBe('trigger-1');
    const again = engine.acknowledge('trigger-1', 'Sam');
    expect(again).toMatchObject({ by: 'Dana', already: true });
    expect(out).toHaveLength(2);
  });

  it('stops the repeat follow-up and the re-trigger after the window, counts them, and the resolve still comes with the acknowledgement', () => {
    const { engine, out, held, advance } = setup({ dedupSeconds: 60 });
    engine.process(fan());
    engine.acknowledge('pc-01/pet/fan-failure', 'Dana');
    for (let i = 0; i < 3; i++) engine.process(fan());
    advance(61_000);
    advance(61_000);
    engine.process(fan());
    advance(61_000);
    expect(out.map((e) => e.alert.state)).toEqual(['trigger', 'acknowledge']);
    expect(held).toEqual(['duplicate', 'duplicate', 'duplicate', 'acknowledged']);
    engine.process(fan({ state: 'resolve', severity: 'ok', summary: 'Fan back' }));
    expect(out[2].alert).toMatchObject({ state: 'resolve', details: { count: 5, acknowledgedBy: 'Dana' } });
    // Resolved: the next trigger is a new condition, paged again and not acknowledged.
    engine.process(fan());
    expect(out[3].alert).toMatchObject({ state: 'trigger' });
    expect(out[3].alert.details.acknowledgedBy).toBeUndefined();
  });

  it('without an acknowledgement the same sequence pages the follow-up and the re-trigger (the control case)', () => {
    const { engine, out, advance } = setup({ dedupSeconds: 60 });
    engine.process(fan());
    for (let i = 0; i < 3; i++) engine.process(fan());
    advance(61_000);
    advance(61_000);
    engine.process(fan());
    advance(61_000);
    expect(out.map((e) => e.alert.state)).toEqual(['trigger', 'trigger', 'trigger']);
  });

  it('an acknowledged condition does not escalate; an unacknowledged one beside it does', () => {
    const { engine, out, advance } = setup({ escalateMinutes: 10 });
    engine.process(fan());
    engine.process(fan({ device: { name: 'pc-02' } }));
    engine.acknowledge('pc-01/pet/fan-failure', 'Dana');
    advance(11 * 60_000);
    const escalated = out.filter((e) => e.alert.details.escalated === true).map((e) => e.alert.device.name);
    expect(escalated).toEqual(['pc-02']);
  });

  it('refuses a key or id nothing open has, saying so', () => {
    const { engine } = setup();
    engine.process(fan());
    engine.process(fan({ state: 'resolve', severity: 'ok' }));
    expect(() => engine.acknowledge('pc-01/pet/fan-failure', 'Dana')).toThrow(/no open alert has the key or id "pc-01\/pet\/fan-failure" \(resolved already, or never sent\)/);
  });
});

describe('acknowledge requests', () => {
  it('take a key as text or an object, fall back to the alert a message carries, and bound what they keep', () => {
    expect(ackRequest('pc-01/pet/fan-failure')).toEqual({ key: 'pc-01/pet/fan-failure', by: 'Node-RED' });
    expect(ackRequest({ id: 'abc', by: ' Dana ', note: 'on it' })).toEqual({ key: 'abc', by: 'Dana', note: 'on it' });
    expect(ackRequest(true, { key: 'k', by: 'dashboard' })).toEqual({ key: 'k', by: 'dashboard' });
    expect(() => ackRequest({})).toThrow(/say which alert to acknowledge/);
    expect(() => ackRequest({ key: 'k', by: 'x'.repeat(201) })).toThrow(/longer than 200 characters/);
    expect(() => ackRequest({ key: 7 })).toThrow(/must be text/);
  });
});

describe('payload shapes of an acknowledge', () => {
  it('PagerDuty acknowledges the incident by its dedup key; Opsgenie acknowledges the alias; chat says who', () => {
    const { engine, out } = setup();
    engine.process(fan());
    engine.acknowledge('pc-01/pet/fan-failure', 'Dana');
    const ack = out[1].alert;
    expect(shapeAlert(ack, 'pagerduty').payload).toEqual({ event_action: 'acknowledge', dedup_key: 'pc-01/pet/fan-failure' });
    expect(shapeAlert(ack, 'opsgenie')).toMatchObject({ url: 'https://api.opsgenie.com/v2/alerts/pc-01%2Fpet%2Ffan-failure/acknowledge?identifierType=alias', payload: { user: 'Dana', source: 'OOBKit' } });
    expect(shapeAlert(ack, 'chat').payload).toMatch(/^👀 ACKNOWLEDGED pc-01 @ hq: Acknowledged by Dana: Fan failed · /);
  });
});

describe('acknowledgements kept by alert-in (hub) and taken at a site', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-ack-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function hub(id = 'a') {
    const emitted: Alert[] = [];
    const h = new AlertHub({ id, stateDir: dir, devices: [], policy: new Policy({ dedupSeconds: 1, rateLimitPerKey: undefined, rateLimitGlobal: undefined }), emit: (e) => emitted.push(e.alert) });
    return { h, emitted };
  }

  it('the acknowledge goes out only once it is on disk, and after a restart the condition is still acknowledged', async () => {
    const first = hub();
    await first.h.start();
    first.h.process(fan());
    await first.h.saveState();
    first.h.acknowledge({ key: 'pc-01/pet/fan-failure', by: 'Dana' });
    // Held for the state write that holds it.
    expect(first.emitted.map((a) => a.state)).toEqual(['trigger']);
    await first.h.saveState();
    expect(first.emitted.map((a) => a.state)).toEqual(['trigger', 'acknowledge']);
    const onDisk = fs.readFileSync(path.join(dir, 'alert-in-a.changes'), 'utf8');
    expect(onDisk).toContain('{"by":"Dana"');
    await first.h.close();

    const second = hub();
    await second.h.start();
    expect(second.h.acknowledge({ key: 'pc-01/pet/fan-failure', by: 'Sam' })).toMatchObject({ by: 'Dana', already: true });
    // Repeats past the window page nobody; the resolve does, with the acknowledgement.
    second.h.process(fan());
    await new Promise((r) => setTimeout(r, 1100));
    second.h.process(fan());
    second.h.process(fan({ state: 'resolve', severity: 'ok' }));
    await second.h.saveState();
    expect(second.emitted.map((a) => a.state)).toEqual(['resolve']);
    expect(second.emitted[0].details).toMatchObject({ acknowledgedBy: 'Dana' });
    await second.h.close();
  });

  it("at a site, a centre's acknowledgement reaches the running hub for the named device only", async () => {
    const site = hub('site');
    await site.h.start();
    site.h.process(fan());
    site.h.process(fan({ device: { name: 'pc-02', host: '10.0.0.2' } }));
    await site.h.saveState();
    const pc2 = { name: 'pc-02', host: '10.0.0.2' };
    // A command for pc-02 cannot acknowledge pc-01's alert.
    expect(() => acknowledgeAtSite(pc2, { key: 'pc-01/pet/fan-failure', by: 'centre' })).toThrow(/no open alert of pc-02 has the key or id "pc-01\/pet\/fan-failure" at this site/);
    expect(acknowledgeAtSite(pc2, { key: 'pc-02/pet/fan-failure', by: 'centre' })).toMatchObject({ dedupKey: 'pc-02/pet/fan-failure', by: 'centre', already: false });
    await site.h.saveState();
    expect(site.emitted.filter((a) => a.state === 'acknowledge').map((a) => a.device.name)).toEqual(['pc-02']);
    await site.h.close();
    // A closed hub takes nothing.
    expect(() => acknowledgeAtSite({ name: 'pc-01', host: '10.0.0.1' }, { key: 'pc-01/pet/fan-failure', by: 'centre' })).toThrow(/no open alert/);
  });
});
