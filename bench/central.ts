/**
 * The MSP's central console at scale: sites x PCs behind one Mosquitto, each site's gateway a
 * RemoteResponder (in child processes, one per core), the centre in this process. The same power reads
 * made locally (this process straight to the simulated PCs) are the peer; a bare broker round
 * trip is measured in the same run. Goal from the plan: remote <= 1.5 x local + one broker round trip.
 */
import { ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { closeAllAmt } from '../lib/amt/connect';
import { driverFor, DeviceDriver } from '../lib/drivers';
import { generateKeyPairText, parsePrivateKey, parsePublicKey, RemoteCentre } from '../lib/remote';
import { Consumer, startMosquitto } from '../test/helpers/mqtt';
import type { Bench } from './types';
import { PASSWORD, round, rssOf, startSimProcess, USER } from './wsman';

const SITES = Number(process.env.CENTRAL_SITES ?? 50);
const PCS = Number(process.env.CENTRAL_PCS ?? 20);
const LATENCY_MS = 20;
/**
 * Each site is a machine of its own in reality; here the gateways run in one process per core
 * (more would only queue for the same cores), each process serving its share of the sites.
 */
const GATEWAY_PROCESSES = Math.max(1, Math.min(SITES, Number(process.env.CENTRAL_GATEWAY_PROCESSES ?? os.cpus().length)));
/**
 * Each site's gateway has the WS-Man fleet limit of its own (50 exchanges at once) on its machine;
 * CENTRAL_LIMIT_PER_SITE=0 makes every site in a process share one, as if one gateway served them all.
 */
const LIMIT_PER_SITE = process.env.CENTRAL_LIMIT_PER_SITE !== '0';
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these. */
const CLOCK_TICKS = 100;

/** Measured passes of each kind (after a cold one); the median is reported, so a burst of load elsewhere on the machine moves it less. */
const PASSES = 3;

async function repeat(n: number, pass: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await pass());
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function startGateways(config: object): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, path.join(__dirname, 'central-gateways-child.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.end(JSON.stringify(config));
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && resolve(child));
    child.once('exit', (code) => reject(new Error(`gateways exited with ${code}`)));
  });
}

/** CPU time (user + system) a process has used so far, from /proc (Linux), in ms. */
function cpuMsOf(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Median of a few publish-to-receive round trips through the broker, with nothing else on it. */
async function brokerRoundTripMs(url: string): Promise<number> {
  const c = await Consumer.connect(url, ['bench/ping']);
  (c.client.stream as Partial<Socket>).setNoDelay?.(true);
  try {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await c.publish('bench/ping', String(i));
      await c.waitFor(() => c.latest.get('bench/ping')?.payload === String(i), 5000, 'ping');
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    await c.end();
  }
}

export const centralPowerRead: Bench = {
  name: 'central-power-read',
  description: `power read of ${SITES} sites x ${PCS} PCs through their gateways and one Mosquitto (signed commands) vs the same reads made locally; command round trip p99; the centre's RSS`,
  async run() {
    const devices = SITES * PCS;
    // As the README advises for the central console: without it Mosquitto holds small packets for
    // the peer's delayed ACK, and every command waits ~40 ms more.
    const broker = await startMosquitto({ noDelay: true });
    const sim = await startSimProcess(devices, LATENCY_MS);
    const centreKeys = generateKeyPairText();
    const siteKeys = Array.from({ length: SITES }, () => generateKeyPairText());
    const sites = siteKeys.map((k, i) => ({ site: `site-${i + 1}`, siteKey: k.privateKey, ports: sim.ports.slice(i * PCS, (i + 1) * PCS) }));
    const pinned = new Map(sites.map((s, i) => [s.site, parsePublicKey(siteKeys[i].publicKey)]));
    const gateways: ChildProcess[] = [];
    const centre = new RemoteCentre({
      url: broker.url,
      base: 'oobkit',
      centre: 'bench',
      centreKey: parsePrivateKey(centreKeys.privateKey),
      siteKeys: (s) => pinned.get(s),
      timeoutMs: 120_000,
    });
    try {
      const shares = Array.from({ length: GATEWAY_PROCESSES }, (_x, g) => sites.filter((_s, i) => i % GATEWAY_PROCESSES === g));
      const started = shares.map((share) => startGateways({ url: broker.url, base: 'oobkit', centreKey: centreKeys.publicKey, user: USER, password: PASSWORD, sites: share, limitPerSite: LIMIT_PER_SITE }));
      for (const g of await Promise.allSettled(started)) if (g.status === 'fulfilled') gateways.push(g.value);
      await Promise.all(started);
      await centre.whenReady();
      const rttMs = await brokerRoundTripMs(broker.url);
      let local: DeviceDriver[] | undefined;

      const localPass = async () => {
        local ??= sim.ports.map((port) => driverFor({ host: '127.0.0.1', amt: { host: '127.0.0.1', port, tls: false, username: USER, password: PASSWORD, timeoutMs: 30_000 } }));
        const t0 = performance.now();
        const states = await Promise.all(local.map((d) => d.readPower({ osPowerSaving: false })));
        if (states.some((s) => s.state !== 'on')) throw new Error('a simulated PC did not read as on');
        return performance.now() - t0;
      };
      const targets = sites.flatMap((s) => s.ports.map((_p, i) => ({ site: s.site, device: `pc-${i + 1}` })));
      const remotePass = async (times?: number[]) => {
        const t0 = performance.now();
        const states = await Promise.all(
          targets.map(async (t) => {
            const s0 = performance.now();
            const r = (await centre.request(t.site, t.device, 'readPower', { osPowerSaving: false })) as { state: string };
            times?.push(performance.now() - s0);
            return r;
          }),
        );
        if (states.some((s) => s.state !== 'on')) throw new Error('a remote PC did not read as on');
        return performance.now() - t0;
      };
      await remotePass(); // cold at the gateways
      const times: number[] = [];
      // CPU of each party during the measured pass, per command.
      const cpuNow = () => ({
        centre: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
        gateways: gateways.reduce((sum, g) => sum + cpuMsOf(g.pid), 0),
        broker: cpuMsOf(broker.pid),
        simulator: cpuMsOf(sim.child.pid),
      });
      const cpu0 = cpuNow();
      const m0 = process.hrtime.bigint() / 1000n;
      const remoteMs = median(await repeat(PASSES, () => remotePass(times)));
      // For cutting --cpu-prof profiles (the gateways' children inherit the flag) to this pass.
      if (process.env.CENTRAL_MARKS) console.error(`MARK remote ${m0} ${process.hrtime.bigint() / 1000n}`);
      const cpu1 = cpuNow();
      const cpuPerCommandUs = Object.fromEntries(Object.entries(cpu1).map(([k, v]) => [k, Math.round(((v - cpu0[k as keyof typeof cpu0]) * 1000) / (PASSES * targets.length))]));
      times.sort((a, b) => a - b);
      // One command at a time: the round trip a person waits for.
      const single: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = targets[i % targets.length];
        const s0 = performance.now();
        await centre.request(t.site, t.device, 'readPower', { osPowerSaving: false });
        single.push(performance.now() - s0);
      }
      single.sort((a, b) => a - b);
      // Before the local reads, whose 1,000 clients would count in this process's RSS too.
      const centreRssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
      await localPass(); // cold: Digest challenges
      const local0 = cpuNow();
      const localMs = median(await repeat(PASSES, localPass));
      const local1 = cpuNow();
      const localCpuPerReadUs = {
        centre: Math.round(((local1.centre - local0.centre) * 1000) / (PASSES * devices)),
        simulator: Math.round(((local1.simulator - local0.simulator) * 1000) / (PASSES * devices)),
      };
      for (const d of local ?? []) d.close();
      closeAllAmt();
      const budget = 1.5 * localMs + rttMs;
      return {
        sites: SITES,
        pcsPerSite: PCS,
        passes: PASSES,
        latencyMs: LATENCY_MS,
        localMs: Math.round(localMs),
        remoteMs: Math.round(remoteMs),
        brokerRoundTripMs: round(rttMs, 2),
        ratioToBudget: round(remoteMs / budget, 3),
        goal: 'remote <= 1.5 x local + one broker round trip (ratioToBudget <= 1)',
        underLoadP50Ms: round(percentile(times, 50), 1),
        underLoadP99Ms: round(percentile(times, 99), 1),
        singleP50Ms: round(percentile(single, 50), 1),
        singleP99Ms: round(percentile(single, 99), 1),
        singleOverDeviceLatency: round(percentile(single, 50) / LATENCY_MS, 2),
        centreRssMiB,
        gatewayProcesses: gateways.length,
        limitPerSite: LIMIT_PER_SITE,
        gatewaysRssMiB: gateways.reduce((sum, g) => sum + (g.pid ? (rssOf(g.pid) ?? 0) : 0), 0),
        cpuPerCommandUs,
        localCpuPerReadUs,
        loadAverage: os.loadavg().map((l) => round(l, 2)),
      };
    } finally {
      await centre.close();
      for (const g of gateways) g.kill('SIGTERM');
      sim.child.kill('SIGTERM');
      await broker.stop();
    }
  },
};
