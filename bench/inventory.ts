/**
 * Inventory benchmark (issue: inventory and audit log): reading the whole inventory of 100
 * simulated PCs (20 ms latency per answer, in their own process) against the ideal: every PC
 * needs 19 requests, one after the other, and at most `concurrency` requests are in flight
 * across the fleet, so the ideal is ceil(devices x 19 / concurrency) x latency. Warm reads only
 * (the Digest challenge of the first read is not part of an inventory's cost).
 */
import { openAmt } from '../lib/amt/connect';
import { readInventory } from '../lib/amt/inventory';
import { fleetLimiter } from '../lib/wsman/client';
import type { Bench } from './types';
import { round, startSimProcess } from './wsman';

const USER = 'admin';
const PASSWORD = 'Bench-P@ss1';
const REQUESTS_PER_INVENTORY = 19;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const fleetInventory: Bench = {
  name: 'fleet-inventory',
  description: 'full inventory of 100 simulated PCs (20 ms latency each) vs the ideal ceil(devices x 19 requests / concurrency) x latency',
  async run() {
    const devices = 100;
    const latencyMs = 20;
    const concurrency = 50;
    const rounds = 3;
    fleetLimiter.setLimit(concurrency);
    const sim = await startSimProcess(devices, latencyMs);
    const clients = sim.ports.map((port) => openAmt({ host: '127.0.0.1', port, username: USER, password: PASSWORD, timeoutMs: 30000 }));
    try {
      const pass = async () => {
        const t0 = Date.now();
        const all = await Promise.all(clients.map((c) => readInventory(c)));
        if (all.some((i) => i.partial || i.storage.length !== 2)) throw new Error('an inventory came back partial');
        return Date.now() - t0;
      };
      await pass(); // cold: Digest challenges
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) times.push(await pass());
      const ideal = Math.ceil((devices * REQUESTS_PER_INVENTORY) / concurrency) * latencyMs;
      // One PC alone: 19 round trips back to back.
      const single: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = Date.now();
        await readInventory(clients[0]);
        single.push(Date.now() - t0);
      }
      const singleIdeal = REQUESTS_PER_INVENTORY * latencyMs;
      return {
        devices,
        latencyMs,
        concurrency,
        requestsPerInventory: REQUESTS_PER_INVENTORY,
        idealMs: ideal,
        fleetMs: median(times),
        fleetRatioToIdeal: round(median(times) / ideal, 3),
        singleIdealMs: singleIdeal,
        singleMs: median(single),
        singleRatioToIdeal: round(median(single) / singleIdeal, 3),
        goal: '<= 1.25',
      };
    } finally {
      for (const c of clients) c.close();
      sim.child.kill('SIGTERM');
      fleetLimiter.setLimit(50);
    }
  },
};
