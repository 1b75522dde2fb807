/**
 * For profiling alert-in's PET path (not a benchmark of its own; the numbers are in bench/NOTES.md):
 * the hub as the alert benchmarks run it, its socket fed in-process, in one of two ways.
 *
 *   node --cpu-prof dist/bench/pet-profile.js flood [traps] [durability] [per-turn]
 *       every trap a new condition, 200 handed in per turn of the event loop (`per-turn`; libuv
 *       reads at most 32 datagrams a turn from a real socket), 200,000 by default
 *       (past 50,000 open keys the oldest are forgotten, as in alerts-pet-throughput);
 *   node --cpu-prof dist/bench/pet-profile.js paced [traps] [durability]
 *       2,000 new conditions a second, datagram handed in to alert emitted (the latency path).
 *
 * It prints this process's CPU per trap (all threads) and, paced, the latency; then
 * `node dist/bench/pet-profile-summary.js <file.cpuprofile> <traps>` sorts the profile's samples
 * into the parts of the path.
 */
import type { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AlertHub } from '../lib/alerts/hub';
import { Policy } from '../lib/alerts/policy';
import type { Durability } from '../lib/util/snapshot-log';
import { senderAddresses, TrapMaker, twentyRules } from './pet-traps';

const hr = () => Number(process.hrtime.bigint());

async function main(): Promise<void> {
  const [mode = 'flood', count, durability, turn] = process.argv.slice(2);
  const perTurn = Number(turn) || 200;
  const traps = Number(count) || (mode === 'paced' ? 10_000 : 200_000);
  const sources = mode === 'paced' ? 16 : 128;
  const addresses = senderAddresses(sources);
  const maker = new TrapMaker(sources);
  const datagrams = Array.from({ length: traps }, (_, i) => maker.datagram(i));
  const rinfo = addresses.map((address) => ({ address, port: 40000, family: 'IPv4', size: 0 }));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-profile-'));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let emitted = 0;
  const hub = new AlertHub({
    id: 'profile',
    stateDir,
    devices: addresses.map((host, i) => ({ host, name: `pc-${i + 1}`, site: `branch-${i % 20}` })),
    policy: new Policy({ outputs: ['chat', 'pager'], rules: twentyRules(), dedupSeconds: 300, rateLimitPerKey: { count: 5, seconds: 60 }, rateLimitGlobal: { count: 1e9, seconds: 60 } }),
    pet: { port: 0, address: '127.0.0.1', communities: ['public'], allow: [], perSenderPerSecond: 1e9, globalPerSecond: 1e9 },
    durability: (durability || undefined) as Durability | undefined,
    emit: ({ alert }) => {
      emitted++;
      const t = sentAt.get(`${alert.details.from}/${alert.details.sequence}`);
      if (t !== undefined) latencies.push((hr() - t) / 1000);
    },
  });
  await hub.start();
  const socket = (hub.pet as unknown as { socket: { real: EventEmitter } }).socket.real;
  const feed = (i: number) => socket.emit('message', datagrams[i], rinfo[maker.source(i)]);
  const cpu0 = process.cpuUsage();
  const t0 = hr();
  if (mode === 'paced') {
    let i = 0;
    await new Promise<void>((resolve) => {
      const step = () => {
        const due = Math.min(traps, Math.floor(((hr() - t0) / 1e9) * 2000) + 1);
        for (; i < due; i++) {
          sentAt.set(`${addresses[maker.source(i)]}/${maker.sequence(i)}`, hr());
          feed(i);
        }
        if (i < traps) setTimeout(step, 1);
        else setTimeout(resolve, 300);
      };
      step();
    });
  } else {
    for (let i = 0; i < traps; i += perTurn) {
      for (let j = i; j < Math.min(traps, i + perTurn); j++) feed(j);
      await new Promise((r) => setImmediate(r));
    }
  }
  await hub.saveState();
  const cpu = process.cpuUsage(cpu0);
  const wall = (hr() - t0) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]);
  const state = (hub as unknown as { state: { stats: unknown } }).state.stats;
  await hub.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
  const out: Record<string, unknown> = { mode, durability: durability || 'process-crash (default)', traps, perTurn, emitted, cpuUsPerTrap: Math.round(((cpu.user + cpu.system) / traps) * 100) / 100, seconds: Math.round(wall * 100) / 100, state };
  if (mode === 'paced') Object.assign(out, { latencyP50Us: at(0.5), latencyP99Us: at(0.99), latencyMaxUs: Math.round(latencies.at(-1) ?? NaN) });
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
