/**
 * A server with only a BMC in Home Assistant: the MQTT bridge (on a real Mosquitto) announces
 * its power switch, wake, reset and PXE buttons and one sensor entity per temperature, fan and
 * voltage of the BMC, in HA's documented schema; its state carries the sensor values; commands
 * reach the BMC.
 */
import { closeAllIpmi } from '../../lib/ipmi';
import type { ManagedDevice } from '../../lib/device';
import { BridgeOptions, CommandResult, HaBridge } from '../../lib/mqtt';
import { SimBmc } from '../../packages/sim/src/ipmi';
import { checkEntityPayload, parseDiscoveryTopic } from '../fixtures/ha-mqtt-schema';
import { Consumer, startMosquitto, TestBroker } from '../helpers/mqtt';

const USER = 'admin';
const PASSWORD = 'Ha-Bmc-Pw1';
let bmc: SimBmc;
let broker: TestBroker;
const bridges: HaBridge[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});
beforeEach(async () => {
  bmc = await SimBmc.start({ users: [{ name: USER, password: PASSWORD }], softOffMs: 50, cycleMs: 50 });
});
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()));
  await closeAllIpmi();
  await bmc.stop();
});

function server(): ManagedDevice {
  return { name: 'srv-01', host: '127.0.0.1', mac: '02:00:00:00:10:01', ipmi: { host: '127.0.0.1', port: bmc.port, username: USER, password: PASSWORD, timeoutMs: 3000 } };
}

function bridge(o: Partial<BridgeOptions> = {}): HaBridge {
  const b = new HaBridge({ broker: { url: broker.url, initialBackoffMs: 100, maxBackoffMs: 400 }, site: 'Branch', origin: { name: 'OOBKit test', sw_version: '0.1.0' }, pollSeconds: 0, birthDelayMs: [20, 60], scanMs: 400, ...o });
  bridges.push(b);
  return b;
}

function configs(c: Consumer): Map<string, any> {
  const out = new Map<string, any>();
  for (const [topic, m] of c.latest) if (topic.startsWith('homeassistant/') && topic.endsWith('/config') && m.payload) out.set(topic, JSON.parse(m.payload));
  return out;
}

const KEY = 'branch_M020000001001';
const cfg = (component: string, id: string) => `homeassistant/${component}/oobkit_branch/oobkit_${KEY}_${id}/config`;

describe('a server in Home Assistant through its BMC', () => {
  it('announces power, wake, reset, PXE and one sensor per temperature, fan and voltage, in the documented schema', async () => {
    const b = bridge();
    b.setDevices([server()]);
    const c = await Consumer.connect(broker.url, ['homeassistant/#', 'oobkit/#']);
    try {
      // gateway + power, wake, reset, pxe_boot, connectivity, problem, last_alert + 7 analog sensors
      const all = await c.waitFor(() => (configs(c).size === 15 ? configs(c) : undefined), 15000, '15 configs');
      const problems: string[] = [];
      for (const [topic, payload] of all) problems.push(...checkEntityPayload(parseDiscoveryTopic(topic)!.component, payload, topic));
      expect(problems).toEqual([]);
      expect(all.has(cfg('sensor', 'amt_version'))).toBe(false);
      expect(all.get(cfg('switch', 'power'))).toMatchObject({ command_topic: 'oobkit/branch/srv-01/cmd/power' });
      expect(all.get(cfg('button', 'pxe_boot'))).toMatchObject({ command_topic: 'oobkit/branch/srv-01/cmd/pxe_boot' });
      expect(all.get(cfg('sensor', 'sensor_1'))).toMatchObject({
        name: 'CPU Temp',
        device_class: 'temperature',
        unit_of_measurement: '°C',
        state_class: 'measurement',
        state_topic: 'oobkit/branch/srv-01/state',
        value_template: "{{ value_json.sensors['1'] }}",
      });
      expect(all.get(cfg('sensor', 'sensor_16'))).toMatchObject({ name: 'FAN1', unit_of_measurement: 'rpm', icon: 'mdi:fan' });
      expect(all.get(cfg('sensor', 'sensor_16')).device_class).toBeUndefined();
      expect(all.get(cfg('sensor', 'sensor_32'))).toMatchObject({ name: '12V', device_class: 'voltage', unit_of_measurement: 'V' });

      const state = await c.waitForJson('oobkit/branch/srv-01/state', (s) => s.power === 'on' && s.sensors);
      expect(state.sensors).toEqual({ '1': 45, '2': 31, '16': 5400, '17': 5250, '32': 12.06, '33': 5.01, '34': 3.3 });
      expect(state.connected).toBe(true);

      // A sensor that moves is published on the next poll.
      const cpu = bmc.state.sensorByName('CPU Temp');
      if (cpu?.kind === 'analog') cpu.raw = 71;
      await b.refresh();
      await c.waitForJson('oobkit/branch/srv-01/state', (s) => s.sensors?.['1'] === 71);
    } finally {
      await c.end();
    }
  });

  it('carries out power, wake and PXE boot commands on the BMC', async () => {
    const b = bridge();
    const results: CommandResult[] = [];
    b.on('result', (r: CommandResult) => results.push(r));
    b.setDevices([server()]);
    const boots: string[] = [];
    bmc.on('boot', (e: { device: string }) => boots.push(e.device));
    const c = await Consumer.connect(broker.url, ['oobkit/#']);
    try {
      await c.waitForJson('oobkit/branch/srv-01/state', (s) => s.power === 'on');
      await c.publish('oobkit/branch/srv-01/cmd/power', 'OFF');
      await c.waitForJson('oobkit/branch/srv-01/state', (s) => s.power === 'off');
      expect(await c.waitForJson('oobkit/branch/srv-01/cmd/power/result')).toMatchObject({ ok: true, action: 'soft-off' });
      expect(bmc.state.powerOn).toBe(false);

      await c.publish('oobkit/branch/srv-01/cmd/wake', 'PRESS');
      await c.waitForJson('oobkit/branch/srv-01/state', (s) => s.power === 'on');
      expect(await c.waitFor(() => results.find((r) => r.entity === 'wake'))).toMatchObject({ ok: true, action: 'ipmi-power-on' });

      await c.publish('oobkit/branch/srv-01/cmd/pxe_boot', 'PRESS');
      await c.waitFor(() => results.find((r) => r.entity === 'pxe_boot'));
      expect(results.find((r) => r.entity === 'pxe_boot')).toMatchObject({ ok: true, action: 'pxe-boot', note: 'reset into PXE' });
      expect(boots.at(-1)).toBe('pxe');
    } finally {
      await c.end();
    }
  });
});
