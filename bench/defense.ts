/**
 * System Defense benchmark: isolating a fleet and releasing it again.
 *
 * Each isolate and release is a chain of WS-Man round trips to one PC (reads, then one Create or
 * Delete per filter, policy and binding), and chains to different PCs run side by side. The limit
 * is therefore round trips per PC x the device's latency; this measures the time against that,
 * with the round trips counted on an in-process simulated PC in the same run.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { openAmt } from '../lib/amt/connect';
import { applyTemplate, releaseTemplate } from '../lib/amt/defense';
import { startFleet } from '../packages/sim/src';
import type { Bench } from './types';

const USER = 'admin';
const PASSWORD = 'Bench-P@ss1';
const ISOLATE = { managementHosts: ['192.0.2.10', '198.51.100.0/24'] };

function simProcess(devices: number, latencyMs: number): Promise<{ child: ChildProcess; ports: number[] }> {
  return new Promise((resolve, reject) => {
    const cli = path.join(__dirname, '..', 'packages', 'sim', 'src', 'cli.js');
    const child = spawn(process.execPath, [cli, '--devices', String(devices), '--port', '0', '--user', USER, '--password', PASSWORD, '--latency', String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ports: number[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        ports.push((JSON.parse(line) as { port: number }).port);
        if (ports.length === devices) resolve({ child, ports });
      } catch {
        /* not a device line */
      }
    });
    child.once('exit', (code) => reject(new Error(`oob-sim exited with ${code}`)));
  });
}

/** Round trips one isolate and one release cost, counted on a simulated PC (after the Digest handshake). */
async function roundTrips(): Promise<{ isolate: number; release: number }> {
  const fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'bench-defense' });
  const d = fleet.devices[0];
  const c = openAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
  try {
    await c.get('AMT_GeneralSettings');
    let n = 0;
    d.on('request', () => n++);
    await applyTemplate(c, 'isolate', ISOLATE);
    const isolate = n;
    n = 0;
    await releaseTemplate(c);
    return { isolate, release: n };
  } finally {
    c.close();
    await fleet.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export const fleetIsolate: Bench = {
  name: 'defense-fleet-isolate',
  description: 'isolate 50 simulated PCs (50 ms latency each) at once and release them, vs round trips per PC x latency',
  async run() {
    const devices = 50;
    const latencyMs = 50;
    const rounds = 3;
    const trips = await roundTrips();
    const sim = await simProcess(devices, latencyMs);
    const clients = sim.ports.map((port) => openAmt({ host: '127.0.0.1', port, username: USER, password: PASSWORD, timeoutMs: 30000 }));
    try {
      // Warm the Digest sessions so every round measures the same round trips.
      await Promise.all(clients.map((c) => c.get('AMT_GeneralSettings')));
      const isolateMs: number[] = [];
      const releaseMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        let t0 = Date.now();
        const applied = await Promise.all(clients.map((c) => applyTemplate(c, 'isolate', ISOLATE)));
        isolateMs.push(Date.now() - t0);
        if (!applied.every((a) => a.changed)) throw new Error('a PC was not isolated');
        t0 = Date.now();
        await Promise.all(clients.map((c) => releaseTemplate(c)));
        releaseMs.push(Date.now() - t0);
      }
      const idealIsolate = trips.isolate * latencyMs;
      const idealRelease = trips.release * latencyMs;
      return {
        devices,
        latencyMs,
        rounds,
        roundTripsPerIsolate: trips.isolate,
        roundTripsPerRelease: trips.release,
        isolateMs: median(isolateMs),
        idealIsolateMs: idealIsolate,
        isolateRatioToIdeal: round(median(isolateMs) / idealIsolate),
        releaseMs: median(releaseMs),
        idealReleaseMs: idealRelease,
        releaseRatioToIdeal: round(median(releaseMs) / idealRelease),
        goal: '<= 1.25',
      };
    } finally {
      for (const c of clients) c.close();
      sim.child.kill('SIGTERM');
    }
  },
};
