/**
 * IDE-R benchmark (issue: boot from media): a simulated PC in another process boots a 64 MB ISO
 * (made by xorriso) over IDE-R and reads all of it, as a live system does; compared, in alternate
 * rounds of the same run, with a raw TCP stream of the same 64 MB from this process to that one
 * (the loopback link limit). Also: bytes on the wire and ATAPI round trips per MB served, and
 * how much of the image the read-ahead had to fetch from the file.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { bootFromMedia } from '../lib/amt/boot-media';
import { openAmt } from '../lib/amt/connect';
import type { Bench } from './types';

const USER = 'admin';
const PASSWORD = 'Bench-P@ss1';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** A bootable ISO by xorriso: a 24 kB boot file with a boot information table, and `payload` bytes of data. */
function buildIso(dir: string, payload: number): string {
  const tree = path.join(dir, 'tree');
  mkdirSync(path.join(tree, 'boot'), { recursive: true });
  writeFileSync(path.join(tree, 'boot', 'loader.bin'), createHash('sha512').update('loader').digest().toString('hex').repeat(192));
  const data = Buffer.alloc(payload);
  for (let at = 0, block = createHash('sha256').update('payload').digest(); at < payload; at += 32, block = createHash('sha256').update(block).digest()) block.copy(data, at);
  writeFileSync(path.join(tree, 'payload.bin'), data);
  const out = path.join(dir, 'bench.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'BENCH64', '-o', out, '-b', 'boot/loader.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', tree], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

interface DeviceProcess {
  child: ChildProcess;
  ready: { port: number; redirectionPort: number; sinkPort: number; pingpongPort: number };
  next(event: string): Promise<Record<string, any>>;
}

function startDevice(readBlocks: number): Promise<DeviceProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'boot-device.js')], {
    env: { ...process.env, BENCH_USER: USER, BENCH_PASSWORD: PASSWORD, BENCH_READ_BLOCKS: String(readBlocks) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const waiting: Array<{ event: string; resolve: (m: Record<string, any>) => void }> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as Record<string, any>;
    const i = waiting.findIndex((w) => w.event === m.event);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
  });
  const next = (event: string) => new Promise<Record<string, any>>((resolve) => waiting.push({ event, resolve }));
  return next('ready').then((ready) => ({ child, ready: ready as DeviceProcess['ready'], next }));
}

/** Seconds to serve the whole ISO over IDE-R, from the first disk command to the device's report. */
async function iderRound(dev: DeviceProcess, dir: string, image: string): Promise<{ seconds: number; commands: number; wireBytes: number; dataBytes: number; fileBytes: number }> {
  const client = openAmt({ host: '127.0.0.1', port: dev.ready.port, username: USER, password: PASSWORD });
  try {
    const boot = bootFromMedia(client, '127.0.0.1', {
      target: 'ide-r-cd',
      imageDirectory: dir,
      image,
      redirection: { host: '127.0.0.1', port: dev.ready.redirectionPort, username: USER, password: PASSWORD },
    });
    const done = dev.next('boot');
    let first = 0;
    boot.on('phase', (p: string) => {
      if (p === 'arming') boot.session?.once('command', () => (first = Number(process.hrtime.bigint()) / 1e9));
    });
    await boot.outcome;
    const report = await done;
    const end = Number(process.hrtime.bigint()) / 1e9;
    if (!String(report.status).startsWith('booted from media')) throw new Error(`the simulated PC did not boot: ${report.status}`);
    const s = boot.session!;
    const result = { seconds: end - first, commands: report.stats.commands as number, wireBytes: s.wireBytesOut, dataBytes: report.stats.dataBytes as number, fileBytes: s.medium.fileBytesRead };
    await boot.stop();
    return result;
  } finally {
    client.close();
  }
}

/** Seconds to push the same file through a bare TCP connection to the same process. */
async function rawRound(dev: DeviceProcess, file: string): Promise<number> {
  const done = dev.next('sink');
  const t0 = Number(process.hrtime.bigint()) / 1e9;
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(dev.ready.sinkPort, '127.0.0.1', () => {
      createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(s).on('error', reject);
    });
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
  await done;
  return Number(process.hrtime.bigint()) / 1e9 - t0;
}

/** Seconds for the bare request/answer floor: `count` round trips of a 28-byte request and `size` bytes back. */
async function pingpongRound(dev: DeviceProcess, data: Buffer, size: number): Promise<number> {
  const count = Math.ceil(data.length / size);
  const done = dev.next('pingpong');
  const t0 = Number(process.hrtime.bigint()) / 1e9;
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(dev.ready.pingpongPort, '127.0.0.1', () => s.write(JSON.stringify([size, count])));
    s.setNoDelay(true);
    let pending = 0;
    let sent = 0;
    s.on('data', (c: Buffer) => {
      pending += c.length;
      while (pending >= 28) {
        pending -= 28;
        const at = (sent++ % count) * size;
        const piece = data.subarray(at, at + size);
        s.write(piece.length === size ? piece : Buffer.concat([piece, Buffer.alloc(size - piece.length)]));
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve());
  });
  await done;
  return Number(process.hrtime.bigint()) / 1e9 - t0;
}

export const iderThroughput: Bench = {
  name: 'ider-throughput',
  description: 'IDE-R: a simulated PC (own process) boots and reads a 64 MB xorriso ISO, vs a raw TCP stream of the same bytes to the same process (loopback limit)',
  async run() {
    const dir = mkdtempSync(path.join(tmpdir(), 'oob-bench-ider-'));
    const readBlocks = 64;
    const dev = await startDevice(readBlocks);
    try {
      const iso = buildIso(dir, 64 * 1024 * 1024);
      const size = statSync(iso).size;
      const mb = size / 1e6;
      await iderRound(dev, dir, 'bench.iso'); // warm up both paths and the page cache
      await rawRound(dev, iso);
      const rounds = 5;
      const ider: number[] = [];
      const raw: number[] = [];
      const ratios: number[] = [];
      const floor: number[] = [];
      const floorRatios: number[] = [];
      const bytes = readFileSync(iso);
      let last = { commands: 0, wireBytes: 0, dataBytes: 0, fileBytes: 0, seconds: 0 };
      for (let r = 0; r < rounds; r++) {
        last = await iderRound(dev, dir, 'bench.iso');
        const rawSeconds = await rawRound(dev, iso);
        const floorSeconds = await pingpongRound(dev, bytes, readBlocks * 2048);
        ider.push(mb / last.seconds);
        raw.push(mb / rawSeconds);
        floor.push(mb / floorSeconds);
        ratios.push(rawSeconds / last.seconds);
        floorRatios.push(floorSeconds / last.seconds);
      }
      return {
        imageMB: round(mb, 1),
        rounds,
        readPerCommandKiB: (readBlocks * 2048) / 1024,
        iderMBps: round(median(ider), 1),
        rawTcpMBps: round(median(raw), 1),
        ratio: round(median(ratios), 3),
        ratioRange: [round(Math.min(...ratios), 3), round(Math.max(...ratios), 3)],
        goal: '>= 0.5',
        requestAnswerFloorMBps: round(median(floor), 1),
        ratioToRequestAnswerFloor: round(median(floorRatios), 3),
        floorNote: 'a bare TCP loop of the same round trips (28-byte request, 128 KiB answer): the best any IDE-R console can do on this link',
        wireBytesPerMB: Math.round(last.wireBytes / mb),
        roundTripsPerMB: round(last.commands / mb, 1),
        fileBytesReadPerMBServed: Math.round(last.fileBytes / (last.dataBytes / 1e6)),
        note: 'wire bytes: console to device, IDE-R headers included; round trips: ATAPI commands (one each)',
      };
    } finally {
      dev.child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
