/**
 * The chain the System Defense issue describes, with every link real: an agent-presence watchdog
 * on the simulated PC expires when its antivirus agent stops, the firmware pushes the event to
 * alert-in over WS-Eventing, the alert goes through a switch to system-defense, which isolates the
 * PC: traffic to a non-management host is dropped, to the management host it passes.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, startFleet } from '../../packages/sim/src';
import { alertInNode, deviceNode, getNode, load, nextMessage, startServer, stopServer, systemDefenseNode } from '../helpers/red';

const nodesDir = path.dirname(require.resolve('@node-red/nodes/package.json'));
const switchNode = require(path.join(nodesDir, 'core', 'function', '10-switch.js'));

const USER = 'admin';
const PASSWORD = 'Ch41n-P@ss';
const AGENT = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const MANAGEMENT = '192.0.2.10';
const ELSEWHERE = '203.0.113.5';
let fleet: Fleet;

function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'chain', configure: (_i, o) => ({ ...o, controlMode: 'admin', defense: { secondMs: 20 } }) });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(startServer);
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

it('an antivirus agent that stops gets its PC isolated, through alert-in and system-defense', async () => {
  const sim = fleet.devices[0];
  const eventPort = await freeTcpPort();
  const common = { z: 'f1', device: 'dev', managementHosts: MANAGEMENT, protocol: 'both', counters: true, replace: true };
  await load(
    [deviceNode, alertInNode, systemDefenseNode, switchNode],
    [
      { id: 'f1', type: 'tab' },
      { id: 'dev', type: 'oob-device', name: 'finance-pc', host: '127.0.0.1', amtPort: sim.port, amtTls: false, timeout: 5 },
      { id: 'amt-events', z: 'f1', type: 'oob-alert-in', devices: 'finance-pc', pet: false, wsevent: true, eventPort, eventAddress: '127.0.0.1', publicUrl: `http://127.0.0.1:${eventPort}`, eventlog: false, heartbeat: false, dedupSeconds: 0, wires: [['only-stopped', 'seen']] },
      { id: 'seen', z: 'f1', type: 'helper' },
      { id: 'only-stopped', z: 'f1', type: 'switch', property: 'payload.kind', propertyType: 'msg', rules: [{ t: 'eq', v: 'agent-stopped', vt: 'str' }], checkall: 'false', outputs: 1, wires: [['isolator']] },
      { id: 'isolator', ...common, type: 'oob-system-defense', action: 'apply', template: 'isolate', wires: [['isolated']] },
      { id: 'isolated', z: 'f1', type: 'helper' },
      { id: 'dog', ...common, type: 'oob-system-defense', action: 'watchdog-add', agentId: AGENT, agentDescription: 'antivirus', agentTimeout: 15, agentGrace: 30, agentPolicy: '', wires: [['state']] },
      { id: 'state', z: 'f1', type: 'helper' },
    ],
    { dev: { username: USER, password: PASSWORD } },
  );
  for (let i = 0; i < 100 && sim.subscriptions.size === 0; i++) await new Promise((r) => setTimeout(r, 30));
  expect(sim.subscriptions.size).toBe(1);

  const added = nextMessage('state');
  getNode('dog').receive({ payload: 'watchdog-add' });
  expect((await added).payload).toMatchObject({ changed: true, watchdogs: [expect.objectContaining({ agentId: AGENT })] });
  sim.agent(AGENT).start();
  expect(sim.sendPacket({ direction: 'out', remote: ELSEWHERE }).verdict).toBe('passed');

  const alert = nextMessage('seen', 15000);
  const isolated = nextMessage('isolated', 15000);
  sim.agent(AGENT).crash();
  expect((await alert).payload).toMatchObject({ source: 'wsevent', kind: 'agent-stopped', state: 'trigger', device: expect.objectContaining({ name: 'finance-pc' }) });
  expect((await isolated).payload).toMatchObject({ state: 'isolated' });
  expect(sim.sendPacket({ direction: 'out', remote: ELSEWHERE }).verdict).toBe('dropped');
  expect(sim.sendPacket({ direction: 'out', remote: MANAGEMENT }).verdict).toBe('passed');
});
