/**
 * The central console over a broker that speaks only MQTT 3.1.1 (Aedes, the demo's embedded
 * broker; older Mosquitto and many hosted brokers): no response topic, no correlation data. The
 * signed command names the centre's reply topic, and the answer's nonce finds its command.
 */
import mqtt, { MqttClient } from 'mqtt';
import { closeAllAmt } from '../lib/amt/connect';
import type { ManagedDevice } from '../lib/device';
import {
  allowList,
  driverExecutor,
  generateKeyPairText,
  KeyPairText,
  openAnswer,
  parsePrivateKey,
  parsePublicKey,
  Refusal,
  RemoteCentre,
  RemoteRefusedError,
  RemoteResponder,
} from '../lib/remote';
import { Fleet, startFleet } from '../packages/sim/src';
import { startAedes, TestBroker } from './helpers/mqtt';

jest.setTimeout(30_000);

const BASE = 'oobkit';
const USER = 'admin';
const PASSWORD = 'Remote-P@ss1';

let broker: TestBroker;
let url: string;
let fleet: Fleet;
const keys: Record<string, KeyPairText> = {};
let responder: RemoteResponder;
let centre: RemoteCentre;
let watcher: MqttClient;
const refusals: Refusal[] = [];
const commands: Buffer[] = [];
const replies: Buffer[] = [];

function pc(i: number): ManagedDevice {
  const d = fleet.devices[i];
  return { name: d.name, host: '127.0.0.1', mac: d.mac, amt: { host: '127.0.0.1', port: d.port, tls: false, username: USER, password: PASSWORD, timeoutMs: 10_000 } };
}

async function until<T>(check: () => T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  for (const who of ['centre', 'site-a']) keys[who] = generateKeyPairText();
  broker = await startAedes();
  url = broker.url;
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, seed: 'remote-mqtt311', timings: { bootTimeMs: 20, offDwellMs: 20, osShutdownMs: 20 } });
  watcher = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => (watcher.once('connect', () => resolve()), watcher.once('error', reject)));
  await watcher.subscribeAsync([`${BASE}/site-a/_remote/cmd`, `${BASE}/site-a/_remote/reply/hq`], { qos: 1 });
  watcher.on('message', (topic, payload) => (topic.endsWith('/cmd') ? commands : replies).push(payload));
  const devices: Record<string, ManagedDevice> = { [fleet.devices[0].name]: pc(0), [fleet.devices[1].name]: pc(1) };
  responder = new RemoteResponder({
    url,
    base: BASE,
    site: 'site-a',
    siteKey: parsePrivateKey(keys['site-a'].privateKey),
    centreKey: parsePublicKey(keys.centre.publicKey),
    allow: allowList(['read', 'power']),
    devices: (slug) => devices[slug],
    execute: driverExecutor,
  });
  responder.on('refused', (r: Refusal) => refusals.push(r));
  await new Promise((resolve) => responder.once('online', resolve));
  centre = new RemoteCentre({
    url,
    base: BASE,
    centre: 'hq',
    centreKey: parsePrivateKey(keys.centre.privateKey),
    siteKeys: (s) => (keys[s] ? parsePublicKey(keys[s].publicKey) : undefined),
    timeoutMs: 10_000,
  });
});

afterAll(async () => {
  await centre?.close();
  await responder?.close();
  watcher?.end(true);
  closeAllAmt();
  await fleet?.stop();
  await broker?.stop();
});

test('the broker refuses MQTT 5', async () => {
  const v5 = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const e = await new Promise<Error>((resolve) => v5.once('error', resolve));
  v5.end(true);
  expect(e.message).toMatch(/protocol version/i);
});

test('the centre reads and changes a PC at the site through a 3.1.1-only broker', async () => {
  const name = fleet.devices[0].name;
  await expect(centre.request('site-a', name, 'readPower')).resolves.toMatchObject({ state: 'on', protocol: 'amt' });
  await expect(centre.request('site-a', name, 'changePower', { action: 'off' })).resolves.toMatchObject({ after: { state: 'off' } });
  expect(fleet.devices[0].powerState).not.toBe(2);
  await centre.request('site-a', name, 'changePower', { action: 'on' });
});

test('answers find their own commands by nonce: two PCs read at once, each gets its own', async () => {
  const [a, b] = fleet.devices;
  await centre.request('site-a', b.name, 'changePower', { action: 'off' });
  const [ra, rb] = await Promise.all([centre.request('site-a', a.name, 'readPower'), centre.request('site-a', b.name, 'readPower')]);
  expect(ra).toMatchObject({ state: 'on' });
  expect(rb).toMatchObject({ state: 'off' });
  await centre.request('site-a', b.name, 'changePower', { action: 'on' });
});

test('a command replayed by someone on the broker is refused, and the refusal goes where the command named', async () => {
  const before = commands.length;
  await centre.request('site-a', fleet.devices[0].name, 'changePower', { action: 'off' });
  const cmd = await until(() => commands[before], 'the command on the wire');
  await centre.request('site-a', fleet.devices[0].name, 'changePower', { action: 'on' });
  const repliesBefore = replies.length;
  await watcher.publishAsync(`${BASE}/site-a/_remote/cmd`, cmd, { qos: 1 });
  await until(() => refusals.find((r) => r.reason === 'replayed'), 'the replay refused');
  const refusal = await until(
    () =>
      replies
        .slice(repliesBefore)
        .map((p) => openAnswer(p, parsePublicKey(keys['site-a'].publicKey)))
        .find((o) => o.ok && o.value.type === 'refused'),
    'the signed refusal on the reply topic',
  );
  expect(refusal.ok && refusal.value.error?.code).toBe('replayed');
  expect(fleet.devices[0].powerState).toBe(2);
});

test('an action the site does not allow is refused with its reason at the centre', async () => {
  const e = await centre.request('site-a', fleet.devices[0].name, 'setIsolation', { isolate: true }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(RemoteRefusedError);
  expect((e as Error).message).toMatch(/does not allow "isolate"/);
});
