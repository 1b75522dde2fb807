/**
 * The MSP's central console through the broker, with real Node-RED runtimes: two customer sites,
 * each a Node-RED in its own process with an oob-remote-gateway and a simulated PC on its LAN, and
 * a central Node-RED whose oob-devices are "device D at site S via centre". The centre's ordinary
 * power-state, wake and inventory nodes drive the sites' PCs through one Mosquitto with a user and an ACL per
 * site; site B allows reading only; site B's gateway is then killed. Each site also runs an
 * alert-in (PET traps from its PC) feeding its Home Assistant bridge, so its alerts reach the broker;
 * the centre acknowledges one of site A's through its own alert-in, a signed command site A's
 * gateway applies; a forged acknowledgement, and one to site B (which does not allow it), are refused.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { encodePet, PET_ENTERPRISE, PET_VARBIND_OID, specificTrapOf } from '../../lib/asf/pet';
import { generateKeyPairText, KeyPairText, newNonce, openAnswer, parsePrivateKey, parsePublicKey, PROTOCOL_VERSION, signCommand } from '../../lib/remote';
import { Fleet, startFleet } from '../../packages/sim/src';
import { alertInNode, catchNode, deviceNode, getNode, inventoryNode, load, powerStateNode, remoteCentreNode, startServer, stopServer, wakeNode } from '../helpers/red';
import { startMosquitto, TestBroker } from '../helpers/mqtt';
import { freeUdpPort } from '../helpers/peers';

const snmp = require('net-snmp');

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
  'topic read oobkit/+/+/alert',
  ...['site-a', 'site-b'].flatMap((s) => [
    `user ${s}`,
    `topic read oobkit/${s}/_remote/cmd`,
    `topic write oobkit/${s}/_remote/reply/#`,
    `topic readwrite oobkit/${s}/_remote/availability`,
    // Its Home Assistant bridge: states and alerts of its own PCs.
    `topic readwrite oobkit/${s}/+/#`,
    `topic readwrite homeassistant/+/oobkit_${s.replace(/-/g, '_')}/#`,
    'topic read homeassistant/status',
  ]),
];
const petPorts: Record<string, number> = {};

let broker: TestBroker;
const fleets: Record<string, Fleet> = {};
const keys: Record<string, KeyPairText> = {};
const gateways: Record<string, ChildProcess> = {};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-remote-sites-'));

function gatewayFlows(site: string, fleet: Fleet, allow: { power: boolean; acknowledge: boolean }) {
  const d = fleet.devices[0];
  const flows = [
    { id: `${site}-pc`, type: 'oob-device', name: `pc-${site.slice(-1)}`, host: '127.0.0.1', mac: d.mac, site, amtPort: d.port, amtTls: false, timeout: 5, wolAddress: '127.0.0.1', wolPort: fleet.wol!.port },
    { id: `${site}-broker`, type: 'mqtt-broker', name: 'msp', broker: '127.0.0.1', port: String(broker.port), usetls: false, protocolVersion: '5', keepalive: '30', cleansession: true, autoConnect: false },
    { id: `${site}-tab`, type: 'tab', label: site },
    { id: `${site}-gw`, z: `${site}-tab`, type: 'oob-remote-gateway', broker: `${site}-broker`, site, allowRead: true, allowPower: allow.power, allowAcknowledge: allow.acknowledge, scope: 'site', window: 60, wires: [[]] },
    {
      id: `${site}-alerts`,
      z: `${site}-tab`,
      type: 'oob-alert-in',
      site,
      pet: true,
      petPort: petPorts[site],
      petAddress: '127.0.0.1',
      communities: 'public',
      wsevent: false,
      eventlog: false,
      heartbeat: false,
      outputs: 1,
      wires: [[`${site}-ha`]],
    },
    { id: `${site}-ha`, z: `${site}-tab`, type: 'oob-ha', broker: `${site}-broker`, site, base: 'oobkit', prefix: 'homeassistant', mode: 'entity', scope: 'site', devices: [], poll: 60, offAction: 'auto', wires: [[], []] },
  ];
  const credentials = {
    [`${site}-pc`]: { username: USER, password: PASSWORD },
    [`${site}-broker`]: { user: site, password: BROKER_PASSWORDS[site] },
    [`${site}-gw`]: { siteKey: keys[site].privateKey, centreKey: keys.centre.publicKey },
  };
  return { flows, credentials };
}

function startGateway(site: string, allow: { power: boolean; acknowledge: boolean }): Promise<ChildProcess> {
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
    { id: 'acks', z: 'f1', type: 'oob-alert-in', pet: false, wsevent: false, eventlog: false, heartbeat: false, outputs: 1, wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

beforeAll(async () => {
  for (const who of ['centre', 'site-a', 'site-b']) keys[who] = generateKeyPairText();
  broker = await startMosquitto({ users: BROKER_PASSWORDS, acl: ACL });
  petPorts['site-a'] = await freeUdpPort();
  petPorts['site-b'] = await freeUdpPort();
  const timings = { bootTimeMs: 50, offDwellMs: 20, osShutdownMs: 20 };
  fleets['site-a'] = await startFleet({ devices: 1, port: 0, wolPort: 0, user: USER, password: PASSWORD, seed: 'remote-site-a', timings });
  fleets['site-b'] = await startFleet({ devices: 1, port: 0, wolPort: 0, user: USER, password: PASSWORD, seed: 'remote-site-b', timings });
  await Promise.all([startGateway('site-a', { power: true, acknowledge: true }), startGateway('site-b', { power: false, acknowledge: false })]);
  await startServer();
  await load([deviceNode, powerStateNode, wakeNode, inventoryNode, alertInNode, remoteCentreNode, mqttNodes, catchNode], centralFlow(), { rc: { privateKey: keys.centre.privateKey }, cb: { user: 'centre', password: BROKER_PASSWORDS.centre } });
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

/** A PET trap (fan failure) from 127.0.0.1, where a site's PC is, to that site's alert-in. */
function sendFanTrap(port: number): Promise<void> {
  const specific = specificTrapOf({ sensorType: 0x04, eventType: 0x01, offset: 2 });
  const bytes = encodePet({ sequence: 1, sensorNumber: 4, severity: 0x10, time: Math.floor(Date.now() / 1000) - 5, guid: Buffer.alloc(16, 0x42) });
  const session = snmp.createSession('127.0.0.1', 'public', { trapPort: port, version: snmp.Version1 });
  return new Promise((resolve, reject) =>
    session.trap(`${PET_ENTERPRISE}.${specific}`, [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: bytes }], { agentAddr: '127.0.0.1' }, (e?: Error) => {
      session.close();
      if (e) reject(e);
      else resolve();
    }),
  );
}

/** The sites' alerts as the centre reads them from the broker (oobkit/<site>/<device>/alert). */
async function watchAlerts() {
  const client = await mqtt.connectAsync(broker.url, { username: 'centre', password: BROKER_PASSWORDS.centre, protocolVersion: 5 });
  const seen: Array<Record<string, any>> = [];
  const waiters: Array<{ match: (a: Record<string, any>) => boolean; resolve: (a: Record<string, any>) => void }> = [];
  client.on('message', (_t, payload) => {
    const a = JSON.parse(payload.toString()) as Record<string, any>;
    seen.push(a);
    for (const w of [...waiters]) {
      if (!w.match(a)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(a);
    }
  });
  await client.subscribeAsync('oobkit/+/+/alert');
  return {
    seen,
    next: (match: (a: Record<string, any>) => boolean) =>
      new Promise<Record<string, any>>((resolve, reject) => {
        const found = seen.find(match);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`no such alert over MQTT within 30 s; seen: ${JSON.stringify(seen.map((a) => [a.device?.name, a.state]))}`)), 30_000);
        waiters.push({ match, resolve: (a) => (clearTimeout(timer), resolve(a)) });
      }),
    close: () => client.endAsync(),
  };
}

/** An acknowledgeAlert command signed with `privateKey`, straight onto the broker; the site's answer, checked with its pinned key. */
async function sendRaw(site: string, device: string, privateKey: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const client = await mqtt.connectAsync(broker.url, { username: 'centre', password: BROKER_PASSWORDS.centre, protocolVersion: 5 });
  try {
    const replyTopic = `oobkit/${site}/_remote/reply/hq`;
    const correlation = randomBytes(16);
    const answer = new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${site} within 20 s`)), 20_000);
      client.on('message', (_t, payload, packet) => {
        if (!Buffer.isBuffer(packet.properties?.correlationData) || !packet.properties!.correlationData.equals(correlation)) return;
        clearTimeout(timer);
        const opened = openAnswer(payload, parsePublicKey(keys[site].publicKey, 'site key'));
        if (!opened.ok) reject(new Error(`answer does not verify: ${opened.message}`));
        else resolve(opened.value as unknown as Record<string, any>);
      });
    });
    await client.subscribeAsync(replyTopic);
    const command = { v: PROTOCOL_VERSION, site, device, action: 'acknowledgeAlert', args, ts: Date.now(), nonce: newNonce() };
    await client.publishAsync(`oobkit/${site}/_remote/cmd`, signCommand(command, parsePrivateKey(privateKey, 'key')), { qos: 1, properties: { responseTopic: replyTopic, correlationData: correlation } });
    return await answer;
  } finally {
    await client.endAsync();
  }
}

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

  it("an alert at site A reaches the centre over MQTT; a forged acknowledgement is refused at the site; the centre's signed one is applied there and comes back once as state 'acknowledge'", async () => {
    const feed = await watchAlerts();
    try {
      await sendFanTrap(petPorts['site-a']);
      const trigger = await feed.next((a) => a.device?.name === 'pc-a' && a.state === 'trigger');
      expect(trigger).toMatchObject({ kind: 'fan-failure', source: 'pet', device: { name: 'pc-a', site: 'site-a' } });

      // Someone at the broker signs with a key of their own: the site refuses, and says why (signed with its key).
      const forged = await sendRaw('site-a', 'pc-a', generateKeyPairText().privateKey, { key: trigger.dedupKey, by: 'intruder' });
      expect(forged).toMatchObject({ type: 'refused', error: { code: 'bad-signature' } });

      const caught: Array<Record<string, any>> = [];
      const onCaught = (m: Record<string, any>) => caught.push(m);
      getNode('caught').on('input', onCaught);
      getNode('acks').receive({ acknowledge: true, alert: trigger, user: 'noc-dana' });
      const ack = await feed.next((a) => a.device?.name === 'pc-a' && a.state === 'acknowledge');
      getNode('caught').removeListener('input', onCaught);
      expect(caught).toEqual([]);
      expect(ack).toMatchObject({ dedupKey: trigger.dedupKey, details: { acknowledgedBy: 'noc-dana' } });
      // The bridge may publish its retained last alert again: one acknowledge is one id.
      const acks = () => [...new Set(feed.seen.filter((a) => a.state === 'acknowledge').map((a) => `${a.id} ${a.details.acknowledgedBy}`))];
      expect(acks()).toEqual([`${ack.id} noc-dana`]);

      // Again from the centre: the site says who had it; nothing more goes out.
      const again = await sendRaw('site-a', 'pc-a', keys.centre.privateKey, { key: trigger.dedupKey, by: 'noc-sam' });
      expect(again).toMatchObject({ type: 'result', result: { already: true, by: 'noc-dana' } });
      // A command for another device of the site cannot acknowledge pc-a's alert.
      const other = await sendRaw('site-a', 'pc-z', keys.centre.privateKey, { key: trigger.dedupKey, by: 'noc-sam' });
      expect(other).toMatchObject({ type: 'refused', error: { code: 'unknown-device' } });
      await new Promise((r) => setTimeout(r, 500));
      expect(acks()).toEqual([`${ack.id} noc-dana`]);
    } finally {
      await feed.close();
    }
  });

  it("site B does not allow acknowledgements: the centre's is refused with the site's reason, and its alert stays unacknowledged", async () => {
    const feed = await watchAlerts();
    try {
      await sendFanTrap(petPorts['site-b']);
      const trigger = await feed.next((a) => a.device?.name === 'pc-b' && a.state === 'trigger');
      const r = await ask('acks', { acknowledge: { dedupKey: trigger.dedupKey, by: 'noc-dana', device: trigger.device } });
      expect(r.error!.message).toMatch(/site site-b refused acknowledgeAlert on pc-b: this site does not allow "acknowledge" actions/);
      await new Promise((r) => setTimeout(r, 500));
      expect(feed.seen.filter((a) => a.device?.name === 'pc-b' && a.state === 'acknowledge')).toEqual([]);
    } finally {
      await feed.close();
    }
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
