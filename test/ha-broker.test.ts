/**
 * What an MSP's broker admin and Home Assistant see, against a real Mosquitto with a password
 * file and the ACL lines the node prints: two sites, each doing its own work and nothing of the
 * other's; a wrong ACL reported as such (MQTT 5 and 3.1.1); discovery migrated between modes and
 * from the ids of earlier versions the way HA asks; a restart that leaves the PCs' retained state
 * alone until the first poll answers, with one config per entity per start; retained commands
 * never run.
 */
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { closeAllAmt } from '../lib/amt/connect';
import type { ManagedDevice } from '../lib/device';
import { BridgeOptions, BridgeStatus, CommandRequest, gatewayAclLines, HaBridge } from '../lib/mqtt';
import { Fleet, startFleet } from '../packages/sim/src';
import { Consumer, startAedes, startMosquitto, TestBroker } from './helpers/mqtt';

const USER = 'admin';
const PASSWORD = 'Acl-P@ss1';
const USERS = { 'gw-a': 'pw-gw-a', 'gw-b': 'pw-gw-b', 'gw-c': 'pw-gw-c', 'gw-lab': 'pw-gw-lab', ha: 'pw-ha' };
let fleet: Fleet;
let broker: TestBroker;

// The README's earlier recipe for a site "customer-c": "-" kept in the node id, no homeassistant/status.
const OLD_RECIPE = ['user gw-c', 'topic readwrite oobkit/customer-c/#', 'topic readwrite homeassistant/+/oobkit_customer-c/#'];

beforeAll(async () => {
  fleet = await startFleet({ devices: 3, port: 0, wolPort: 0, user: USER, password: PASSWORD, seed: 'ha-broker', timings: { bootTimeMs: 20, offDwellMs: 20, osShutdownMs: 20 } });
  const acl = [
    ...gatewayAclLines({ username: 'gw-a', site: 'Customer A' }),
    '',
    ...gatewayAclLines({ username: 'gw-b', site: 'customer-b' }),
    '',
    ...OLD_RECIPE,
    '',
    ...gatewayAclLines({ username: 'gw-lab', site: 'lab' }),
    '',
    'user ha',
    'topic readwrite #',
  ];
  broker = await startMosquitto({ users: USERS, acl });
});
afterAll(async () => {
  closeAllAmt();
  await broker.stop();
  await fleet.stop();
});

function pc(i: number, name = fleet.devices[i].name): ManagedDevice {
  const d = fleet.devices[i];
  return { name, host: '127.0.0.1', mac: d.mac, amt: { host: '127.0.0.1', port: d.port, tls: false, username: USER, password: PASSWORD, timeoutMs: 3000 }, wake: { address: '127.0.0.1', port: fleet.wol!.port } };
}

const bridges: HaBridge[] = [];
function gateway(site: string, user: keyof typeof USERS, o: Partial<BridgeOptions> & { client?: IClientOptions } = {}): { b: HaBridge; statuses: BridgeStatus[]; commands: CommandRequest[]; problems: Error[] } {
  const { client, ...rest } = o;
  const b = new HaBridge({
    broker: { url: broker.url, client: { username: user, password: USERS[user], ...client }, initialBackoffMs: 100, maxBackoffMs: 400 },
    site,
    origin: { name: 'OOBKit test', sw_version: '0.1.0' },
    pollSeconds: 0,
    birthDelayMs: [20, 60],
    scanMs: 400,
    echoMs: 800,
    ...rest,
  });
  const statuses: BridgeStatus[] = [];
  const commands: CommandRequest[] = [];
  const problems: Error[] = [];
  b.on('status', (s: BridgeStatus) => statuses.push(s));
  b.on('command', (c: CommandRequest) => commands.push(c));
  b.on('problem', (e: Error) => problems.push(e));
  bridges.push(b);
  return { b, statuses, commands, problems };
}
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()));
});

const ha = (topics: string[]) => Consumer.connect(broker.url, topics, { username: 'ha', password: USERS.ha });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const configsOf = (c: Consumer, nodeId: string) => [...c.latest.entries()].filter(([t, m]) => t.includes(`/${nodeId}/`) && t.endsWith('/config') && m.payload);

async function rawClient(user: keyof typeof USERS, protocolVersion: 4 | 5): Promise<MqttClient> {
  const client = mqtt.connect(broker.url, { username: user, password: USERS[user], protocolVersion, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

describe('two sites on one broker with the ACL lines the node prints', () => {
  it('prints lines that name the site as the topics and the node id spell it, and HA birth read access', () => {
    expect(gatewayAclLines({ username: 'gw-a', site: 'Customer A' })).toEqual([
      'user gw-a',
      'topic readwrite oobkit/customer-a/#',
      'topic readwrite homeassistant/+/oobkit_customer_a/#',
      'topic read homeassistant/status',
    ]);
    expect(gatewayAclLines({ site: 'x', base: 'msp/oob', discoveryPrefix: 'ha' })).toEqual(['user <MQTT user of this gateway>', 'topic readwrite msp/oob/x/#', 'topic readwrite ha/+/oobkit_x/#', 'topic read ha/status']);
  });

  it('lets each gateway do all of its own work', async () => {
    const a = gateway('customer-a', 'gw-a');
    const bb = gateway('customer-b', 'gw-b');
    a.b.setDevices([pc(0)]);
    bb.b.setDevices([pc(1)]);
    const c = await ha(['homeassistant/#', 'oobkit/#']);
    try {
      await c.waitFor(() => configsOf(c, 'oobkit_customer_a').length === 9 && configsOf(c, 'oobkit_customer_b').length === 9, 15000, 'both sites discovered');
      await c.waitForJson('oobkit/customer-a/pc-01/state', (s) => s.connected === true);
      await c.waitForJson('oobkit/customer-b/pc-02/state', (s) => s.connected === true);
      // HA's birth reaches both (read access to homeassistant/status).
      const mark = c.messages.length;
      await c.publish('homeassistant/status', 'online');
      await c.waitFor(() => {
        const fresh = c.messages.slice(mark).filter((m) => m.topic.endsWith('/config') && !m.retain);
        return fresh.some((m) => m.topic.includes('/oobkit_customer_a/')) && fresh.some((m) => m.topic.includes('/oobkit_customer_b/'));
      }, 10000, 'both gateways answering the birth');
      // Commands reach each gateway.
      await c.publish('oobkit/customer-a/pc-01/cmd/power', 'ON');
      await c.publish('oobkit/customer-b/pc-02/cmd/power', 'ON');
      await c.waitForJson('oobkit/customer-a/pc-01/cmd/power/result', (r) => r.ok === true);
      await c.waitForJson('oobkit/customer-b/pc-02/cmd/power/result', (r) => r.ok === true);
      await sleep(1000);
      expect(a.b.status.denied).toEqual([]);
      expect(bb.b.status.denied).toEqual([]);
      expect(a.problems.filter((p) => /does not allow/.test(p.message))).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it.each([5, 4] as const)("gives a site's credentials nothing of the other site (MQTT version %s)", async (version) => {
    const bb = gateway('customer-b', 'gw-b');
    bb.b.setDevices([pc(1)]);
    const c = await ha(['oobkit/customer-b/#']);
    const intruder = await rawClient('gw-a', version);
    try {
      await c.waitFor(() => c.messages.find((m) => m.topic === 'oobkit/customer-b/pc-02/state' && !m.retain), 15000, 'site b running');
      const publish = (topic: string, payload: string, retain = false) =>
        new Promise<Error | undefined>((resolve) => intruder.publish(topic, payload, { qos: 1, retain }, (e) => resolve(e ?? undefined)));
      const received: string[] = [];
      intruder.on('message', (topic) => received.push(topic));
      const results = [
        await publish('oobkit/customer-b/pc-02/cmd/power', 'OFF'),
        await publish('oobkit/customer-b/pc-02/state', '{"power":"off"}', true),
        await publish('homeassistant/switch/oobkit_customer_b/fake/config', '{"name":"x"}', true),
        await publish('homeassistant/status', 'online'),
      ];
      if (version === 5) for (const r of results) expect((r as Error & { code?: number })?.code).toBe(0x87);
      // Mosquitto grants the subscriptions but delivers nothing the ACL does not let it read: not
      // even the retained state and configs of site b.
      await new Promise((resolve) => intruder.subscribe(['oobkit/customer-b/#', 'homeassistant/+/oobkit_customer_b/#', 'oobkit/#', '#'], { qos: 1 }, resolve));
      await c.publish('oobkit/customer-b/pc-02/cmd/power', 'ON');
      await c.waitForJson('oobkit/customer-b/pc-02/cmd/power/result', (r) => r.ok === true);
      await sleep(800);
      expect(received.filter((t) => t.includes('customer-b') || t.includes('customer_b'))).toEqual([]);
      expect(bb.commands).toHaveLength(1);
      bb.commands.length = 0;
      // Nothing of it arrived anywhere: no command at site b, no state or config written.
      expect(bb.commands).toEqual([]);
      expect(c.messages.filter((m) => m.topic === 'oobkit/customer-b/pc-02/cmd/power' && m.payload === 'OFF')).toEqual([]);
      expect(c.messages.filter((m) => m.topic === 'oobkit/customer-b/pc-02/state' && m.payload.includes('"power":"off"'))).toEqual([]);
      expect(fleet.devices[1].powerState).toBe(2);
      const late = await ha(['homeassistant/switch/oobkit_customer_b/fake/config']);
      await sleep(300);
      expect(late.messages).toEqual([]);
      await late.end();
    } finally {
      intruder.end(true);
      await c.end();
    }
  });

  it.each([5, 4] as const)('turns red when the ACL is wrong: the README recipe of old, MQTT version %s', async (version) => {
    const g = gateway('customer-c', 'gw-c', { client: { protocolVersion: version } });
    g.b.setDevices([pc(2)]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no denial reported; statuses: ${JSON.stringify(g.statuses.slice(-3))}`)), 10000);
      const check = () => {
        if (g.b.status.denied.some((d) => d.startsWith('publish to homeassistant/'))) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 100);
      };
      check();
    });
    const denied = g.b.status.denied;
    // The config publishes are refused (node id oobkit_customer_c, not oobkit_customer-c)...
    expect(denied.some((d) => /^publish to homeassistant\/binary_sensor\/oobkit_customer_c\//.test(d))).toBe(true);
    // (The missing read of homeassistant/status cannot be seen: Mosquitto grants the subscription
    // and delivers nothing. Brokers that refuse it with a reason code are reported through it.)
    expect(g.problems.some((p) => /does not allow this gateway to publish to homeassistant\//.test(p.message))).toBe(true);
    // Its own topics are allowed: nothing denied there.
    expect(denied.filter((d) => d.includes('oobkit/customer-c/'))).toEqual([]);
  });
});

describe('start-up as HA sees it', () => {
  const MIGRATE = '{"migrate_discovery":true}';
  let c: Consumer;
  beforeEach(async () => {
    // A clean slate: empty whatever an earlier test left retained for site "lab".
    const wiper = await ha(['homeassistant/+/oobkit_lab/#', 'oobkit/lab/#']);
    await sleep(300);
    for (const [topic, m] of wiper.latest) if (m.payload && m.retain) await wiper.publish(topic, '', { retain: true });
    await wiper.end();
    c = await ha(['homeassistant/#', 'oobkit/lab/#']);
  });
  afterEach(async () => {
    await c.end();
  });
  const lab = (o: Partial<BridgeOptions> & { client?: IClientOptions } = {}) => gateway('lab', 'gw-lab', o);
  const since = (mark: number, topic?: string) => c.messages.slice(mark).filter((m) => topic === undefined || m.topic === topic);
  const liveState = (mark: number) => c.waitFor(() => since(mark, 'oobkit/lab/pc-03/state').find((m) => !m.retain && m.payload && JSON.parse(m.payload).connected), 15000, 'a live state of pc-03');

  it('migrates entities between per-entity and per-PC discovery the way HA asks, keeping their unique_ids', async () => {
    const first = lab({ mode: 'entity' });
    first.b.setDevices([pc(2)]);
    await c.waitFor(() => configsOf(c, 'oobkit_lab').length === 9, 15000, 'entity configs');
    const old = new Map(configsOf(c, 'oobkit_lab').map(([t, m]) => [t, JSON.parse(m.payload).unique_id as string]));
    await first.b.close();
    const mark = c.messages.length;
    const second = lab({ mode: 'device' });
    second.b.setDevices([pc(2)]);
    await c.waitFor(() => [...old.keys()].every((t) => c.latest.get(t)?.payload === '') && configsOf(c, 'oobkit_lab').length === 2, 15000, 'old configs emptied, device configs there');
    const msgs = since(mark);
    const newIds = new Map<string, number>();
    msgs.forEach((m, i) => {
      if (m.topic.startsWith('homeassistant/device/') && m.payload) for (const comp of Object.values(JSON.parse(m.payload).components) as Array<{ unique_id: string }>) if (!newIds.has(comp.unique_id)) newIds.set(comp.unique_id, i);
    });
    for (const [topic, uid] of old) {
      const migrate = msgs.findIndex((m) => m.topic === topic && m.payload === MIGRATE);
      const emptied = msgs.findIndex((m) => m.topic === topic && m.payload === '');
      // 1. migrate_discovery on the old topic, 2. the same unique_id in the new config, 3. the old topic emptied.
      expect(migrate).toBeGreaterThanOrEqual(0);
      expect(newIds.get(uid)).toBeGreaterThan(migrate);
      expect(emptied).toBeGreaterThan(newIds.get(uid)!);
      expect(msgs[migrate].retain).toBe(false);
    }
    // And back: the device configs are migrated to per-entity configs the same way.
    const deviceTopics = configsOf(c, 'oobkit_lab').map(([t]) => t);
    await second.b.close();
    const mark2 = c.messages.length;
    lab({ mode: 'entity' }).b.setDevices([pc(2)]);
    await c.waitFor(() => deviceTopics.every((t) => c.latest.get(t)?.payload === '') && configsOf(c, 'oobkit_lab').length === 9, 15000, 'back to per-entity');
    const back = since(mark2);
    for (const t of deviceTopics) {
      const migrate = back.findIndex((m) => m.topic === t && m.payload === MIGRATE);
      const firstEntity = back.findIndex((m) => m.topic.startsWith('homeassistant/switch/oobkit_lab/') && m.payload);
      expect(migrate).toBeGreaterThanOrEqual(0);
      expect(firstEntity).toBeGreaterThan(migrate);
      expect(back.findIndex((m) => m.topic === t && m.payload === '')).toBeGreaterThan(firstEntity);
    }
  });

  it("removes configs of earlier versions' ids once the new ones are out, and HA keeps the device", async () => {
    const hex = fleet.devices[2].mac.replace(/:/g, '');
    const legacyTopic = `homeassistant/switch/oobkit_lab/oobkit_${hex}_power/config`;
    const strayTopic = 'homeassistant/sensor/oobkit_lab/oobkit_0a0b0c0d0e0f_last_alert/config';
    await c.publish(legacyTopic, JSON.stringify({ name: 'Power', unique_id: `oobkit_${hex}_power`, command_topic: 'oobkit/lab/pc-03/cmd/power', device: { identifiers: [`oobkit_${hex}`] } }), { retain: true });
    await c.publish(strayTopic, JSON.stringify({ name: 'Last alert', unique_id: 'oobkit_0a0b0c0d0e0f_last_alert', state_topic: 'x', device: { identifiers: ['oobkit_0a0b0c0d0e0f'] } }), { retain: true });
    const mark = c.messages.length;
    lab().b.setDevices([pc(2)]);
    await c.waitFor(() => configsOf(c, 'oobkit_lab').length === 9 && c.latest.get(legacyTopic)?.payload === '' && c.latest.get(strayTopic)?.payload === '', 15000, 'new configs, old ones emptied');
    const msgs = since(mark);
    // The device never has no entity left (HA would drop it, with its area): new ones first.
    const lastNew = msgs.map((m) => m.topic.startsWith('homeassistant/') && m.topic.includes('/oobkit_lab_M') && !!m.payload).lastIndexOf(true);
    expect(msgs.findIndex((m) => m.topic === legacyTopic && m.payload === '')).toBeGreaterThan(lastNew);
    expect(msgs.filter((m) => m.payload === MIGRATE)).toEqual([]);
    const power = JSON.parse(c.latest.get(`homeassistant/switch/oobkit_lab/oobkit_lab_M${hex.toUpperCase()}_power/config`)!.payload);
    expect(power.device.identifiers).toEqual([`oobkit_lab_M${hex.toUpperCase()}`, `oobkit_${hex}`]);
    expect(power.default_entity_id).toBe('switch.lab_pc_03_power');
  });

  it('restarts without making the PC flap, and sends each config once, with the identity', async () => {
    const first = lab();
    first.b.setDevices([pc(2)]);
    await liveState(0);
    await first.b.close();
    const mark = c.messages.length;
    lab().b.setDevices([pc(2)]);
    await liveState(mark);
    await sleep(1200);
    expect(since(mark, 'oobkit/lab/pc-03/availability').filter((m) => m.payload !== 'online')).toEqual([]);
    expect(since(mark, 'oobkit/lab/pc-03/state').filter((m) => !JSON.parse(m.payload).connected)).toEqual([]);
    const configs = since(mark).filter((m) => m.topic.includes('/oobkit_lab/') && m.topic.endsWith('/config') && m.payload && !m.retain);
    const perTopic = new Map<string, number>();
    for (const m of configs) perTopic.set(m.topic, (perTopic.get(m.topic) ?? 0) + 1);
    expect(perTopic.size).toBe(9);
    expect([...perTopic.values()].every((n) => n === 1)).toBe(true);
    for (const m of configs) if (!m.topic.includes('_gateway_')) expect(JSON.parse(m.payload).device).toMatchObject({ manufacturer: expect.any(String), sw_version: expect.stringMatching(/^AMT /) });
  });

  it.each([5, 4] as const)('never runs a command retained while the gateway is online, and removes it (MQTT %s)', async (version) => {
    const g = lab({ client: { protocolVersion: version } });
    g.b.setDevices([pc(2)]);
    await liveState(0);
    const before = fleet.devices[2].powerState;
    expect(before).toBe(2);
    await c.publish('oobkit/lab/pc-03/cmd/reset', 'PRESS', { retain: true });
    await c.waitFor(() => c.latest.get('oobkit/lab/pc-03/cmd/reset')?.payload === '', 10000, 'the retained command emptied');
    if (version === 5) {
      await sleep(500);
      expect(g.commands).toEqual([]);
    }
    // (With 3.1.1 the broker clears the retain flag of live messages: that one ran once, as any live
    // command would, and cannot run again.)
    const late = await ha(['oobkit/lab/pc-03/cmd/reset']);
    await sleep(300);
    expect(late.messages.filter((m) => m.payload)).toEqual([]);
    await late.end();
  });
});

it('turns red when a broker refuses a subscription with a SUBACK failure (aedes, 3.1.1)', async () => {
  const refusing = await startAedes({ denySubscription: 'homeassistant/status' });
  const b = new HaBridge({ broker: { url: refusing.url, initialBackoffMs: 100 }, site: 'sub', origin: { name: 't' }, pollSeconds: 0, scanMs: 200, echoMs: 500 });
  try {
    const end = Date.now() + 10000;
    while (Date.now() < end && !b.status.denied.length) await sleep(50);
    expect(b.status.denied).toEqual(['subscribe to homeassistant/status']);
    // The rest works: commands still arrive.
    const c = await Consumer.connect(refusing.url, ['oobkit/sub/#']);
    const results: unknown[] = [];
    b.on('result', (r) => results.push(r));
    b.setDevices([{ name: 'pc', host: '127.0.0.1', mac: '02:00:00:00:00:0a' }]);
    await sleep(300);
    await c.publish('oobkit/sub/pc/cmd/wake', 'ON');
    await c.waitForJson('oobkit/sub/pc/cmd/wake/result', (r) => r.ok === false && /takes PRESS/.test(r.error));
    await c.end();
  } finally {
    await b.close();
    await refusing.stop();
  }
});
