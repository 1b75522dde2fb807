/**
 * examples/System defense.json as a user imports it, with its device pointed at a simulated PC
 * and its "chat" debug node swapped for a test probe: the antivirus alert isolates the PC and
 * writes the chat message, the release button opens it again, the watchdog button makes AMT
 * watch the agent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, startFleet } from '../../packages/sim/src';
import * as net from 'node:net';
import { alertInNode, catchNode, deviceNode, getNode, load, nextMessage, startServer, stopServer, systemDefenseNode } from '../helpers/red';

const nodesDir = path.dirname(require.resolve('@node-red/nodes/package.json'));
const core = (dir: string, f: string) => require(path.join(nodesDir, 'core', dir, f));
const CORE = [core('common', '20-inject.js'), core('function', '10-switch.js'), core('function', '15-change.js'), core('function', '80-template.js'), core('common', '90-comment.js')];

const USER = 'admin';
const PASSWORD = 'Sim-P@ss1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD });
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

function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function exampleFlow(): Promise<Array<Record<string, any>>> {
  const flow = JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/System defense.json'), 'utf8')) as Array<Record<string, any>>;
  const sim = fleet.devices[0];
  const eventPort = await freeTcpPort();
  for (const n of flow) {
    if (n.type === 'oob-device') Object.assign(n, { host: '127.0.0.1', amtPort: sim.port, amtTls: false });
    if (n.type === 'oob-alert-in') Object.assign(n, { eventPort, eventAddress: '127.0.0.1', publicUrl: `http://127.0.0.1:${eventPort}` });
    if (n.type === 'debug') Object.assign(n, { type: 'helper' });
  }
  return flow;
}

it('isolates the PC on the antivirus alert, writes the chat message, and releases it on the button', async () => {
  const sim = fleet.devices[0];
  const flow = await exampleFlow();
  await load([deviceNode, systemDefenseNode, alertInNode, catchNode, ...CORE], flow, { 'ex-sd-device': { username: USER, password: PASSWORD } });
  const management = flow.find((n) => n.id === 'ex-sd-isolate')!.managementHosts as string;

  let chat = nextMessage('ex-sd-chat');
  getNode('ex-sd-alert').receive({});
  let msg = await chat;
  expect(msg.payload).toBe(`:rotating_light: finance-pc is isolated: Antivirus agent stopped on finance-pc.\nOnly ${management} can reach it, and AMT still answers. Release it from Node-RED once it is clean.`);
  expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.5' }).verdict).toBe('dropped');
  expect(sim.sendPacket({ direction: 'out', remote: management }).verdict).toBe('passed');

  const state = nextMessage('ex-sd-state');
  getNode('ex-sd-status-button').receive({});
  expect((await state).payload).toMatchObject({ state: 'isolated', counters: expect.arrayContaining([expect.objectContaining({ count: 1 })]) });

  chat = nextMessage('ex-sd-chat');
  getNode('ex-sd-release-button').receive({});
  msg = await chat;
  expect(msg.payload).toBe(':white_check_mark: finance-pc is back on the network (open).');
  expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.5' }).verdict).toBe('passed');

  const watched = nextMessage('ex-sd-state');
  getNode('ex-sd-watch').receive({});
  expect((await watched).payload).toMatchObject({ action: 'watchdog-add', changed: true, watchdogs: [expect.objectContaining({ description: 'antivirus', state: 'not-started', timeout: 60, grace: 300 })] });
});
