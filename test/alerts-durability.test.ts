/**
 * alert-in's durability setting, seen from its output: when a new condition is emitted, it is
 * already in the state log, and with 'power-loss' also synced to storage (fdatasync) first. The
 * default, 'process-crash', is what the kill -9 property test (alerts-crash.test.ts) runs.
 */
import type * as fsType from 'node:fs';

/** Completed fdatasync calls, counted where lib's files call them. */
const disk = { syncs: 0 };

jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof fsType>('node:fs');
  return { ...real, fdatasync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => real.fdatasync(fd, (e) => (disk.syncs++, cb(e))) };
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeAlert } from '../lib/alerts/alert';
import { AlertHub } from '../lib/alerts/hub';
import { Policy } from '../lib/alerts/policy';
import type { Durability } from '../lib/util/snapshot-log';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  key: string;
  syncsBefore: number;
  syncsAtEmit: number;
  inLog: boolean;
}

async function run(dir: string, durability: Durability | undefined): Promise<{ seen: Seen[]; hub: AlertHub }> {
  const seen: Seen[] = [];
  const syncsAt = new Map<string, number>();
  const log = path.join(dir, 'alert-in-d.changes');
  const hub = new AlertHub({
    id: 'd',
    stateDir: dir,
    devices: [],
    policy: new Policy({ rateLimitPerKey: undefined, rateLimitGlobal: undefined }),
    durability,
    emit: ({ alert }) =>
      seen.push({ key: alert.dedupKey, syncsBefore: syncsAt.get(alert.dedupKey)!, syncsAtEmit: disk.syncs, inLog: fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes(JSON.stringify(alert.dedupKey)) }),
  });
  await hub.start();
  // Three bursts of new conditions, and repeats of them.
  for (let burst = 0; burst < 3; burst++) {
    for (let i = 0; i < 5; i++) {
      const a = makeAlert({ device: { name: `pc-${i}` }, source: 'pet', kind: 'fan-failure', severity: 'major', summary: `fan ${burst}`, qualifier: `s${burst}` });
      syncsAt.set(a.dedupKey, disk.syncs);
      hub.process(a);
      hub.process({ ...a, id: `${a.id}-again` });
    }
    for (let t = 0; t < 400 && seen.length < (burst + 1) * 5; t++) await wait(5);
  }
  return { seen, hub };
}

describe('alert-in durability', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-durability-'));
    disk.syncs = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("'power-loss': every new condition is in the state log and synced to storage before it is emitted", async () => {
    const { seen, hub } = await run(dir, 'power-loss');
    expect(seen).toHaveLength(15);
    for (const s of seen) {
      expect(s.inLog).toBe(true);
      expect(s.syncsAtEmit).toBeGreaterThan(s.syncsBefore);
    }
    await hub.close();
  });

  it("'process-crash' (the default): every new condition is in the state log file before it is emitted, without waiting for storage; synced soon after", async () => {
    const { seen, hub } = await run(dir, undefined);
    expect(seen).toHaveLength(15);
    for (const s of seen) expect(s.inLog).toBe(true);
    // The first burst went out before any sync had completed: nothing waited for the disk.
    expect(seen.slice(0, 5).map((s) => s.syncsAtEmit)).toEqual([0, 0, 0, 0, 0]);
    for (let t = 0; t < 400 && disk.syncs === 0; t++) await wait(5);
    expect(disk.syncs).toBeGreaterThan(0);
    await hub.close();
    // Closed: all of it on disk, and the restart knows every condition is open.
    const again = new AlertHub({ id: 'd', stateDir: dir, devices: [], policy: new Policy(), emit: () => undefined });
    expect(again.engine.openKeys).toBe(15);
    await again.close();
  });
});
