/**
 * oob-boot-from-media in a real Node-RED runtime against simulated PCs, with ISOs built by xorriso:
 * the PC boots the served ISO (status shows IDE-R progress), a stop message ends the session and
 * puts the redirection service back, PXE is requested, and bad input ends in a red status and a
 * Catch with the device untouched.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { bootState, Fleet, lastBoot, redirectionState, setBootCapabilities, SimDevice, startFleet } from '../../packages/sim/src';
import { bootFileOffset, buildIso, corruptAt } from '../helpers/iso';
import { bootFromMediaNode, catchNode, deviceNode, getNode, load, nextMessage, recordStatuses, startServer, stopServer } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Sim-P@ss1';
let fleet: Fleet;
let dir: string;
let images: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oob-boot-node-'));
  images = join(dir, 'images');
  mkdirSync(images);
  buildIso(images, { volumeId: 'RESCUE_NODE', payloadBytes: 2 * 1024 * 1024 });
  const bad = buildIso(images, { volumeId: 'BROKEN', name: 'broken.iso' });
  corruptAt(bad, bootFileOffset(bad) + 8000);
  fleet = await startFleet({ devices: 4, port: 0, tls: true, user: USER, password: PASSWORD, power: 'off', timings: { bootTimeMs: 20 } });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(startServer);
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

function flow(d: SimDevice, boot: Record<string, unknown> = {}) {
  return [
    { id: 'dev', type: 'oob-device', name: d.name, host: '127.0.0.1', amtPort: d.port, amtTls: true, fingerprint: d.tls!.fingerprint256, timeout: 5, redirPort: d.redirectionPort },
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'boot', z: 'f1', type: 'oob-boot-from-media', device: 'dev', target: 'ide-r-cd', imageDir: images, image: 'rescue.iso', power: 'auto', timeout: 20, wires: [['out']], ...boot },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const NODES = [deviceNode, bootFromMediaNode, catchNode];
const creds = { dev: { username: USER, password: PASSWORD } };
const firmwareDone = (d: SimDevice) => new Promise<string>((resolve) => d.once('firmware', (r: { status: string }) => resolve(r.status)));

describe('oob-boot-from-media in a real Node-RED runtime', () => {
  it('boots an off PC from the served ISO over TLS, shows progress, and stops on request', async () => {
    const d = fleet.devices[0];
    Object.assign(redirectionState(d), { enabledState: 32768, listenerEnabled: true });
    await load(NODES, flow(d), creds);
    const statuses = recordStatuses('boot');
    const booted = firmwareDone(d);
    const out = nextMessage('out', 20000);
    getNode('boot').receive({ payload: 'go', marker: 7 });
    const msg = await out;
    expect(msg.marker).toBe(7);
    expect(msg.payload).toMatchObject({ target: 'ide-r-cd', result: 'booted', power: 'on', image: 'rescue.iso', label: 'RESCUE_NODE', device: { name: 'pc-01', host: '127.0.0.1' } });
    expect(msg.payload.bytesServed).toBeGreaterThan(20_000);
    expect(typeof msg.payload.seconds).toBe('number');
    expect(JSON.stringify(msg)).not.toContain(PASSWORD);
    expect(await booted).toBe('booted from media: RESCUE_NODE');
    expect(statuses.map((s) => s.text)).toEqual(expect.arrayContaining(['ide-r-cd: checking', 'ide-r-cd: powering on', 'booted RESCUE_NODE']));
    expect(statuses.some((s) => /^IDE-R \d{1,3}% \d+\.\d MB\/s$/.test(s.text ?? ''))).toBe(true);
    expect(redirectionState(d).enabledState).toBe(32769);

    // One boot from media per PC at a time.
    const refused = nextMessage('caught');
    getNode('boot').receive({ payload: 'go' });
    expect((await refused).error.message).toMatch(/a boot from media is already running for pc-01 \(127\.0\.0\.1\); send "stop" first/);

    const stopped = nextMessage('out', 500).catch(() => 'no message');
    getNode('boot').receive({ payload: 'stop' });
    expect(await stopped).toBe('no message');
    await new Promise((r) => setTimeout(r, 300));
    expect(statuses.at(-1)?.text).toMatch(/^(IDE-R done \d+\.\d MB|stopped)$/);
    expect(redirectionState(d)).toEqual({ enabledState: 32768, listenerEnabled: true });
  });

  it('PXE: arms the boot and resets a running PC', async () => {
    const d = fleet.devices[1];
    d.powerOn('test');
    await load(NODES, flow(d, { target: 'ide-r-cd' }), creds);
    const booted = firmwareDone(d);
    const out = nextMessage('out');
    getNode('boot').receive({ payload: 'pxe' });
    expect((await out).payload).toMatchObject({ target: 'pxe', result: 'requested', power: 'reset', bytesServed: 0 });
    expect(await booted).toBe('PXE boot');
  });

  it.each([
    ['a missing image', { image: 'gone.iso' }, {}, /image "gone.iso" not found in the image directory/, 'bad input'],
    ['an image outside the directory', {}, { image: '../../etc/passwd' }, /is outside the image directory/, 'bad input'],
    ['a corrupted image', { image: 'broken.iso' }, {}, /image "broken.iso" is not bootable: boot file checksum/, 'bad input'],
    ['an HTTPS boot on a PC without it', { target: 'https', url: 'https://boot.example/x.efi' }, {}, /cannot do a UEFI HTTPS boot/, 'not supported'],
    ['an unknown target', {}, { target: 'tape' }, /unknown boot target "tape"/, 'bad input'],
  ])('refuses %s with a red status and leaves the PC as it was', async (_what, config, input, message, statusText) => {
    const d = fleet.devices[2];
    const before = JSON.stringify(bootState(d));
    await load(NODES, flow(d, config), creds);
    const statuses = recordStatuses('boot');
    const caught = nextMessage('caught');
    getNode('boot').receive({ payload: 'go', ...input });
    expect((await caught).error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: statusText });
    expect(JSON.stringify(bootState(d))).toBe(before);
    expect(lastBoot(d)).toBeUndefined();
  });

  it('refuses IDE-R on a PC without it', async () => {
    const d = fleet.devices[3];
    setBootCapabilities(d, { IDER: false });
    await load(NODES, flow(d), creds);
    const caught = nextMessage('caught');
    getNode('boot').receive({ payload: 'go' });
    expect((await caught).error.message).toMatch(/cannot boot from an IDE-R drive: it has no IDE redirection/);
    setBootCapabilities(d, { IDER: true });
  });

  it('reports a PC that never loads the boot image, and restores its boot settings', async () => {
    const d = fleet.devices[3];
    d.powerOff('test');
    // The PC goes on but its BIOS never sends a disk command (as if it ignored IDE-R).
    const firmware = d.listeners('boot') as Array<(...a: unknown[]) => void>;
    d.removeAllListeners('boot');
    d.on('boot', (e: { preventOsStart(): void }) => e.preventOsStart());
    const text = (o: object) => JSON.stringify(Object.entries(o).filter(([k]) => k !== 'OptionsCleared').map(([k, v]) => [k, String(v)]));
    const settingsBefore = text(bootState(d).settings);
    try {
      await load(NODES, flow(d, { timeout: 1 }), creds);
      const statuses = recordStatuses('boot');
      const caught = nextMessage('caught');
      getNode('boot').receive({ payload: 'go' });
      expect((await caught).error.message).toMatch(/did not load the boot image within 1 s \(after 0\.0 MB, 0% of the image, no disk command at all: did it boot from IDE-R\?\)/);
      expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: 'timeout' });
      expect(bootState(d).role).toBe(32768);
      expect(text(bootState(d).settings)).toBe(settingsBefore);
    } finally {
      d.removeAllListeners('boot');
      for (const l of firmware) d.on('boot', l);
    }
  });
});

// UEFI HTTPS boot exists from AMT 16: the same node and flow against three firmware generations.
describe.each([
  ['15', false],
  ['16', true],
  ['18', true],
] as const)('oob-boot-from-media, UEFI HTTPS boot on AMT %s', (amtVersion, offered) => {
  let gen: Fleet;
  beforeAll(async () => {
    gen = await startFleet({ devices: 1, port: 0, tls: true, amtVersion, user: USER, password: PASSWORD, seed: `https-${amtVersion}`, timings: { bootTimeMs: 20 } });
  });
  afterAll(async () => {
    closeAllAmt();
    await gen.stop();
  });

  it(offered ? 'arms the boot and the PC loads the URL' : 'is refused: the firmware does not offer it', async () => {
    const d = gen.devices[0];
    await load(NODES, flow(d, { target: 'https', url: 'https://boot.example/rescue.efi' }), creds);
    if (offered) {
      const booted = firmwareDone(d);
      const out = nextMessage('out');
      getNode('boot').receive({ payload: 'go' });
      expect((await out).payload).toMatchObject({ target: 'https', result: 'requested' });
      expect(await booted).toBe('UEFI HTTPS boot from https://boot.example/rescue.efi');
    } else {
      const caught = nextMessage('caught');
      getNode('boot').receive({ payload: 'go' });
      expect((await caught).error.message).toMatch(/cannot do a UEFI HTTPS boot \(it needs AMT 16 or later/);
      expect(lastBoot(d)).toBeUndefined();
    }
  });
});
