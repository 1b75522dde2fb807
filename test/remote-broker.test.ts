/**
 * The MSP's centre drives devices at two sites through a real Mosquitto (MQTT 5 over TLS, a user and an
 * ACL per site): each site's gateway runs a responder with its own key and allow-list, the
 * centre signs commands and checks the signed answers. The broker's admin (who can publish
 * anywhere) replays, forges and redirects; a site's own credentials try another site; a gateway
 * process is killed while a command runs there.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import mqtt, { IPublishPacket, MqttClient } from 'mqtt';
import { closeAllAmt } from '../lib/amt/connect';
import { driverFor } from '../lib/drivers';
import type { BootEvent } from '../lib/drivers';
import type { ManagedDevice } from '../lib/device';
import { OobError } from '../lib/errors';
import {
  allowList,
  Command,
  generateKeyPairText,
  KeyPairText,
  newNonce,
  parsePrivateKey,
  parsePublicKey,
  driverExecutor,
  Refusal,
  RemoteCentre,
  RemoteRefusedError,
  RemoteResponder,
  signCommand,
  SiteOfflineError,
} from '../lib/remote';
import { Fleet, generateKeyPair, makeCertificate, startFleet } from '../packages/sim/src';
import { startMosquitto, TestBroker } from './helpers/mqtt';

jest.setTimeout(60_000);

const BASE = 'oobkit';
const USER = 'admin';
const PASSWORD = 'Remote-P@ss1';
const SITES = ['site-a', 'site-b', 'site-c'];
const ACL = [
  'user centre',
  `topic write ${BASE}/+/_remote/cmd`,
  `topic read ${BASE}/+/_remote/reply/hq`,
  `topic read ${BASE}/+/_remote/availability`,
  `topic readwrite ${BASE}/_centre/hq/#`,
  ...SITES.flatMap((s) => [`user ${s}`, `topic read ${BASE}/${s}/_remote/cmd`, `topic write ${BASE}/${s}/_remote/reply/#`, `topic readwrite ${BASE}/${s}/_remote/availability`]),
  'user broker-admin',
  'topic readwrite #',
];
const PASSWORDS: Record<string, string> = { centre: 'c-pw', 'site-a': 'a-pw', 'site-b': 'b-pw', 'site-c': 'c-site-pw', 'broker-admin': 'root-pw' };

let broker: TestBroker;
/** The broker's self-signed certificate, which every client trusts (and nothing else). */
let ca: string;
let fleet: Fleet;
let slowFleet: Fleet;
const keys: Record<string, KeyPairText> = {};
const responders: Record<string, RemoteResponder> = {};
const refusals: Record<string, Refusal[]> = { 'site-a': [], 'site-b': [] };
let centre: RemoteCentre;
let admin: MqttClient;
const seen: Array<{ topic: string; payload: Buffer; packet: IPublishPacket }> = [];

function pc(f: Fleet, i: number): ManagedDevice {
  const d = f.devices[i];
  return { name: d.name, host: '127.0.0.1', mac: d.mac, amt: { host: '127.0.0.1', port: d.port, tls: false, username: USER, password: PASSWORD, timeoutMs: 10_000 } };
}

function connect(user: string): Promise<MqttClient> {
  const c = mqtt.connect(broker.url, { protocolVersion: 5, username: user, password: PASSWORD_OF(user), reconnectPeriod: 0, ca });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}
const PASSWORD_OF = (u: string) => PASSWORDS[u];

function gateway(site: string, allow: string[], devices: Record<string, ManagedDevice>): Promise<RemoteResponder> {
  const r = new RemoteResponder({
    url: broker.url,
    client: { username: site, password: PASSWORDS[site], ca },
    base: BASE,
    site,
    siteKey: parsePrivateKey(keys[site].privateKey),
    centreKey: parsePublicKey(keys.centre.publicKey),
    allow: allowList(allow),
    devices: (slug) => devices[slug],
    execute: driverExecutor,
  });
  r.on('refused', (x: Refusal) => refusals[site]?.push(x));
  return new Promise((resolve) => r.once('online', () => resolve(r)));
}

function newCentre(centreKeyText = keys.centre.privateKey, timeoutMs = 20_000): RemoteCentre {
  return new RemoteCentre({
    url: broker.url,
    client: { username: 'centre', password: PASSWORDS.centre, ca },
    base: BASE,
    centre: 'hq',
    centreKey: parsePrivateKey(centreKeyText),
    siteKeys: (s) => (keys[s] ? parsePublicKey(keys[s].publicKey) : undefined),
    timeoutMs,
  });
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

/** The error a call ended with; a call that succeeded fails the test. */
function failure(p: Promise<unknown>): Promise<OobError & { reason?: string }> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e as OobError & { reason?: string },
  );
}

function publishAsAdmin(topic: string, payload: Buffer | string, properties: IPublishPacket['properties'] = {}): Promise<void> {
  return new Promise((resolve, reject) => admin.publish(topic, payload, { qos: 1, properties }, (e) => (e ? reject(e) : resolve())));
}

beforeAll(async () => {
  for (const who of ['centre', ...SITES]) keys[who] = generateKeyPairText();
  const tls = makeCertificate({ commonName: 'localhost', serial: 1, keyPair: generateKeyPair() });
  ca = tls.cert;
  broker = await startMosquitto({ users: PASSWORDS, acl: ACL, tls: { cert: tls.cert, key: tls.key } });
  expect(broker.url).toMatch(/^mqtts:/);
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, seed: 'remote-broker', timings: { bootTimeMs: 20, offDwellMs: 20, osShutdownMs: 20 } });
  // A slow PC: every answer takes a second, so a power change is still running when its gateway dies.
  slowFleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'remote-slow', latencyMs: 1000 });
  responders['site-a'] = await gateway('site-a', ['read', 'power', 'boot'], { 'pc-a': pc(fleet, 0) });
  responders['site-b'] = await gateway('site-b', ['read', 'power'], { 'pc-b': pc(fleet, 1) });
  admin = await connect('broker-admin');
  admin.on('message', (topic, payload, packet) => seen.push({ topic, payload, packet }));
  await admin.subscribeAsync(`${BASE}/#`, { qos: 1 });
  centre = newCentre();
  await centre.whenReady();
  await until(() => centre.siteAvailability('site-a') === 'online' && centre.siteAvailability('site-b') === 'online', 'both sites online');
});

afterAll(async () => {
  await centre?.close();
  for (const r of Object.values(responders)) await r.close();
  admin?.end(true);
  closeAllAmt();
  await fleet?.stop();
  await slowFleet?.stop();
  await broker?.stop();
});

describe('remote commands through a real Mosquitto with per-site ACLs', () => {
  it('reads and changes the power of a PC at each site through its gateway', async () => {
    for (const [site, device, sim] of [['site-a', 'pc-a', fleet.devices[0]], ['site-b', 'pc-b', fleet.devices[1]]] as const) {
      expect(sim.powerState).toBe(2);
      await expect(centre.request(site, device, 'readPower')).resolves.toMatchObject({ state: 'on', code: 2, protocol: 'amt' });
      const change = (await centre.request(site, device, 'changePower', { action: 'off' })) as { before: { state: string }; after: { state: string } };
      expect(change.before.state).toBe('on');
      expect(change.after.state).toBe('off');
      expect(sim.powerState).toBe(8);
      await expect(centre.request(site, device, 'changePower', { action: 'on' })).resolves.toMatchObject({ after: { state: 'on' } });
      expect(sim.powerState).toBe(2);
    }
  });

  it('a failure at the site comes back with its error code; an unknown device is named', async () => {
    const e = await failure(centre.request('site-a', 'pc-a', 'changePower', { action: 'warp' }));
    expect(e).toBeInstanceOf(OobError);
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toMatch(/^site site-a: .*warp/);
    const u = await failure(centre.request('site-a', 'pc-zz', 'readPower'));
    expect(u).toBeInstanceOf(RemoteRefusedError);
    expect(u.reason).toBe('unknown-device');
    expect(u.message).toBe('site site-a refused readPower on pc-zz: no device "pc-zz" at site site-a');
  });

  it('a boot at the site reports its phases and outcome to the centre through the remote driver', async () => {
    const sim = fleet.devices[0];
    const boots: string[] = [];
    sim.on('boot', (e: { cause: string }) => boots.push(e.cause));
    const driver = driverFor({ name: 'pc-a', host: 'pc-a@site-a', remote: { site: 'site-a', device: 'pc-a', via: centre } });
    expect(driver.kind).toBe('remote');
    const events: BootEvent[] = [];
    const job = await driver.startBoot({ target: 'pxe' }, (e) => events.push(e));
    const outcome = await job.outcome;
    expect(outcome).toMatchObject({ target: 'pxe', result: 'requested', power: 'reset' });
    await expect(job.final).resolves.toMatchObject({ end: 'none' });
    expect(events.filter((e) => e.type === 'phase').length).toBeGreaterThan(0);
    // The PC was reset into its one-time PXE boot at the site.
    await until(() => boots.length > 0, 'the PC to boot');
    driver.close();
  });

  it('refuses what the site does not allow, and says so to the centre', async () => {
    const e = await failure(centre.request('site-b', 'pc-b', 'startBoot', { target: 'pxe' }));
    expect(e).toBeInstanceOf(RemoteRefusedError);
    expect(e.code).toBe('REMOTE_REFUSED');
    expect(e.message).toBe('site site-b refused startBoot on pc-b: this site does not allow "boot" actions (startBoot)');
    expect(refusals['site-b'].at(-1)).toMatchObject({ reason: 'not-allowed' });
  });

  it('a centre with a key the site did not pin powers nothing (forged)', async () => {
    const forger = newCentre(generateKeyPairText().privateKey);
    try {
      await forger.whenReady();
      const events = fleet.devices[0].powerState;
      const e = await failure(forger.request('site-a', 'pc-a', 'changePower', { action: 'off' }));
      expect(e).toBeInstanceOf(RemoteRefusedError);
      expect(e.reason).toBe('bad-signature');
      expect(fleet.devices[0].powerState).toBe(events);
    } finally {
      await forger.close();
    }
  });

  it('the broker admin replays a captured command, sends it unsigned, and to another site: all refused, nothing runs', async () => {
    // What ran at the sites: every command a gateway accepts, and site B's PC's power changes.
    const accepted: string[] = [];
    for (const site of ['site-a', 'site-b']) responders[site].on('accepted', (a: { action: string }) => accepted.push(`${site} ${a.action}`));
    const powerEvents: string[] = [];
    fleet.devices[1].on('power', (e: { to: number }) => powerEvents.push(String(e.to)));
    seen.length = 0;
    await centre.request('site-a', 'pc-a', 'changePower', { action: 'reset' });
    const captured = await until(() => seen.find((m) => m.topic === `${BASE}/site-a/_remote/cmd`), 'the command seen by the admin');
    await until(() => seen.find((m) => m.topic === `${BASE}/site-a/_remote/reply/hq`), 'its answer seen by the admin');
    const props = { responseTopic: captured.packet.properties!.responseTopic, correlationData: captured.packet.properties!.correlationData };
    expect(accepted).toEqual(['site-a changePower']);
    const before = powerEvents.length;
    const replies = () => seen.filter((m) => m.topic.startsWith(`${BASE}/site-a/_remote/reply/`) || m.topic.startsWith(`${BASE}/site-b/_remote/reply/`));
    const refusalsA = refusals['site-a'].length;
    const refusalsB = refusals['site-b'].length;
    seen.length = 0;

    await publishAsAdmin(`${BASE}/site-a/_remote/cmd`, captured.payload, props);
    await until(() => refusals['site-a'].length > refusalsA, 'the replay refused');
    expect(refusals['site-a'].at(-1)).toMatchObject({ reason: 'replayed' });

    const body = JSON.parse(JSON.parse(captured.payload.toString()).body) as Command;
    await publishAsAdmin(`${BASE}/site-a/_remote/cmd`, JSON.stringify({ body: JSON.stringify({ ...body, nonce: newNonce(), ts: Date.now() }) }), props);
    await until(() => refusals['site-a'].length > refusalsA + 1, 'the unsigned command refused');
    expect(refusals['site-a'].at(-1)).toMatchObject({ reason: 'unsigned' });

    // A command the centre really signed for site A, delivered to site B by the admin.
    const forA = signCommand({ ...body, nonce: newNonce(), ts: Date.now() }, parsePrivateKey(keys.centre.privateKey));
    await publishAsAdmin(`${BASE}/site-b/_remote/cmd`, forA, { responseTopic: `${BASE}/site-b/_remote/reply/hq`, correlationData: Buffer.from('x') });
    await until(() => refusals['site-b'].length > refusalsB, 'the cross-site command refused');
    expect(refusals['site-b'].at(-1)).toMatchObject({ reason: 'wrong-site', message: 'command is for site "site-a", this is "site-b"' });

    // Each refusal went back signed by the site, and nothing was powered.
    await until(() => replies().length >= 3, 'three signed refusals');
    expect(replies().map((m) => JSON.parse(JSON.parse(m.payload.toString()).body).type)).toEqual(['refused', 'refused', 'refused']);
    expect(accepted).toEqual(['site-a changePower']);
    expect(powerEvents.length).toBe(before);
  });

  it("a site's own credentials cannot reach another site's command topic (broker ACL)", async () => {
    const siteA = await connect('site-a');
    try {
      const refusalsB = refusals['site-b'].length;
      const body: Command = { v: 1, site: 'site-b', device: 'pc-b', action: 'changePower', args: { action: 'off' }, ts: Date.now(), nonce: newNonce() };
      const r = await new Promise<Error | undefined>((resolve) =>
        siteA.publish(`${BASE}/site-b/_remote/cmd`, signCommand(body, parsePrivateKey(keys['site-a'].privateKey)), { qos: 1, properties: { responseTopic: `${BASE}/site-b/_remote/reply/hq` } }, (e) => resolve(e ?? undefined)),
      );
      expect(String(r)).toMatch(/not authorized/i);
      expect(refusals['site-b'].length).toBe(refusalsB);
      expect(fleet.devices[1].powerState).toBe(2);
    } finally {
      siteA.end(true);
    }
  });

  it('an answer forged on the way back is dropped, and the timeout says so', async () => {
    // site-c has a pinned key but no gateway yet: nobody answers except the forger.
    const quiet = newCentre(keys.centre.privateKey, 1500);
    try {
      await quiet.whenReady();
      seen.length = 0;
      const pending = failure(quiet.request('site-c', 'pc-c', 'readPower'));
      const cmd = await until(() => seen.find((m) => m.topic === `${BASE}/site-c/_remote/cmd`), 'the command');
      const body = JSON.parse(JSON.parse(cmd.payload.toString()).body) as Command;
      const fake = { v: 1, site: 'site-c', device: 'pc-c', action: 'readPower', nonce: body.nonce, ts: Date.now(), type: 'result', result: { state: 'off' } };
      const forgedSig = signCommand(fake as unknown as Command, parsePrivateKey(generateKeyPairText().privateKey));
      await publishAsAdmin(cmd.packet.properties!.responseTopic!, forgedSig, { correlationData: cmd.packet.properties!.correlationData });
      const e = await pending;
      expect(e.code).toBe('TIMEOUT');
      expect(e.message).toMatch(/^no answer from site site-c within 2 s \(readPower on pc-c\); an answer that failed verification was dropped: bad-signature/);
    } finally {
      await quiet.close();
    }
  });

  it('a site that stopped is offline at once, not after a timeout', async () => {
    const b = responders['site-b'];
    delete responders['site-b'];
    await b.close();
    await until(() => centre.siteAvailability('site-b') === 'offline', 'site-b offline');
    const e = await failure(centre.request('site-b', 'pc-b', 'readPower'));
    expect(e).toBeInstanceOf(SiteOfflineError);
    expect(e.message).toBe('site site-b is offline (its gateway is not connected to the broker)');
  });

  it('a gateway killed mid-operation ends the wait at the centre with "site offline"', async () => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers', 'remote-gateway-child.ts')], {
      cwd: path.join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        GATEWAY_CONFIG: JSON.stringify({
          url: broker.url,
          username: 'site-c',
          password: PASSWORDS['site-c'],
          ca,
          base: BASE,
          site: 'site-c',
          siteKey: keys['site-c'].privateKey,
          centreKey: keys.centre.publicKey,
          allow: ['read', 'power'],
          devices: { 'pc-c': pc(slowFleet, 0) },
        }),
      },
    });
    const lines: Array<Record<string, unknown>> = [];
    readline.createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
    try {
      await until(() => lines.some((l) => l.event === 'online') && centre.siteAvailability('site-c') === 'online', 'site-c online', 20_000);
      const pending = failure(centre.request('site-c', 'pc-c', 'changePower', { action: 'off' }, { timeoutMs: 30_000 }));
      await until(() => lines.some((l) => l.event === 'accepted'), 'the command running at site-c');
      child.kill('SIGKILL');
      const e = await pending;
      // Not the 30 s timeout: the broker sent the gateway's last will.
      expect(e).toBeInstanceOf(SiteOfflineError);
      expect(e.message).toBe('site site-c went offline while changePower on pc-c was under way; the outcome at the site is unknown');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
