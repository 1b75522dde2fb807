import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { clearScenario, comeBack, Fleet, goSilent, pushEvent, runScenario, startFleet } from '../../packages/sim/src';
import { freeUdpPort } from '../helpers/peers';
import { alertInNode, alertPolicyNode, catchNode, deviceNode, getNode, helperNode, load, nextMessage, recordStatuses, startServer, stopServer } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Sim-P@ss1';
const NODES = [deviceNode, alertInNode, alertPolicyNode, catchNode];

let fleet: Fleet;
let userDir: string;

function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, seed: 'alert-in' });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-alert-in-'));
  helperNode.settings({ userDir });
  await startServer();
});
afterEach(async () => {
  await stopServer();
  closeAllAmt();
  fs.rmSync(userDir, { recursive: true, force: true });
});

function devices() {
  return fleet.devices.map((d, i) => ({ id: `dev${i}`, type: 'oob-device', name: d.name, host: '127.0.0.1', amtPort: d.port, amtTls: false, site: 'hq', timeout: 2 }));
}
const creds = () => Object.fromEntries(fleet.devices.map((_d, i) => [`dev${i}`, { username: USER, password: PASSWORD }]));

function flow(alertIn: Record<string, unknown>, outputs = 1) {
  const outs = Array.from({ length: outputs }, (_v, i) => `out${i + 1}`);
  return [
    ...devices().slice(0, 1),
    { id: 'f1', type: 'tab', label: 'alerts' },
    { id: 'alerts', z: 'f1', type: 'oob-alert-in', devices: 'pc-01', pet: false, wsevent: false, eventlog: false, heartbeat: false, outputs, wires: outs.map((o) => [o]), ...alertIn },
    ...outs.map((id) => ({ id, z: 'f1', type: 'helper' })),
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const started = async () => {
  const statuses = recordStatuses('alerts');
  for (let i = 0; i < 100 && !statuses.some((s) => s.fill === 'green' || s.fill === 'red'); i++) await new Promise((r) => setTimeout(r, 30));
  return statuses;
};

function cyclic(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

describe('oob-alert-in in a real Node-RED runtime', () => {
  it('PET → chat: a simulated chassis intrusion becomes one readable chat line, its repeat is held back', async () => {
    const port = await freeUdpPort();
    await load(NODES, flow({ pet: true, petPort: port, petAddress: '127.0.0.1', communities: 'public', shape: 'chat' }), creds());
    const statuses = await started();
    const sim = fleet.devices[0];
    const out = nextMessage('out1');
    await runScenario(sim, 'chassis-opened', { pet: { host: '127.0.0.1', port }, eventLog: false });
    const msg = await out;
    expect(msg.topic).toBe('pc-01');
    expect(msg.payload).toMatch(/^🔴 CRITICAL pc-01 @ hq: Chassis opened \(general chassis intrusion\) \[system chassis\] · \d\d:\d\d:\d\d$/);
    expect(msg.alert).toMatchObject({ source: 'pet', kind: 'chassis-intrusion', device: { name: 'pc-01', host: '127.0.0.1', site: 'hq' } });
    expect(JSON.stringify(msg)).not.toContain(PASSWORD);
    await runScenario(sim, 'chassis-opened', { pet: { host: '127.0.0.1', port }, eventLog: false });
    await new Promise((r) => setTimeout(r, 1100));
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'rx 2 · tx 1 · held 1' });
    // Deassert: the resolve goes out.
    const resolved = nextMessage('out1');
    await clearScenario(sim, 'chassis-opened', { pet: { host: '127.0.0.1', port }, eventLog: false });
    expect((await resolved).payload).toMatch(/^🟢 RESOLVED pc-01 @ hq: Cleared: Chassis opened/);
  });

  it('AMT events: subscribes the device, receives an agent-stopped push with Digest, acknowledges it, unsubscribes on close', async () => {
    const port = await freeTcpPort();
    await load(NODES, flow({ wsevent: true, eventPort: port, eventAddress: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}` }), creds());
    const sim = fleet.devices[0];
    for (let i = 0; i < 100 && sim.subscriptions.size === 0; i++) await new Promise((r) => setTimeout(r, 30));
    const [sub] = [...sim.subscriptions.values()];
    expect(sub.notifyTo).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/oobkit/events/[0-9a-f]{32}$`));
    expect(sub.pushAuth?.username).toMatch(/^oobkit-/);
    expect(sub.deliveryMode).toMatch(/PushWithAck$/);
    const out = nextMessage('out1');
    const results = await pushEvent(sim, 'iAMT0005', ['0']);
    expect(results).toEqual([expect.objectContaining({ acknowledged: true, status: 200 })]);
    const msg = await out;
    expect(msg.payload).toMatchObject({ source: 'wsevent', kind: 'agent-stopped', severity: 'major', summary: 'OS agent stopped: agent presence watchdog expired, agent 0' });
    expect(msg.payload.details.raw).toContain('iAMT0005');
    // Same push to a path that does not exist: 404, nothing emitted.
    const wrong = new URL(sub.notifyTo);
    wrong.pathname = '/oobkit/events/00000000000000000000000000000000';
    const res = await fetch(wrong, { method: 'POST', body: '<x/>' });
    expect(res.status).toBe(404);
    await stopServer();
    expect(sim.subscriptions.size).toBe(0);
    await startServer();
  });

  it('event log: emits only records that were not there before, and not again after a restart', async () => {
    const sim = fleet.devices[0];
    const seen: Array<Record<string, any>> = [];
    await load(NODES, flow({ eventlog: true, eventlogSeconds: 0.5 }), creds());
    getNode('out1').on('input', (m: Record<string, any>) => seen.push(m.payload));
    await new Promise((r) => setTimeout(r, 700));
    expect(seen).toEqual([]);
    await runScenario(sim, 'boot-failure', {});
    await runScenario(sim, 'overheating', {});
    for (let i = 0; i < 60 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((a) => [a.source, a.kind, a.severity])).toEqual([
      ['eventlog', 'boot-failure', 'critical'],
      ['eventlog', 'temperature-high', 'critical'],
    ]);
    await helperNode.unload();
    closeAllAmt();
    await load(NODES, flow({ eventlog: true, eventlogSeconds: 0.5 }), creds());
    const again: unknown[] = [];
    getNode('out1').on('input', (m: Record<string, any>) => again.push(m.payload));
    await new Promise((r) => setTimeout(r, 1200));
    expect(again).toEqual([]);
  });

  it('heartbeat watch: a silent PC raises heartbeat-missed, and its return resolves it', async () => {
    const sim = fleet.devices[1];
    await load(NODES, [...flow({ devices: 'pc-02', heartbeat: true, heartbeatSeconds: 0.5, heartbeatMisses: 2, heartbeatCheck: 'amt' }), devices()[1]], creds());
    const seen: Array<Record<string, any>> = [];
    getNode('out1').on('input', (m: Record<string, any>) => seen.push(m.payload));
    const statuses = recordStatuses('alerts');
    await new Promise((r) => setTimeout(r, 800));
    await goSilent(sim);
    try {
      for (let i = 0; i < 80 && !seen.some((a) => a.state === 'trigger'); i++) await new Promise((r) => setTimeout(r, 50));
      // The status says which device is silent.
      for (let i = 0; i < 40 && !statuses.some((s) => / · pc-02 silent$/.test(s.text ?? '')); i++) await new Promise((r) => setTimeout(r, 50));
      expect(statuses.filter((s) => /silent/.test(s.text ?? '')).at(-1)).toEqual({ fill: 'yellow', shape: 'ring', text: expect.stringMatching(/^rx \d+ · tx \d+ · held \d+ · pc-02 silent$/) });
    } finally {
      await comeBack(sim);
    }
    for (let i = 0; i < 80 && !seen.some((a) => a.state === 'resolve'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((a) => [a.kind, a.state])).toEqual([
      ['heartbeat-missed', 'trigger'],
      ['heartbeat-missed', 'resolve'],
    ]);
    expect(seen[0].summary).toMatch(/^No heartbeat from pc-02 for \d+ s$/);
  });

  it('names the first silent device and counts the others in its status', async () => {
    // Heartbeats that are only pushed: nobody pushes them here, so both PCs fall silent.
    await load(NODES, [...flow({ devices: 'pc-01, pc-02', heartbeat: true, heartbeatSeconds: 0.5, heartbeatMisses: 1, heartbeatCheck: 'push' }), devices()[1]], creds());
    const statuses = recordStatuses('alerts');
    for (let i = 0; i < 80 && !statuses.some((s) => /\+1 silent$/.test(s.text ?? '')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(statuses.at(-1)).toEqual({ fill: 'yellow', shape: 'ring', text: expect.stringMatching(/^rx \d+ · tx \d+ · held \d+ · pc-0[12] \+1 silent$/) });
    getNode('alerts').receive({ heartbeat: 'pc-01' });
    getNode('alerts').receive({ heartbeat: 'pc-02' });
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: expect.stringMatching(/^rx \d+ · tx \d+ · held \d+$/) });
  });

  it('takes an empty topic as no device name', async () => {
    await load(NODES, flow({}), creds());
    const out = nextMessage('out1');
    getNode('alerts').receive({ topic: '', payload: { kind: 'disk-space', severity: 'warning', summary: 'Disk 91% full' } });
    expect((await out).alert.device).toEqual({});
  });

  it('a shared policy routes to named outputs and shapes for PagerDuty; maintenance from a message holds alerts back', async () => {
    const policy = { id: 'pol', type: 'oob-alert-policy', outputNames: 'chat, pager', rules: JSON.stringify([{ match: { severity: '>=major' }, action: 'route', output: 2 }]), defaultOutput: 1 };
    await load(NODES, [...flow({ policy: 'pol', shape: 'pagerduty' }, 2), policy], creds());
    const pager = nextMessage('out2');
    getNode('alerts').receive({ alert: { kind: 'fan-failure', severity: 'critical', summary: 'Fan 2 failed', device: { name: 'pc-01', host: '127.0.0.1', site: 'hq' } } });
    const msg = await pager;
    expect(msg.url).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(msg.payload).toMatchObject({ event_action: 'trigger', dedup_key: 'pc-01/power/fan-failure', payload: { severity: 'critical', source: '127.0.0.1', summary: 'pc-01 @ hq: Fan 2 failed', class: 'fan-failure', group: 'hq' } });
    const chat = nextMessage('out1');
    getNode('alerts').receive({ alert: { kind: 'disk-space', severity: 'warning', summary: 'Disk 91% full', device: { name: 'pc-01' } } });
    expect((await chat).alert.kind).toBe('disk-space');
    getNode('alerts').receive({ maintenance: { device: 'pc-01', minutes: 30 } });
    const seen: unknown[] = [];
    getNode('out1').on('input', (m: unknown) => seen.push(m));
    getNode('out2').on('input', (m: unknown) => seen.push(m));
    getNode('alerts').receive({ alert: { kind: 'os-watchdog', severity: 'critical', summary: 'OS hang', device: { name: 'pc-01' } } });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
  });

  it.each([
    ['no alert, heartbeat or maintenance', { payload: 42 }, /send msg.alert/],
    ['an unknown severity', { alert: { kind: 'x', severity: 'apocalyptic' } }, /severity "apocalyptic"/],
    ['a heartbeat for a device nobody watches', { heartbeat: 'pc-99' }, /no heartbeat watch for "pc-99"/],
    ['a maintenance window without an end', { maintenance: { device: 'pc-01' } }, /needs a cron expression with minutes, or an until date/],
    ['a maintenance window of 10^20 minutes', { maintenance: { device: 'pc-01', minutes: 1e20 } }, /maintenance minutes must be between 1 and 44640, got 100000000000000000000/],
    ['alert details with a cycle', { alert: { kind: 'x', summary: 'cycle', details: cyclic() } }, /alert details must be plain JSON data \(no cycles, no BigInt\)/],
  ])('refuses %s with a clear error to a Catch node', async (_what, input, message) => {
    await load(NODES, flow({}), creds());
    const statuses = await started();
    const caught = nextMessage('caught');
    getNode('alerts').receive(input);
    expect((await caught).error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: 'bad input' });
  });

  it('open conditions: a lower limit set after a restart keeps the most recently seen; a forgotten condition pages again, a kept one is held', async () => {
    const condition = (i: number) => ({ alert: { kind: `disk-${i}`, severity: 'warning', summary: `Disk ${i} full`, device: { name: 'pc-01' } } });
    const sent: string[] = [];
    const collect = () => getNode('out1').on('input', (m: Record<string, any>) => sent.push(m.alert.kind));
    const quiet = { rateKeyCount: 0, rateGlobalCount: 0 };
    await load(NODES, flow(quiet), creds());
    await started();
    collect();
    for (let i = 0; i < 150; i++) getNode('alerts').receive(condition(i));
    for (let i = 0; i < 200 && sent.length < 150; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sent).toHaveLength(150);
    await helperNode.unload();

    await load(NODES, flow({ ...quiet, maxOpen: '100' }), creds());
    const statuses = await started();
    sent.length = 0;
    collect();
    getNode('alerts').receive(condition(149));
    getNode('alerts').receive(condition(50));
    getNode('alerts').receive(condition(0));
    for (let i = 0; i < 200 && sent.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    // 0-49 were forgotten at the start (held 50); 50 and 149 were kept: repeats (held 52).
    expect(sent).toEqual(['disk-0']);
    expect(statuses.at(-1)?.text).toBe('rx 3 · tx 1 · held 53');
  });

  it('refuses a limit of open conditions out of bounds: the error names the bounds, and an alert sent to it gets a catchable error', async () => {
    await load(NODES, flow({ maxOpen: '50' }), creds());
    const logged = helperNode.log().args.map((a: Array<{ msg?: unknown }>) => String(a[0]?.msg));
    expect(logged.some((m: string) => m.includes('"50" is not a whole number from 100 to 1000000'))).toBe(true);
    const caught = nextMessage('caught');
    getNode('alerts').receive({ alert: { kind: 'disk-full', summary: 'Disk full' } });
    expect((await caught).error.message).toMatch(/bad config/);
  });

  it('turns red, and says so, when the PET port is taken', async () => {
    const dgram = await import('node:dgram');
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    try {
      await load(NODES, flow({ pet: true, petPort: holder.address().port, petAddress: '127.0.0.1' }), creds());
      const statuses = await started();
      expect(statuses.at(-1)).toEqual({ fill: 'red', shape: 'ring', text: 'PET port busy' });
    } finally {
      holder.close();
    }
  });

  it('restarting Node-RED in the middle of a burst loses nothing that was acknowledged', async () => {
    const port = await freeTcpPort();
    const sim = fleet.devices[0];
    const cfg = flow({ wsevent: true, eventPort: port, eventAddress: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}`, dedupSeconds: 0, rateKeyCount: 0, rateGlobalCount: 0 });
    const received = new Set<string>();
    const collect = () => getNode('out1').on('input', (m: Record<string, any>) => received.add(m.alert.details.messageId));
    await load(NODES, cfg, creds());
    collect();
    for (let i = 0; i < 100 && sim.subscriptions.size === 0; i++) await new Promise((r) => setTimeout(r, 30));
    const acked: string[] = [];
    const burst = (async () => {
      for (let i = 0; i < 40; i++) {
        const id = `TEST${String(i).padStart(4, '0')}`;
        const r = await pushEvent(sim, id, [String(i)], { attempts: 20, retryMs: 100 });
        if (r.some((x) => x.acknowledged)) acked.push(id);
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    await helperNode.unload();
    closeAllAmt();
    await load(NODES, cfg, creds());
    collect();
    await burst;
    await new Promise((r) => setTimeout(r, 300));
    expect(acked.length).toBeGreaterThan(10);
    expect(acked.filter((id) => !received.has(id))).toEqual([]);
  });

  /** Stops the flows from inside the alert node's send: the message is routed but not yet delivered. */
  function stopFlowsInsideSend(): () => Promise<void> {
    const alerts = getNode('alerts') as unknown as { send: (m: unknown) => void };
    const send = alerts.send.bind(alerts);
    let stopping: Promise<void> | undefined;
    alerts.send = (m: unknown) => {
      send(m);
      stopping ??= Promise.resolve(helperNode.unload()).then(() => closeAllAmt());
    };
    return async () => {
      for (let i = 0; i < 200 && !stopping; i++) await new Promise((r) => setTimeout(r, 10));
      if (!stopping) throw new Error('the alert node never sent anything');
      await stopping;
    };
  }

  it('a flow stopped after an acknowledged push was sent on but before Node-RED delivered it: the push goes out after the restart', async () => {
    const port = await freeTcpPort();
    const sim = fleet.devices[0];
    const cfg = flow({ wsevent: true, eventPort: port, eventAddress: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}` });
    await load(NODES, cfg, creds());
    for (let i = 0; i < 100 && sim.subscriptions.size === 0; i++) await new Promise((r) => setTimeout(r, 30));
    const delivered: unknown[] = [];
    getNode('out1').on('input', (m: unknown) => delivered.push(m));
    const stopped = stopFlowsInsideSend();
    const pushed = await pushEvent(sim, 'HANDOVER1', ['1']);
    expect(pushed.some((x) => x.acknowledged)).toBe(true);
    await stopped();
    expect(delivered).toEqual([]);
    await load(NODES, cfg, creds());
    const again = await nextMessage('out1');
    expect(again.alert.details.messageId).toBe('HANDOVER1');
  });

  it('a flow stopped after an alert was sent on but before Node-RED delivered it: its condition is not kept as paged', async () => {
    const cfg = flow({ dedupSeconds: 600 });
    const alert = { kind: 'fan-failure', severity: 'critical', summary: 'Fan 2 failed', device: { name: 'pc-01' } };
    await load(NODES, cfg, creds());
    await started();
    const stopped = stopFlowsInsideSend();
    getNode('alerts').receive({ alert });
    await stopped();
    await load(NODES, cfg, creds());
    await started();
    const out = nextMessage('out1');
    getNode('alerts').receive({ alert });
    expect((await out).alert).toMatchObject({ kind: 'fan-failure', summary: 'Fan 2 failed' });
  });

  it('acknowledge from a message: goes out once in the chosen shape, silences repeats, survives a restart, and the resolve still comes', async () => {
    const cfg = flow({ shape: 'chat', dedupSeconds: 1, rateKeyCount: 0, rateGlobalCount: 0 });
    await load(NODES, cfg, creds());
    await started();
    const fanAlert = { kind: 'fan-failure', severity: 'critical', summary: 'Fan 2 failed', device: { name: 'pc-01', site: 'hq' } };
    const trigger = nextMessage('out1');
    getNode('alerts').receive({ alert: fanAlert });
    const t = await trigger;
    expect(t.alert.state).toBe('trigger');
    // As a feed of alerts would send it back: the alert itself, and who.
    const ack = nextMessage('out1');
    getNode('alerts').receive({ acknowledge: true, alert: t.alert, user: 'dana' });
    const a = await ack;
    expect(a.alert).toMatchObject({ state: 'acknowledge', dedupKey: t.alert.dedupKey, details: { acknowledgedBy: 'dana', triggerId: t.alert.id } });
    expect(a.payload).toMatch(/^👀 ACKNOWLEDGED pc-01 @ hq: Acknowledged by dana: Fan 2 failed/);

    const seen: Array<Record<string, any>> = [];
    getNode('out1').on('input', (m: Record<string, any>) => seen.push(m));
    getNode('alerts').receive({ acknowledge: t.alert.dedupKey, user: 'sam' });
    getNode('alerts').receive({ alert: fanAlert });
    await new Promise((r) => setTimeout(r, 1300));
    getNode('alerts').receive({ alert: fanAlert });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);

    // Restart: the acknowledgement is still there; the resolve says who had it.
    await helperNode.unload();
    await load(NODES, cfg, creds());
    await started();
    const after: Array<Record<string, any>> = [];
    getNode('out1').on('input', (m: Record<string, any>) => after.push(m));
    getNode('alerts').receive({ acknowledge: { dedupKey: t.alert.dedupKey, by: 'sam' } });
    getNode('alerts').receive({ alert: fanAlert });
    await new Promise((r) => setTimeout(r, 1300));
    const resolve = nextMessage('out1');
    getNode('alerts').receive({ alert: { ...fanAlert, state: 'resolve', severity: 'ok', summary: 'Fan 2 back' } });
    const r = await resolve;
    expect(after.map((m) => m.alert.state)).toEqual(['resolve']);
    expect(r.alert.details).toMatchObject({ acknowledgedBy: 'dana', count: 4 });
  });

  it('refuses to acknowledge what nobody has open, with a clear error to a Catch node', async () => {
    await load(NODES, flow({}), creds());
    await started();
    const caught = nextMessage('caught');
    getNode('alerts').receive({ acknowledge: 'pc-01/pet/chassis-intrusion' });
    expect((await caught).error.message).toMatch(/no open alert has the key or id "pc-01\/pet\/chassis-intrusion" here, and the message names no device at another site/);
  });
});
