/**
 * Wake-on-LAN and discovery benchmarks:
 *  - magic packets per second for a 1,000-MAC wake list, ours against Debian's wakeonlan CLI given
 *    the same list (wakeonlan -f) in the same run, alternating short rounds; both send to a
 *    counting receiver in its own process, which also checks that nothing was lost. Ours runs
 *    unpaced here (the fair comparison); the default pacing (1,000/s) is measured against its
 *    own setting;
 *  - a discovery sweep of 1,000 loopback addresses (simulated PCs answering RMCP on 127.1.x.y)
 *    against the ideal its pacing allows (addresses / packets per second).
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import { discover } from '../lib/asf/discover';
import { wake } from '../lib/wol/send';
import type { Bench } from './types';

const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// Counts datagrams; a line on stdin asks for the count since the last ask.
const COUNTER = `
const s = require('node:dgram').createSocket('udp4');
let n = 0;
s.on('message', () => n++);
s.bind(0, '127.0.0.1', () => console.log(s.address().port));
require('node:readline').createInterface({ input: process.stdin }).on('line', () => { console.log(n); n = 0; });
`;

interface Counter {
  port: number;
  take(): Promise<number>;
  stop(): void;
}

async function startCounter(): Promise<Counter> {
  const child = spawn(process.execPath, ['-e', COUNTER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const next = () => new Promise<number>((resolve) => lines.once('line', (l) => resolve(Number(l))));
  const port = await next();
  return {
    port,
    take: async () => {
      // Let the last datagrams arrive before asking.
      await new Promise((r) => setTimeout(r, 100));
      const n = next();
      child.stdin!.write('\n');
      return n;
    },
    stop: () => child.kill('SIGTERM'),
  };
}

function macList(n: number): string[] {
  return Array.from({ length: n }, (_, i) => ['02', 'be', 'e0', (i >> 16) & 255, (i >> 8) & 255, i & 255].map((x) => (typeof x === 'string' ? x : x.toString(16).padStart(2, '0'))).join(':'));
}

export const wolSendRate: Bench = {
  name: 'wol-send-rate',
  description: 'magic packets/s for a 1,000-MAC wake list: ours (unpaced) vs Debian wakeonlan -f with the same list; and our default pacing vs its setting',
  async run() {
    const macs = macList(1000);
    const counter = await startCounter();
    const dir = mkdtempSync(join(tmpdir(), 'oob-bench-wol-'));
    const file = join(dir, 'macs.txt');
    writeFileSync(file, macs.map((m) => `${m} 127.0.0.1 ${counter.port}`).join('\n') + '\n');
    try {
      const ours = async () => {
        const t0 = performance.now();
        await wake({ macs, address: '127.0.0.1', port: counter.port, repeat: 1, packetsPerSecond: 0 });
        return { seconds: (performance.now() - t0) / 1000, received: await counter.take() };
      };
      const peer = async () => {
        const t0 = performance.now();
        await run('wakeonlan', ['-f', file], { maxBuffer: 16 * 1024 * 1024 });
        return { seconds: (performance.now() - t0) / 1000, received: await counter.take() };
      };
      await ours();
      await peer();
      const rounds = 7;
      const oursRate: number[] = [];
      const peerRate: number[] = [];
      const ratios: number[] = [];
      let oursLost = 0;
      let peerLost = 0;
      for (let r = 0; r < rounds; r++) {
        const o = await ours();
        const p = await peer();
        oursLost += macs.length - o.received;
        peerLost += macs.length - p.received;
        oursRate.push(macs.length / o.seconds);
        peerRate.push(macs.length / p.seconds);
        ratios.push(macs.length / o.seconds / (macs.length / p.seconds));
      }
      // The default pacing, once: how close to its 1,000 packets/s setting it runs.
      const t0 = performance.now();
      await wake({ macs, address: '127.0.0.1', port: counter.port, repeat: 1 });
      const pacedRate = macs.length / ((performance.now() - t0) / 1000);
      const pacedReceived = await counter.take();
      return {
        macs: macs.length,
        rounds,
        oursUnpacedPerSecond: Math.round(median(oursRate)),
        wakeonlanPerSecond: Math.round(median(peerRate)),
        ratio: round(median(ratios), 2),
        ratioRange: [round(Math.min(...ratios), 2), round(Math.max(...ratios), 2)],
        goal: '>= 1 (at least as fast as wakeonlan when unpaced)',
        // Lost at the receiver's socket buffer: what an unpaced burst costs, and why we pace by default.
        oursUnpacedLost: oursLost,
        wakeonlanLost: peerLost,
        defaultPacingPerSecond: 1000,
        pacedPerSecond: Math.round(pacedRate),
        pacedToSetting: round(pacedRate / 1000, 3),
        pacedLost: macs.length - pacedReceived,
        note: 'wakeonlan is a Perl script: its time includes starting perl and printing a line per packet, as a user running it pays',
      };
    } finally {
      counter.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** oob-sim with `devices` PCs answering RMCP on first+i:port; retries other ports when one is taken. */
async function startRmcpFleet(devices: number, first: string): Promise<{ child: ChildProcess; port: number }> {
  const cli = join(__dirname, '..', 'packages', 'sim', 'src', 'cli.js');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const child = spawn(process.execPath, [cli, '--devices', String(devices), '--port', '0', '--rmcp-port', String(port), '--rmcp-hosts', first], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ok = await new Promise<boolean>((resolve) => {
      let n = 0;
      readline.createInterface({ input: child.stdout! }).on('line', () => {
        if (++n === devices) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    if (ok) return { child, port };
  }
  throw new Error('could not start the simulated fleet for the sweep (ports busy?)');
}

export const discoverySweep: Bench = {
  name: 'discovery-sweep',
  description: 'presence sweep of 1,000 loopback addresses (simulated AMT PCs) vs the ideal given its pacing (addresses / packets per second)',
  async run() {
    const devices = 1000;
    const rate = 1000;
    const concurrency = 64;
    const sim = await startRmcpFleet(devices, '127.1.0.1');
    const targets = '127.1.0.1-127.1.3.232';
    try {
      const sweep = (packetsPerSecond: number) => discover({ targets, port: sim.port, packetsPerSecond, concurrency, timeoutMs: 1000, retries: 1 });
      await sweep(0);
      const paced: number[] = [];
      let found = 0;
      let pings = 0;
      for (let r = 0; r < 3; r++) {
        const res = await sweep(rate);
        paced.push(res.durationMs);
        found = res.found.length;
        pings = res.pingsSent;
      }
      const unpaced = await sweep(0);
      const idealMs = (devices / rate) * 1000;
      return {
        addresses: devices,
        packetsPerSecond: rate,
        concurrency,
        idealMs,
        sweepMs: median(paced),
        ratioToIdeal: round(median(paced) / idealMs, 3),
        goal: '<= 1.1',
        found,
        pingsSent: pings,
        unpacedMs: unpaced.durationMs,
        unpacedFound: unpaced.found.length,
      };
    } finally {
      sim.child.kill('SIGTERM');
    }
  },
};
