/**
 * oob-boot-from-media with a PC in client control mode, in a real Node-RED runtime: the node says
 * it needs consent, the code is read off the simulated PC's screen (its 'consent' event) and sent
 * back as msg.consentCode in a second message, and the PC boots the served ISO. A wrong code, and
 * a code given after the PC's code expired, end in a Catch with the PC's settings as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { bootState, ConsentEvent, consentState, Fleet, lastBoot, redirectionState, SimDevice, startFleet } from '../../packages/sim/src';
import { buildIso } from '../helpers/iso';
import { bootFromMediaNode, catchNode, deviceNode, getNode, load, nextMessage, recordStatuses, startServer, stopServer } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Consent-P@ss1';
let fleet: Fleet;
let images: string;

beforeAll(async () => {
  images = mkdtempSync(join(tmpdir(), 'oob-consent-node-'));
  buildIso(images, { volumeId: 'CONSENT_NODE', payloadBytes: 512 * 1024 });
  fleet = await startFleet({
    devices: 4,
    port: 0,
    user: USER,
    password: PASSWORD,
    power: 'off',
    timings: { bootTimeMs: 20 },
    configure: (i, o) => ({ ...o, controlMode: 'client', consent: { timeoutMs: i >= 2 ? 400 : 60_000 } }),
  });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
  rmSync(images, { recursive: true, force: true });
});
beforeEach(startServer);
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

function flow(d: SimDevice) {
  return [
    { id: 'dev', type: 'oob-device', name: d.name, host: '127.0.0.1', amtPort: d.port, timeout: 5, redirPort: d.redirectionPort },
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'boot', z: 'f1', type: 'oob-boot-from-media', device: 'dev', target: 'ide-r-cd', imageDir: images, image: 'rescue.iso', power: 'auto', timeout: 20, stopAfterBoot: true, wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const NODES = [deviceNode, bootFromMediaNode, catchNode];
const creds = { dev: { username: USER, password: PASSWORD } };

/** The code the PC shows next, as the person in front of it reads it. */
const screen = (d: SimDevice) =>
  new Promise<string>((resolve) => {
    const on = (e: ConsentEvent) => {
      if (e.state !== 'displayed' || !e.code) return;
      d.off('consent', on);
      resolve(e.code);
    };
    d.on('consent', on);
  });

function pristine(d: SimDevice) {
  return { settings: { ...bootState(d).settings }, role: bootState(d).role, source: bootState(d).source, redirection: { ...redirectionState(d) }, power: d.powerState };
}

describe('oob-boot-from-media: user consent in client control mode', () => {
  it('asks for the code, takes it as msg.consentCode in a second message, and boots the ISO', async () => {
    const d = fleet.devices[0];
    await load(NODES, flow(d), creds);
    const statuses = recordStatuses('boot');
    const code = screen(d);
    const asked = nextMessage('out', 10_000);
    getNode('boot').receive({ payload: 'go', marker: 'first' });
    const ask = await asked;
    expect(ask.payload).toMatchObject({ result: 'consent-required', target: 'ide-r-cd', codeTimeoutSeconds: 120, attempt: 1, device: { name: d.name } });
    expect(ask.marker).toBe('first');
    expect(statuses.at(-1)?.text).toBe('waiting for consent code');
    expect(d.powerState).toBe(8);
    expect(bootState(d).role).toBe(32768);

    const outcome = nextMessage('out', 20_000);
    getNode('boot').receive({ consentCode: await code });
    const msg = await outcome;
    expect(msg.marker).toBe('first');
    expect(msg.payload).toMatchObject({ target: 'ide-r-cd', result: 'booted', power: 'on', label: 'CONSENT_NODE' });
    expect(statuses.map((s) => s.text)).toEqual(expect.arrayContaining(['checking consent code', "ide-r-cd: waiting for user consent: code on the PC's screen", 'ide-r-cd: user consent given', 'booted CONSENT_NODE']));
    for (let i = 0; i < 100 && lastBoot(d)?.done !== true; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lastBoot(d)?.status).toBe('booted from media: CONSENT_NODE');
  });

  it('a wrong code: Catch gets a clear error, the code leaves the screen, nothing changed on the PC', async () => {
    const d = fleet.devices[1];
    await load(NODES, flow(d), creds);
    const statuses = recordStatuses('boot');
    const before = pristine(d);
    const code = screen(d);
    const asked = nextMessage('out');
    getNode('boot').receive({ payload: 'go' });
    await asked;
    const shown = await code;
    const caught = nextMessage('caught');
    getNode('boot').receive({ consentCode: shown === '111111' ? '222222' : '111111', device: d.name });
    const err = await caught;
    expect(err.error.message).toMatch(/refused the consent code: it is not the one on the PC's screen/);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: expect.stringContaining('wrong consent code') });
    expect(consentState(d).state).toBe(0);
    expect(pristine(d)).toEqual(before);

    // Nothing waits any more: a late code is refused, not lost silently.
    const late = nextMessage('caught');
    getNode('boot').receive({ consentCode: shown });
    expect((await late).error.message).toMatch(/nothing is waiting for a user consent code/);
  });

  it('stop while it waits: a clear error, the code taken off the screen, a later code refused', async () => {
    const d = fleet.devices[1];
    await load(NODES, flow(d), creds);
    const before = pristine(d);
    const asked = nextMessage('out');
    const caught = nextMessage('caught');
    getNode('boot').receive({ payload: 'go' });
    await asked;
    expect(consentState(d).state).toBe(2);
    getNode('boot').receive({ payload: 'stop' });
    expect((await caught).error.message).toMatch(/stopped while waiting for the user consent code/);
    expect(consentState(d).state).toBe(0);
    expect(pristine(d)).toEqual(before);
    const late = nextMessage('caught');
    getNode('boot').receive({ consentCode: '123456' });
    expect((await late).error.message).toMatch(/nothing is waiting for a user consent code/);
  });

  it('no code at all: once the PC\'s code expires the node ends by itself with a clear error', async () => {
    const d = fleet.devices[3];
    await load(NODES, flow(d), creds);
    const before = pristine(d);
    const statuses = recordStatuses('boot');
    const asked = nextMessage('out');
    const caught = nextMessage('caught', 15_000);
    getNode('boot').receive({ payload: 'go' });
    await asked;
    expect((await caught).error.message).toMatch(/no longer shows its consent code \(it expired or was cancelled at the PC\)/);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: expect.stringContaining('consent code expired') });
    expect(pristine(d)).toEqual(before);
  });

  it('the PC\'s code expired before it was sent: a clear error, settings as they were', async () => {
    const d = fleet.devices[2];
    await load(NODES, flow(d), creds);
    const before = pristine(d);
    const code = screen(d);
    const expired = new Promise<void>((resolve) => d.on('consent', (e: ConsentEvent) => e.reason === 'expired' && resolve()));
    const asked = nextMessage('out');
    getNode('boot').receive({ payload: 'go' });
    await asked;
    const shown = await code;
    await expired;
    const caught = nextMessage('caught');
    getNode('boot').receive({ consentCode: Number(shown) });
    expect((await caught).error.message).toMatch(/shows no consent code any more \(it expired or was cancelled\)/);
    expect(pristine(d)).toEqual(before);
  });
});
