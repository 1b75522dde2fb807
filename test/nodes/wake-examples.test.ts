/**
 * examples/Wake-on-LAN.json and examples/Discovery.json as `npm start` deploys them (scripts/demo-flows.ts
 * points their device at a simulated PC and keeps every packet on loopback): power off, wake and
 * confirm, wake a list; sweep the simulated fleet and split the result per device.
 */
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, startFleet } from '../../packages/sim/src';
import { demoFlows, readExamples } from '../../scripts/demo-flows';
import { catchNode, deviceNode, discoverNode, getNode, load, nextMessage, powerStateNode, startServer, stopServer, wakeNode } from '../helpers/red';

const coreNode = (f: string) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', f));
const changeNode = coreNode('function/15-change.js');
const splitNode = coreNode('sequence/17-split.js');

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, user: 'admin', password: 'Ex-P@ss1', wolPort: 0, rmcpPort: 0 });
});
afterAll(() => fleet.stop());
beforeEach(startServer);
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

/** One example as the demo deploys it, with debug, inject and comment nodes as test helpers. */
function asDeployed(file: string) {
  const example = readExamples(path.join(__dirname, '..', '..', 'examples')).filter((e) => e.file === file);
  expect(example).toHaveLength(1);
  const { nodes, credentials } = demoFlows(example, {
    devices: fleet.devices.map((d, i) => ({ name: d.name, port: d.port, mac: d.mac, wolPort: fleet.wol!.port, rmcpPort: fleet.rmcp![i].port })),
    username: 'admin',
    password: 'Ex-P@ss1',
  });
  const ours = nodes.filter((n) => !String(n.id).startsWith('demo-fleet')).map((n) => (n.type === 'debug' ? { ...n, type: 'helper' } : n.type === 'inject' || n.type === 'comment' ? { ...n, type: 'helper', wires: [] } : n));
  return { ours, credentials };
}

it('discovers the simulated fleet, on loopback only, one message per device', async () => {
  const { ours, credentials } = asDeployed('Discovery.json');
  const node = ours.find((n) => n.type === 'oob-discover')!;
  expect(String(node.targets).split(' ').every((t) => t.startsWith('127.0.0.1:'))).toBe(true);
  await load([discoverNode, changeNode, splitNode, catchNode], ours, credentials);
  const each: Array<Record<string, any>> = [];
  getNode('ex-discover-device').on('input', (m: Record<string, any>) => each.push(m.payload));
  const out = nextMessage('ex-discover-debug');
  getNode('ex-discover-node').receive({ payload: Date.now() });
  expect((await out).payload).toMatchObject({ scanned: 2, found: [{ pong: { vendor: 'intel-amt' } }, { pong: { vendor: 'intel-amt' } }] });
  await new Promise((r) => setTimeout(r, 100));
  expect(each.map((p) => p.port)).toEqual(fleet.rmcp!.map((r) => r.port));
});

it('wakes the simulated PC and keeps every packet on loopback', async () => {
  const { ours, credentials } = asDeployed('Wake-on-LAN.json');
  for (const n of ours.filter((x) => x.type === 'oob-wake')) expect(n.address).toBe('127.0.0.1');
  await load([deviceNode, wakeNode, powerStateNode, catchNode], ours, credentials);
  const device = ours.find((n) => n.type === 'oob-device')!;
  const sim = fleet.devices.find((d) => d.port === device.amtPort)!;

  let out = nextMessage('ex-wake-debug', 15000);
  getNode('ex-wake-power').receive({ payload: 'off' });
  expect((await out).payload).toMatchObject({ state: 'off' });
  expect(sim.powerState).toBe(8);

  out = nextMessage('ex-wake-debug', 20000);
  getNode('ex-wake-node').receive({ payload: Date.now() });
  expect((await out).payload).toMatchObject({ woke: true, method: 'wol', confirmedBy: 'amt', device: { name: 'office-pc' } });
  expect(sim.powerState).toBe(2);

  const before = fleet.wol!.stats.received;
  out = nextMessage('ex-wake-debug');
  getNode('ex-wake-list').receive({ mac: JSON.parse((ours.find((n) => n.id === 'ex-wake-inject-list')!.props as Array<{ v: string }>)[0].v) });
  expect((await out).payload).toMatchObject({ woke: null, packets: 9, address: '127.0.0.1', port: fleet.wol!.port });
  await new Promise((r) => setTimeout(r, 100));
  expect(fleet.wol!.stats.received - before).toBe(9);
});
