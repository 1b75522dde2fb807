/**
 * KVM through the gateway: lib enables KVM on the simulated PC, opens the session on the redirection
 * port and carries RFB over a loopback TCP bridge, which Debian's vncsnapshot (a VNC client nobody
 * here wrote) reads. The snapshots show the PC's screens: grey text on black for the OS, the blue
 * BIOS setup with its cursor bar where the keyboard moved it, "no signal" black when off. KVM is
 * disabled again when the session ends; a second viewer is refused; a wrong password and a PC that
 * drops the session end clearly and leave it restored.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import { openConsole, openConsoleKind } from '../lib/amt/console';
import { openKvm } from '../lib/amt/redirection/kvm-session';
import { bootState, kvmSessionOf, kvmState, redirectionState, SimDevice, simScreen, startFleet } from '../packages/sim/src';
import { decodeJpeg, meanColour, Pixels } from './helpers/pnm';

const USER = 'admin';
const PASSWORD = 'Kvm-P@ss1';
let dir: string;
const cleanup: Array<() => unknown> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'oob-kvm-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(() => {
  closeAllAmt();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function device(o: Partial<ConstructorParameters<typeof SimDevice>[0]> = {}): Promise<SimDevice> {
  n++;
  const d = new SimDevice({ name: `kvm-pc-${n}`, uuid: `4c4c4544-0000-1000-8000-0000000001${String(n).padStart(2, '0')}`, mac: `00:16:3e:00:01:${String(n).padStart(2, '0')}`, user: USER, password: PASSWORD, ...o });
  await d.listen(0);
  await d.listenRedirection(0);
  cleanup.push(() => d.close());
  // As many provisioned PCs: KVM and the redirection listener off until a console turns them on.
  kvmState(d).enabledState = 3;
  redirectionState(d).listenerEnabled = false;
  return d;
}

function target(d: SimDevice, password = PASSWORD) {
  const lease = acquireAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
  cleanup.push(() => lease.release());
  return { key: `127.0.0.1:${d.port}`, client: lease.client, redirection: { host: '127.0.0.1', port: d.redirectionPort, username: USER, password, timeoutMs: 5000 } };
}

/** The gateway's bridge as a VNC client sees it: a loopback TCP port that carries the console's RFB. */
async function tcpBridge(c: { on(e: 'data', f: (b: Buffer) => void): unknown; once(e: 'close', f: () => void): unknown; write(b: Buffer): unknown; close(): Promise<unknown> }): Promise<number> {
  const server = net.createServer((s) => {
    c.on('data', (b: Buffer) => s.write(b));
    s.on('data', (b: Buffer) => c.write(b));
    s.on('close', () => void c.close());
    s.on('error', () => undefined);
    c.once('close', () => s.destroy());
  });
  server.maxConnections = 1;
  // vncsnapshot takes a display number (port 5900 + n), as VNC viewers do.
  for (let attempt = 0; ; attempt++) {
    const display = 10 + Math.floor(Math.random() * 89);
    const ok = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(5900 + display, '127.0.0.1', () => r(true));
    });
    if (ok) {
      cleanup.push(() => new Promise((r) => server.close(r)));
      return display;
    }
    if (attempt > 20) throw new Error('no free VNC display port');
  }
}

function snapshot(display: number, name: string, encodings = 'raw copyrect'): Promise<Pixels> {
  const file = join(dir, `${name}.jpg`);
  return new Promise((resolve, reject) => {
    execFile('vncsnapshot', ['-quiet', '-allowblank', '-encodings', encodings, '-quality', '100', `127.0.0.1:${display}`, file], { timeout: 20_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`vncsnapshot failed: ${err.message} ${stderr}`));
      else resolve(decodeJpeg(file));
    });
  });
}

const ROW = 16;
const isBlue = ([r, g, b]: number[]) => b > 120 && r < 60 && g < 60;
const isBright = ([r, g, b]: number[]) => r > 150 && g > 150 && b > 150;

async function session(d: SimDevice) {
  const c = await openConsole('kvm', target(d));
  cleanup.push(() => c.close());
  return c;
}

test('vncsnapshot reads the OS screen through the bridge; KVM and the listener are turned off again after', async () => {
  const d = await device();
  const c = await session(d);
  expect(kvmState(d).enabledState).toBe(2);
  expect(redirectionState(d).listenerEnabled).toBe(true);
  const shot = await snapshot(await tcpBridge(c), 'os');
  expect([shot.width, shot.height]).toEqual([640, 400]);
  // Text in the top rows (grey on black), nothing at the bottom.
  const top = meanColour(shot, 0, 0, 320, ROW);
  expect(top[0]).toBeGreaterThan(8);
  expect(meanColour(shot, 0, 400 - 4 * ROW, 640, 4 * ROW)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
  expect(Math.max(...meanColour(shot, 0, 400 - 4 * ROW, 640, 4 * ROW))).toBeLessThan(6);
  expect(await c.done).toBeUndefined();
  expect(kvmState(d).enabledState).toBe(3);
  expect(redirectionState(d).listenerEnabled).toBe(false);
  expect(openConsoleKind(`127.0.0.1:${d.port}`)).toBeUndefined();
});

test('BIOS setup: blue, the cursor bar on the first line, and on the next after a key press', async () => {
  const d = await device();
  bootState(d).settings.BIOSSetup = true;
  bootState(d).role = 1;
  d.reset('test');
  const first = await snapshot(await tcpBridge(await session(d)), 'setup-1');
  expect(isBlue(meanColour(first, 0, 20 * ROW, 640, ROW))).toBe(true);
  // Line 3 (Boot Order) is the reverse-video bar: bright; line 4 is blue.
  expect(isBright(meanColour(first, 200, 3 * ROW + 2, 200, ROW - 4))).toBe(true);
  expect(isBlue(meanColour(first, 200, 4 * ROW + 2, 200, ROW - 4))).toBe(true);
  simScreen(d).key('down');
  await new Promise((r) => setTimeout(r, 50));
  await cleanup.pop()!(); // the first bridge
  const second = await snapshot(await tcpBridge(await session(d)), 'setup-2');
  expect(isBlue(meanColour(second, 200, 3 * ROW + 2, 200, ROW - 4))).toBe(true);
  expect(isBright(meanColour(second, 200, 4 * ROW + 2, 200, ROW - 4))).toBe(true);
});

test('vncsnapshot asking for ZRLE (16): the gateway keeps it from the PC and the screen is right; a bare relay gets Intel RLE, which it cannot read', async () => {
  const d = await device();
  const c = await session(d);
  const shot = await snapshot(await tcpBridge(c), 'zrle-gateway', 'zrle raw');
  expect(await c.done).toBeUndefined();
  expect(c.encodings!.asked).toContain(16);
  expect(c.encodings!.passed).not.toContain(16);
  expect(meanColour(shot, 0, 0, 320, ROW)[0]).toBeGreaterThan(8);
  expect(Math.max(...meanColour(shot, 0, 400 - 4 * ROW, 640, 4 * ROW))).toBeLessThan(6);
  // The same viewer through a relay of the redirection session without the filter, as a plain
  // websockify-style bridge would be: the PC answers 16 with its own tiles.
  kvmState(d).enabledState = 6;
  redirectionState(d).listenerEnabled = true;
  const bare = await openKvm({ host: '127.0.0.1', port: d.redirectionPort, username: USER, password: PASSWORD, timeoutMs: 5000 });
  cleanup.push(() => bare.close());
  const pcSide = kvmSessionOf(d)!;
  // vncsnapshot either gives up or draws something that is not the screen (same size, pixels far off).
  const bad = await snapshot(await tcpBridge(bare), 'zrle-bare', 'zrle raw').catch((e: Error) => e);
  expect(pcSide.encodings).toContain(16);
  expect(pcSide.rects.intelRle).toBeGreaterThan(0);
  if (!(bad instanceof Error)) {
    let diff = 0;
    for (let i = 0; i < shot.rgb.length; i++) diff += Math.abs(shot.rgb[i] - bad.rgb[i]);
    expect(diff / shot.rgb.length).toBeGreaterThan(40);
  }
});

test('a PC that is off shows no signal (black)', async () => {
  const d = await device({ power: 'off' });
  const shot = await snapshot(await tcpBridge(await session(d)), 'off');
  expect(Math.max(...meanColour(shot, 0, 0, 640, 11 * ROW))).toBeLessThan(4);
  expect(meanColour(shot, 280, 12 * ROW, 80, ROW)[0]).toBeGreaterThan(4);
});

test('a second viewer is refused clearly while the first one is open', async () => {
  const d = await device();
  await session(d);
  await expect(openConsole('kvm', target(d))).rejects.toThrow(/already has an open KVM console: one viewer per PC/);
  await expect(openConsole('sol', target(d))).rejects.toThrow(/already has an open KVM console/);
});

test('a wrong password fails clearly and leaves KVM as it was', async () => {
  const d = await device();
  await expect(openConsole('kvm', target(d, 'wrong'))).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  expect(kvmState(d).enabledState).toBe(3);
  expect(redirectionState(d).listenerEnabled).toBe(false);
});

test('a PC that drops the session: the console closes with an error and the PC is restored', async () => {
  const d = await device();
  const c = await session(d);
  const closed = new Promise<Error | undefined>((r) => c.once('close', r));
  kvmSessionOf(d)!.drop();
  expect(await closed).toMatchObject({ message: expect.stringMatching(/ended the KVM session/) });
  expect(await c.done).toBeUndefined();
  expect(kvmState(d).enabledState).toBe(3);
  expect(redirectionState(d).listenerEnabled).toBe(false);
});

test('over TLS (16995) with the pinned certificate: the screen arrives; a wrong pin is refused', async () => {
  const fleet = await startFleet({ devices: 1, port: 0, tls: true, user: USER, password: PASSWORD });
  cleanup.push(() => fleet.stop());
  const d = fleet.devices[0];
  const lease = acquireAmt({ host: '127.0.0.1', port: d.port, tls: true, fingerprint: d.tls!.fingerprint256, username: USER, password: PASSWORD });
  cleanup.push(() => lease.release());
  const redirection = { host: '127.0.0.1', port: d.redirectionPort, tls: true, fingerprint: d.tls!.fingerprint256, username: USER, password: PASSWORD, timeoutMs: 5000 };
  const c = await openConsole('kvm', { key: 'tls-pc', client: lease.client, redirection });
  cleanup.push(() => c.close());
  const shot = await snapshot(await tcpBridge(c), 'tls');
  expect(meanColour(shot, 0, 0, 320, ROW)[0]).toBeGreaterThan(8);
  expect(await c.done).toBeUndefined();
  const wrongPin = 'AB:'.repeat(31) + 'AB';
  await expect(openConsole('kvm', { key: 'tls-pc', client: lease.client, redirection: { ...redirection, fingerprint: wrongPin } })).rejects.toMatchObject({ code: 'TLS_PIN_MISMATCH' });
  expect(openConsoleKind('tls-pc')).toBeUndefined();
});
