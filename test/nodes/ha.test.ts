/**
 * oob-ha in a real Node-RED runtime, with Node-RED's own mqtt-broker config node pointing at a real
 * Mosquitto and simulated AMT PCs as the devices.
 */
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, startFleet } from '../../packages/sim/src';
import { Consumer, freePort, startMosquitto, TestBroker } from '../helpers/mqtt';
import { adminRequest, catchNode, deviceNode, getNode, haNode, load, nextMessage, recordStatuses, startServer, stopServer } from '../helpers/red';

const mqttNodes = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '10-mqtt.js'));

const USER = 'admin';
const PASSWORD = 'Ha-P@ss1';
let fleet: Fleet;
let broker: TestBroker;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, tls: true, user: USER, password: PASSWORD, seed: 'ha-node', timings: { bootTimeMs: 10, offDwellMs: 10, osShutdownMs: 10 } });
  broker = await startMosquitto();
});
afterAll(async () => {
  closeAllAmt();
  await broker.stop();
  await fleet.stop();
});
beforeEach(startServer);
afterEach(async () => {
  await stopServer();
  closeAllAmt();
});

const NODES = [deviceNode, haNode, mqttNodes, catchNode];

function flow(ha: Record<string, unknown> = {}, brokerPort = broker.port) {
  const devices = fleet.devices.map((d, i) => ({
    id: `dev${i}`,
    type: 'oob-device',
    name: d.name,
    host: '127.0.0.1',
    mac: d.mac,
    site: 'branch',
    amtPort: d.port,
    amtTls: true,
    fingerprint: d.tls!.fingerprint256,
    timeout: 3,
  }));
  return [
    ...devices,
    { id: 'broker', type: 'mqtt-broker', name: 'central', broker: '127.0.0.1', port: String(brokerPort), clientid: '', usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true, autoConnect: true },
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'ha', z: 'f1', type: 'oob-ha', broker: 'broker', site: 'Branch', scope: 'all', poll: 0, wires: [['cmds'], ['results']], ...ha },
    { id: 'cmds', z: 'f1', type: 'helper' },
    { id: 'results', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}
const creds = () => Object.fromEntries(fleet.devices.map((_d, i) => [`dev${i}`, { username: USER, password: PASSWORD }]));

async function consumer(): Promise<Consumer> {
  return Consumer.connect(broker.url, ['oobkit/branch/#', 'homeassistant/+/oobkit_branch/#']);
}

describe('oob-ha in a real Node-RED runtime', () => {
  it('publishes every oob-device of the flows and runs Home Assistant commands on the simulated PC', async () => {
    await load(NODES, flow(), creds());
    const c = await consumer();
    try {
      await c.waitFor(() => [...c.latest.keys()].filter((t) => t.endsWith('/config')).length === 17, 15000, 'discovery of two PCs and the gateway');
      await c.waitForJson('oobkit/branch/pc-02/state', (s) => s.power === 'on');
      const origin = JSON.parse(c.latest.get(`homeassistant/switch/oobkit_branch/oobkit_branch_M${fleet.devices[0].mac.replace(/:/g, '').toUpperCase()}_power/config`)!.payload).origin;
      expect(origin.name).toMatch(/^OOBKit/);
      expect(origin.sw_version).toMatch(/^\d+\.\d+\.\d+/);

      const command = nextMessage('cmds');
      const result = nextMessage('results');
      await c.publish('oobkit/branch/pc-02/cmd/power', 'OFF');
      const cmd = await command;
      expect(cmd.topic).toBe('pc-02/power');
      expect(cmd.payload).toMatchObject({ site: 'branch', entity: 'power', payload: 'OFF', device: { name: 'pc-02', site: 'branch' } });
      const res = await result;
      expect(res.payload).toMatchObject({ ok: true, id: cmd.payload.id, entity: 'power' });
      await c.waitForJson('oobkit/branch/pc-02/state', (s) => s.power === 'off');
      expect(fleet.devices[1].powerState).toBe(8);
      expect(JSON.stringify([cmd, res])).not.toContain(PASSWORD);
    } finally {
      fleet.devices[1].powerOn('test');
      await c.end();
    }
  });

  it("speaks MQTT 5 with Node-RED's broker node at its default, so a command retained while it is online never runs", async () => {
    await load(NODES, flow(), creds());
    const c = await consumer();
    const pc = fleet.devices[0];
    const seen: unknown[] = [];
    getNode('cmds').on('input', (m: unknown) => seen.push(m));
    try {
      await c.waitForJson('oobkit/branch/pc-01/state', (s) => s.power === 'on');
      await c.publish('oobkit/branch/pc-01/cmd/power', 'OFF', { retain: true });
      // The gateway clears the retained command; it never reaches the flow or the PC.
      await c.waitFor(() => c.latest.get('oobkit/branch/pc-01/cmd/power')?.payload === '', 10000, 'retained command cleared');
      await new Promise((r) => setTimeout(r, 1000));
      expect(seen).toEqual([]);
      expect(pc.powerState).toBe(2);
    } finally {
      await c.publish('oobkit/branch/pc-01/cmd/power', '', { retain: true });
      await c.end();
    }
  });

  it('with approval on, runs a command only when the flow sends it back approved', async () => {
    await load(NODES, flow({ approval: true, approvalTimeout: 1 }), creds());
    const c = await consumer();
    const pc = fleet.devices[0];
    try {
      await c.waitForJson('oobkit/branch/pc-01/state', (s) => s.power === 'on');

      // Vetoed by the flow.
      let command = nextMessage('cmds');
      let result = nextMessage('results');
      await c.publish('oobkit/branch/pc-01/cmd/reset', 'PRESS');
      let cmd = await command;
      expect(cmd.approvalRequired).toBe(true);
      getNode('ha').receive({ ...cmd, approve: false, reason: 'change freeze' });
      let res = await result;
      expect(res.payload).toMatchObject({ ok: false, vetoed: true, error: 'vetoed: change freeze' });

      // Nobody answers: vetoed after the timeout.
      command = nextMessage('cmds');
      result = nextMessage('results');
      await c.publish('oobkit/branch/pc-01/cmd/power', 'OFF');
      await command;
      res = await result;
      expect(res.payload).toMatchObject({ ok: false, vetoed: true, error: 'vetoed: no approval within 1 s' });
      expect(pc.powerState).toBe(2);

      // Approved: it runs.
      command = nextMessage('cmds');
      result = nextMessage('results');
      await c.publish('oobkit/branch/pc-01/cmd/power', 'OFF');
      cmd = await command;
      getNode('ha').receive({ ...cmd, approve: true });
      res = await result;
      expect(res.payload).toMatchObject({ ok: true });
      await c.waitForJson('oobkit/branch/pc-01/state', (s) => s.power === 'off');
      expect(pc.powerState).toBe(8);
      const vetoResult = await c.waitForJson('oobkit/branch/pc-01/cmd/reset/result');
      expect(vetoResult).toMatchObject({ vetoed: true });
    } finally {
      pc.powerOn('test');
      await c.end();
    }
  });

  it('turns alerts into the Problem and Last alert sensors', async () => {
    await load(NODES, flow(), creds());
    const c = await consumer();
    try {
      await c.waitForJson('oobkit/branch/pc-01/state', (s) => s.power === 'on');
      const alert = {
        id: 'a1',
        dedupKey: 'pc-01/pet/chassis-intrusion',
        time: '2026-01-01T10:00:00Z',
        device: { name: 'pc-01', mac: fleet.devices[0].mac.toUpperCase() },
        source: 'pet',
        kind: 'chassis-intrusion',
        severity: 'critical',
        state: 'trigger',
        summary: 'pc-01: chassis opened',
        details: { raw: 'AAEC', sensor: 5 },
      };
      getNode('ha').receive({ payload: alert });
      await c.waitForJson('oobkit/branch/pc-01/state', (s) => s.problem === true && s.openAlerts === 1);
      const last = await c.waitForJson('oobkit/branch/pc-01/alert');
      expect(last).toMatchObject({ summary: 'pc-01: chassis opened', severity: 'critical', details: { sensor: 5 } });
      expect(last.details.raw).toBeUndefined();
      expect(c.latest.get('oobkit/branch/pc-01/alert')!.payload.length).toBeLessThan(1000);

      getNode('ha').receive({ payload: { ...alert, id: 'a2', state: 'resolve', severity: 'ok', summary: 'pc-01: chassis closed' } });
      await c.waitForJson('oobkit/branch/pc-01/state', (s) => s.problem === false && s.openAlerts === 0);
      await c.waitForJson('oobkit/branch/pc-01/alert', (a) => a.summary === 'pc-01: chassis closed');
    } finally {
      await c.end();
    }
  });

  it('adds and removes devices by message', async () => {
    await load(NODES, flow({ scope: 'list', devices: ['dev0'] }), creds());
    const c = await consumer();
    try {
      await c.waitForJson('oobkit/branch/pc-01/state', (s) => s.power === 'on');
      // pc-02's retained state from earlier tests is not this gateway's any more: emptied.
      await c.waitFor(() => (c.latest.get('oobkit/branch/pc-02/state')?.payload ?? '') === '', 5000, 'stale pc-02 state emptied');
      getNode('ha').receive({ action: 'add', device: 'pc-02' });
      await c.waitForJson('oobkit/branch/pc-02/state', (s) => s.power === 'on');
      getNode('ha').receive({ action: 'remove', device: 'pc-02' });
      await c.waitFor(() => c.latest.get('oobkit/branch/pc-02/state')?.payload === '', 5000, 'pc-02 state emptied');
      const key = `branch_M${fleet.devices[1].mac.replace(/:/g, '').toUpperCase()}`;
      expect(c.latest.get(`homeassistant/switch/oobkit_branch/oobkit_${key}_power/config`)?.payload).toBe('');
    } finally {
      await c.end();
    }
  });

  it.each([
    ['an unknown action', { action: 'explode' }, /send an alert/],
    ['a broken alert', { payload: { dedupKey: 'x', state: 'sometimes' } }, /alert.summary must be non-empty text/],
    ['an approval for no command', { approve: true, payload: { id: 'nope' } }, /no command waiting for approval with id "nope"/],
    ['removing a device that is not published', { action: 'remove', device: 'ghost' }, /no published device "ghost"/],
    ['adding an unknown device', { action: 'add', device: 'ghost' }, /no device named "ghost"/],
  ])('gives a clear error, a red status and a Catch message for %s', async (_what, input, message) => {
    await load(NODES, flow(), creds());
    const statuses = recordStatuses('ha');
    const caught = nextMessage('caught');
    getNode('ha').receive(input);
    const err = await caught;
    expect(err.error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: 'bad input' });
  });

  it('reports a missing site or broker in its status instead of failing the flow', async () => {
    await load(NODES, flow({ site: '' }), creds());
    const n = getNode('ha');
    await new Promise((r) => setTimeout(r, 50));
    const caught = nextMessage('caught');
    n.receive({ action: 'republish' });
    expect((await caught).error.message).toMatch(/not running/);
  });

  it('shows the broker refusing the connection in its status and keeps retrying', async () => {
    const closedPort = await freePort();
    await load(NODES, flow({}, closedPort), creds());
    const statuses = recordStatuses('ha');
    await new Promise((r) => setTimeout(r, 1500));
    expect(statuses.some((s) => s.fill === 'red' && /ECONNREFUSED, retry \d+ s/.test(s.text ?? ''))).toBe(true);
  });

  it('shows the exact ACL lines of its site, and turns red when a broker ACL denies it', async () => {
    // A broker whose ACL follows the README's old recipe ("-" in the node id, no HA birth topic).
    const guarded = await startMosquitto({ users: { 'gw-branch': 'gw-pw' }, acl: ['user gw-branch', 'topic readwrite oobkit/branch/#', 'topic readwrite homeassistant/+/oobkit_branch-x/#'] });
    try {
      const f = flow({}, guarded.port);
      await load(NODES, f, { ...creds(), broker: { user: 'gw-branch', password: 'gw-pw' } });
      const statuses = recordStatuses('ha');
      const res = await adminRequest().get('/oobkit/ha-acl').query({ site: 'Branch', base: 'oobkit', prefix: 'homeassistant', broker: 'broker' }).expect(200);
      expect(res.body.lines).toEqual(['user gw-branch', 'topic readwrite oobkit/branch/#', 'topic readwrite homeassistant/+/oobkit_branch/#', 'topic read homeassistant/status']);
      await adminRequest().get('/oobkit/ha-acl').query({ site: '--' }).expect(400);
      const end = Date.now() + 15000;
      while (Date.now() < end && !statuses.some((s) => s.fill === 'red' && /denies: publish to homeassistant\//.test(s.text ?? ''))) await new Promise((r) => setTimeout(r, 100));
      expect(statuses.filter((s) => s.fill === 'red').map((s) => s.text)).toContainEqual(expect.stringMatching(/^broker denies: publish to homeassistant\//));
    } finally {
      await stopServer();
      await guarded.stop();
    }
  });
});
