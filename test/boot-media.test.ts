/**
 * Boot from media against simulated PCs, with images built by xorriso: IDE-R CD and floppy over
 * the redirection port (plain and pinned TLS), PXE, UEFI HTTPS, BIOS setup, and every bad input
 * of the issue: missing image, image outside the directory (also through a link), device without
 * IDE-R or HTTPS boot, a device that drops the session mid-transfer, a slow device, a corrupted
 * image. Each failure leaves the boot settings and the redirection service as they were.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastOwnAction } from '../lib/activity';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import { bootFromMedia, MediaBootOptions } from '../lib/amt/boot-media';
import { openRedirection } from '../lib/amt/redirection/connection';
import { IderSession } from '../lib/amt/redirection/ider-session';
import { ImageMedium } from '../lib/amt/redirection/medium';
import { bootState, firmwareState, Fleet, lastBoot, redirectionState, setBootCapabilities, SimDevice, startFleet } from '../packages/sim/src';
import { bootFileOffset, buildFloppy, buildIso, corruptAt } from './helpers/iso';

const USER = 'admin';
const PASSWORD = 'Boot-P@ss1';
let dir: string;
let images: string;
let fleet: Fleet;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oob-boot-'));
  images = join(dir, 'images');
  require('node:fs').mkdirSync(images);
  buildIso(images, { volumeId: 'RESCUE_2026', payloadBytes: 3 * 1024 * 1024 });
  const bad = buildIso(images, { volumeId: 'BROKEN', name: 'broken.iso' });
  corruptAt(bad, bootFileOffset(bad) + 4096);
  buildFloppy(images, 'FLOPRESCUE');
  writeFileSync(join(dir, 'secret.iso'), 'outside');
  symlinkSync(join(dir, 'secret.iso'), join(images, 'link.iso'));
  fleet = await startFleet({ devices: 8, port: 0, user: USER, password: PASSWORD, power: 'off', timings: { bootTimeMs: 20 } });
});

afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(d: SimDevice, o: Partial<MediaBootOptions>) {
  const lease = acquireAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
  const boot = bootFromMedia(lease.client, '127.0.0.1', {
    target: 'ide-r-cd',
    imageDirectory: images,
    image: 'rescue.iso',
    redirection: { host: '127.0.0.1', port: d.redirectionPort, username: USER, password: PASSWORD },
    heartbeatMs: 200,
    timeoutMs: 10_000,
    ...o,
  });
  void boot.final.finally(() => lease.release());
  return boot;
}

const firmwareDone = (d: SimDevice) => new Promise<string>((resolve) => d.once('firmware', (r: { status: string }) => resolve(r.status)));

/** The boot settings (values as text, OptionsCleared aside), forced source, role and redirection state. */
function pristine(d: SimDevice) {
  const settings = Object.fromEntries(Object.entries(bootState(d).settings).filter(([k]) => k !== 'OptionsCleared').map(([k, v]) => [k, String(v)]));
  return { settings, role: bootState(d).role, source: bootState(d).source, redirection: { ...redirectionState(d) } };
}

describe('IDE-R CD boot', () => {
  it('powers an off PC on, serves the ISO, the BIOS boots it, and the redirection service is put back', async () => {
    const d = fleet.devices[0];
    Object.assign(redirectionState(d), { enabledState: 32768, listenerEnabled: false });
    const booted = firmwareDone(d);
    const boot = run(d, {});
    const outcome = await boot.outcome;
    expect(outcome).toMatchObject({ target: 'ide-r-cd', result: 'booted', power: 'on', image: 'rescue.iso', label: 'RESCUE_2026' });
    expect(outcome.bytesServed).toBeGreaterThanOrEqual(24 * 1024);
    expect(await booted).toBe('booted from media: RESCUE_2026');
    // What the BIOS sent; INQUIRY among them was answered by the device, not by our console (see below).
    expect(lastBoot(d)?.commands).toEqual(expect.arrayContaining(['TEST UNIT READY', 'INQUIRY', 'READ CAPACITY', 'READ(10)']));
    expect(d.osState).toBe('running');
    // While the session is open IDE-R is enabled; after stop() the device is as it was.
    expect(redirectionState(d)).toEqual({ enabledState: 32769, listenerEnabled: true });
    const final = await boot.stop();
    expect(final.end).toBe('stopped');
    expect(redirectionState(d)).toEqual({ enabledState: 32768, listenerEnabled: false });
    expect(bootState(d).role).toBe(32768); // the one-time boot was consumed
  });

  it('resets a running PC and, with loadWholeMedium, serves every block once', async () => {
    const d = fleet.devices[1];
    d.powerOn('test');
    firmwareState(d).options.loadWholeMedium = true;
    const booted = firmwareDone(d);
    const boot = run(d, { stopAfterBoot: false });
    expect((await boot.outcome).power).toBe('reset');
    expect(await booted).toBe('booted from media: RESCUE_2026');
    // As on the wire to a real AMT: one command at a time, every DATA_TO_HOST but a command's last
    // one at the full 8 KiB read buffer the device reported, and the whole image once from the file.
    const wire = d.iderSession!.stats;
    expect(wire.shortDataMessages).toBe(0);
    expect(wire.dataMessages).toBeGreaterThanOrEqual(Math.ceil(wire.dataBytes / 8192));
    expect(wire.dataMessages).toBeLessThanOrEqual(Math.ceil(wire.dataBytes / 8192) + wire.commands);
    expect(boot.session!.medium.fileBytesRead).toBeLessThan(boot.session!.bytesServed);
    const final = await boot.stop();
    expect(final.bytesServed).toBeGreaterThan(3 * 1024 * 1024);
    expect(boot.session?.snapshot().fraction).toBe(1);
  });

  it('boots over TLS on the redirection port with the pinned certificate, and refuses another certificate', async () => {
    const tlsFleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, tls: true, power: 'off', seed: 'tls-boot' });
    try {
      const d = tlsFleet.devices[0];
      const fp = d.tls!.fingerprint256;
      const lease = acquireAmt({ host: '127.0.0.1', port: d.port, tls: true, fingerprint: fp, username: USER, password: PASSWORD });
      const redirection = { host: '127.0.0.1', port: d.redirectionPort, tls: true, fingerprint: fp, username: USER, password: PASSWORD };
      const booted = firmwareDone(d);
      const boot = bootFromMedia(lease.client, '127.0.0.1', { target: 'ide-r-cd', imageDirectory: images, image: 'rescue.iso', redirection, stopAfterBoot: true });
      expect((await boot.outcome).result).toBe('booted');
      expect(await booted).toBe('booted from media: RESCUE_2026');
      await boot.final;
      await expect(openRedirection({ ...redirection, fingerprint: 'AB:'.repeat(31) + 'AB' })).rejects.toThrow(/certificate .* changed/);
      lease.release();
    } finally {
      closeAllAmt();
      await tlsFleet.stop();
    }
  });

  it('rejects a wrong password on the redirection port', async () => {
    const d = fleet.devices[2];
    await expect(openRedirection({ host: '127.0.0.1', port: d.redirectionPort, username: USER, password: 'wrong' })).rejects.toThrow(/rejected the username or password on the redirection port/);
  });
});

describe('IDE-R floppy, PXE, HTTPS and BIOS setup', () => {
  it('boots the floppy image', async () => {
    const d = fleet.devices[3];
    const booted = firmwareDone(d);
    const boot = run(d, { target: 'ide-r-floppy', image: 'rescue.img', stopAfterBoot: true });
    expect(await boot.outcome).toMatchObject({ result: 'booted', label: 'FLOPRESCUE' });
    expect(await booted).toBe('booted from media: FLOPRESCUE');
    expect((await boot.final).end).toBe('stopped');
  });

  it.each([
    ['pxe', {}, 'PXE boot'],
    ['bios', {}, 'BIOS setup'],
    ['normal', {}, 'booted from disk'],
  ])('%s: arms the boot, powers on, and the BIOS does it', async (target, extra, status) => {
    const d = fleet.devices[4];
    d.powerOff('test');
    const booted = firmwareDone(d);
    const outcome = await run(d, { target, ...extra }).outcome;
    expect(outcome).toMatchObject({ target, result: 'requested', power: 'on' });
    // Recorded as our own action, so alerts caused by this boot can be suppressed.
    expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'boot', action: target });
    expect(await booted).toBe(status);
  });

  it('UEFI HTTPS boot: refused on AMT 15, done on AMT 16 with the URL in the boot parameters', async () => {
    const d = fleet.devices[4];
    await expect(run(d, { target: 'https', https: { url: 'https://boot.example/rescue.efi' } }).outcome).rejects.toThrow(/cannot do a UEFI HTTPS boot \(it needs AMT 16/);
    const amt16 = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, firmware: { version: '16.1.25' }, seed: 'amt16' });
    try {
      const d16 = amt16.devices[0];
      const booted = firmwareDone(d16);
      const outcome = await run(d16, { target: 'https', https: { url: 'https://boot.example/rescue.efi' } }).outcome;
      expect(outcome).toMatchObject({ result: 'requested', power: 'reset' });
      expect(await booted).toBe('UEFI HTTPS boot from https://boot.example/rescue.efi');
      await expect(run(d16, { target: 'https', https: { url: 'http://boot.example/x' } }).outcome).rejects.toThrow(/must start with https:/);
    } finally {
      closeAllAmt();
      await amt16.stop();
    }
  });
});

describe('bad input: clear errors, nothing changed on the device', () => {
  it.each([
    ['a missing image', { image: 'nope.iso' }, /image "nope.iso" not found in the image directory/],
    ['an image outside the directory', { image: '../secret.iso' }, /image "..\/secret.iso" is outside the image directory/],
    ['an absolute path outside the directory', { image: '/etc/passwd' }, /is outside the image directory/],
    ['a link leading out of the directory', { image: 'link.iso' }, /a link leads out of it/],
    ['no image directory', { imageDirectory: '' }, /no image directory is set/],
    ['a corrupted image', { image: 'broken.iso' }, /image "broken.iso" is not bootable: boot file checksum/],
    ['a floppy image served as a CD', { image: 'rescue.img' }, /not an ISO 9660 image/],
    ['an unknown target', { target: 'tape' }, /unknown boot target "tape"/],
  ])('%s', async (_what, o, message) => {
    const d = fleet.devices[5];
    const before = pristine(d);
    await expect(run(d, o).outcome).rejects.toThrow(message);
    expect(pristine(d)).toEqual(before);
  });

  it('a device without IDE-R', async () => {
    const d = fleet.devices[5];
    setBootCapabilities(d, { IDER: false });
    const before = pristine(d);
    await expect(run(d, {}).outcome).rejects.toThrow(/cannot boot from an IDE-R drive: it has no IDE redirection/);
    expect(pristine(d)).toEqual(before);
    setBootCapabilities(d, { IDER: true });
  });

  it('a device that drops the redirection session mid-transfer', async () => {
    const d = fleet.devices[6];
    d.powerOff('test');
    firmwareState(d).options.readBlocks = 4;
    const before = pristine(d);
    // The device goes away after 20 kB, in the middle of reading the 24 kB boot file.
    d.redirection.dropAfterBytes = 20_000;
    const boot = run(d, {});
    await expect(boot.outcome).rejects.toThrow(/127\.0\.0\.1:\d+ closed the IDE-R session before loading the boot image \(after 0\.0 MB, \d+% of the image\)/);
    expect(lastBoot(d)?.status).toMatch(/^boot failed: /);
    expect(pristine(d)).toEqual(before);
    d.redirection.dropAfterBytes = undefined;
  });

  it('a slow device that does not load its boot image within the timeout', async () => {
    const d = fleet.devices[7];
    firmwareState(d).options.commandDelayMs = 400;
    const before = pristine(d);
    const boot = run(d, { timeoutMs: 1500 });
    await expect(boot.outcome).rejects.toThrow(/did not load the boot image within 2 s \(after 0\.0 MB/);
    expect(pristine(d)).toEqual(before);
    firmwareState(d).options.commandDelayMs = 0;
  });
});

describe('keep-alives', () => {
  it('sends no pings: the device heartbeats keep the session alive; gives up on one that goes silent', async () => {
    const d = fleet.devices[2];
    const medium = await ImageMedium.open(join(images, 'rescue.iso'), 'cd');
    const channel = await openRedirection({ host: '127.0.0.1', port: d.redirectionPort, username: USER, password: PASSWORD });
    const session = await IderSession.open(channel, { medium, heartbeatMs: 100, silenceMs: 600 });
    // The device's heartbeats keep it alive well past the silence limit.
    await new Promise((r) => setTimeout(r, 900));
    expect(channel.isClosed).toBe(false);
    d.iderSession?.hang();
    const end = await session.ended;
    expect(end.reason).toBe('error');
    expect(end.reason === 'error' && end.error.message).toMatch(/sent nothing on the IDE-R session for 1 s/);
  });
});

describe('the simulated BIOS', () => {
  it('has INQUIRY answered by the device itself: the console never sees one', async () => {
    const d = (await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'inquiry' })).devices[0];
    try {
      const medium = await ImageMedium.open(join(images, 'rescue.iso'), 'cd');
      const channel = await openRedirection({ host: '127.0.0.1', port: d.redirectionPort, username: USER, password: PASSWORD });
      const session = await IderSession.open(channel, { medium });
      const ops: number[] = [];
      session.on('command', (c: { op: number }) => ops.push(c.op));
      Object.assign(bootState(d), { role: 1 });
      bootState(d).settings = { ...bootState(d).settings, UseIDER: 'true', IDERBootDevice: '1' };
      const status = firmwareDone(d);
      d.reset('test');
      expect(await status).toBe('booted from media: RESCUE_2026');
      expect(lastBoot(d)?.commands).toContain('INQUIRY');
      expect(ops).toContain(0x28);
      expect(ops).not.toContain(0x12);
      await session.stop();
    } finally {
      await d.close();
    }
  });

  it('refuses a corrupted boot file served as is, and falls back to the disk', async () => {
    const d = (await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'corrupt' })).devices[0];
    try {
      const medium = await ImageMedium.open(join(images, 'broken.iso'), 'cd');
      const channel = await openRedirection({ host: '127.0.0.1', port: d.redirectionPort, username: USER, password: PASSWORD });
      const session = await IderSession.open(channel, { medium });
      Object.assign(bootState(d), { role: 1 });
      bootState(d).settings = { ...bootState(d).settings, UseIDER: 'true', IDERBootDevice: '1' };
      const status = firmwareDone(d);
      d.reset('test');
      expect(await status).toMatch(/^boot failed: not bootable: boot file checksum is 0x[0-9a-f]+, its boot information table says 0x[0-9a-f]+ \(corrupted image\?\)$/);
      await new Promise((r) => setTimeout(r, 50));
      expect(d.osState).toBe('running');
      await session.stop();
    } finally {
      await d.close();
    }
  });

  it('without an IDE-R session, records the failure and boots from disk', async () => {
    const d = fleet.devices[2];
    d.powerOn('test');
    Object.assign(bootState(d), { role: 1 });
    bootState(d).settings = { ...bootState(d).settings, UseIDER: 'true', IDERBootDevice: '1' };
    const status = firmwareDone(d);
    d.reset('test');
    expect(await status).toBe('boot failed: no IDE-R session has a drive attached (no bootable media)');
  });
});
