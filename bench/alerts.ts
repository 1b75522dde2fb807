/**
 * Alert benchmarks.
 *  - alerts-pet-throughput, the headline: PET traps per second that alert-in takes from a UDP
 *    socket on loopback and turns into emitted alerts (AlertHub, as the oob-alert-in node runs
 *    it: TrapReceiver's checks, its trap reader, PET decode, the Alert, a 20-rule policy with
 *    dedup and rate limits, its state file on disk), compared with a bare net-snmp receiver that
 *    only counts. Two sender processes (one alone sends about as fast as net-snmp receives), the
 *    same for both sides, send the same traps to each in alternating rounds as fast as they can.
 *    Each trap is a new condition. UDP drops what a receiver cannot keep up with: received/sent
 *    is reported for both, and each side's rate is what it received over the time it took (per
 *    wall second) and over the CPU time this process spent meanwhile (per CPU second: steadier
 *    on a shared machine). Medians of the round ratios; goal >= 0.5. p50/p99 latency (send to
 *    alert emitted) at 2,000 traps/s, the default overall limit of alert-in's PET listener.
 *  - alerts-pet-repeats: the same with traps that repeat 1,024 conditions (the dedup path).
 *  - alerts-pet-latency: datagram to emitted alert at 2,000 new conditions a second, each one
 *    written before it is emitted, in both of alert-in's durability settings: 'process-crash'
 *    (the default: appended with write(2), synced in the background) and 'power-loss' (synced
 *    with fdatasync first), next to a bare net-snmp receiver's datagram to parsed trap; p50, p99
 *    and the worst, and what one fdatasync of an append costs on this disk.
 *  - alerts-pet-cpu: the same work fed in-process to both (no kernel UDP): what our part costs
 *    in CPU next to net-snmp's parse alone.
 *  - alerts-dedup-memory: heap held by alert-in with 10,000 open dedup keys made by PET traps,
 *    and the size of the state file that keeps them across restarts.
 *  - alerts-state-writes: what alert-in writes to disk for its state (SD-card wear on a
 *    Raspberry Pi gateway) with 10,000 open conditions, per second of a steady trickle of traps
 *    and of a burst, next to what changed (the traps times the bytes of one condition).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { AlertHub } from '../lib/alerts/hub';
import type { ReceivedTrap } from '../lib/asf/trap-receiver';
import { Policy } from '../lib/alerts/policy';
import type { Durability } from '../lib/util/snapshot-log';
import type { ManagedDevice } from '../lib/device';
import { senderAddresses, sequenceOfVarbind, TrapMaker, trapPool, twentyRules } from './pet-traps';
import type { Bench } from './types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const hr = () => Number(process.hrtime.bigint());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : Number.NaN;
}

/** The policy of the benchmark: 20 rules, dedup, a per-key rate limit; nothing held back overall. */
function benchPolicy(): Policy {
  return new Policy({ outputs: ['chat', 'pager'], rules: twentyRules(), dedupSeconds: 300, rateLimitPerKey: { count: 5, seconds: 60 }, rateLimitGlobal: { count: 1e9, seconds: 60 } });
}

/** The devices the traps come from, one per sender address, on 20 sites. */
export function devicesFor(addresses: string[]): ManagedDevice[] {
  return addresses.map((host, i) => ({ host, name: `pc-${i + 1}`, site: `branch-${i % 20}` }));
}

/** What a receiver saw in a round: how many, first and last arrival, arrival per trap (latency rounds). */
export class Tally {
  count = 0;
  first = 0;
  last = 0;
  timing = false;
  readonly arrivals = new Map<string, number>();
  reset(timing: boolean): void {
    this.count = 0;
    this.first = 0;
    this.last = 0;
    this.timing = timing;
    this.arrivals.clear();
  }
  hit(from: string, sequence: number | undefined): void {
    const t = hr();
    if (this.count === 0) this.first = t;
    this.last = t;
    this.count++;
    if (this.timing) this.arrivals.set(`${from}/${sequence}`, t);
  }
  get perSecond(): number {
    return this.count > 1 ? (this.count - 1) / ((this.last - this.first) / 1e9) : 0;
  }
}

/** A bare net-snmp trap receiver on a real UDP socket (port 0) whose callback only counts. */
export async function bareReceiver(tally: Tally): Promise<{ port: number; close: () => void }> {
  let socket: dgram.Socket | undefined;
  const dgramModule = {
    createSocket: (type: dgram.SocketType) => {
      const s = dgram.createSocket(type);
      const bind = s.bind.bind(s) as (port: number, address?: string) => void;
      // net-snmp reads port 0 as "the default"; this is its socket, bound where we say.
      (s as unknown as { bind: (p: number, a?: string) => void }).bind = (_p, a) => bind(0, a);
      socket = s;
      return s;
    },
  };
  const receiver = snmp.createReceiver({ port: 162, address: '127.0.0.1', dgramModule }, (err: Error | null, data?: { pdu: { varbinds: Array<{ value: Buffer }> }; rinfo: dgram.RemoteInfo }) => {
    if (err || !data) return;
    tally.hit(data.rinfo.address, tally.timing ? sequenceOfVarbind(data.pdu.varbinds[0].value) : undefined);
  });
  receiver.getAuthorizer().addCommunity('public');
  // It binds asynchronously: 'listening' is still to come.
  await new Promise<void>((resolve) => socket!.once('listening', () => resolve()));
  return { port: socket!.address().port, close: () => receiver.close() };
}

/**
 * alert-in as the node runs it, minus Node-RED: the hub with its PET listener and state directory.
 * The tally counts the traps that came out as an alert; with `repeats`, every trap once alert-in
 * is done with it (emitted, or counted as a repeat of an open condition). Like the node, nothing
 * listens to suppressions: a listener would be handed each repeat as a whole alert.
 */
export async function alertIn(devices: ManagedDevice[], tally: Tally, repeats = false, durability?: Durability): Promise<{ hub: AlertHub; port: number; stateFile: string; close: () => Promise<void> }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-bench-'));
  const hub = new AlertHub({
    id: 'bench',
    stateDir,
    devices,
    policy: benchPolicy(),
    // The listener's own rate limits would measure themselves: set out of the way.
    pet: { port: 0, address: '127.0.0.1', communities: ['public'], allow: [], perSenderPerSecond: 1e9, globalPerSecond: 1e9 },
    emit: repeats ? () => undefined : ({ alert }) => tally.hit(String(alert.details.from), alert.details.sequence as number),
    durability,
  });
  await hub.start();
  if (repeats) {
    const receiver = hub.pet as unknown as { o: { onTrap(t: ReceivedTrap): void } };
    const handle = receiver.o.onTrap;
    receiver.o.onTrap = (t) => {
      handle(t);
      tally.hit(t.from, tally.timing ? sequenceOfVarbind(t.varbinds[0].value as Buffer) : undefined);
    };
  }
  return {
    hub,
    port: hub.pet!.port,
    stateFile: path.join(stateDir, 'alert-in-bench.json'),
    close: async () => {
      await hub.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

interface SenderReply {
  ready?: boolean;
  sent?: number;
  seconds?: number;
  sentAt?: number[];
}

/** The sender process (bench/pet-sender.ts) and a way to ask it one command at a time. */
export function startSender(): { child: ChildProcess; ask: (c: Record<string, unknown>) => Promise<SenderReply> } {
  const child = spawn(process.execPath, [path.join(__dirname, 'pet-sender.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const waiting: Array<{ resolve: (r: SenderReply) => void; reject: (e: Error) => void }> = [];
  lines.on('line', (l) => waiting.shift()?.resolve(JSON.parse(l) as SenderReply));
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`pet-sender exited with ${code}`));
  });
  const ask = (c: Record<string, unknown>) =>
    new Promise<SenderReply>((resolve, reject) => {
      waiting.push({ resolve, reject });
      child.stdin!.write(`${JSON.stringify(c)}\n`);
    });
  return { child, ask };
}

/** Waits until the sender has finished and the receiver has seen nothing new for 100 ms. */
async function settle<T>(tally: Tally, sending: Promise<T>): Promise<T> {
  const reply = await sending;
  let seen = -1;
  for (let waited = 0; tally.count !== seen && waited < 10_000; waited += 100) {
    seen = tally.count;
    await sleep(100);
  }
  return reply;
}

/**
 * Paced rounds from one sender: each trap's send time (the sender's monotonic clock) to its
 * arrival at each side (emitted alert, or parsed trap), in µs, and the share received.
 */
async function pacedLatency(o: {
  sender: ReturnType<typeof startSender>;
  addresses: string[];
  maker: TrapMaker;
  start: number;
  rounds: number;
  perRound: number;
  perSecond: number;
  sides: ReadonlyArray<readonly ['ours' | 'bare', number, Tally]>;
}): Promise<{ latencies: { ours: number[]; bare: number[] }; latencyRecv: { ours: number[]; bare: number[] } }> {
  const latencies = { ours: [] as number[], bare: [] as number[] };
  const latencyRecv = { ours: [] as number[], bare: [] as number[] };
  for (let r = 0; r < o.rounds; r++) {
    const start = o.start + r * o.perRound;
    for (const [side, port, tally] of o.sides) {
      tally.reset(true);
      const reply = await settle(tally, o.sender.ask({ cmd: 'paced', port, start, count: o.perRound, perSecond: o.perSecond }));
      reply.sentAt!.forEach((sentAt, i) => {
        const k = start + i;
        const got = tally.arrivals.get(`${o.addresses[o.maker.source(k)]}/${o.maker.sequence(k)}`);
        if (got !== undefined) latencies[side].push((got - sentAt) / 1000);
      });
      latencyRecv[side].push(tally.count / reply.sent!);
    }
  }
  return { latencies, latencyRecv };
}

/**
 * alert-in against a bare net-snmp receiver over UDP, fed by the same sender processes.
 * `conditions`: how many different conditions the traps report (all different when absent).
 */
function receiverBench(o: { name: string; description: string; conditions?: number; rounds: number }): Bench {
  return { name: o.name, description: o.description, run: () => receiverRounds(o.rounds, o.conditions) };
}

async function receiverRounds(rounds: number, conditions?: number): Promise<Record<string, unknown>> {
  const sources = 128;
  // Long rounds: alert-in's periodic work (state file, GC of the old generation) is part of
  // its cost and has to fall into the rounds in its proportion.
  const perRound = 250_000;
  const latencyRounds = 5;
  const latencyPerRound = 600;
  const latencyRate = 2000;
  const addresses = senderAddresses(sources);
  const maker = new TrapMaker(sources, conditions);

  const bareTally = new Tally();
  const oursTally = new Tally();
  const bare = await bareReceiver(bareTally);
  const ours = await alertIn(devicesFor(addresses), oursTally, conditions !== undefined);
  // Two sender processes: one Node process alone sends about as fast as net-snmp receives.
  const senders = [startSender(), startSender()];
  try {
    await Promise.all(senders.map((x) => x.ask({ cmd: 'setup', addresses, ports: [bare.port, ours.port], conditions })));
    // Both sides get the same traps in a round. All conditions different: each trap opens a
    // dedup key and is emitted. A few conditions: after the first, each trap is a repeat.
    const blast = async (port: number, tally: Tally, start: number, count: number) => {
      tally.reset(false);
      const cpu0 = process.cpuUsage();
      const replies = await settle(tally, Promise.all(senders.map((x, j) => x.ask({ cmd: 'blast', port, start, count, part: [j, senders.length] }))));
      const cpu = process.cpuUsage(cpu0);
      const sent = replies.reduce((n, r) => n + r.sent!, 0);
      return {
        perSecond: tally.perSecond,
        perCpuSecond: tally.count / ((cpu.user + cpu.system) / 1e6),
        received: tally.count / sent,
        senderPerSecond: sent / Math.max(...replies.map((r) => r.seconds!)),
      };
    };
    await blast(bare.port, bareTally, 0, perRound / 5);
    await blast(ours.port, oursTally, 0, perRound / 5);
    const o: number[] = [];
    const b: number[] = [];
    const ratios: number[] = [];
    const oCpu: number[] = [];
    const bCpu: number[] = [];
    const cpuRatios: number[] = [];
    const oRecv: number[] = [];
    const bRecv: number[] = [];
    const senderRates: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const start = r * perRound;
      const oursFirst = r % 2 === 1;
      const x = oursFirst ? await blast(ours.port, oursTally, start, perRound) : undefined;
      const y = await blast(bare.port, bareTally, start, perRound);
      const z = x ?? (await blast(ours.port, oursTally, start, perRound));
      o.push(z.perSecond);
      b.push(y.perSecond);
      ratios.push(z.perSecond / y.perSecond);
      oCpu.push(z.perCpuSecond);
      bCpu.push(y.perCpuSecond);
      cpuRatios.push(z.perCpuSecond / y.perCpuSecond);
      oRecv.push(z.received);
      bRecv.push(y.received);
      senderRates.push(z.senderPerSecond, y.senderPerSecond);
    }

    // Latency: paced sends, send time (sender's clock) to emitted alert (ours) or parsed trap (bare).
    const { latencies, latencyRecv } = await pacedLatency({ sender: senders[0], addresses, maker, start: (rounds + 1) * perRound, rounds: latencyRounds, perRound: latencyPerRound, perSecond: latencyRate, sides: [['ours', ours.port, oursTally], ['bare', bare.port, bareTally]] });
    const lo = latencies.ours.sort((x, y) => x - y);
    const lb = latencies.bare.sort((x, y) => x - y);
    const bareReceived = median(bRecv);
    const engine = ours.hub.engine.counts;
    return {
      senders: sources,
      conditions: conditions ?? 'all different',
      rules: 20,
      rounds,
      trapsPerRound: perRound,
      oursPerSecond: Math.round(median(o)),
      bareNetSnmpPerSecond: Math.round(median(b)),
      ratio: round(median(ratios), 3),
      ratioRange: [round(Math.min(...ratios), 3), round(Math.max(...ratios), 3)],
      goal: '>= 0.5',
      oursReceivedOfSent: round(median(oRecv), 3),
      bareReceivedOfSent: round(bareReceived, 3),
      sendersPerSecond: Math.round(median(senderRates)),
      // When the bare side got (nearly) everything, the senders were its limit, not net-snmp.
      bareLimitedBySender: bareReceived > 0.95,
      // Per second of this process's CPU (user + system, all threads) while each side received:
      // what each would do with a core of its own; steadier than wall time on a shared machine.
      oursPerCpuSecond: Math.round(median(oCpu)),
      barePerCpuSecond: Math.round(median(bCpu)),
      cpuRatio: round(median(cpuRatios), 3),
      cpuRatioRange: [round(Math.min(...cpuRatios), 3), round(Math.max(...cpuRatios), 3)],
      latencyAtPerSecond: latencyRate,
      latencyP50Us: round(percentile(lo, 0.5)),
      latencyP99Us: round(percentile(lo, 0.99)),
      bareLatencyP50Us: round(percentile(lb, 0.5)),
      bareLatencyP99Us: round(percentile(lb, 0.99)),
      latencyReceivedOfSent: { ours: round(median(latencyRecv.ours), 3), bare: round(median(latencyRecv.bare), 3) },
      oursOpenKeysAtEnd: ours.hub.engine.openKeys,
      oursEmitted: engine.emitted,
      // All conditions different: nothing may have been held back as a duplicate.
      oursSuppressed: { duplicate: engine.byReason.duplicate, capacity: engine.byReason.capacity, rateLimit: engine.byReason['rate-limit'] },
      note: 'real UDP on loopback; rate = received traps over first-to-last arrival; the listener rate limits set out of the way (alert-in holds a flood at 2,000/s by default)',
    };
  } finally {
    for (const x of senders) {
      x.child.stdin!.end();
      x.child.kill('SIGTERM');
    }
    bare.close();
    await ours.close();
  }
}

export const petThroughput = receiverBench({
  name: 'alerts-pet-throughput',
  description:
    'PET traps/s received over loopback UDP by alert-in (hub + TrapReceiver + 20-rule policy), each trap a new condition (opened and emitted; past 50,000 open keys the oldest are forgotten), vs a bare net-snmp receiver; same two sender processes, alternating rounds; received/sent; per wall and per CPU second; p99 latency at 2,000 traps/s',
  rounds: 7,
});

export const petRepeats = receiverBench({
  name: 'alerts-pet-repeats',
  description: 'as alerts-pet-throughput, but the traps report the same 1,024 conditions over and over (each a repeat, counted and held back by dedup)',
  conditions: 1024,
  rounds: 5,
});

/** What one append of a state record costs on the disk of the state directory: write(2), then fdatasync. */
function syncCost(dir: string): { writeP50Us: number; fdatasyncP50Us: number; fdatasyncP99Us: number } {
  const file = path.join(dir, 'sync-probe');
  const fd = fs.openSync(file, 'a');
  const record = Buffer.alloc(470, 0x61);
  const writes: number[] = [];
  const syncs: number[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      const t0 = hr();
      fs.writeSync(fd, record);
      const t1 = hr();
      fs.fdatasyncSync(fd);
      writes.push((t1 - t0) / 1000);
      syncs.push((hr() - t1) / 1000);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  writes.sort((x, y) => x - y);
  syncs.sort((x, y) => x - y);
  return { writeP50Us: round(percentile(writes, 0.5)), fdatasyncP50Us: round(percentile(syncs, 0.5)), fdatasyncP99Us: round(percentile(syncs, 0.99)) };
}

/** Paced rounds at `rate` into alert-in with the given durability and into a bare net-snmp receiver, after a warm-up round. */
async function latencyOf(durability: Durability, rate: number, perRound: number, rounds: number): Promise<Record<string, unknown>> {
  const sources = 16;
  const addresses = senderAddresses(sources);
  const maker = new TrapMaker(sources);
  const bareTally = new Tally();
  const oursTally = new Tally();
  const bare = await bareReceiver(bareTally);
  const ours = await alertIn(devicesFor(addresses), oursTally, false, durability);
  const sender = startSender();
  try {
    await sender.ask({ cmd: 'setup', addresses, ports: [bare.port, ours.port] });
    const sides = [['ours', ours.port, oursTally], ['bare', bare.port, bareTally]] as const;
    // A warm-up round, not counted.
    await pacedLatency({ sender, addresses, maker, start: 0, rounds: 1, perRound, perSecond: rate, sides });
    const stats = () => (ours.hub as unknown as { state: { stats: { appends: number; compactions: number } } }).state.stats;
    const before = { ...stats() };
    const { latencies, latencyRecv } = await pacedLatency({ sender, addresses, maker, start: perRound, rounds, perRound, perSecond: rate, sides });
    const lo = latencies.ours.sort((x, y) => x - y);
    const lb = latencies.bare.sort((x, y) => x - y);
    return {
      durability,
      latencyP50Us: round(percentile(lo, 0.5)),
      latencyP99Us: round(percentile(lo, 0.99)),
      latencyMaxUs: round(lo.at(-1) ?? NaN),
      bareLatencyP50Us: round(percentile(lb, 0.5)),
      bareLatencyP99Us: round(percentile(lb, 0.99)),
      stateAppends: stats().appends - before.appends,
      compactions: stats().compactions - before.compactions,
      newConditionsPerAppend: round((rounds * perRound) / Math.max(1, stats().appends - before.appends), 1),
      receivedOfSent: { ours: round(median(latencyRecv.ours), 3), bare: round(median(latencyRecv.bare), 3) },
    };
  } finally {
    sender.child.stdin!.end();
    sender.child.kill('SIGTERM');
    bare.close();
    await ours.close();
  }
}

export const petLatency: Bench = {
  name: 'alerts-pet-latency',
  description:
    "datagram to emitted alert at 2,000 new PET conditions/s over loopback UDP, every new condition written before it is emitted: with alert-in's default durability 'process-crash' (write(2) to the state log, synced in the background) and with 'power-loss' (fdatasync first); vs a bare net-snmp receiver (datagram to parsed trap); p50/p99/max; 5 paced rounds of 2,000 traps each",
  async run() {
    const rate = 2000;
    const perRound = 2000;
    const rounds = 5;
    const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-bench-'));
    const disk = syncCost(probeDir);
    fs.rmSync(probeDir, { recursive: true, force: true });
    const crash = await latencyOf('process-crash', rate, perRound, rounds);
    const power = await latencyOf('power-loss', rate, perRound, rounds);
    return {
      perSecond: rate,
      traps: rounds * perRound,
      ...crash,
      goalP99Us: 5000,
      powerLoss: power,
      diskSyncCost: disk,
      loadAverage: os.loadavg().map((x) => round(x, 2)),
      note: "durability 'process-crash' (alert-in's default): each new condition is appended to the state log with write(2) at the end of the event-loop turn it came in, then emitted (kill -9 safe), synced to storage within 1 s; 'power-loss': appended and synced (fdatasync) before it is emitted, one append per batch of what came in during the previous sync. diskSyncCost: write(2) and fdatasync of one 470-byte record in the state directory's file system, 200 times",
    };
  },
};

export const petCpu: Bench = {
  name: 'alerts-pet-cpu',
  description:
    'CPU cost, no UDP: the same trap datagrams handed in-process to alert-in (hub, 20-rule policy, its default durability; until every alert is emitted, each written to the state log first) and to a bare net-snmp receiver; traps/s of each, median ratio; and CPU per trap (all threads) with the state saved and synced after each round',
  async run() {
    const sources = 128;
    const perRound = 5000;
    const rounds = 7;
    const addresses = senderAddresses(sources);
    const pool = trapPool((rounds + 1) * perRound, sources);
    const rinfo = addresses.map((address) => ({ address, port: 40000, family: 'IPv4', size: 0 }));

    // Bare: net-snmp's receiver on a socket we feed by hand; its callback only counts.
    let bareCount = 0;
    const bareSocket = new EventEmitter() as EventEmitter & Record<string, unknown>;
    Object.assign(bareSocket, { bind: () => undefined, close: (cb?: () => void) => cb?.(), address: () => ({ port: 0 }), unref: () => bareSocket, ref: () => bareSocket, send: () => undefined });
    const bare = snmp.createReceiver({ port: 1, dgramModule: { createSocket: () => bareSocket } }, (err: Error | null) => {
      if (!err) bareCount++;
    });
    bare.getAuthorizer().addCommunity('public');

    // Ours: the hub, its TrapReceiver's socket fed by hand.
    const tally = new Tally();
    const ours = await alertIn(devicesFor(addresses), tally);
    const emitted = () => tally.count;
    const real = (ours.hub.pet as unknown as { socket: { real: EventEmitter } }).socket.real;

    const cpuUs = (c: NodeJS.CpuUsage) => c.user + c.system;
    const feedBare = (start: number) => {
      bareCount = 0;
      const c0 = process.cpuUsage();
      const s = hr();
      for (let i = start; i < start + perRound; i++) bareSocket.emit('message', pool.datagrams[i], rinfo[pool.source[i]]);
      if (bareCount !== perRound) throw new Error(`bare receiver took ${bareCount} of ${perRound}`);
      return { perSecond: perRound / ((hr() - s) / 1e9), cpuUsPerTrap: cpuUs(process.cpuUsage(c0)) / perRound };
    };
    // Alerts go out once the state holding them is written: the rate counts until they are all
    // out. The CPU counts on until the state is saved and synced (what the writes cost, a
    // compaction that fell due included, all threads).
    const feedOurs = async (start: number) => {
      const before = emitted();
      const c0 = process.cpuUsage();
      const s = hr();
      for (let i = start; i < start + perRound; i++) real.emit('message', pool.datagrams[i], rinfo[pool.source[i]]);
      for (let turns = 0; emitted() - before < perRound && turns < 100_000; turns++) await new Promise((r) => setImmediate(r));
      const perSecond = perRound / ((hr() - s) / 1e9);
      await ours.hub.saveState();
      const n = emitted() - before;
      if (n !== perRound) throw new Error(`alert-in emitted ${n} of ${perRound}`);
      return { perSecond, cpuUsPerTrap: cpuUs(process.cpuUsage(c0)) / perRound };
    };
    try {
      feedBare(0);
      await feedOurs(0);
      const o: number[] = [];
      const b: number[] = [];
      const ratios: number[] = [];
      const oCpu: number[] = [];
      const bCpu: number[] = [];
      for (let r = 1; r <= rounds; r++) {
        const x = await feedOurs(r * perRound);
        const y = feedBare(r * perRound);
        o.push(x.perSecond);
        b.push(y.perSecond);
        ratios.push(x.perSecond / y.perSecond);
        oCpu.push(x.cpuUsPerTrap);
        bCpu.push(y.cpuUsPerTrap);
      }
      return {
        rounds,
        trapsPerRound: perRound,
        rules: 20,
        oursPerSecond: Math.round(median(o)),
        bareNetSnmpPerSecond: Math.round(median(b)),
        ratio: round(median(ratios), 3),
        ratioRange: [round(Math.min(...ratios), 3), round(Math.max(...ratios), 3)],
        oursUsPerTrap: round(1e6 / median(o), 2),
        bareUsPerTrap: round(1e6 / median(b), 2),
        oursCpuUsPerTrapSaved: round(median(oCpu), 2),
        bareCpuUsPerTrap: round(median(bCpu), 2),
        note: 'CPU cost only: datagrams handed to both receivers in-process (no kernel UDP, no socket reads); every trap a new condition; ours: until every alert is emitted (each written to the state log before), and oursCpuUsPerTrapSaved: process CPU (all threads) until the state is also saved and synced; latency: see alerts-pet-latency',
      };
    } finally {
      bare.close();
      await ours.close();
    }
  },
};

function gc(): void {
  v8.setFlagsFromString('--expose_gc');
  (vm.runInNewContext('gc') as () => void)();
}

export const dedupMemory: Bench = {
  name: 'alerts-dedup-memory',
  description: 'heap held by alert-in (hub, engine, PET listener) with 10,000 open dedup keys made by PET traps, and the size of its state file',
  async run() {
    const keys = 10_000;
    const sources = 64;
    const addresses = senderAddresses(sources);
    const pool = trapPool(keys, sources);
    const rinfo = addresses.map((address) => ({ address, port: 40000, family: 'IPv4', size: 0 }));
    const tally = new Tally();
    const ours = await alertIn(devicesFor(addresses), tally);
    try {
      const real = (ours.hub.pet as unknown as { socket: { real: EventEmitter } }).socket.real;
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < keys; i++) real.emit('message', pool.datagrams[i], rinfo[pool.source[i]]);
      // The alerts go out once their state is on disk.
      await ours.hub.saveState();
      gc();
      const after = process.memoryUsage().heapUsed;
      const open = ours.hub.engine.openKeys;
      if (open !== keys || tally.count !== keys) throw new Error(`${open} keys open and ${tally.count} alerts emitted for ${keys} traps`);
      await ours.hub.close();
      const stateBytes = fs.statSync(ours.stateFile).size;
      return {
        openKeys: open,
        heapMiB: round((after - before) / 2 ** 20, 2),
        bytesPerKey: Math.round((after - before) / open),
        stateFileMiB: round(stateBytes / 2 ** 20, 2),
        stateBytesPerKey: Math.round(stateBytes / open),
        limit: 'maxKeys 50,000 by default (oldest forgotten first, counted)',
        note: 'heap after GC minus heap after GC before the traps (the trap datagrams themselves excluded)',
      };
    } finally {
      await ours.close();
    }
  },
};

/** What this process has written so far (Linux /proc/self/io): through write calls, and as pages sent to storage. */
function writtenSoFar(): { calls: number; storage: number } | undefined {
  try {
    const io = fs.readFileSync('/proc/self/io', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1]);
    return { calls: field('wchar'), storage: field('write_bytes') };
  } catch {
    return undefined;
  }
}

export const stateWrites: Bench = {
  name: 'alerts-state-writes',
  description:
    'bytes alert-in writes for its state with 10,000 open conditions: per second of a steady trickle (2 traps/s, half repeats, half new, 30 s) and of bursts (10,000 traps in 5 s: repeats of 1,024 conditions; new conditions), each over 20 s; next to the traps times the bytes of one condition',
  async run() {
    if (!writtenSoFar()) return { skipped: 'needs /proc/self/io (Linux with task I/O accounting)' };
    const open = 10_000;
    const sources = 64;
    const addresses = senderAddresses(sources);
    const trickleSeconds = 30;
    const burst = { traps: 10_000, seconds: 5, window: 20 };
    // Traps 0..open-1 open the conditions; the new ones of the trickle and of the burst follow.
    const pool = trapPool(open + trickleSeconds + burst.traps, sources);
    const rinfo = addresses.map((address) => ({ address, port: 40000, family: 'IPv4', size: 0 }));
    const tally = new Tally();
    const ours = await alertIn(devicesFor(addresses), tally, true);
    const real = (ours.hub.pet as unknown as { socket: { real: EventEmitter } }).socket.real;
    const feed = (i: number) => real.emit('message', pool.datagrams[i], rinfo[pool.source[i]]);
    try {
      for (let i = 0; i < open; i++) feed(i);
      await ours.hub.saveState();
      if (ours.hub.engine.openKeys !== open) throw new Error(`${ours.hub.engine.openKeys} keys open after ${open} traps`);
      const conditionBytes = Math.round(JSON.stringify(ours.hub.engine.snapshot().keys).length / open);
      let nextNew = open;

      /** Runs `traps` in `seconds`, in steps of 100 ms, and measures writes until `window` seconds from the start. */
      const measure = async (traps: (step: number) => number[], seconds: number, window: number) => {
        const w0 = writtenSoFar()!;
        const t0 = Date.now();
        let sent = 0;
        const steps = seconds * 10;
        for (let step = 0; step < steps; step++) {
          for (const i of traps(step)) {
            feed(i);
            sent++;
          }
          await sleep(Math.max(0, t0 + (step + 1) * 100 - Date.now()));
        }
        await sleep(Math.max(0, t0 + window * 1000 - Date.now()));
        const w1 = writtenSoFar()!;
        const calls = w1.calls - w0.calls;
        const storage = w1.storage - w0.storage;
        const changed = sent * conditionBytes;
        // What is still to come after the window (the last changes, a compaction that is due).
        await ours.hub.saveState();
        const settled = writtenSoFar()!.calls - w0.calls;
        return {
          traps: sent,
          seconds: window,
          bytesPerSecond: Math.round(calls / window),
          storageBytesPerSecond: Math.round(storage / window),
          changedBytesPerSecond: Math.round(changed / window),
          writtenPerChanged: round(calls / changed, 2),
          bytesPerTrapUntilSettled: Math.round(settled / sent),
        };
      };
      // A repeat of open condition c: its trap again (a device repeating it).
      let repeat = 0;
      const trickle = await measure((step) => (step % 5 === 0 ? [step % 10 === 0 ? (repeat++ * 97) % open : nextNew++] : []), trickleSeconds, trickleSeconds);
      const perStep = burst.traps / (burst.seconds * 10);
      const burstRepeats = await measure((step) => Array.from({ length: perStep }, (_, j) => ((step * perStep + j) % 1024) * 7), burst.seconds, burst.window);
      const burstNew = await measure(() => Array.from({ length: perStep }, () => nextNew++), burst.seconds, burst.window);
      return {
        openConditions: open,
        bytesPerCondition: conditionBytes,
        trickle: { perSecond: 2, ...trickle },
        burstOfRepeats: { conditions: 1024, perSecond: burst.traps / burst.seconds, ...burstRepeats },
        burstOfNew: { perSecond: burst.traps / burst.seconds, ...burstNew },
        openConditionsAtEnd: ours.hub.engine.openKeys,
        note: 'bytesPerSecond: what this process wrote (write calls, /proc/self/io wchar) over the window, all of it for the state (traps are handed to the socket in-process); storageBytesPerSecond: pages it sent to storage (write_bytes; the file system journal comes on top); changedBytesPerSecond: traps x bytes of one condition as JSON; bytesPerTrapUntilSettled: all written from the start of the window until the state is saved (what was due after the window included, e.g. a compaction), per trap',
      };
    } finally {
      await ours.close();
    }
  },
};
