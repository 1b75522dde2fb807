/**
 * SnapshotLog's durability settings, watched at the file system: which writes are synced to
 * storage (fdatasync) before a change counts as written, and a disk that refuses a write.
 */
import type * as fsType from 'node:fs';

/** Calls of fdatasync (by file descriptor), and a write(2) made to fail. */
const disk = { syncs: [] as number[], failWrites: false };

jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof fsType>('node:fs');
  return {
    ...real,
    fdatasync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => real.fdatasync(fd, (e) => (disk.syncs.push(fd), cb(e))),
    writeSync: (...args: Parameters<typeof real.writeSync>) => {
      if (disk.failWrites) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real.writeSync(...args);
    },
  };
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { snapshotLogOwner } from '../../test/helpers/snapshot-log-owner';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nextTurn = () => new Promise((r) => setImmediate(r));

/** The state's owner; every change urgent (someone waits for it to be written). */
function owner(dir: string, o: Parameters<typeof snapshotLogOwner>[1] = {}) {
  const a = snapshotLogOwner(dir, { minIntervalMs: 60_000, ...o });
  return { ...a, set: (k: string, v: string) => a.set(k, v, true) };
}

describe('SnapshotLog durability', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-durability-'));
    disk.syncs.length = 0;
    disk.failWrites = false;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("'power-loss': a change counts as written only after the log was synced to storage", async () => {
    const syncsWhenWritten: number[] = [];
    const a = owner(dir, { durability: 'power-loss', onWritten: () => syncsWhenWritten.push(disk.syncs.length) });
    a.set('k1', 'one');
    for (let i = 0; i < 200 && syncsWhenWritten.length === 0; i++) await wait(5);
    expect(syncsWhenWritten).toEqual([1]);
    a.set('k2', 'two');
    for (let i = 0; i < 200 && syncsWhenWritten.length === 1; i++) await wait(5);
    expect(syncsWhenWritten).toEqual([1, 2]);
    await a.store.close();
  });

  it("'process-crash': in the log file at once (one append per turn of the event loop), synced to storage in the background after", async () => {
    const seen: Array<{ text: string; syncs: number }> = [];
    const a = owner(dir, { durability: 'process-crash', syncIntervalMs: 200, onWritten: () => seen.push({ text: fs.readFileSync(path.join(dir, 'state.changes'), 'utf8'), syncs: disk.syncs.length }) });
    a.set('k1', 'first');
    a.set('k2', 'second');
    expect(seen).toEqual([]);
    await nextTurn();
    // Both in one append, readable by another process, before anything was synced.
    expect(seen).toHaveLength(1);
    expect(seen[0].text).toContain('"k":"k1","v":"first"');
    expect(seen[0].text).toContain('"k":"k2","v":"second"');
    expect(seen[0].syncs).toBe(0);
    expect(a.store.stats.appends).toBe(1);
    // The sync follows on its own.
    for (let i = 0; i < 200 && disk.syncs.length === 0; i++) await wait(5);
    expect(disk.syncs.length).toBe(1);
    // The next change within the interval is written at once too; its sync waits for the interval.
    a.set('k3', 'third');
    await nextTurn();
    expect(seen).toHaveLength(2);
    expect(disk.syncs.length).toBe(1);
    for (let i = 0; i < 200 && disk.syncs.length === 1; i++) await wait(5);
    expect(disk.syncs.length).toBe(2);
    // A flush (save, close) returns once what was appended is synced.
    a.set('k4', 'fourth');
    await a.store.flush();
    expect(disk.syncs.length).toBe(3);
    await a.store.close();
    expect(owner(dir).items).toEqual(new Map([['k1', 'first'], ['k2', 'second'], ['k3', 'third'], ['k4', 'fourth']]));
  });

  it("'process-crash': a refused append is reported, leaves no half line, and the next write is a whole snapshot with the change", async () => {
    const errors: string[] = [];
    const written: Array<string | undefined> = [];
    const a = owner(dir, { durability: 'process-crash', onError: (e) => errors.push(e.message), onWritten: (e) => written.push(e?.message) });
    a.set('k1', 'one');
    await nextTurn();
    disk.failWrites = true;
    a.set('k2', 'two');
    await nextTurn();
    disk.failWrites = false;
    expect(errors).toEqual([expect.stringMatching(/ENOSPC/)]);
    // Whoever waited is told: written, with the error.
    expect(written).toEqual([undefined, expect.stringMatching(/ENOSPC/)]);
    expect(owner(dir).problems).toEqual([]);
    await a.store.close();
    expect(a.store.stats.compactions).toBe(1);
    expect(owner(dir).items).toEqual(new Map([['k1', 'one'], ['k2', 'two']]));
  });
});
