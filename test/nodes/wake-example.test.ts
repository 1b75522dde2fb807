/**
 * examples/wake.json as `npm start` deploys it (scripts/demo-flows.ts points its device at a
 * simulated PC and keeps every magic packet on loopback): power off, wake and confirm, wake a list.
 */
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, startFleet } from '../../lib/sim';
import { demoFlows, readExamples } from '../../scripts/demo-flows';
import { catchNode, deviceNode, getNode, load, nextMessage, powerStateNode, startServer, stopServer, wakeNode } from '../helpers/red';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, user: 'admin', password: 'Ex-P@ss1', wolPort: 0, rmcpPort: 0 });
  await startServer();
});
afterAll(async () => {
  closeAllAmt();
  await stopServer();
  await fleet.stop();
});

it('wakes the simulated PC and keeps every packet on loopback', async () => {
  const example = readExamples(path.join(__dirname, '..', '..', 'examples')).filter((e) => e.file === 'wake.json');
  expect(example).toHaveLength(1);
  const { nodes, credentials } = demoFlows(example, {
    devices: fleet.devices.map((d, i) => ({ name: d.name, port: d.port, mac: d.mac, wolPort: fleet.wol!.port, rmcpPort: fleet.rmcp![i].port })),
    username: 'admin',
    password: 'Ex-P@ss1',
  });
  const ours = nodes.filter((n) => !String(n.id).startsWith('demo-fleet')).map((n) => (n.type === 'debug' ? { ...n, type: 'helper' } : n.type === 'inject' || n.type === 'comment' ? { ...n, type: 'helper', wires: [] } : n));
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
