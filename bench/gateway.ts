/**
 * What the gateway costs on a Pi-class budget: the RSS and CPU of a Node-RED process with OOBKit,
 * idle and at work (250 simulated PCs polled every 10 s by the Home Assistant bridge into a
 * broker, alert-in listening for PET traps and AMT event pushes), next to a bare Node-RED process
 * started the same way in the same run. The simulated fleet and the broker run in this process, so
 * their work is not counted against the gateway.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Aedes } from 'aedes';
import { startFleet } from '../packages/sim/src';
import type { Bench } from './types';

const CHILD = path.join(__dirname, '..', '..', 'test', 'helpers', 'node-red-child.js');
const HEAP_PROBE = path.join(__dirname, 'live-heap-probe.js');
const TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s
const USER = 'admin';
const PASSWORD = 'Bench-P@ss1';

interface Sample {
  rssMiB: number;
  cpuSeconds: number;
}

function sample(pid: number): Sample {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { rssMiB: Number(rss?.[1] ?? 0) / 1024, cpuSeconds };
}

interface RedProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
}

async function startRed(flows: unknown[], credentials: Record<string, unknown>, bare: boolean): Promise<RedProcess> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-bench-gw-')), 'flows.json');
  fs.writeFileSync(file, JSON.stringify({ flows, credentials }));
  // GATEWAY_NODE_ARGS: extra Node options for the measured processes, e.g. "--cpu-prof".
  const extra = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--expose-gc', ...extra, '-r', HEAP_PROBE, CHILD], { env: { ...process.env, FLOWS_FILE: file, ...(bare ? { BARE_NODE_RED: '1' } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  // GATEWAY_OUTPUT: a file that receives what each measured process prints (with --trace-gc, say).
  if (process.env.GATEWAY_OUTPUT) child.on('exit', () => fs.appendFileSync(process.env.GATEWAY_OUTPUT!, `=== ${bare ? 'bare' : 'oobkit'} ${child.pid}\n${out}`));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Node-RED did not start in 60 s:\n${out}`)), 60000);
    child.stdout!.on('data', () => {
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`Node-RED exited with ${code}:\n${out}`)));
  });
  return { child, output: () => out };
}

interface HeapReport {
  /** The JS heap the process keeps after a full collection, in MiB. */
  liveHeapMiB: number;
  /** What V8 had committed just before that collection: young generation and old space, in MiB. */
  committedNewSpaceMiB: number;
  committedOldSpaceMiB: number;
}

async function heapReport(red: RedProcess): Promise<HeapReport> {
  const before = red.output().length;
  red.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const text = red.output().slice(before);
    const live = /LIVE_HEAP (\d+)/.exec(text);
    const spaces = /HEAP_SPACES_KIB (.*)/.exec(text);
    if (live && spaces) {
      const committed = (name: string): number => Math.round(Number(new RegExp(`${name}=(\\d+)/`).exec(spaces[1])?.[1] ?? 0) / 102.4) / 10;
      return { liveHeapMiB: Math.round((Number(live[1]) / 1048576) * 10) / 10, committedNewSpaceMiB: committed('new_space'), committedOldSpaceMiB: committed('old_space') };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the Node-RED process did not report its heap in 10 s');
}

async function stopRed({ child }: RedProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10000).unref();
  });
}

/**
 * Settle, then RSS and the CPU used over `seconds` (as a fraction of one core). RSS is the median
 * of one sample a second over the window: a single sample mostly says when V8 last collected.
 */
async function measure(red: RedProcess, settleSeconds: number, seconds: number): Promise<{ rssMiB: number; rssMaxMiB: number; rssAfterGcMiB: number; cpuOfOneCore: number } & HeapReport> {
  await new Promise((r) => setTimeout(r, settleSeconds * 1000));
  const a = sample(red.child.pid!);
  const rss: number[] = [];
  let b = a;
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    b = sample(red.child.pid!);
    rss.push(b.rssMiB);
  }
  rss.sort((x, y) => x - y);
  // After the CPU window: the forced collection is not counted as the gateway's work.
  const heap = await heapReport(red);
  const afterGc = sample(red.child.pid!).rssMiB;
  const round = (v: number): number => Math.round(v * 10) / 10;
  return { rssMiB: round(rss[Math.floor(rss.length / 2)]), rssMaxMiB: round(rss[rss.length - 1]), rssAfterGcMiB: round(afterGc), ...heap, cpuOfOneCore: Math.round(((b.cpuSeconds - a.cpuSeconds) / seconds) * 10000) / 10000 };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const gatewayCost: Bench = {
  name: 'gateway-cost',
  description: 'RSS, live JS heap and CPU of Node-RED with OOBKit, idle and polling 250 PCs every 10 s (HA bridge + alert-in), vs bare Node-RED',
  async run() {
    const devices = 250;
    const windowSeconds = 40;
    // Every process is measured after the same time since its start, in its steady state: the
    // start (Node-RED loading, first contact and discovery of 250 PCs) grows V8's young generation
    // to its maximum and leaves garbage in the old one, which V8 gives back only when its memory
    // reducer runs: once it finds the allocation rate low (30 s to over 100 s after the start
    // here), at the latest by its watchdog, 100 s after the last full collection. A gateway runs
    // for months; what it keeps after that is its cost.
    const settleSeconds = Number(process.env.GATEWAY_SETTLE_SECONDS) || 110;
    const fleet = await startFleet({ devices, port: 0, user: USER, password: PASSWORD });
    const broker = await Aedes.createBroker();
    const mqttServer = net.createServer(broker.handle);
    await new Promise<void>((r) => mqttServer.listen(0, '127.0.0.1', () => r()));
    const mqttPort = (mqttServer.address() as net.AddressInfo).port;
    // GATEWAY_ONLY=polling: the polling gateway alone (for profiling it); the comparisons read 0.
    const pollingOnly = process.env.GATEWAY_ONLY === 'polling';
    try {
      const measureAlone = async (flows: unknown[], bare: boolean) => {
        const red = await startRed(flows, {}, bare);
        const cost = await measure(red, settleSeconds, windowSeconds);
        await stopRed(red);
        return cost;
      };
      const none = { rssMiB: 0, rssMaxMiB: 0, rssAfterGcMiB: 0, liveHeapMiB: 0, committedNewSpaceMiB: 0, committedOldSpaceMiB: 0, cpuOfOneCore: 0 };
      const bareCost = pollingOnly ? none : await measureAlone([], true);
      const idleCost = pollingOnly ? none : await measureAlone([], false);

      const credentials: Record<string, unknown> = {};
      const flows: Array<Record<string, unknown>> = [{ id: 'gw-tab', type: 'tab', label: 'gateway' }];
      fleet.devices.forEach((d, i) => {
        const id = `gw-dev-${i}`;
        flows.push({ id, type: 'oob-device', name: d.name, host: '127.0.0.1', mac: d.mac, site: 'bench', amtPort: d.port, amtTls: false, fingerprint: '', tofu: false, timeout: 10 });
        credentials[id] = { username: USER, password: PASSWORD };
      });
      flows.push(
        { id: 'gw-broker', type: 'mqtt-broker', name: 'central', broker: '127.0.0.1', port: String(mqttPort), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
        { id: 'gw-ha', type: 'oob-ha', z: 'gw-tab', broker: 'gw-broker', site: 'bench', base: 'oobkit', prefix: 'homeassistant', mode: 'entity', scope: 'all', devices: [], poll: 10, offAction: 'auto', approval: false, approvalTimeout: 30, wires: [[], []] },
        {
          id: 'gw-alerts',
          type: 'oob-alert-in',
          z: 'gw-tab',
          name: 'alerts',
          devices: '',
          site: '',
          pet: true,
          petPort: await freePort(),
          petAddress: '127.0.0.1',
          communities: 'public',
          allow: '127.0.0.1',
          wsevent: true,
          eventPort: await freePort(),
          eventAddress: '127.0.0.1',
          publicUrl: '',
          eventAuth: 'digest',
          eventlog: false,
          heartbeat: false,
          shape: 'alert',
          outputNames: 'alerts',
          rules: '[]',
          defaultOutput: 1,
          dedupSeconds: 300,
          maintenance: '[]',
          outputs: 1,
          wires: [[]],
        },
      );
      const busy = await startRed(flows, credentials, false);
      // Two poll rounds to warm up (first contact, discovery), then the window.
      const busyCost = await measure(busy, settleSeconds, windowSeconds);
      await stopRed(busy);
      const requestsPerSecond = devices / 10;
      return {
        devices,
        pollSeconds: 10,
        bareNodeRed: bareCost,
        oobkitIdle: idleCost,
        oobkitPolling: busyCost,
        idleRssOverBareMiB: Math.round((idleCost.rssMiB - bareCost.rssMiB) * 10) / 10,
        pollingRssOverBareMiB: Math.round((busyCost.rssMiB - bareCost.rssMiB) * 10) / 10,
        pollingRssAfterGcOverBareMiB: Math.round((busyCost.rssAfterGcMiB - bareCost.rssAfterGcMiB) * 10) / 10,
        pollingLiveHeapOverBareMiB: Math.round((busyCost.liveHeapMiB - bareCost.liveHeapMiB) * 10) / 10,
        pollingCpuOverBare: Math.round((busyCost.cpuOfOneCore - bareCost.cpuOfOneCore) * 10000) / 10000,
        cpuMicrosecondsPerPoll: Math.round(((busyCost.cpuOfOneCore - bareCost.cpuOfOneCore) / requestsPerSecond) * 1e6),
        goals: { rssOverBareMiB: 20, cpuOfOneCore: 0.02, cpuOfOneCorePi: 0.05 },
      };
    } finally {
      mqttServer.close();
      await new Promise<void>((r) => broker.close(() => r()));
      await fleet.stop();
    }
  },
};
