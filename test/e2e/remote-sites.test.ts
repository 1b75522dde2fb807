/**
 * The MSP's central console through the broker, with real Node-RED runtimes: two customer sites,
 * each a Node-RED in its own process with an oob-remote-gateway and a simulated PC on its LAN, and
 * a central Node-RED whose oob-devices are "device D at site S via centre". The centre's ordinary
 * power-state, wake and inventory nodes drive the sites' PCs through one Mosquitto with a user and an ACL per
 * site; site B allows reading only; site B's gateway is then killed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { generateKeyPairText, KeyPairText } from '../../lib/remote';
import { Fleet, startFleet } from '../../packages/sim/src';
import { catchNode, deviceNode, getNode, inventoryNode, load, powerStateNode, remoteCentreNode, startServer, stopServer, wakeNode } from '../helpers/red';
import { startMosquitto, TestBroker } from '../helpers/mqtt';

jest.setTimeout(120_000);

const mqttNodes = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '10-mqtt.js'));
const USER = 'admin';
const PASSWORD = 'Remote-P@ss1';
const BROKER_PASSWORDS: Record<string, string> = { centre: 'centre-pw', 'site-a': 'site-a-pw', 'site-b': 'site-b-pw' };
const ACL = [
  'user centre',
  'topic write oobkit/+/_remote/cmd',
  'topic read oobkit/+/_remote/reply/hq',
  'topic read oobkit/+/_remote/availability',
  'topic readwrite oobkit/_centre/hq/#',
  ...['site-a', 'site-b'].flatMap((s) => [`user ${s}`, `topic read oobkit/${s}/_remote/cmd`, `topic write oobkit/${s}/_remote/reply/#`, `topic readwrite oobkit/${s}/_remote/availability`]),
];

let broker: TestBroker;
const fleets: Record<string, Fleet> = {};
const keys: Record<string, KeyPairText> = {};
const gateways: Record<string, ChildProcess> = {};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-remote-sites-'));

function gatewayFlows(site: string, fleet: Fleet, allow: { power: boolean }) {
  const d = fleet.devices[0];
  const flows = [
    { id: `${site}-pc`, type: 'oob-device', name: `pc-${site.slice(-1)}`, host: '127.0.0.1', mac: d.mac, site, amtPort: d.port, amtTls: false, timeout: 5, wolAddress: '127.0.0.1', wolPort: fleet.wol!.port },
    { id: `${site}-broker`, type: 'mqtt-broker', name: 'msp', broker: '127.0.0.1', port: String(broker.port), usetls: false, protocolVersion: '5', keepalive: '30', cleansession: true, autoConnect: false },
    { id: `${site}-tab`, type: 'tab', label: site },
    { id: `${site}-gw`, z: `${site}-tab`, type: 'oob-remote-gateway', broker: `${site}-broker`, site, allowRead: true, allowPower: allow.power, scope: 'site', window: 60, wires: [[]] },
  ];
  const credentials = {
    [`${site}-pc`]: { username: USER, password: PASSWORD },
    [`${site}-broker`]: { user: site, password: BROKER_PASSWORDS[site] },
    [`${site}-gw`]: { siteKey: keys[site].privateKey, centreKey: keys.centre.publicKey },
  };
  return { flows, credentials };
}

function startGateway(site: string, allow: { power: boolean }): Promise<ChildProcess> {
  const file = path.join(tmp, `${site}.json`);
  fs.writeFileSync(file, JSON.stringify(gatewayFlows(site, fleets[site], allow)));
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'node-red-child.js')], { env: { ...process.env, FLOWS_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] });
  gateways[site] = child;
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway ${site} not ready in 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway ${site} exited with ${code}: ${out}`)));
  });
}

function centralFlow() {
  return [
    { id: 'cb', type: 'mqtt-broker', name: 'msp', broker: '127.0.0.1', port: String(broker.port), usetls: false, protocolVersion: '5', keepalive: '30', cleansession: true, autoConnect: false },
    { id: 'rc', type: 'oob-remote-centre', broker: 'cb', base: 'oobkit', centre: 'hq', timeout: 20, sites: `site-a ${keys['site-a'].publicKey}\nsite-b ${keys['site-b'].publicKey}` },
    { id: 'ra', type: 'oob-device', name: 'Reception A', via: 'rc', remoteSite: 'site-a', remoteDevice: 'pc-a' },
    { id: 'rb', type: 'oob-device', name: 'Reception B', via: 'rc', remoteSite: 'site-b', remoteDevice: 'pc-b' },
    { id: 'f1', type: 'tab', label: 'centre' },
    { id: 'pa', z: 'f1', type: 'oob-power-state', device: 'ra', action: 'status', poll: 0, wires: [['out']] },
    { id: 'pb', z: 'f1', type: 'oob-power-state', device: 'rb', action: 'status', poll: 0, wires: [['out']] },
    { id: 'wa', z: 'f1', type: 'oob-wake', device: 'ra', confirm: 'auto', timeout: 30, wires: [['out']] },
    { id: 'ia', z: 'f1', type: 'oob-inventory', device: 'ra', action: 'inventory', format: 'object', auditMode: 'new', wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

beforeAll(async () => {
  for (const who of ['centre', 'site-a', 'site-b']) keys[who] = generateKeyPairText();
  broker = await startMosquitto({ users: BROKER_PASSWORDS, acl: ACL });
  const timings = { bootTimeMs: 50, offDwellMs: 20, osShutdownMs: 20 };
  fleets['site-a'] = await startFleet({ devices: 1, port: 0, wolPort: 0, user: USER, password: PASSWORD, seed: 'remote-site-a', timings });
  fleets['site-b'] = await startFleet({ devices: 1, port: 0, wolPort: 0, user: USER, password: PASSWORD, seed: 'remote-site-b', timings });
  await Promise.all([startGateway('site-a', { power: true }), startGateway('site-b', { power: false })]);
  await startServer();
  await load([deviceNode, powerStateNode, wakeNode, inventoryNode, remoteCentreNode, mqttNodes, catchNode], centralFlow(), { rc: { privateKey: keys.centre.privateKey }, cb: { user: 'centre', password: BROKER_PASSWORDS.centre } });
}, 180_000);

afterAll(async () => {
  await stopServer();
  closeAllAmt();
  await Promise.all(
    Object.values(gateways).map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  for (const f of Object.values(fleets)) await f.stop();
  await broker?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Sends a message to a node and waits for what comes out, or for the error a Catch node gets. */
function ask(id: string, msg: Record<string, unknown>): Promise<{ out?: Record<string, any>; error?: Record<string, any> }> {
  const out = getNode('out');
  const caught = getNode('caught');
  return new Promise((resolve, reject) => {
    const done = (r: { out?: Record<string, any>; error?: Record<string, any> }) => {
      clearTimeout(timer);
      out.removeListener('input', onOut);
      caught.removeListener('input', onCaught);
      resolve(r);
    };
    const onOut = (m: Record<string, any>) => done({ out: m });
    const onCaught = (m: Record<string, any>) => done({ error: m.error as Record<string, any> });
    const timer = setTimeout(() => reject(new Error(`nothing came out of ${id} within 60 s`)), 60_000);
    out.on('input', onOut);
    caught.on('input', onCaught);
    getNode(id).receive(msg);
  });
}

describe('central Node-RED drives two sites through their gateways', () => {
  it('reads the power of a PC at each site with the ordinary power-state node', async () => {
    const a = await ask('pa', { payload: 'status' });
    expect(a.error).toBeUndefined();
    expect(a.out!.payload).toMatchObject({ state: 'on', code: 2, protocol: 'amt' });
    const b = await ask('pb', { payload: 'status' });
    expect(b.out!.payload).toMatchObject({ state: 'on', code: 2 });
  });

  it('powers off the PC at site A, then wakes it: the magic packets leave on site A and the site confirms', async () => {
    const sim = fleets['site-a'].devices[0];
    const off = await ask('pa', { payload: 'off' });
    expect(off.error).toBeUndefined();
    expect(off.out!.payload).toMatchObject({ state: 'off' });
    expect(sim.powerState).toBe(8);
    const heard: string[] = [];
    fleets['site-a'].wol!.on('wake', (e: { device: { name: string } }) => heard.push(e.device.name));
    const woke = await ask('wa', { payload: 'wake' });
    expect(woke.error).toBeUndefined();
    expect(woke.out!.payload).toMatchObject({ woke: true, method: 'wol', confirmedBy: 'amt' });
    expect(sim.powerState).toBe(2);
    expect(heard).toContain(sim.name);
  });

  it("reads the site's hardware inventory and its AMT audit log, where the centre's power-off shows (the wake was Wake-on-LAN, not AMT)", async () => {
    const hw = fleets['site-a'].devices[0].hardware;
    const inv = await ask('ia', { payload: 'inventory' });
    expect(inv.error).toBeUndefined();
    expect(inv.out!.payload).toMatchObject({ platform: { manufacturer: hw.manufacturer, model: hw.model, serial: hw.serial }, amt: { controlMode: 'admin' } });
    const audit = await ask('ia', { payload: 'audit-all' });
    expect(audit.error).toBeUndefined();
    const actions = (audit.out!.payload as Array<{ action: string; app: string }>).filter((r) => r.app === 'Remote Control').map((r) => r.action);
    expect(actions).toEqual(['power-off']);
  });

  it("site B's gateway allows reading only: the centre's power change is refused there, with the site's reason", async () => {
    const r = await ask('pb', { payload: 'off' });
    expect(r.out).toBeUndefined();
    expect(r.error!.message).toMatch(/site site-b refused changePower on pc-b: this site does not allow "power" actions/);
    expect(fleets['site-b'].devices[0].powerState).toBe(2);
  });

  it("site B's gateway killed: the centre's calls fail with 'site offline', not a timeout", async () => {
    gateways['site-b'].kill('SIGKILL');
    // Until the broker has seen the connection drop, a read goes out and is ended by the gateway's
    // last will ("went offline while ... under way"); from then on a read fails before it is sent.
    let first: { out?: Record<string, any>; error?: Record<string, any> } = {};
    for (let i = 0; i < 40 && !first.error; i++) {
      first = await ask('pb', { payload: 'status' });
      if (!first.error) await new Promise((r) => setTimeout(r, 100));
    }
    expect(first.error!.message).toMatch(/site site-b (is offline|went offline while readPower on pc-b was under way)/);
    const next = await ask('pb', { payload: 'status' });
    expect(next.error!.message).toMatch(/the device's site is offline: site site-b is offline \(its gateway is not connected to the broker\)/);
    const a = await ask('pa', { payload: 'status' });
    expect(a.out!.payload).toMatchObject({ state: 'on' });
  });
});
