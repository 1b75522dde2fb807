/**
 * The console page in real Chromium, served by a real Node-RED with admin authentication under a
 * path prefix (httpAdminRoot /red/), for a simulated PC configured as an oob-device:
 *  - a user without the console permission (read-only) and a visitor without a token get no
 *    console: the page says so, its data and WebSockets answer 401;
 *  - the admin sees the PC's screen through noVNC (canvas pixels: the OS screen, then the blue BIOS
 *    setup after a boot into setup), presses keys into BIOS setup and sees the cursor move;
 *  - the serial console (xterm.js) shows the BIOS text and takes keys; pasted text (a paste into the
 *    terminal, the Paste button) arrives as lines ending in CR, without control characters, bounded;
 *  - a restart with an ISO armed over IDE-R (inject, oob-boot-from-media, oob-power-state reset: AMT
 *    refuses a power cycle while KVM is open) shows
 *    no signal, POST, the IDE-R load and "booted from media: <volume id>", read glyph by glyph;
 *  - closing the browser mid-session ends the KVM session and turns KVM off again;
 *  - the oob-console node answers with the page's URL under the prefix.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { bootState, consentState, drawScreen, firmwareState, kvmSessionOf, kvmState, lastBoot, SimDevice, simScreen, solSessionOf } from '../../packages/sim/src';
import { launchChromium } from '../helpers/browser';
import { buildIso } from '../helpers/iso';

const USER = 'admin';
const PASSWORD = 'Console-P@ss1';
const ROOT = '/red/';
const DEVICE_ID = 'c0ffee0000000001';
const WRONG_ID = 'c0ffee0000000002';
const CLIENT_ID = 'c0ffee0000000003';
const ROW = 16;
const VOLUME_ID = 'RESCUE_E2E';

let pc: SimDevice;
/** A PC in client control mode: KVM needs the code on its screen. */
let ccm: SimDevice;
let red: ChildProcess;
let base: string;
let adminToken: string;
let readerToken: string;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let dir: string;

async function token(username: string, password: string, scope: string): Promise<string> {
  const r = await fetch(`${base}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }),
  });
  if (r.status !== 200) throw new Error(`login of ${username} failed: ${r.status}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'nodes', 'oob-console', 'assets', 'console.js'))) throw new Error('dist is not built: npm run build');
  pc = new SimDevice({ name: 'office-pc', uuid: '4c4c4544-0000-1000-8000-00000000c0c0', mac: '00:16:3e:00:c0:c0', user: USER, password: PASSWORD });
  await pc.listen(0);
  await pc.listenRedirection(0);
  kvmState(pc).enabledState = 3;
  ccm = new SimDevice({ name: 'reception-pc', uuid: '4c4c4544-0000-1000-8000-00000000c0c1', mac: '00:16:3e:00:c0:c1', user: USER, password: PASSWORD, controlMode: 'client' });
  await ccm.listen(0);
  await ccm.listenRedirection(0);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-console-e2e-'));
  const images = path.join(dir, 'images');
  fs.mkdirSync(images);
  buildIso(images, { volumeId: VOLUME_ID, payloadBytes: 512 * 1024 });
  const flows = [
    { id: 'f1', type: 'tab', label: 'console' },
    { id: DEVICE_ID, type: 'oob-device', name: 'office-pc', host: '127.0.0.1', amtPort: String(pc.port), redirPort: String(pc.redirectionPort), amtTls: false },
    { id: CLIENT_ID, type: 'oob-device', name: 'reception-pc', host: 'localhost', amtPort: String(ccm.port), redirPort: String(ccm.redirectionPort), amtTls: false },
    { id: WRONG_ID, type: 'oob-device', name: 'wrong-password', host: '127.0.0.1', amtPort: String(pc.port), redirPort: String(pc.redirectionPort), amtTls: false },
    // A boot from the ISO, armed for the next boot (the PC is restarted by the next node), and a stop.
    { id: 'arm-iso', z: 'f1', type: 'inject', props: [{ p: 'payload' }], payload: 'go', payloadType: 'str', wires: [['boot-iso']] },
    { id: 'stop-iso', z: 'f1', type: 'inject', props: [{ p: 'payload' }], payload: 'stop', payloadType: 'str', wires: [['boot-iso']] },
    { id: 'boot-iso', z: 'f1', type: 'oob-boot-from-media', device: DEVICE_ID, target: 'ide-r-cd', imageDir: images, image: 'rescue.iso', power: 'none', timeout: 60, wires: [[]] },
    // A reset: AMT refuses a power cycle while a KVM or IDE-R session is open; a reset passes through off too.
    { id: 'press-reset', z: 'f1', type: 'inject', props: [{ p: 'payload' }], payload: 'reset', payloadType: 'str', wires: [['power']] },
    { id: 'power', z: 'f1', type: 'oob-power-state', device: DEVICE_ID, action: 'status', wires: [[]] },
  ];
  const file = path.join(dir, 'flows.json');
  fs.writeFileSync(file, JSON.stringify({ flows, credentials: { [DEVICE_ID]: { username: USER, password: PASSWORD }, [WRONG_ID]: { username: USER, password: 'not-the-password' }, [CLIENT_ID]: { username: USER, password: PASSWORD } } }));
  const bcrypt = require('bcryptjs');
  const adminAuth = {
    type: 'credentials',
    users: [
      { username: 'root', password: bcrypt.hashSync('root-pass', 4), permissions: '*' },
      { username: 'watcher', password: bcrypt.hashSync('watcher-pass', 4), permissions: 'read' },
    ],
  };
  red = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'node-red-child.js')], {
    env: { ...process.env, FLOWS_FILE: file, HTTP_ADMIN_ROOT: ROOT, ADMIN_AUTH: JSON.stringify(adminAuth) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Node-RED not ready in 60 s: ${out}`)), 60000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    red.stdout!.on('data', onData);
    red.stderr!.on('data', onData);
    red.stderr!.on('data', (d: Buffer) => fs.appendFileSync('/tmp/console-red.log', d));
    red.stdout!.on('data', (d: Buffer) => fs.appendFileSync('/tmp/console-red.log', d));
    red.once('exit', (code) => reject(new Error(`Node-RED exited (${code}): ${out}`)));
  });
  base = `http://127.0.0.1:${port}${ROOT}`;
  adminToken = await token('root', 'root-pass', '*');
  readerToken = await token('watcher', 'watcher-pass', 'read');
  chromium = await launchChromium({ width: 1000, height: 700 });
}, 120000);

afterEach(async () => {
  // A failed test leaves no page (and no console session) behind for the next one.
  for (const p of chromium?.context.pages() ?? []) await p.close();
});

afterAll(async () => {
  await chromium?.close();
  if (red && red.exitCode === null) {
    red.kill('SIGTERM');
    await new Promise((r) => red.once('exit', r));
  }
  await pc?.close();
  await ccm?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function wsStatus(kind: string, accessToken?: string): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}oob-console/${DEVICE_ID}/${kind}${accessToken ? `?access_token=${encodeURIComponent(accessToken)}` : ''}`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('error', () => undefined);
  });
}

async function statusOf(page: Page): Promise<{ state: string; text: string }> {
  return page.evaluate(() => {
    const s = document.getElementById('status')!;
    return { state: s.dataset.state ?? '', text: s.textContent ?? '' };
  });
}

/** Mean colour of a rectangle of noVNC's canvas (its own pixels, whatever the page's scaling). */
function canvasMean(page: Page, x: number, y: number, w: number, h: number): Promise<number[]> {
  return page.evaluate(
    ([x, y, w, h]) => {
      const c = document.querySelector('#kvm canvas') as HTMLCanvasElement | null;
      if (!c || c.width < 640) return [-1, -1, -1];
      const d = c.getContext('2d')!.getImageData(x, y, w, h).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
      return sum.map((s) => Math.round(s / (w * h)));
    },
    [x, y, w, h],
  );
}

const isBlue = ([r, g, b]: number[]) => b > 120 && r < 60 && g < 60;
const isBright = ([r, g, b]: number[]) => r > 150 && g > 150 && b > 150;

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

test('a read-only user and a visitor without a token get no console', async () => {
  expect(await wsStatus('kvm')).toBe(401);
  expect(await wsStatus('kvm', readerToken)).toBe(401);
  expect(await wsStatus('sol', readerToken)).toBe(401);
  expect((await fetch(`${base}oob-console/${DEVICE_ID}/info?access_token=${encodeURIComponent(readerToken)}`)).status).toBe(401);
  const page = await chromium.context.newPage();
  await page.goto(`${base}oob-console/${DEVICE_ID}?access_token=${encodeURIComponent(readerToken)}`);
  const s = await until('status', () => statusOf(page), (v) => v.state === 'unauthorized');
  expect(s.text).toMatch(/not authorized/);
  expect(await page.locator('#kvm canvas').count()).toBe(0);
  await page.close();
  expect(kvmState(pc).enabledState).toBe(3);
});

test('the admin sees the screen, boots into BIOS setup, moves with the keys; closing the browser turns KVM off again', async () => {
  const page = await chromium.context.newPage();
  await page.goto(`${base}oob-console/${DEVICE_ID}?access_token=${encodeURIComponent(adminToken)}`);
  await until('status', () => statusOf(page), (v) => v.state === 'live');
  expect(await page.title()).toMatch(/office-pc/);
  // The OS screen: grey text on black at the top, black below.
  await until('OS text', () => canvasMean(page, 0, 0, 320, ROW), (c) => c[0] > 8);
  expect(Math.max(...(await canvasMean(page, 0, 400 - 4 * ROW, 640, 4 * ROW)))).toBeLessThan(6);
  expect(kvmState(pc).enabledState).toBe(2);
  // No encoding 16 reached the PC (AMT answers it with Intel's own RLE, not ZRLE): noVNC, seeing
  // AMT's server name, asks for 8-bit colour and no ZRLE, and the gateway would drop it anyway.
  expect(kvmSessionOf(pc)!.encodings).toContain(0);
  expect(kvmSessionOf(pc)!.encodings).not.toContain(16);
  // A second viewer is refused while this one is open.
  const second = await chromium.context.newPage();
  await second.goto(`${base}oob-console/${DEVICE_ID}?access_token=${encodeURIComponent(adminToken)}`);
  const refused = await until('second viewer', () => statusOf(second), (v) => v.state === 'error');
  expect(refused.text).toMatch(/already has an open KVM console/);
  await second.close();

  bootState(pc).settings.BIOSSetup = true;
  bootState(pc).role = 1;
  pc.reset('test');
  await until('BIOS setup', () => canvasMean(page, 0, 20 * ROW, 640, ROW), isBlue);
  expect(isBright(await canvasMean(page, 200, 3 * ROW + 2, 200, ROW - 4))).toBe(true);
  await page.locator('#kvm canvas').click();
  await page.keyboard.press('ArrowDown');
  await until('cursor on line 4', () => canvasMean(page, 200, 4 * ROW + 2, 200, ROW - 4), isBright);
  expect(isBlue(await canvasMean(page, 200, 3 * ROW + 2, 200, ROW - 4))).toBe(true);
  await page.keyboard.press('Enter');
  await until('value changed', async () => simScreen(pc).setupValue('Intel AMT'), (v) => v === 'Disabled');
  fs.mkdirSync(path.join(__dirname, '..', '..', 'test-output'), { recursive: true });
  await page.screenshot({ path: path.join(__dirname, '..', '..', 'test-output', 'console-kvm.png') });

  // Ctrl-Alt-Del from the toolbar restarts the PC: it boots normally, to the OS screen.
  const boots = pc.listenerCount('boot');
  expect(boots).toBeGreaterThan(0);
  const restarted = new Promise((r) => pc.once('boot', r));
  await page.locator('#cad').click();
  await restarted;
  await until('OS screen after the restart', () => canvasMean(page, 0, 20 * ROW, 640, ROW), (c) => Math.max(...c) < 6);

  await page.close();
  await until('KVM off again', async () => kvmState(pc).enabledState, (v) => v === 3);
});

test('the serial console shows the BIOS text and takes keys', async () => {
  bootState(pc).settings.BIOSSetup = true;
  bootState(pc).role = 1;
  pc.reset('test');
  const page = await chromium.context.newPage();
  await page.goto(`${base}oob-console/${DEVICE_ID}?access_token=${encodeURIComponent(adminToken)}#sol`);
  await until('status', () => statusOf(page), (v) => v.state === 'live');
  const text = () => page.evaluate(() => document.querySelector('#sol .xterm-rows')?.textContent ?? '');
  await until('BIOS text', text, (t) => /BIOS Setup Utility/.test(t));
  await page.locator('#sol .xterm').click();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await until('cursor', text, (t) => /> Virtualization/.test(t));
  await page.close();
});

test('text pasted into the serial console arrives at the PC as typed lines, Enter as CR, and echoes back; the Paste button sends at most 4096 characters', async () => {
  pc.reset('test');
  await until('OS running', async () => pc.power.os, (v) => v === 'running');
  await chromium.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(base).origin });
  const page = await chromium.context.newPage();
  await page.goto(`${base}oob-console/${DEVICE_ID}?access_token=${encodeURIComponent(adminToken)}#sol`);
  await until('status', () => statusOf(page), (v) => v.state === 'live');
  const lines = () => page.evaluate(() => Array.from(document.querySelectorAll('#sol .xterm-rows > div'), (r) => (r.textContent ?? '').trimEnd()).filter(Boolean));
  await until('login prompt', lines, (l) => l.at(-1) === 'office-pc login:');
  await until('session', async () => solSessionOf(pc) !== undefined, (v) => v);
  const sol = solSessionOf(pc)!;
  // A paste into the terminal, as Ctrl+Shift+V or the browser's menu delivers it: Windows and Unix
  // line ends, and an escape sequence (which must not reach the PC as a key press).
  await page.evaluate((t) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', t);
    document.querySelector('#sol textarea')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, 'root\r\necho\x1b[A pasted\n');
  const echoed = await until('pasted lines echoed', lines, (l) => l.slice(-3).join('|') === 'office-pc login: root|office-pc login: echo[A pasted|office-pc login:');
  expect(echoed.filter((l) => l === 'office-pc login:')).toHaveLength(1);
  expect(sol.input).toBe('root\recho[A pasted\r');
  expect((await statusOf(page)).text).toMatch(/pasted 19 characters/);

  // The Paste button reads the clipboard; a long text is cut to 4096 characters.
  const long = `from the clipboard\n${'z'.repeat(5000)}`;
  await page.evaluate((t) => navigator.clipboard.writeText(t), long);
  const before = sol.received;
  await page.locator('#paste').click();
  await until('bytes at the PC', async () => sol.received - before, (n) => n === 4096);
  await until('clipboard text echoed', lines, (l) => l.includes('office-pc login: from the clipboard'));
  expect(sol.input.endsWith(`from the clipboard\r${'z'.repeat(4096 - 19)}`)).toBe(true);
  expect((await statusOf(page)).text).toMatch(/pasted 4096 characters of 5019 \(at most 4096 at a time\)/);
  await page.close();
});

test('a wrong password shows a clear error in the status line and leaves KVM off', async () => {
  const page = await chromium.context.newPage();
  await page.goto(`${base}oob-console/${WRONG_ID}?access_token=${encodeURIComponent(adminToken)}`);
  const s = await until('status', () => statusOf(page), (v) => v.state === 'error');
  expect(s.text).toMatch(/KVM: .*(401|rejected|auth)/i);
  await page.close();
  expect(kvmState(pc).enabledState).toBe(3);
});

test('a PC that drops the session: the page says the session ended, KVM is turned off again', async () => {
  const page = await chromium.context.newPage();
  await page.goto(`${base}oob-console/${DEVICE_ID}?access_token=${encodeURIComponent(adminToken)}`);
  await until('status', () => statusOf(page), (v) => v.state === 'live');
  await until('session', async () => kvmSessionOf(pc) !== undefined, (v) => v);
  kvmSessionOf(pc)!.drop();
  const s = await until('status', () => statusOf(page), (v) => v.state === 'closed');
  expect(s.text).toMatch(/ended the KVM session/);
  await until('KVM off again', async () => kvmState(pc).enabledState, (v) => v === 3);
  await page.close();
});

test('client control mode: the page asks for the code the PC shows, then the screen is live', async () => {
  const page = await chromium.context.newPage();
  await page.goto(`${base}oob-console/${CLIENT_ID}?access_token=${encodeURIComponent(adminToken)}`);
  await until('status', () => statusOf(page), (v) => v.state === 'consent');
  // The PC paints the code on its own screen.
  expect(simScreen(ccm).image().rows.map((r) => r.text).join('\n')).toContain(`User consent code: ${consentState(ccm).code}`);
  await page.fill('#consent-code', '000000' === consentState(ccm).code ? '111111' : '000000');
  await page.click('#consent-send');
  await until('a second try after a wrong code', () => statusOf(page), (v) => v.state === 'consent' && /code 2 of 3/.test(v.text));
  await page.fill('#consent-code', consentState(ccm).code!);
  await page.click('#consent-send');
  await until('status', () => statusOf(page), (v) => v.state === 'live');
  await until('OS text', () => canvasMean(page, 0, 0, 320, ROW), (c) => c[0] > 8);
  await page.close();
});

/** Presses an inject node's button, as the editor does. */
async function inject(id: string): Promise<void> {
  const r = await fetch(`${base}inject/${id}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
  if (r.status !== 200) throw new Error(`inject ${id}: ${r.status} ${await r.text()}`);
}

/**
 * How many pixels of a text row of noVNC's canvas differ from `text` drawn in the PC's font (lit
 * where a glyph has a dot, dark elsewhere), over the columns the text covers.
 */
async function rowMismatch(page: Page, row: number, text: string): Promise<number> {
  const width = text.length * 8;
  const want = drawScreen({ signal: true, kind: 'post', rows: [{ text, inverse: false }], foreground: [255, 255, 255], background: [0, 0, 0] })[0].rgb;
  const lit = await page.evaluate(
    ([y, w]) => {
      const c = document.querySelector('#kvm canvas') as HTMLCanvasElement | null;
      if (!c || c.width < 640) return '';
      const d = c.getContext('2d')!.getImageData(0, y, w, 16).data;
      let s = '';
      for (let i = 0; i < d.length; i += 4) s += Math.max(d[i], d[i + 1], d[i + 2]) > 48 ? '1' : '0';
      return s;
    },
    [row * ROW, width],
  );
  if (!lit) return width * ROW;
  let wrong = 0;
  for (let y = 0; y < ROW; y++) for (let x = 0; x < width; x++) if ((want[(y * 640 + x) * 3] > 0 ? '1' : '0') !== lit[y * width + x]) wrong++;
  return wrong;
}

test('restarted with an ISO armed over IDE-R, the screen goes from no signal through POST to "booted from media: <volume id>"', async () => {
  const options = firmwareState(pc).options;
  const saved = { delay: options.commandDelayMs, dwell: pc.power.timings.offDwellMs };
  // A slow drive and a visible off step, so the page can be watched at each stage.
  options.commandDelayMs = 150;
  pc.power.timings.offDwellMs = 1000;
  try {
    const page = await chromium.context.newPage();
    await page.goto(`${base}oob-console/${DEVICE_ID}?access_token=${encodeURIComponent(adminToken)}`);
    await until('status', () => statusOf(page), (v) => v.state === 'live');
    await inject('arm-iso');
    await until('IDE-R session waiting for the boot', async () => pc.iderSession !== undefined, (v) => v);
    await inject('press-reset');
    await until('no signal while off', () => rowMismatch(page, 12, `${' '.repeat(35)}No signal`), (n) => n === 0);
    await until('POST', () => rowMismatch(page, 0, 'Simulated PC BIOS 2.1 - OOBKit oob-sim'), (n) => n === 0);
    await until('loading the boot image', () => rowMismatch(page, 5, 'Booting from CD-ROM (Intel(R) AMT IDE-R)...'), (n) => n === 0);
    expect(lastBoot(pc)).toMatchObject({ target: 'ide-r-cd', done: false });
    await until('booted from the ISO', () => rowMismatch(page, 5, `booted from media: ${VOLUME_ID}`.padEnd(40)), (n) => n === 0, 20000);
    expect(lastBoot(pc)).toMatchObject({ target: 'ide-r-cd', status: `booted from media: ${VOLUME_ID}`, volumeId: VOLUME_ID });
    await until('the OS from the ISO', () => rowMismatch(page, 7, 'office-pc login: '), (n) => n === 0);
    // The check can fail: the volume id of another medium is not what the page shows.
    expect(await rowMismatch(page, 5, 'booted from media: RESCUE_E2F')).toBeGreaterThan(0);
    fs.mkdirSync(path.join(__dirname, '..', '..', 'test-output'), { recursive: true });
    await page.screenshot({ path: path.join(__dirname, '..', '..', 'test-output', 'console-ider-boot.png') });
    await inject('stop-iso');
    await until('IDE-R session closed', async () => pc.iderSession === undefined, (v) => v);
    await page.close();
  } finally {
    options.commandDelayMs = saved.delay;
    pc.power.timings.offDwellMs = saved.dwell;
  }
}, 60000);
