/**
 * examples/Boot with user consent.json as a user imports it, its device pointed at a simulated PC in client
 * control mode and its debug nodes swapped for test probes: the boot button puts a code on the
 * PC's screen and a question in the chat; the code, read off the screen and sent with the inject
 * node's "Inject with..." dialog (as msg.consentCode), lets the PC reset into BIOS setup.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { ConsentEvent, Fleet, lastBoot, startFleet } from '../../packages/sim/src';
import { bootFromMediaNode, catchNode, deviceNode, getNode, load, nextMessage, startServer, stopServer } from '../helpers/red';

const nodesDir = path.dirname(require.resolve('@node-red/nodes/package.json'));
const core = (dir: string, f: string) => require(path.join(nodesDir, 'core', dir, f));
const CORE = [core('common', '20-inject.js'), core('function', '10-switch.js'), core('function', '80-template.js'), core('common', '90-comment.js')];

const USER = 'admin';
const PASSWORD = 'Sim-P@ss1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, timings: { bootTimeMs: 20 }, configure: (_i, o) => ({ ...o, controlMode: 'client' }) });
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

/** A PC keeps a consent it received for a while (firmware does), so each test has a PC of its own. */
function exampleFlow(i: number): Array<Record<string, any>> {
  const flow = JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/Boot with user consent.json'), 'utf8')) as Array<Record<string, any>>;
  const sim = fleet.devices[i];
  for (const n of flow) {
    if (n.type === 'oob-device') Object.assign(n, { host: '127.0.0.1', amtPort: sim.port, amtTls: false });
    if (n.type === 'debug') Object.assign(n, { type: 'helper' });
  }
  return flow;
}

it('asks in the chat, takes the code from the inject dialog, and the PC boots into BIOS setup', async () => {
  const sim = fleet.devices[0];
  await load([deviceNode, bootFromMediaNode, catchNode, ...CORE], exampleFlow(0), { 'ex-consent-device': { username: USER, password: PASSWORD } });
  const screen = new Promise<string>((resolve) => sim.on('consent', (e: ConsentEvent) => e.code && resolve(e.code)));
  const chat = nextMessage('ex-consent-chat');
  getNode('ex-consent-go').receive({});
  const question = await chat;
  expect(question.payload).toBe(`:key: accounts-pc wants its user's consent before it boots into bios. Please ask the person at the PC for the 6-digit code on its screen and send it back (it is valid for 120 s).`);

  const result = nextMessage('ex-consent-result');
  getNode('ex-consent-code').receive({ __user_inject_props__: [{ p: 'consentCode', v: await screen, vt: 'str' }] });
  expect((await result).payload).toMatchObject({ target: 'bios', result: 'requested', verified: true, device: { name: 'accounts-pc' } });
  for (let i = 0; i < 50 && lastBoot(sim)?.status !== 'BIOS setup'; i++) await new Promise((r) => setTimeout(r, 20));
  expect(lastBoot(sim)?.status).toBe('BIOS setup');
});

it('the code as the example ships it (000000) is wrong: the error reaches "boot errors"', async () => {
  const sim = fleet.devices[1];
  await load([deviceNode, bootFromMediaNode, catchNode, ...CORE], exampleFlow(1), { 'ex-consent-device': { username: USER, password: PASSWORD } });
  const shown = new Promise<string>((resolve) => sim.on('consent', (e: ConsentEvent) => e.code && resolve(e.code)));
  const chat = nextMessage('ex-consent-chat');
  getNode('ex-consent-go').receive({});
  await chat;
  if ((await shown) === '000000') return; // one chance in a million: the shipped value is right
  const errors = nextMessage('ex-consent-errors');
  getNode('ex-consent-code').receive({});
  expect((await errors).error.message).toMatch(/refused the consent code/);
});
