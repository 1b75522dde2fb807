/**
 * The MQTT bridge against a real Mosquitto and against aedes, with simulated AMT PCs behind it:
 * discovery matches Home Assistant's documented schema, commands on the command topics change the
 * simulated PC, availability flips when the gateway drops, HA's birth message brings everything
 * back, removed devices disappear.
 */
import { closeAllAmt } from '../lib/amt/connect';
import type { ManagedDevice } from '../lib/device';
import { HaBridge, BridgeOptions, CommandResult } from '../lib/mqtt';
import type { DeviceControl } from '../lib/mqtt/control';
import { MqttLink } from '../lib/mqtt/link';
import { Fleet, lastBoot, startFleet } from '../packages/sim/src';
import { checkDevicePayload, checkEntityPayload, parseDiscoveryTopic } from './fixtures/ha-mqtt-schema';
import { Consumer, startAedes, startMosquitto, TestBroker } from './helpers/mqtt';

const USER = 'admin';
const PASSWORD = 'Mqtt-P@ss1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 3, port: 0, wolPort: 0, user: USER, password: PASSWORD, seed: 'mqtt-bridge', timings: { bootTimeMs: 20, offDwellMs: 20, osShutdownMs: 20 } });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});

function devices(count = 3): ManagedDevice[] {
  return fleet.devices.slice(0, count).map((d) => ({
    name: d.name,
    host: '127.0.0.1',
    mac: d.mac,
    amt: { host: '127.0.0.1', port: d.port, tls: false, username: USER, password: PASSWORD, timeoutMs: 3000 },
    // Magic packets to the simulated fleet's shared WOL port on loopback.
    wake: { address: '127.0.0.1', port: fleet.wol!.port },
  }));
}

const MANAGEMENT = '192.0.2.10';
const ELSEWHERE = '203.0.113.5';

const bridges: HaBridge[] = [];
function bridge(url: string, o: Partial<BridgeOptions> = {}): HaBridge {
  const b = new HaBridge({
    broker: { url, initialBackoffMs: 100, maxBackoffMs: 400 },
    site: 'Head Office',
    origin: { name: 'OOBKit test', sw_version: '0.1.0' },
    pollSeconds: 0,
    birthDelayMs: [20, 60],
    scanMs: 400,
    ...o,
  });
  bridges.push(b);
  return b;
}

afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()));
});

function configs(c: Consumer): Map<string, any> {
  const out = new Map<string, any>();
  for (const [topic, m] of c.latest) if (topic.startsWith('homeassistant/') && topic.endsWith('/config') && m.payload) out.set(topic, JSON.parse(m.payload));
  return out;
}

describe.each([
  ['Mosquitto', () => startMosquitto()],
  ['aedes', () => startAedes()],
])('HA bridge on %s', (_name, start) => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await start();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('publishes discovery that matches the documented schema, with device, via_device and origin blocks', async () => {
    const b = bridge(broker.url, { pollSeconds: 0, control: { managementHosts: [MANAGEMENT] } });
    b.setDevices(devices());
    const c = await Consumer.connect(broker.url, ['homeassistant/#', 'oobkit/#']);
    try {
      // 3 PCs x 9 entities (with isolation, as management hosts are set) + the gateway's sensor.
      const all = await c.waitFor(() => {
        const m = configs(c);
        const withVersion = [...m.values()].filter((p) => p.device?.sw_version?.startsWith('AMT ')).length;
        return m.size === 28 && withVersion === 27 ? m : undefined;
      }, 15000, '28 configs, the 27 of the PCs with their identity');
      const problems: string[] = [];
      const uniqueIds = new Set<string>();
      for (const [topic, payload] of all) {
        const t = parseDiscoveryTopic(topic)!;
        expect(t).toBeDefined();
        expect(t.nodeId).toBe('oobkit_head_office');
        expect(t.objectId).toBe(payload.unique_id);
        problems.push(...checkEntityPayload(t.component, payload, topic));
        uniqueIds.add(payload.unique_id);
      }
      expect(problems).toEqual([]);
      expect(uniqueIds.size).toBe(28);
      expect(all.get(`homeassistant/switch/oobkit_head_office/oobkit_head-office_M${fleet.devices[0].mac.replace(/:/g, '').toUpperCase()}_isolation/config`)).toMatchObject({ command_topic: 'oobkit/head-office/pc-01/cmd/isolation' });

      const pc = fleet.devices[0];
      const key = `head-office_M${pc.mac.replace(/:/g, '').toUpperCase()}`;
      const power = all.get(`homeassistant/switch/oobkit_head_office/oobkit_${key}_power/config`);
      expect(power).toMatchObject({
        name: 'Power',
        command_topic: 'oobkit/head-office/pc-01/cmd/power',
        state_topic: 'oobkit/head-office/pc-01/state',
        payload_on: 'ON',
        payload_off: 'OFF',
        retain: false,
        availability_mode: 'all',
        availability: [{ topic: 'oobkit/head-office/_gateway/availability' }, { topic: 'oobkit/head-office/pc-01/availability' }],
        origin: { name: 'OOBKit test', sw_version: '0.1.0' },
      });
      expect(power.device).toMatchObject({
        identifiers: [`oobkit_${key}`],
        name: 'pc-01',
        connections: [['mac', pc.mac]],
        sw_version: `AMT ${pc.firmware.version}`,
        via_device: 'oobkit_head_office_gateway',
      });
      expect(typeof power.device.manufacturer).toBe('string');
      expect(typeof power.device.model).toBe('string');
      // via_device names a device that exists: the gateway.
      const gateway = [...all.values()].find((p) => p.device.identifiers[0] === 'oobkit_head_office_gateway');
      expect(gateway).toMatchObject({ device_class: 'connectivity', state_topic: 'oobkit/head-office/_gateway/availability', payload_on: 'online' });
      expect(all.get(`homeassistant/binary_sensor/oobkit_head_office/oobkit_${key}_connectivity/config`)).toMatchObject({ device_class: 'connectivity', entity_category: 'diagnostic' });
      expect(all.get(`homeassistant/binary_sensor/oobkit_head_office/oobkit_${key}_problem/config`)).toMatchObject({ device_class: 'problem' });
      expect(all.get(`homeassistant/button/oobkit_head_office/oobkit_${key}_reset/config`)).toMatchObject({ device_class: 'restart', payload_press: 'PRESS' });
      expect(all.get(`homeassistant/sensor/oobkit_head_office/oobkit_${key}_amt_version/config`)).toMatchObject({ entity_category: 'diagnostic' });

      // Retained state and availability, as HA reads them with the value templates.
      const state = await c.waitForJson('oobkit/head-office/pc-01/state', (s) => s.power === 'on' && s.amtVersion === pc.firmware.version);
      expect(state).toMatchObject({ connected: true, problem: false, openAlerts: 0 });
      await c.waitForPayload('oobkit/head-office/pc-01/availability', 'online');
      await c.waitForPayload('oobkit/head-office/_gateway/availability', 'online');

      // Everything is retained: a subscriber that comes later (HA starting) gets it all.
      const late = await Consumer.connect(broker.url, ['homeassistant/#', 'oobkit/head-office/pc-01/state']);
      try {
        await late.waitFor(() => configs(late).size === 28 && late.latest.has('oobkit/head-office/pc-01/state'));
        expect([...late.latest.values()].every((m) => m.retain)).toBe(true);
      } finally {
        await late.end();
      }

      // The same unique_ids after a restart of the gateway.
      await b.close();
      const again = bridge(broker.url, { control: { managementHosts: [MANAGEMENT] } });
      again.setDevices(devices());
      const c2 = await Consumer.connect(broker.url, ['homeassistant/#']);
      try {
        const ids2 = await c2.waitFor(() => {
          const m = configs(c2);
          return m.size === 28 ? new Set([...m.values()].map((p) => p.unique_id)) : undefined;
        });
        expect([...ids2].sort()).toEqual([...uniqueIds].sort());
      } finally {
        await c2.end();
      }
    } finally {
      await c.end();
    }
  });

  it('carries out commands from the command topics on the simulated PC and reports the new state', async () => {
    const b = bridge(broker.url, { control: { managementHosts: [MANAGEMENT] } });
    const results: CommandResult[] = [];
    b.on('result', (r: CommandResult) => results.push(r));
    b.setDevices(devices());
    const c = await Consumer.connect(broker.url, ['oobkit/#']);
    const pc = fleet.devices[1];
    try {
      // The retained state of the previous gateway is there at once: wait for this one's own.
      await c.waitFor(() => c.messages.find((m) => m.topic === 'oobkit/head-office/pc-02/state' && !m.retain && JSON.parse(m.payload).power === 'on'), 15000, "this gateway's first state");
      await c.publish('oobkit/head-office/pc-02/cmd/power', 'OFF');
      await c.waitForJson('oobkit/head-office/pc-02/state', (s) => s.power === 'off');
      expect(pc.powerState).toBe(8);
      const result = await c.waitForJson('oobkit/head-office/pc-02/cmd/power/result');
      expect(result).toMatchObject({ ok: true, entity: 'power', payload: 'OFF', device: { name: 'pc-02' }, state: { connected: true } });
      // OFF with the OS running asks the OS to shut down (auto), and the sim honours it.
      expect(['soft-off', 'off']).toContain(result.action);

      await c.publish('oobkit/head-office/pc-02/cmd/wake', 'PRESS');
      await c.waitForJson('oobkit/head-office/pc-02/state', (s) => s.power === 'on');
      expect(pc.powerState).toBe(2);
      // Woken by its magic packet, not by AMT.
      await c.waitFor(() => results.find((r) => r.entity === 'wake'));
      expect(results.find((r) => r.entity === 'wake')).toMatchObject({ ok: true, action: 'wol' });

      await c.publish('oobkit/head-office/pc-02/cmd/isolation', 'ON');
      await c.waitForJson('oobkit/head-office/pc-02/state', (s) => s.isolated === true);
      expect(pc.sendPacket({ direction: 'out', remote: ELSEWHERE }).verdict).toBe('dropped');
      expect(pc.sendPacket({ direction: 'out', remote: MANAGEMENT }).verdict).toBe('passed');
      await c.publish('oobkit/head-office/pc-02/cmd/isolation', 'OFF');
      await c.waitForJson('oobkit/head-office/pc-02/state', (s) => s.isolated === false);
      expect(pc.sendPacket({ direction: 'out', remote: ELSEWHERE }).verdict).toBe('passed');

      await c.publish('oobkit/head-office/pc-02/cmd/pxe_boot', 'PRESS');
      await c.waitFor(() => results.find((r) => r.entity === 'pxe_boot'));
      expect(results.find((r) => r.entity === 'pxe_boot')).toMatchObject({ ok: true, action: 'pxe-boot' });
      await c.waitFor(() => (lastBoot(pc)?.target === 'pxe' ? true : undefined));

      const resets: unknown[] = [];
      pc.on('power', (e) => resets.push(e));
      await c.publish('oobkit/head-office/pc-02/cmd/reset', 'PRESS');
      await c.waitFor(() => results.find((r) => r.entity === 'reset'));
      expect(results.find((r) => r.entity === 'reset')).toMatchObject({ ok: true, action: 'reset' });
      expect(resets.length).toBeGreaterThanOrEqual(1);

      // HA sends ON to a PC that is on: nothing to do, no error.
      await c.publish('oobkit/head-office/pc-02/cmd/power', 'ON');
      await c.waitFor(() => results.find((r) => r.entity === 'power' && r.payload === 'ON'));
      expect(results.find((r) => r.entity === 'power' && r.payload === 'ON')).toMatchObject({ ok: true, action: 'none', note: 'already on' });
    } finally {
      pc.removeAllListeners('power');
      await c.end();
    }
  });

  it('marks the gateway offline through its last will when its connection drops, and online again after it reconnects', async () => {
    const b = bridge(broker.url);
    b.setDevices(devices(1));
    const c = await Consumer.connect(broker.url, ['oobkit/+/_gateway/availability']);
    try {
      await c.waitForPayload('oobkit/head-office/_gateway/availability', 'online');
      const before = c.messages.length;
      // The network goes away under the gateway: no DISCONNECT, so the broker sends the will.
      b.link.client.stream.destroy();
      await c.waitFor(() => c.messages.slice(before).find((m) => m.payload === 'offline'), 15000, 'the last will');
      const offlineAt = c.messages.length;
      await c.waitFor(() => c.messages.slice(offlineAt).find((m) => m.payload === 'online'), 15000, 'online after reconnect');
    } finally {
      await c.end();
    }
  });

  it('says offline when it is closed cleanly', async () => {
    const b = bridge(broker.url);
    b.setDevices(devices(1));
    const c = await Consumer.connect(broker.url, ['oobkit/+/_gateway/availability']);
    try {
      await c.waitForPayload('oobkit/head-office/_gateway/availability', 'online');
      await b.close();
      await c.waitForPayload('oobkit/head-office/_gateway/availability', 'offline');
    } finally {
      await c.end();
    }
  });

  it("republishes discovery and states when Home Assistant's birth message arrives", async () => {
    const b = bridge(broker.url);
    b.setDevices(devices(2));
    const c = await Consumer.connect(broker.url, ['homeassistant/#', 'oobkit/#']);
    try {
      await c.waitFor(() => configs(c).size === 17);
      await new Promise((r) => setTimeout(r, 300));
      const mark = c.messages.length;
      await c.publish('homeassistant/status', 'online');
      const fresh = await c.waitFor(() => {
        const after = c.messages.slice(mark).filter((m) => !m.retain);
        const cfg = after.filter((m) => m.topic.endsWith('/config') && m.payload);
        const states = after.filter((m) => m.topic.endsWith('/state'));
        return cfg.length >= 15 && states.length >= 2 ? { cfg, states } : undefined;
      });
      expect(new Set(fresh.cfg.map((m) => m.topic)).size).toBe(17);
      // "offline" (HA stopping) and retained births are not a reason to flood the broker.
      const mark2 = c.messages.length;
      await c.publish('homeassistant/status', 'offline');
      await c.publish('homeassistant/status', 'garbage \u0000\u00ff');
      await new Promise((r) => setTimeout(r, 400));
      expect(c.messages.slice(mark2).filter((m) => m.topic.endsWith('/config') && m.payload)).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('empties the configs of removed devices, at once and after a restart', async () => {
    const b = bridge(broker.url);
    b.setDevices(devices(3));
    const c = await Consumer.connect(broker.url, ['homeassistant/#', 'oobkit/#']);
    const key3 = fleet.devices[2].mac.replace(/:/g, '').toUpperCase();
    const key2 = fleet.devices[1].mac.replace(/:/g, '').toUpperCase();
    try {
      await c.waitFor(() => configs(c).size === 25);
      b.setDevices(devices(2));
      await c.waitFor(() => configs(c).size === 17, 10000, 'configs of pc-03 emptied');
      expect([...configs(c).keys()].some((t) => t.includes(key3))).toBe(false);
      // The state, alert and availability topics are emptied after the configs, in that order.
      await c.waitFor(() => c.latest.get('oobkit/head-office/pc-03/availability')?.payload === '', 10000, 'pc-03 availability emptied');
      expect(c.latest.get('oobkit/head-office/pc-03/state')?.payload).toBe('');
      await b.close();

      // Removed while the gateway was away: the next start finds and empties them.
      const next = bridge(broker.url);
      next.setDevices(devices(1));
      await c.waitFor(() => configs(c).size === 9, 10000, 'configs of pc-02 emptied after restart');
      expect([...configs(c).keys()].some((t) => t.includes(key2))).toBe(false);
      // And a fresh subscriber sees exactly what is retained.
      const late = await Consumer.connect(broker.url, ['homeassistant/#']);
      try {
        await new Promise((r) => setTimeout(r, 500));
        expect(configs(late).size).toBe(9);
      } finally {
        await late.end();
      }
    } finally {
      await c.end();
    }
  });

  it('publishes one device-based discovery message per PC in device mode, matching the schema', async () => {
    const b = bridge(broker.url, { mode: 'device', site: 'device-mode' });
    b.setDevices(devices(2));
    const c = await Consumer.connect(broker.url, ['homeassistant/device/#']);
    try {
      const all = await c.waitFor(() => {
        const m = configs(c);
        return m.size === 3 ? m : undefined;
      });
      const problems: string[] = [];
      for (const [topic, payload] of all) {
        expect(parseDiscoveryTopic(topic)).toMatchObject({ component: 'device', nodeId: 'oobkit_device_mode' });
        problems.push(...checkDevicePayload(payload, topic));
      }
      expect(problems).toEqual([]);
      const pc = [...all.values()].find((p) => p.device.name === 'pc-01');
      expect(Object.keys(pc.components).sort()).toEqual(['amt_version', 'connectivity', 'last_alert', 'power', 'problem', 'pxe_boot', 'reset', 'wake'].sort());
      expect(pc.components.power).toMatchObject({ platform: 'switch', command_topic: 'oobkit/device-mode/pc-01/cmd/power' });
    } finally {
      await c.end();
    }
  });
});

describe('HA bridge with many PCs', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it("publishes a PC's state when a field changes, with the time of that change, and not on polls that change nothing", async () => {
    const powers = ['on', 'on', 'on', 'off', 'off', 'off', 'off', 'off', 'on', 'on'];
    let polls = 0;
    const control = (): DeviceControl => ({ hasAmt: true, poll: async () => ({ power: powers[Math.min(polls++, powers.length - 1)], isolated: false }), close: () => undefined });
    const c = await Consumer.connect(broker.url, ['oobkit/head-office/pc-0/state']);
    const b = bridge(broker.url, { pollSeconds: 0.05, makeControl: control });
    b.setDevices([{ name: 'pc-0', host: '192.0.2.1' }]);
    await c.waitFor(() => polls > powers.length + 3, 10_000, 'polls past the changes');
    await b.close();
    await c.end();
    const sent = c.messages.filter((m) => m.payload).map((m) => m.payload);
    // Once the scan of retained topics ends, everything is published again, unchanged: one repeat.
    const states = sent.filter((x, i) => x !== sent[i - 1]).map((x) => JSON.parse(x));
    expect(sent.length).toBeLessThanOrEqual(states.length + 1);
    expect(states.map((x) => x.power)).toEqual(['on', 'off', 'on']);
    expect(new Set(states.map((x) => x.changed)).size).toBe(3);
  });

  it('announces a few PCs at a time, and every PC in the end', async () => {
    // PCs that answer at once (no AMT): what is in flight is then the bridge's doing alone.
    const pcs: ManagedDevice[] = Array.from({ length: 40 }, (_, i) => ({ name: `pc-${i}`, host: `192.0.2.${i + 1}` }));
    const control = (): DeviceControl => ({ hasAmt: true, poll: async () => ({ power: 'on', isolated: false }), close: () => undefined });
    // The PCs whose configs were published and not yet acknowledged, at any moment.
    const unacknowledged = new Map<string, number>();
    let most = 0;
    const publish = MqttLink.prototype.publish;
    const spy = jest.spyOn(MqttLink.prototype, 'publish').mockImplementation(function (this: MqttLink, topic, payload, o, ms) {
      const sent = publish.call(this, topic, payload, o, ms);
      if (!topic.endsWith('/config') || !payload.length) return sent;
      const pc = String(JSON.parse(String(payload)).device.name);
      if (!/^pc-\d+$/.test(pc)) return sent;
      unacknowledged.set(pc, (unacknowledged.get(pc) ?? 0) + 1);
      most = Math.max(most, unacknowledged.size);
      return sent.finally(() => {
        const left = unacknowledged.get(pc)! - 1;
        if (left) unacknowledged.set(pc, left);
        else unacknowledged.delete(pc);
      });
    });
    try {
      const b = bridge(broker.url, { pollSeconds: 0, makeControl: control });
      b.setDevices(pcs);
      const c = await Consumer.connect(broker.url, ['homeassistant/#']);
      const announced = () => new Set([...configs(c).values()].map((x) => x.device?.name).filter((n) => /^pc-\d+$/.test(n)));
      await c.waitFor(() => announced().size === pcs.length, 15_000, 'every PC announced');
      await c.end();
      expect(most).toBeGreaterThan(1);
      expect(most).toBeLessThanOrEqual(8);
    } finally {
      spy.mockRestore();
    }
  });
});
