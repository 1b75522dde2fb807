/**
 * The bad input for the MQTT bridge: malformed command payloads, unknown devices, a
 * broker that refuses or drops the connection, retained garbage on our topics. Each gets a clear
 * error (a result on the result topic and a 'problem'), the gateway reconnects, nothing crashes,
 * and the simulated PC is untouched by anything invalid.
 */
import { closeAllAmt } from '../lib/amt/connect';
import type { ManagedDevice } from '../lib/device';
import { BridgeOptions, BridgeStatus, CommandResult, HaBridge } from '../lib/mqtt';
import { Fleet, startFleet } from '../packages/sim/src';
import { Consumer, startAedes, startMosquitto, TestBroker } from './helpers/mqtt';

const USER = 'admin';
const PASSWORD = 'Mqtt-P@ss2';
let fleet: Fleet;
let broker: TestBroker;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, seed: 'mqtt-bad', timings: { bootTimeMs: 10, offDwellMs: 10, osShutdownMs: 10 } });
  broker = await startMosquitto();
});
afterAll(async () => {
  closeAllAmt();
  await broker.stop();
  await fleet.stop();
});

const devices = (): ManagedDevice[] =>
  fleet.devices.map((d) => ({ name: d.name, host: '127.0.0.1', mac: d.mac, amt: { host: '127.0.0.1', port: d.port, tls: false, username: USER, password: PASSWORD, timeoutMs: 3000 } }));

const bridges: HaBridge[] = [];
function bridge(url: string, o: Partial<BridgeOptions> = {}): { b: HaBridge; problems: Error[]; results: CommandResult[]; statuses: BridgeStatus[] } {
  const b = new HaBridge({ broker: { url, initialBackoffMs: 100, maxBackoffMs: 300 }, site: 'bad-input', origin: { name: 'test' }, pollSeconds: 0, scanMs: 300, ...o });
  const problems: Error[] = [];
  const results: CommandResult[] = [];
  const statuses: BridgeStatus[] = [];
  b.on('problem', (e: Error) => problems.push(e));
  b.on('result', (r: CommandResult) => results.push(r));
  b.on('status', (s: BridgeStatus) => statuses.push(s));
  bridges.push(b);
  return { b, problems, results, statuses };
}
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()));
});

/** This gateway's own first state (the retained one of an earlier gateway is there at once). */
async function ready(c: Consumer, slug = 'pc-01'): Promise<void> {
  const topic = `oobkit/bad-input/${slug}/state`;
  await c.waitFor(() => c.messages.find((m) => m.topic === topic && !m.retain && m.payload && JSON.parse(m.payload).power === 'on'), 15000, `a live state of ${slug}`);
}

describe('malformed commands and unknown targets', () => {
  it.each([
    ['a word the switch does not take', 'power', 'MAYBE', /"power" of pc-01 takes ON or OFF, got "MAYBE"/],
    ['whitespace only', 'power', '  ', /takes ON or OFF, got " {2}"/],
    ['JSON instead of ON/OFF', 'power', '{"state":"OFF"}', /takes ON or OFF/],
    ['binary junk', 'reset', '\u0000\u00ff\u0001PRESS', /"reset" of pc-01 takes PRESS, got "\?+\?PRESS"/],
    ['an oversized payload', 'reset', 'P'.repeat(5000), /is 5000 bytes; at most 256/],
    ['ON to a button', 'wake', 'ON', /"wake" of pc-01 takes PRESS, got "ON"/],
    ['an entity that takes no command', 'connectivity', 'ON', /pc-01 has no command "connectivity"; it takes: power, wake, reset/],
    ['an entity that does not exist', 'self-destruct', 'PRESS', /has no command "self-destruct"/],
  ])('refuses %s with a clear error on the result topic, and the PC is untouched', async (_what, entity, payload, message) => {
    const { b, problems } = bridge(broker.url);
    b.setDevices(devices());
    const c = await Consumer.connect(broker.url, ['oobkit/bad-input/#']);
    const pc = fleet.devices[0];
    const changes: unknown[] = [];
    pc.on('power', (e) => changes.push(e));
    try {
      await ready(c);
      await c.publish(`oobkit/bad-input/pc-01/cmd/${entity}`, payload);
      const result = await c.waitForJson(`oobkit/bad-input/pc-01/cmd/${entity}/result`);
      expect(result).toMatchObject({ ok: false, code: 'BAD_INPUT', entity, device: { name: 'pc-01' } });
      expect(result.error).toMatch(message);
      expect(problems.map((p) => p.message).join('\n')).toMatch(message);
      // Still working: a valid command right after goes through.
      await c.publish('oobkit/bad-input/pc-01/cmd/power', 'ON');
      await c.waitFor(() => c.messages.find((m) => m.topic === 'oobkit/bad-input/pc-01/cmd/power/result' && JSON.parse(m.payload).ok === true));
      expect(changes).toEqual([]);
      expect(pc.powerState).toBe(2);
    } finally {
      pc.removeAllListeners('power');
      await c.end();
    }
  });

  it('answers a command for an unknown device with an error, once a minute per topic', async () => {
    const { b, problems } = bridge(broker.url);
    b.setDevices(devices());
    const c = await Consumer.connect(broker.url, ['oobkit/bad-input/#']);
    try {
      await ready(c);
      for (let i = 0; i < 20; i++) await c.publish('oobkit/bad-input/nobody/cmd/power', 'ON');
      const result = await c.waitForJson('oobkit/bad-input/nobody/cmd/power/result');
      expect(result).toMatchObject({ ok: false, code: 'BAD_INPUT', device: { slug: 'nobody' } });
      expect(result.error).toMatch(/no device "nobody" on site bad-input/);
      await new Promise((r) => setTimeout(r, 300));
      expect(c.messages.filter((m) => m.topic === 'oobkit/bad-input/nobody/cmd/power/result')).toHaveLength(1);
      expect(problems.filter((p) => /nobody/.test(p.message))).toHaveLength(1);
    } finally {
      await c.end();
    }
  });

  it('refuses commands beyond the per-device queue as busy', async () => {
    const slow = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'mqtt-slow', latencyMs: 150 });
    const { b, results } = bridge(broker.url, { maxQueuedPerDevice: 2 });
    b.setDevices([{ name: 'slow-pc', host: '127.0.0.1', amt: { host: '127.0.0.1', port: slow.devices[0].port, username: USER, password: PASSWORD } }]);
    const c = await Consumer.connect(broker.url, ['oobkit/bad-input/#']);
    try {
      await ready(c, 'slow-pc');
      for (let i = 0; i < 6; i++) await c.publish('oobkit/bad-input/slow-pc/cmd/power', 'ON');
      await c.waitFor(() => results.length === 6, 15000, 'six results');
      expect(results.filter((r) => r.ok)).toHaveLength(2);
      expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual(Array(4).fill('slow-pc is busy: 2 commands are waiting'));
    } finally {
      await c.end();
      closeAllAmt();
      await slow.stop();
    }
  });
});

describe('an empty command payload', () => {
  it('is someone clearing a retained command: no result, no error, nothing done', async () => {
    const { b, problems, results } = bridge(broker.url);
    b.setDevices(devices());
    const c = await Consumer.connect(broker.url, ['oobkit/bad-input/#']);
    const pc = fleet.devices[0];
    const changes: unknown[] = [];
    pc.on('power', (e) => changes.push(e));
    try {
      await ready(c);
      await c.publish('oobkit/bad-input/pc-01/cmd/power', '');
      await c.publish('oobkit/bad-input/pc-01/cmd/power', '', { retain: true });
      await c.publish('oobkit/bad-input/pc-01/cmd/power', 'ON');
      await c.waitFor(() => results.length === 1, 10000, 'the result of ON');
      await new Promise((r) => setTimeout(r, 300));
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ ok: true, payload: 'ON' });
      expect(problems).toEqual([]);
      expect(c.messages.filter((m) => m.topic === 'oobkit/bad-input/pc-01/cmd/power/result')).toHaveLength(1);
      expect(changes).toEqual([]);
    } finally {
      pc.removeAllListeners('power');
      await c.end();
    }
  });
});

describe('retained garbage on our topics', () => {
  it('never runs a retained command, removes it, and overwrites garbage on its state and discovery topics', async () => {
    const key = `bad-input_M${fleet.devices[0].mac.replace(/:/g, '').toUpperCase()}`;
    const garbage = await Consumer.connect(broker.url, []);
    await garbage.publish('oobkit/bad-input/pc-01/cmd/power', 'OFF', { retain: true });
    await garbage.publish('oobkit/bad-input/pc-01/state', '\u0000not json', { retain: true });
    await garbage.publish(`homeassistant/switch/oobkit_bad_input/oobkit_${key}_power/config`, '{"broken":', { retain: true });
    await garbage.publish('homeassistant/switch/oobkit_bad_input/leftover/config', 'garbage', { retain: true });
    await garbage.publish('homeassistant/status', 'online', { retain: true });
    await garbage.end();

    const { b, problems } = bridge(broker.url);
    b.setDevices(devices());
    const c = await Consumer.connect(broker.url, ['oobkit/bad-input/#', 'homeassistant/#']);
    try {
      await ready(c);
      await new Promise((r) => setTimeout(r, 700));
      expect(fleet.devices[0].powerState).toBe(2);
      expect(problems.map((p) => p.message)).toContain('ignored a retained command on oobkit/bad-input/pc-01/cmd/power and removed it; commands must not be retained');
      const late = await Consumer.connect(broker.url, ['oobkit/bad-input/pc-01/cmd/power', 'oobkit/bad-input/pc-01/state', 'homeassistant/switch/oobkit_bad_input/#']);
      try {
        await new Promise((r) => setTimeout(r, 400));
        expect(late.latest.has('oobkit/bad-input/pc-01/cmd/power')).toBe(false);
        expect(JSON.parse(late.latest.get('oobkit/bad-input/pc-01/state')!.payload)).toMatchObject({ power: 'on' });
        expect(JSON.parse(late.latest.get(`homeassistant/switch/oobkit_bad_input/oobkit_${key}_power/config`)!.payload)).toMatchObject({ unique_id: `oobkit_${key}_power` });
        // A config under our node_id that no device owns is emptied.
        expect(late.latest.has('homeassistant/switch/oobkit_bad_input/leftover/config')).toBe(false);
      } finally {
        await late.end();
      }
    } finally {
      await c.publish('homeassistant/status', '', { retain: true });
      await c.end();
    }
  });
});

describe('brokers that refuse or drop the connection', () => {
  it('reports a refusal by Mosquitto (wrong password) and keeps retrying with backoff', async () => {
    const secured = await startMosquitto({ users: { gateway: 'right-password' } });
    try {
      const { statuses } = bridge(secured.url, { broker: { url: secured.url, client: { username: 'gateway', password: 'wrong' }, initialBackoffMs: 100, maxBackoffMs: 2000 } });
      await waitUntil(() => statuses.filter((s) => s.link.state === 'disconnected').length >= 3, 10000);
      const down = statuses.filter((s) => s.link.state === 'disconnected');
      expect(down[0].link.reason).toMatch(/refused: Not authorized|refused: Bad username or password/);
      // Backing off: each wait at least as long as the one before, within the jitter.
      const waits = down.map((s) => s.link.retryInMs!);
      expect(waits[2]).toBeGreaterThan(waits[0]);
    } finally {
      await secured.stop();
    }
  });

  it('connects with the right credentials to a Mosquitto that demands them', async () => {
    const secured = await startMosquitto({ users: { gateway: 'right-password' } });
    try {
      const { b } = bridge(secured.url, { broker: { url: secured.url, client: { username: 'gateway', password: 'right-password' }, initialBackoffMs: 100 } });
      b.setDevices(devices());
      const c = await Consumer.connect(secured.url, ['oobkit/#'], { username: 'gateway', password: 'right-password' });
      try {
        await ready(c);
      } finally {
        await c.end();
      }
    } finally {
      await secured.stop();
    }
  });

  it('reports a refusal by aedes', async () => {
    const refusing = await startAedes({ refuse: true });
    try {
      const { statuses } = bridge(refusing.url);
      await waitUntil(() => statuses.some((s) => s.link.state === 'disconnected'), 10000);
      expect(statuses.find((s) => s.link.state === 'disconnected')!.link.reason).toMatch(/refused/);
    } finally {
      await refusing.stop();
    }
  });

  it('reconnects after the broker goes away and comes back, and republishes everything (the broker kept nothing)', async () => {
    let flaky = await startMosquitto();
    const port = flaky.port;
    const { b, statuses } = bridge(flaky.url);
    b.setDevices(devices());
    let c = await Consumer.connect(flaky.url, ['oobkit/bad-input/#', 'homeassistant/#']);
    await ready(c);
    await c.end();
    await flaky.stop();
    await waitUntil(() => statuses.some((s) => s.link.state === 'disconnected'), 5000);
    expect(statuses.find((s) => s.link.state === 'disconnected')!.link.reason).toMatch(/ECONNREFUSED|connection closed|ECONNRESET|EPIPE/);
    // Changes while the broker is away are published once it is back.
    fleet.devices[1].powerOff('test');
    await b.refresh('pc-02');
    flaky = await startMosquitto({ port });
    try {
      c = await Consumer.connect(flaky.url, ['oobkit/bad-input/#', 'homeassistant/#']);
      await ready(c);
      await c.waitForJson('oobkit/bad-input/pc-02/state', (s) => s.power === 'off');
      await c.waitFor(() => [...c.latest.keys()].filter((t) => t.endsWith('/config')).length === 17);
      await c.end();
    } finally {
      fleet.devices[1].powerOn('test');
      await b.close();
      await flaky.stop();
    }
  });

  it('reconnects after aedes drops every connection', async () => {
    const dropping = await startAedes();
    try {
      const { b, statuses } = bridge(dropping.url);
      b.setDevices(devices());
      const c = await Consumer.connect(dropping.url, ['oobkit/bad-input/_gateway/availability']);
      await c.waitForPayload('oobkit/bad-input/_gateway/availability', 'online');
      dropping.dropClients();
      await waitUntil(() => statuses.some((s) => s.link.state === 'disconnected'), 5000);
      await waitUntil(() => statuses.at(-1)!.link.state === 'connected', 5000);
      await c.end();
    } finally {
      await dropping.stop();
    }
  });
});

describe('alerts that do not fit', () => {
  it.each([
    ['not an object', 'boom', /an alert must be an object/],
    ['no dedupKey', { summary: 's', kind: 'k', source: 'pet', state: 'trigger', severity: 'major', device: { name: 'pc-01' } }, /alert.dedupKey must be non-empty text/],
    ['a made-up severity', { dedupKey: 'k', summary: 's', kind: 'k', source: 'pet', state: 'trigger', severity: 'apocalyptic', device: { name: 'pc-01' } }, /alert.severity must be one of/],
    ['a device we do not publish', { dedupKey: 'k', summary: 's', kind: 'k', source: 'pet', state: 'trigger', severity: 'major', device: { name: 'elsewhere' } }, /no published device matches the alert's device/],
  ])('refuses an alert with %s', async (_what, alert, message) => {
    const { b } = bridge(broker.url);
    b.setDevices(devices());
    expect(() => b.applyAlert(alert)).toThrow(message);
  });
});

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
