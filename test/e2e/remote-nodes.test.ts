/**
 * The ordinary nodes of a central Node-RED on devices at a site, through the site's gateway (a
 * Node-RED of its own, in its own process) and a real Mosquitto: boot from media (PXE, and IDE-R with
 * the image at the site), System Defense and IPMI on a server. Then the gateway is killed while it
 * serves an IDE-R boot: the centre gets a clear error at once, no boot stays armed, and the gateway
 * started again puts back the redirection service the boot had turned on.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { withDriver } from '../../lib/drivers';
import { generateKeyPairText, KeyPairText } from '../../lib/remote';
import { bootState, Fleet, firmwareState, redirectionState, startFleet, writeDemoIso } from '../../packages/sim/src';
import { SimBmc } from '../../packages/sim/src/ipmi';
import { bootFromMediaNode, catchNode, deviceNode, getNode, ipmiNode, load, powerStateNode, remoteCentreNode, startServer, stopServer, systemDefenseNode } from '../helpers/red';
import { startMosquitto, TestBroker } from '../helpers/mqtt';

jest.setTimeout(120_000);

const mqttNodes = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '10-mqtt.js'));
const USER = 'admin';
const PASSWORD = 'Remote-P@ss1';
const SITE = 'branch';

let broker: TestBroker;
let fleet: Fleet;
let bmc: SimBmc;
let gateway: ChildProcess;
const keys: Record<string, KeyPairText> = {};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-remote-nodes-'));
const images = path.join(tmp, 'images');
const gatewayDir = path.join(tmp, 'gateway-user-dir');
let gatewayOutput = '';

function gatewayFlows() {
  const [pc, big] = fleet.devices;
  const amt = (d: typeof pc) => ({ host: '127.0.0.1', mac: d.mac, site: SITE, amtPort: d.port, amtTls: false, timeout: 5, redirPort: d.redirectionPort });
  return {
    flows: [
      { id: 'pc', type: 'oob-device', name: 'pc-1', ...amt(pc) },
      { id: 'pc2', type: 'oob-device', name: 'pc-2', ...amt(big) },
      { id: 'srv', type: 'oob-device', name: 'srv-1', host: '127.0.0.1', mac: '', site: SITE, ipmiHost: '', ipmiPort: bmc.port, ipmiCipher: 'auto', ipmiPrivilege: 'admin', timeout: 5 },
      { id: 'broker', type: 'mqtt-broker', name: 'msp', broker: '127.0.0.1', port: String(broker.port), usetls: false, protocolVersion: '5', keepalive: '5', cleansession: true, autoConnect: false },
      { id: 'tab', type: 'tab', label: SITE },
      { id: 'gw', z: 'tab', type: 'oob-remote-gateway', broker: 'broker', site: SITE, allowRead: true, allowPower: true, allowBoot: true, allowIsolate: true, scope: 'site', window: 60, wires: [[]] },
    ],
    credentials: {
      pc: { username: USER, password: PASSWORD },
      pc2: { username: USER, password: PASSWORD },
      srv: { ipmiUsername: USER, ipmiPassword: PASSWORD },
      gw: { siteKey: keys.site.privateKey, centreKey: keys.centre.publicKey },
    },
  };
}

function startGateway(): Promise<ChildProcess> {
  const file = path.join(tmp, 'gateway.json');
  fs.writeFileSync(file, JSON.stringify(gatewayFlows()));
  // A user directory that outlives the process: the gateway started again finds its boot journal.
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'node-red-child.js')], {
    env: { ...process.env, FLOWS_FILE: file, USER_DIR: gatewayDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  gatewayOutput = '';
  child.stderr!.on('data', (d) => ((out += d), (gatewayOutput += d)));
  child.stdout!.on('data', (d) => (gatewayOutput += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not ready in 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${out}`)));
  });
}

function centralFlow() {
  const boot = { type: 'oob-boot-from-media', target: 'pxe', imageDir: images, image: 'rescue.iso', power: 'auto', timeout: 60, wires: [['out']] };
  return [
    { id: 'cb', type: 'mqtt-broker', name: 'msp', broker: '127.0.0.1', port: String(broker.port), usetls: false, protocolVersion: '5', keepalive: '30', cleansession: true, autoConnect: false },
    { id: 'rc', type: 'oob-remote-centre', broker: 'cb', base: 'oobkit', centre: 'hq', timeout: 20, sites: `${SITE} ${keys.site.publicKey}` },
    { id: 'rpc', type: 'oob-device', name: 'PC at branch', via: 'rc', remoteSite: SITE, remoteDevice: 'pc-1' },
    { id: 'rpc2', type: 'oob-device', name: 'PC 2 at branch', via: 'rc', remoteSite: SITE, remoteDevice: 'pc-2' },
    { id: 'rsrv', type: 'oob-device', name: 'server at branch', via: 'rc', remoteSite: SITE, remoteDevice: 'srv-1' },
    { id: 'f1', type: 'tab', label: 'centre' },
    { id: 'boot', z: 'f1', device: 'rpc', ...boot },
    { id: 'boot2', z: 'f1', device: 'rpc2', ...boot, target: 'ide-r-cd' },
    { id: 'defense', z: 'f1', type: 'oob-system-defense', device: 'rpc', action: 'status', template: 'isolate', managementHosts: '192.0.2.10', replace: true, wires: [['out']] },
    { id: 'ipmi', z: 'f1', type: 'oob-ipmi', device: 'rsrv', action: 'status', wires: [['out']] },
    { id: 'power', z: 'f1', type: 'oob-power-state', device: 'rsrv', action: 'status', poll: 0, wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

beforeAll(async () => {
  keys.centre = generateKeyPairText();
  keys.site = generateKeyPairText();
  fs.mkdirSync(images);
  // Big enough that the PC is still reading it when the gateway is killed.
  writeDemoIso(path.join(images, 'rescue.iso'), 'RESCUE', 48 * 1024 * 1024);
  broker = await startMosquitto({ noDelay: true });
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, seed: 'remote-nodes', timings: { bootTimeMs: 50, offDwellMs: 20, osShutdownMs: 20 } });
  bmc = await SimBmc.start({ port: 0, users: [{ name: USER, password: PASSWORD }], power: 'on', cycleMs: 200, softOffMs: 200 });
  gateway = await startGateway();
  await startServer();
  await load([deviceNode, bootFromMediaNode, systemDefenseNode, ipmiNode, powerStateNode, remoteCentreNode, mqttNodes, catchNode], centralFlow(), { rc: { privateKey: keys.centre.privateKey } });
}, 180_000);

afterAll(async () => {
  await stopServer();
  closeAllAmt();
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
    const gone = new Promise((r) => gateway.once('exit', r));
    gateway.kill('SIGKILL');
    await gone;
  }
  await fleet?.stop();
  await bmc?.stop();
  await broker?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function ask(id: string, msg: Record<string, unknown>, ms = 60_000): Promise<{ out?: Record<string, any>; error?: Record<string, any> }> {
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
    const timer = setTimeout(() => reject(new Error(`nothing came out of ${id} within ${ms / 1000} s`)), ms);
    out.on('input', onOut);
    caught.on('input', onCaught);
    getNode(id).receive(msg);
  });
}

/** What the site's PC says about its isolation, asked over AMT here (not through the centre). */
const isolatedAtSite = () =>
  withDriver({ name: 'pc-1', host: '127.0.0.1', amt: { host: '127.0.0.1', port: fleet.devices[0].port, tls: false, username: USER, password: PASSWORD } }, (d) => d.readIsolation!());

describe('ordinary nodes of a central Node-RED on a site\'s devices', () => {
  it('boot from media: a PXE boot of the PC at the site, armed and reset there', async () => {
    const pc = fleet.devices[0];
    const before = firmwareState(pc).boots.length;
    const r = await ask('boot', { payload: 'pxe' });
    expect(r.error).toBeUndefined();
    expect(r.out!.payload).toMatchObject({ target: 'pxe', result: 'requested', power: 'reset' });
    for (let i = 0; i < 100 && !firmwareState(pc).boots.slice(before).some((b) => b.done); i++) await new Promise((res) => setTimeout(res, 50));
    expect(firmwareState(pc).boots.slice(before).map((b) => b.status)).toEqual(['PXE boot']);
  });

  it('system defense: isolates the PC at the site and releases it, as the PC itself then says', async () => {
    const on = await ask('defense', { action: 'isolate' });
    expect(on.error).toBeUndefined();
    expect(on.out!.payload).toMatchObject({ state: 'isolated', template: 'isolate' });
    expect(await isolatedAtSite()).toBe(true);
    const off = await ask('defense', { action: 'release' });
    expect(off.out!.payload).toMatchObject({ state: 'open' });
    expect(await isolatedAtSite()).toBe(false);
  });

  it('IPMI: reads the server\'s chassis status at the site and powers it off with the power-state node', async () => {
    const s = await ask('ipmi', { action: 'status' });
    expect(s.error).toBeUndefined();
    expect(s.out!.payload).toMatchObject({ power: 'on' });
    const off = await ask('power', { payload: 'off' });
    expect(off.error).toBeUndefined();
    expect(off.out!.payload).toMatchObject({ state: 'off' });
    expect(bmc.state.powerOn).toBe(false);
    const again = await ask('ipmi', { action: 'status' });
    expect(again.out!.payload).toMatchObject({ power: 'off' });
  });

  it('the gateway killed while it serves an IDE-R boot: a clear error at the centre at once; started again, it puts the PC back as it was', async () => {
    const pc = fleet.devices[1];
    // The redirection service off, as a site may keep it: the boot turns it on for the IDE-R session.
    redirectionState(pc).enabledState = 32768;
    const before = { ...redirectionState(pc) };
    // Each IDE-R command of the simulated BIOS takes a while, so the boot is still being served
    // when the gateway dies, however busy the machine (at full speed it is over in 0.1 s).
    firmwareState(pc).options.commandDelayMs = 100;
    const reading = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        const b = firmwareState(pc).boots.at(-1);
        if (b && b.target === 'ide-r-cd' && (b.bytesRead ?? 0) > 0) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    const started = Date.now();
    const result = ask('boot2', { payload: 'ide-r-cd' });
    await reading;
    gateway.kill('SIGKILL');
    const r = await result;
    firmwareState(pc).options.commandDelayMs = 0;
    expect(r.out).toBeUndefined();
    expect(r.error!.message).toMatch(/site branch went offline while startBoot on pc-2 was under way; the outcome at the site is unknown/);
    // The gateway's last will, not the boot's own time limit (60 s).
    expect(Date.now() - started).toBeLessThan(20_000);
    // At the site the PC stopped reading the image and booted no further; no one-time boot waits
    // for its next power-on. Nobody put the redirection service back yet: the gateway is gone.
    for (let i = 0; i < 100 && !firmwareState(pc).boots.at(-1)?.done; i++) await new Promise((res) => setTimeout(res, 50));
    // (Whether the session closed during a command or between two, the BIOS's boot failed with it.)
    expect(firmwareState(pc).boots.at(-1)).toMatchObject({ target: 'ide-r-cd', done: true, status: expect.stringMatching(/^boot failed: the (console closed the IDE-R session|IDE-R session is closed)$/) });
    expect(bootState(pc).role).not.toBe(1);
    expect(redirectionState(pc).enabledState).toBe(32769);

    // The site's Node-RED starts again (power back): the gateway puts the PC back and says so.
    gateway = await startGateway();
    for (let i = 0; i < 200 && redirectionState(pc).enabledState !== before.enabledState; i++) await new Promise((res) => setTimeout(res, 50));
    expect(redirectionState(pc)).toEqual(before);
    for (let i = 0; i < 100 && !gatewayOutput.includes('was put back'); i++) await new Promise((res) => setTimeout(res, 50));
    expect(gatewayOutput).toMatch(/pc-2 was put back after a boot that did not finish \(this runtime stopped during it\): redirection service restored/);
    // Once: a second start has nothing to put back.
    expect(fs.readFileSync(path.join(gatewayDir, 'oobkit', 'boot-journal.json'), 'utf8')).not.toContain('127.0.0.1');
  });
});
