/**
 * Hostile-LAN benchmarks.
 *  - xml-worst-case: the XML reader's CPU time and peak memory per MB of each worst-case reply a
 *    device (or anyone answering in its place) can craft, next to a typical reply of the same
 *    size (a real AMT answer's instance repeated), each in a fresh process, limits lifted so the
 *    whole document is read. Ratios near 1 mean no input is much dearer than a real one.
 *  - event-listener-idle: open file descriptors and resident memory of the AMT event listener
 *    while 1,000 connections from 50 addresses sit idle on it, before, at the peak and after,
 *    next to a plain Node HTTP server with default settings (the peer) under the same load.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import { WORST_CASES, type ParseCost } from '../test/hostile-lan/xml-documents';
import type { Bench } from './types';

const run = promisify(execFile);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SIZE = 4 * 1024 * 1024;

async function cost(which: string): Promise<ParseCost> {
  const best: ParseCost[] = [];
  for (let i = 0; i < 3; i++) {
    const { stdout } = await run(process.execPath, ['--expose-gc', path.join(__dirname, 'xml-cost-child.js'), which, String(SIZE)], { timeout: 120_000 });
    best.push(JSON.parse(stdout) as ParseCost);
  }
  best.sort((a, b) => a.cpuMs - b.cpuMs);
  return best[1];
}

export const xmlWorstCase: Bench = {
  name: 'xml-worst-case',
  description: 'XML reader: CPU ms and peak MB per MB of worst-case replies vs a typical reply of the same size (4 MB, limits lifted)',
  async run() {
    const mb = (c: ParseCost) => c.bytes / 2 ** 20;
    const typical = await cost('typical');
    const perMb = (c: ParseCost) => ({ cpuMsPerMb: round(c.cpuMs / mb(c)), peakMbPerMb: round(c.peakGrowthKiB / 1024 / mb(c)) });
    const cases: Record<string, unknown> = {};
    let worstCpu = 0;
    let worstMem = 0;
    for (const which of Object.keys(WORST_CASES)) {
      const c = await cost(which);
      const cpuRatio = c.cpuMs / mb(c) / (typical.cpuMs / mb(typical));
      const memRatio = c.peakGrowthKiB / mb(c) / Math.max(1, typical.peakGrowthKiB / mb(typical));
      worstCpu = Math.max(worstCpu, cpuRatio);
      worstMem = Math.max(worstMem, memRatio);
      cases[which] = { ...perMb(c), cpuVsTypical: round(cpuRatio), memoryVsTypical: round(memRatio) };
    }
    return { typical: perMb(typical), cases, worstCpuVsTypical: round(worstCpu), worstMemoryVsTypical: round(worstMem) };
  },
};

interface Sample {
  fds: number;
  rssKiB: number;
}

async function startChild(bare: boolean): Promise<{ child: ChildProcess; port: number; measure: () => Promise<Sample> }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'event-listener-child.js')], { env: { ...process.env, BARE: bare ? '1' : '0' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const queue: Array<(s: string) => void> = [];
  lines.on('line', (l) => queue.shift()?.(l));
  const next = () => new Promise<string>((r) => queue.push(r));
  const { port } = JSON.parse(await next()) as { port: number };
  const measure = async () => {
    const p = next();
    child.stdin!.write('measure\n');
    return JSON.parse(await p) as Sample;
  };
  return { child, port, measure };
}

async function idleLoad(bare: boolean): Promise<Record<string, number>> {
  const { child, port, measure } = await startChild(bare);
  try {
    const before = await measure();
    const sockets: net.Socket[] = [];
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.4.${1 + (i % 50)}` });
          s.on('error', () => resolve());
          s.on('connect', () => resolve());
          sockets.push(s);
        }),
      ),
    );
    await sleep(500);
    const peak = await measure();
    const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
    for (const s of sockets) s.destroy();
    await sleep(500);
    const after = await measure();
    return {
      fdsBefore: before.fds,
      fdsUnderLoad: peak.fds,
      fdsAfter: after.fds,
      rssMbBefore: round(before.rssKiB / 1024, 1),
      rssMbUnderLoad: round(peak.rssKiB / 1024, 1),
      connectionsStillOpenAfter500ms: stillOpen,
    };
  } finally {
    child.kill();
  }
}

export const eventListenerIdle: Bench = {
  name: 'event-listener-idle',
  description: 'AMT event listener: fds and RSS under 1,000 idle connections vs a plain Node HTTP server',
  async run() {
    const ours = await idleLoad(false);
    const peer = await idleLoad(true);
    return {
      ours,
      peer,
      fdGrowthOurs: ours.fdsUnderLoad - ours.fdsBefore,
      fdGrowthPeer: peer.fdsUnderLoad - peer.fdsBefore,
      fdGrowthRatio: round((ours.fdsUnderLoad - ours.fdsBefore) / Math.max(1, peer.fdsUnderLoad - peer.fdsBefore)),
    };
  },
};
