/**
 * MeshCommander's KVM viewer (amt-redir-ws-0.1.0.js and amt-desktop-0.0.2.js from the `meshcentral`
 * package, unmodified), which people point at real AMT every day, against the simulated PC. It asks
 * for Intel's run-length tiles (encoding 16), as it does of real firmware, and the simulated firmware
 * answers with them: what it draws is the PC's screen pixel for pixel (the OS, BIOS setup and the
 * cursor after a key it sends, "No signal"), in a fraction of the bytes of raw pixels.
 *
 * noVNC's own ZRLE decoder, given the same encoding-16 tiles, fails (they are not ZRLE: a raw deflate
 * stream of stored blocks, no zlib header), while it reads the same tile wrapped as ZRLE: why the
 * gateway keeps encoding 16 away from the PC for standard viewers (lib/amt/rfb-encodings.ts;
 * test/console-kvm.test.ts shows vncsnapshot asking for ZRLE with and without it).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { bootState, drawScreen, intelRleRectData, intelRleTileBody, kvmSessionOf, kvmState, KVM_HEIGHT, KVM_WIDTH, redirectionState, RLE_TILE, SimDevice, simScreen } from '../../packages/sim/src';
import { MeshCommanderDesktop, startMeshCommanderDesktop } from '../helpers/meshcommander';

const USER = 'admin';
const PASSWORD = 'Mesh-Kvm-P@ss1';
let d: SimDevice;
let viewer: MeshCommanderDesktop | undefined;

beforeAll(async () => {
  d = new SimDevice({ name: 'mesh-kvm-pc', uuid: '4c4c4544-0000-1000-8000-00000000d0d0', mac: '00:16:3e:00:d0:d0', user: USER, password: PASSWORD });
  await d.listen(0);
  await d.listenRedirection(0);
  // KVM enabled and waiting for a viewer, as MeshCommander expects to find it.
  kvmState(d).enabledState = 6;
  redirectionState(d).listenerEnabled = true;
});

afterEach(async () => {
  viewer?.stop();
  viewer = undefined;
  for (let i = 0; i < 200 && kvmSessionOf(d); i++) await new Promise((r) => setTimeout(r, 25));
});

afterAll(async () => {
  await d.close();
});

async function until<T>(what: string, fn: () => T, ok: (v: T) => boolean, ms = 10000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = fn();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
    v = fn();
  }
  return v;
}

/** Pixels of MeshCommander's canvas that differ from the PC's picture as RGB565 carries it. */
function mismatches(v: MeshCommanderDesktop): number {
  const { width, height, rgba } = v.screen;
  if (width !== KVM_WIDTH || height !== KVM_HEIGHT) return KVM_WIDTH * KVM_HEIGHT;
  const rows = drawScreen(simScreen(d).image());
  // RGB565: 5, 6 and 5 bits, shown by MeshCommander with the low bits zero.
  const q = (c: number, bits: number) => Math.round((c * ((1 << bits) - 1)) / 255) << (8 - bits);
  let wrong = 0;
  for (let y = 0; y < height; y++) {
    const row = rows[Math.floor(y / 16)].rgb;
    for (let x = 0; x < width; x++) {
      const at = ((y % 16) * width + x) * 3;
      const px = (y * width + x) * 4;
      if (rgba[px] !== q(row[at], 5) || rgba[px + 1] !== q(row[at + 1], 6) || rgba[px + 2] !== q(row[at + 2], 5)) wrong++;
    }
  }
  return wrong;
}

function open(): MeshCommanderDesktop {
  viewer = startMeshCommanderDesktop({ host: '127.0.0.1', port: d.redirectionPort, user: USER, pass: PASSWORD });
  return viewer;
}

test('MeshCommander asks for Intel RLE, gets it, and draws the OS screen exactly, in a fraction of the raw bytes', async () => {
  const v = open();
  await until('connected', () => v.redir.State, (s) => s === 3);
  await until('the OS screen on its canvas', () => mismatches(v), (n) => n === 0);
  const s = kvmSessionOf(d)!;
  // MeshCommander's own SetEncodings: Intel RLE, Raw, its in-band KVM data (1092), DesktopSize.
  expect(s.encodings).toEqual([16, 0, 1092, -223]);
  expect(s.rects.intelRle).toBeGreaterThanOrEqual(250);
  expect(s.rects.raw).toBe(0);
  expect(s.rects.copyRect).toBe(0);
  // The whole 640x400 screen in 16-bit pixels is 512000 bytes raw.
  expect(v.bytesIn()).toBeLessThan(KVM_WIDTH * KVM_HEIGHT * 2 * 0.15);
  // The check can fail: a changed screen no longer matches until MeshCommander has the update.
  expect(simScreen(d).image().kind).toBe('os');
});

test("BIOS setup in MeshCommander: blue, and the cursor moves with the key it sends", async () => {
  bootState(d).settings.BIOSSetup = true;
  bootState(d).role = 1;
  d.reset('test');
  const v = open();
  await until('BIOS setup on its canvas', () => (simScreen(d).image().kind === 'setup' ? mismatches(v) : -1), (n) => n === 0);
  expect(simScreen(d).setupCursor).toBe(0);
  v.desktop.sendkey([
    [0xff54, 1],
    [0xff54, 0],
  ]);
  await until('cursor on the second line', () => simScreen(d).setupCursor, (c) => c === 1);
  await until('the moved cursor on its canvas', () => mismatches(v), (n) => n === 0);
  // Leave setup for the next test: Esc boots the OS.
  v.desktop.sendkey([
    [0xff1b, 1],
    [0xff1b, 0],
  ]);
  await until('OS', () => simScreen(d).image().kind, (k) => k === 'os');
  await until('the OS screen on its canvas', () => mismatches(v), (n) => n === 0);
});

test('a PC that is turned off shows "No signal" in MeshCommander', async () => {
  const v = open();
  await until('connected', () => mismatches(v), (n) => n === 0);
  d.powerOff('test');
  await until('off', () => simScreen(d).image().signal, (s) => !s);
  await until('no signal on its canvas', () => mismatches(v), (n) => n === 0);
  // "No signal": grey text in the middle row of a black screen.
  const mid = v.screen.rgba.subarray(12 * 16 * KVM_WIDTH * 4, 13 * 16 * KVM_WIDTH * 4);
  expect(mid.some((c, i) => i % 4 === 0 && c > 64)).toBe(true);
  d.powerOn('test');
  await until('on', () => d.osState, (s) => s === 'running');
});

test("noVNC's ZRLE decoder fails on the PC's encoding-16 tiles and reads the same tile as ZRLE", () => {
  const row = drawScreen(simScreen(d).image())[0].rgb;
  // The first 64x16 tile of the top row, as 3-byte pixels (noVNC's ZRLE pixel for depth 24).
  const tile = Buffer.alloc(RLE_TILE * 16 * 3);
  for (let y = 0; y < 16; y++) Buffer.from(row.subarray(y * KVM_WIDTH * 3, (y * KVM_WIDTH + RLE_TILE) * 3)).copy(tile, y * RLE_TILE * 3);
  const novnc = (data: Buffer) =>
    JSON.parse(
      execFileSync(process.execPath, [path.join(__dirname, '..', 'helpers', 'novnc-zrle.mjs')], { input: JSON.stringify([{ x: 0, y: 0, width: RLE_TILE, height: 16, data: data.toString('hex') }]) }).toString(),
    ) as { ok: boolean; error?: string; drawn: number };
  const intel = novnc(intelRleRectData(tile, 3));
  expect(intel).toMatchObject({ ok: false, drawn: 0 });
  expect(intel.error).toMatch(/inflate/);
  const deflated = zlib.deflateSync(intelRleTileBody(tile, 3), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const length = Buffer.alloc(4);
  length.writeUInt32BE(deflated.length);
  expect(novnc(Buffer.concat([length, deflated]))).toEqual({ ok: true, drawn: 1 });
});

test('every form of tile the simulated firmware writes (raw, solid, packed palettes, runs, palette runs) reads back exactly in MeshCommander', async () => {
  const v = open();
  await until('connected and idle', () => mismatches(v), (n) => n === 0);
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const colours = (n: number) => Array.from({ length: n }, () => random(0x10000));
  /** A 64 x h tile of RGB565 values chosen by `pick(i)`. */
  const tile = (h: number, pick: (i: number) => number) => Array.from({ length: RLE_TILE * h }, (_, i) => pick(i));
  const c3 = colours(3);
  const c7 = colours(7);
  const c20 = colours(20);
  const c200 = colours(200);
  const halves = colours(2);
  const cases: Array<{ form: number | 'palette runs'; px: number[]; h: number }> = [
    { form: 1, h: 16, px: tile(16, () => 0x1234) },
    { form: 2, h: 16, px: tile(16, (i) => (i % 3 === 0 ? 0xf800 : 0x07e0)) },
    { form: 3, h: 16, px: tile(16, (i) => c3[(i * 7) % 3]) },
    { form: 7, h: 16, px: tile(16, (i) => c7[(i * 5) % 7]) },
    { form: 128, h: 16, px: tile(16, (i) => c20[Math.floor(i / 51)]) },
    // Palette runs: single pixels (top bit clear), then runs of three.
    { form: 'palette runs', h: 16, px: tile(16, (i) => c20[i % 20]) },
    { form: 'palette runs', h: 16, px: tile(16, (i) => c20[Math.floor(i / 3) % 20]) },
    { form: 128, h: 64, px: tile(64, (i) => c200[Math.floor(i / 20)]) },
    { form: 0, h: 64, px: tile(64, () => random(0x10000)) },
    // Two runs of 2048 pixels: run lengths of several bytes.
    { form: 128, h: 64, px: tile(64, (i) => halves[i < 2048 ? 0 : 1]) },
  ];
  const parts: Buffer[] = [];
  cases.forEach((c, k) => {
    const px = Buffer.alloc(c.px.length * 2);
    c.px.forEach((p, i) => px.writeUInt16LE(p, i * 2));
    const form = intelRleTileBody(px, 2)[0];
    if (c.form === 'palette runs') expect(form).toBeGreaterThan(129);
    else expect(form).toBe(c.form);
    const h = Buffer.alloc(12);
    h.writeUInt16BE(k * RLE_TILE, 0);
    h.writeUInt16BE(100, 2);
    h.writeUInt16BE(RLE_TILE, 4);
    h.writeUInt16BE(c.h, 6);
    h.writeInt32BE(16, 8);
    parts.push(h, intelRleRectData(px, 2));
  });
  const head = Buffer.from([0, 0, 0, cases.length]);
  const update = Buffer.concat([head, ...parts]);
  // As if the PC had sent it: MeshCommander's own parser and tile decoder.
  v.desktop.ProcessBinaryData(update.buffer.slice(update.byteOffset, update.byteOffset + update.length));
  const { rgba, width } = v.screen;
  cases.forEach((c, k) => {
    let wrong = 0;
    c.px.forEach((p, i) => {
      const at = ((100 + Math.floor(i / RLE_TILE)) * width + k * RLE_TILE + (i % RLE_TILE)) * 4;
      if (rgba[at] !== (p >> 11) << 3 || rgba[at + 1] !== ((p >> 5) & 63) << 2 || rgba[at + 2] !== (p & 31) << 3) wrong++;
    });
    expect({ tile: k, wrong }).toEqual({ tile: k, wrong: 0 });
  });
  // Node's zlib reads the same bytes as one raw deflate stream: the tiles, in order.
  const stream = Buffer.concat(parts.filter((_, i) => i % 2 === 1).map((p) => p.subarray(4)));
  const bodies = Buffer.concat(cases.map((c) => {
    const px = Buffer.alloc(c.px.length * 2);
    c.px.forEach((p, i) => px.writeUInt16LE(p, i * 2));
    return intelRleTileBody(px, 2);
  }));
  expect(zlib.inflateRawSync(stream, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(bodies)).toBe(true);
});
