/**
 * IDE-R benchmark (issue: boot from media): a simulated PC in another process boots a 64 MB ISO
 * (made by xorriso) over IDE-R and reads all of it, as a live system does. In alternate rounds of
 * the same run, the order rotating each round, the same link carries:
 *  - a raw TCP stream of the same bytes from memory (the link limit: the headline ratio), and the
 *    ISO file piped into a socket (the first version's baseline, kept to compare with it);
 *  - a bare request/answer loop with IDE-R's round trips: a 28-byte request, then the bytes one
 *    READ(10) answer puts on the wire (128 KiB and its headers), the next request only after the
 *    whole answer. That is the limit of any console serving a requester that, like a real IDE
 *    channel, has one command outstanding at a time.
 * The medians are reported, with the bytes and round trips per MB, the console's CPU per MB, and
 * how often the read-ahead made a transfer wait for the image file.
 *
 * Runs on loopback, then (when it can make one: root, iproute2) over a veth pair into a network
 * namespace shaped to 1 Gbit/s with tc, closer to the link between a console and a real PC.
 *
 * What the simulated PC does is what a real one does, not what flatters us: one command at a
 * time (ATAPI over an IDE channel has no queueing), READ(10) of 64 CD blocks (128 KiB, Linux
 * libata's limit for an ATAPI drive), and an 8 KiB read buffer (the DATA_TO_HOST size AMT
 * reports; MeshCommander and amtterm never send more).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { bootFromMedia } from '../lib/amt/boot-media';
import { openAmt } from '../lib/amt/connect';
import { DATA_TO_HOST_HEADER } from '../lib/amt/redirection/protocol';
import type { Bench } from './types';

const USER = 'admin';
const PASSWORD = 'Bench-P@ss1';
const READ_BLOCKS = 64;
const READ_BUFFER = 8192;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

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
  host: string;
  ready: { port: number; redirectionPort: number; sinkPort: number; pingpongPort: number };
  next(event: string): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

/** The device process, optionally inside a network namespace (`prefix` = ip netns exec NAME). */
function startDevice(host: string, prefix: string[] = []): Promise<DeviceProcess> {
  const script = [process.execPath, path.join(__dirname, 'boot-device.js')];
  const [cmd, ...args] = [...prefix, ...script];
  const child = spawn(cmd, args, {
    env: { ...process.env, BENCH_USER: USER, BENCH_PASSWORD: PASSWORD, BENCH_READ_BLOCKS: String(READ_BLOCKS), BENCH_HOST: host },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const waiting: Array<{ event: string; resolve: (m: Record<string, any>) => void; reject: (e: Error) => void }> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as Record<string, any>;
    const i = waiting.findIndex((w) => w.event === m.event);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
  });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the device process exited (${code}) while the bench waited for '${w.event}'`));
  });
  const next = (event: string) => new Promise<Record<string, any>>((resolve, reject) => waiting.push({ event, resolve, reject }));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  return next('ready').then((ready) => ({ child, host, ready: ready as DeviceProcess['ready'], next, stop }));
}

interface IderRound {
  seconds: number;
  dataBytes: number;
  commands: number;
  wireBytes: number;
  dataMessages: number;
  shortDataMessages: number;
  diskWaits: number;
  fileBytes: number;
  cpuMs: number;
}

/** Seconds to serve the whole ISO over IDE-R, from the first disk command to the device's report. */
async function iderRound(dev: DeviceProcess, dir: string): Promise<IderRound> {
  const client = openAmt({ host: dev.host, port: dev.ready.port, username: USER, password: PASSWORD });
  try {
    const boot = bootFromMedia(client, dev.host, {
      target: 'ide-r-cd',
      imageDirectory: dir,
      image: 'bench.iso',
      redirection: { host: dev.host, port: dev.ready.redirectionPort, username: USER, password: PASSWORD },
    });
    const done = dev.next('boot');
    let first = 0;
    let cpu0 = 0;
    boot.on('phase', (p: string) => {
      if (p === 'arming')
        boot.session?.once('command', () => {
          first = now();
          cpu0 = cpuMs();
        });
    });
    await boot.outcome;
    const report = await done;
    const end = now();
    const cpu = cpuMs() - cpu0;
    if (!String(report.status).startsWith('booted from media')) throw new Error(`the simulated PC did not boot: ${report.status}`);
    const s = boot.session!;
    const stats = report.stats as Record<string, number>;
    const result: IderRound = {
      seconds: end - first,
      dataBytes: stats.dataBytes,
      commands: stats.commands,
      wireBytes: s.wireBytesOut,
      dataMessages: stats.dataMessages,
      shortDataMessages: stats.shortDataMessages,
      diskWaits: s.diskWaits,
      fileBytes: s.medium.fileBytesRead,
      cpuMs: cpu,
    };
    await boot.stop();
    return result;
  } finally {
    client.close();
  }
}

/** Seconds to push the bytes through a bare TCP connection to the device process, from memory. */
async function rawRound(dev: DeviceProcess, bytes: Buffer): Promise<number> {
  const done = dev.next('sink');
  const t0 = now();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(dev.ready.sinkPort, dev.host, async () => {
      for (let at = 0; at < bytes.length; at += 1 << 20) {
        if (!s.write(bytes.subarray(at, at + (1 << 20)))) await new Promise((r) => s.once('drain', r));
      }
      s.end();
    });
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
  await done;
  return now() - t0;
}

/** Seconds to stream the ISO file into a bare TCP connection (read stream piped to the socket, as the first version of this benchmark did). */
async function rawFileRound(dev: DeviceProcess, file: string): Promise<number> {
  const done = dev.next('sink');
  const t0 = now();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(dev.ready.sinkPort, dev.host, () => {
      createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(s).on('error', reject);
    });
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
  await done;
  return now() - t0;
}

/** Seconds (and this process's CPU ms) for the bare request/answer loop: `count` answers of `size` bytes, each sent when its 28-byte request arrives. */
async function floorRound(dev: DeviceProcess, bytes: Buffer, size: number, count: number): Promise<{ seconds: number; cpuMs: number }> {
  const done = dev.next('pingpong');
  const t0 = now();
  const cpu0 = cpuMs();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(dev.ready.pingpongPort, dev.host, () => s.write(JSON.stringify([size, count])));
    s.setNoDelay(true);
    let pending = 0;
    let sent = 0;
    const answers = Math.floor(bytes.length / size);
    s.on('data', (c: Buffer) => {
      pending += c.length;
      while (pending >= 28) {
        pending -= 28;
        const at = (sent++ % answers) * size;
        s.write(bytes.subarray(at, at + size));
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve());
  });
  await done;
  return { seconds: now() - t0, cpuMs: cpuMs() - cpu0 };
}

interface LinkResult {
  rounds: number;
  iderMBps: number;
  rawTcpMBps: number;
  ratio: number;
  ratioRange: [number, number];
  requestAnswerFloorMBps: number;
  ratioToRequestAnswerFloor: number;
  floorToRawTcp: number;
  rawTcpFromFileMBps: number;
  ratioToRawTcpFromFile: number;
  last: IderRound;
  consoleCpuMsPerMB: number;
  floorAnswerCpuMsPerMB: number;
}

/** Alternate rounds of IDE-R, raw TCP and the request/answer floor on one link; medians. */
async function measure(dev: DeviceProcess, dir: string, bytes: Buffer, warmup: number, rounds: number): Promise<LinkResult> {
  const file = path.join(dir, 'bench.iso');
  // Each round trip of the floor carries what one READ(10) answer carries on the wire.
  const payload = READ_BLOCKS * 2048;
  const answer = payload + Math.ceil(payload / READ_BUFFER) * DATA_TO_HOST_HEADER;
  const count = Math.ceil(bytes.length / payload);
  for (let w = 0; w < warmup; w++) {
    await iderRound(dev, dir); // also warms the page cache and the JIT of both processes
    await rawRound(dev, bytes);
    await rawFileRound(dev, file);
    await floorRound(dev, bytes, answer, count);
  }
  const ider: number[] = [];
  const raw: number[] = [];
  const floor: number[] = [];
  const ratios: number[] = [];
  const floorRatios: number[] = [];
  const floorToRaw: number[] = [];
  const rawFile: number[] = [];
  const fileRatios: number[] = [];
  const iderCpu: number[] = [];
  const floorCpu: number[] = [];
  let last: IderRound | undefined;
  for (let r = 0; r < rounds; r++) {
    let i: IderRound | undefined;
    let rawSeconds = 0;
    let rawFileSeconds = 0;
    let f = { seconds: 0, cpuMs: 0 };
    // Rotate the order, so that neither side always follows the same one.
    const steps = [
      async () => (i = await iderRound(dev, dir)),
      async () => (rawSeconds = await rawRound(dev, bytes)),
      async () => (f = await floorRound(dev, bytes, answer, count)),
      async () => (rawFileSeconds = await rawFileRound(dev, file)),
    ];
    for (let k = 0; k < steps.length; k++) await steps[(k + r) % steps.length]();
    last = i!;
    const iderMBps = last.dataBytes / 1e6 / last.seconds;
    const rawMBps = bytes.length / 1e6 / rawSeconds;
    const floorMBps = (count * payload) / 1e6 / f.seconds;
    ider.push(iderMBps);
    raw.push(rawMBps);
    floor.push(floorMBps);
    ratios.push(iderMBps / rawMBps);
    floorRatios.push(iderMBps / floorMBps);
    floorToRaw.push(floorMBps / rawMBps);
    rawFile.push(bytes.length / 1e6 / rawFileSeconds);
    fileRatios.push((iderMBps * rawFileSeconds) / (bytes.length / 1e6));
    iderCpu.push(last.cpuMs / (last.dataBytes / 1e6));
    floorCpu.push(f.cpuMs / ((count * payload) / 1e6));
  }
  return {
    rounds,
    iderMBps: round(median(ider), 1),
    rawTcpMBps: round(median(raw), 1),
    ratio: round(median(ratios), 3),
    ratioRange: [round(Math.min(...ratios), 3), round(Math.max(...ratios), 3)],
    requestAnswerFloorMBps: round(median(floor), 1),
    ratioToRequestAnswerFloor: round(median(floorRatios), 3),
    floorToRawTcp: round(median(floorToRaw), 3),
    rawTcpFromFileMBps: round(median(rawFile), 1),
    ratioToRawTcpFromFile: round(median(fileRatios), 3),
    last: last!,
    consoleCpuMsPerMB: round(median(iderCpu), 3),
    floorAnswerCpuMsPerMB: round(median(floorCpu), 3),
  };
}

/** What one link's result says, wire counts from its last IDE-R round. */
function summary(r: LinkResult) {
  const mb = r.last.dataBytes / 1e6;
  return {
    rounds: r.rounds,
    iderMBps: r.iderMBps,
    rawTcpMBps: r.rawTcpMBps,
    ratio: r.ratio,
    ratioRange: r.ratioRange,
    requestAnswerFloorMBps: r.requestAnswerFloorMBps,
    ratioToRequestAnswerFloor: r.ratioToRequestAnswerFloor,
    floorToRawTcp: r.floorToRawTcp,
    rawTcpFromFileMBps: r.rawTcpFromFileMBps,
    ratioToRawTcpFromFile: r.ratioToRawTcpFromFile,
    consoleCpuMsPerMB: r.consoleCpuMsPerMB,
    floorAnswerCpuMsPerMB: r.floorAnswerCpuMsPerMB,
    wireBytesPerMB: Math.round(r.last.wireBytes / mb),
    roundTripsPerMB: round(r.last.commands / mb, 1),
    dataMessagesPerMB: round(r.last.dataMessages / mb, 1),
    shortDataMessages: r.last.shortDataMessages,
    diskWaits: r.last.diskWaits,
    fileBytesReadPerMBServed: Math.round(r.last.fileBytes / mb),
  };
}

/**
 * A veth pair from this namespace into a new one, both ends shaped to `rate` by tc (tbf), with
 * the device process run inside; `{ skipped: why }` when this machine does not allow it (not root,
 * no iproute2). Everything it made is removed afterwards.
 */
async function withShapedLink<T>(rate: string, fn: (prefix: string[], host: string) => Promise<T>): Promise<T | { skipped: string }> {
  const ns = `oob-bench-ider-${process.pid}`;
  const outer = `obi${process.pid % 100000}a`;
  const inner = `obi${process.pid % 100000}b`;
  // A /30 of 10.250.0.0/16 picked by the pid, so that parallel runs on one machine do not collide.
  const net4 = (process.pid % 16384) * 4;
  const a = `10.250.${net4 >> 8}.${(net4 & 255) + 1}`;
  const b = `10.250.${net4 >> 8}.${(net4 & 255) + 2}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // A token bucket no deeper than one READ(10) answer, so that a pause cannot save up a burst faster than the link.
  const tbf = ['qdisc', 'add', 'dev', '', 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '20ms'];
  const shape = (dev: string, inNamespace: boolean) => {
    const args = tbf.map((x) => (x === '' ? dev : x));
    if (inNamespace) ip('netns', 'exec', ns, 'tc', ...args);
    else execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    ip('netns', 'add', ns);
  } catch (e) {
    return { skipped: `cannot create a network namespace (${String((e as { stderr?: Buffer }).stderr ?? e).trim()}): needs root and iproute2` };
  }
  try {
    try {
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      ip('link', 'set', inner, 'netns', ns);
      ip('addr', 'add', `${a}/30`, 'dev', outer);
      ip('link', 'set', outer, 'up');
      ip('-n', ns, 'addr', 'add', `${b}/30`, 'dev', inner);
      ip('-n', ns, 'link', 'set', inner, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      shape(outer, false);
      shape(inner, true);
    } catch (e) {
      return { skipped: `cannot set up the shaped veth link (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})` };
    }
    return await fn(['ip', 'netns', 'exec', ns], b);
  } finally {
    try {
      ip('link', 'del', outer);
    } catch {
      /* gone with the namespace */
    }
    try {
      ip('netns', 'del', ns);
    } catch {
      /* already gone */
    }
  }
}

export const iderThroughput: Bench = {
  name: 'ider-throughput',
  description:
    'IDE-R: a simulated PC (own process) boots and reads a 64 MB xorriso ISO, vs a raw TCP stream of the same bytes (link limit) and vs a bare request/answer loop with the same round trips, on loopback and over a 1 Gbit/s veth link',
  async run() {
    const dir = mkdtempSync(path.join(tmpdir(), 'oob-bench-ider-'));
    try {
      const iso = buildIso(dir, 64 * 1024 * 1024);
      const bytes = readFileSync(iso);
      const loop = await startDevice('127.0.0.1');
      let loopback: LinkResult;
      try {
        loopback = await measure(loop, dir, bytes, 2, 9);
      } finally {
        await loop.stop();
      }
      const shaped = await withShapedLink('1gbit', async (prefix, host) => {
        const dev = await startDevice(host, prefix);
        try {
          return summary(await measure(dev, dir, bytes, 1, 5));
        } finally {
          await dev.stop();
        }
      });
      return {
        imageMB: round(bytes.length / 1e6, 1),
        readPerCommandKiB: (READ_BLOCKS * 2048) / 1024,
        dataToHostBytes: READ_BUFFER,
        commandsOutstanding: 1,
        goal: 'ratio >= 0.5; on loopback no console can pass floorToRawTcp (the requester has one command outstanding), veth1Gbit is the realistic link',
        ...summary(loopback),
        veth1Gbit: shaped,
        notes: [
          'ratio: IDE-R / raw TCP stream of the same bytes from memory, median of alternate rounds (the headline)',
          'rawTcpFromFile: the ISO file piped into a socket (the baseline of the first version of this benchmark; slower than the link, as it reads 1 MiB and waits for the socket to drain before the next)',
          'requestAnswerFloor: a bare TCP loop with the same round trips and wire bytes (28-byte request, one READ(10) answer): the most any console can do for a requester with one command outstanding; floorToRawTcp is what that costs against raw TCP',
          'wire bytes: console to device, IDE-R headers included; round trips: ATAPI commands (one each); shortDataMessages: DATA_TO_HOST pieces below the read buffer that did not end their command (should be 0)',
          'diskWaits: transfers of the last round that waited for the image file (the read-ahead was behind)',
          'consoleCpuMsPerMB: this process during IDE-R serving, against floorAnswerCpuMsPerMB for the bare loop answering the same bytes',
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
