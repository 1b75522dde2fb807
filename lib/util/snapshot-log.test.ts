import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { frameRecord } from './record-log';
import { snapshotLogOwner } from '../../test/helpers/snapshot-log-owner';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const owner = snapshotLogOwner;

describe('SnapshotLog', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-snaplog-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('appends what changed in the background, coalescing changes, and a flush after a write in progress leaves the newest', async () => {
    const a = owner(path.join(dir, 'sub'));
    for (let n = 1; n <= 5; n++) a.set('n', String(n));
    a.set('gone', 'x');
    a.set('gone', null);
    expect(fs.existsSync(path.join(dir, 'sub', 'state.changes'))).toBe(false);
    for (let i = 0; i < 100 && a.store.stats.appends === 0; i++) await wait(10);
    expect(a.store.stats.appends).toBe(1);
    expect(owner(path.join(dir, 'sub')).items).toEqual(new Map([['n', '5']]));
    expect(fs.statSync(path.join(dir, 'sub', 'state.changes')).mode & 0o777).toBe(0o600);
    // A write starts; before it has finished, a newer state is flushed: the newer one stays.
    a.set('n', '6');
    await wait(55);
    a.set('n', '7');
    await a.store.flush();
    expect(owner(path.join(dir, 'sub')).items.get('n')).toBe('7');
    await wait(150);
    expect(owner(path.join(dir, 'sub')).items.get('n')).toBe('7');
    await a.store.close();
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['state.changes']);
  });

  it('appends only what changed: one change to a big state writes that entry, not the state', async () => {
    const a = owner(dir, { minCompactBytes: 1024 });
    for (let i = 0; i < 2000; i++) a.set(`pc-${i}/pet/fan-failure`, `open since ${i}`.padEnd(100, '.'));
    // The log outgrew its floor: the flush folds it into a snapshot.
    await a.store.flush();
    expect(a.store.stats.compactions).toBe(1);
    const snapshotBytes = fs.statSync(path.join(dir, 'state.json')).size;
    expect(snapshotBytes).toBeGreaterThan(200_000);
    const before = a.store.stats.bytesWritten;
    a.set('pc-7/pet/fan-failure', 'repeated');
    await a.store.flush();
    expect(a.store.stats.bytesWritten - before).toBeLessThan(200);
    await a.store.close();
    const b = owner(dir);
    expect(b.items.size).toBe(2000);
    expect(b.items.get('pc-7/pet/fan-failure')).toBe('repeated');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).logGeneration).toBe(1);
  });

  it('compacts when the log outgrows the snapshot: all written stays within about twice what changed', async () => {
    const a = owner(dir, { minCompactBytes: 4096 });
    let changedBytes = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 50; i++) {
        const v = `round ${round}`.padEnd(60, '.');
        a.set(`key-${i}`, v);
        changedBytes += frameRecord({ k: `key-${i}`, v }).length;
      }
      await a.store.flush();
    }
    await a.store.close();
    expect(a.store.stats.compactions).toBeGreaterThan(3);
    expect(a.store.stats.bytesWritten).toBeLessThan(2.5 * changedBytes);
    expect(owner(dir).items).toEqual(a.items);
  });

  it('a log left from before the newest snapshot (a crash between the two) is not replayed over it', async () => {
    const a = owner(dir, { minCompactBytes: 200 });
    a.set('x', 'old');
    await a.store.flush();
    expect(a.store.stats.compactions).toBe(0);
    const staleLog = fs.readFileSync(path.join(dir, 'state.changes'));
    // The log outgrows 200 bytes: the flush compacts it into a snapshot of generation 1 and a new log.
    a.set('x', 'new');
    a.set('y', 'kept'.padEnd(300, '.'));
    await a.store.flush();
    expect(a.store.stats.compactions).toBe(1);
    await a.store.close();
    // The crash: the new snapshot is there, its log never started; the old log says x = old.
    fs.writeFileSync(path.join(dir, 'state.changes'), staleLog);
    const b = owner(dir);
    expect(b.items).toEqual(new Map([['x', 'new'], ['y', 'kept'.padEnd(300, '.')]]));
    // Not replayed, and not silently: the person reading the log learns what was left out.
    expect(b.problems).toEqual([expect.stringMatching(/state\.changes follows snapshot 0, not 1 .*: its 1 change\(s\) are not replayed/)]);
  });

  it('a lost snapshot is reported, and the changes of its log are still used', async () => {
    const a = owner(dir, { minCompactBytes: 200 });
    a.set('x', 'in the snapshot'.padEnd(300, '.'));
    await a.store.flush();
    await a.store.flush();
    expect(a.store.stats.compactions).toBe(1);
    a.set('y', 'in the log');
    await a.store.close();
    fs.rmSync(path.join(dir, 'state.json'));
    const b = owner(dir);
    expect(b.items).toEqual(new Map([['y', 'in the log']]));
    expect(b.problems).toEqual([expect.stringMatching(/state\.json is missing but .*state\.changes follows snapshot 1: the state is rebuilt from the 1 change\(s\) in the log alone/)]);
    // And a new snapshot is written at once, so the next start finds both again.
    await b.store.close();
    const c = owner(dir);
    expect(c.items).toEqual(new Map([['y', 'in the log']]));
    expect(c.problems).toEqual([]);
  });

  it('an urgent change is written at once, and a compaction due for size waits while urgent changes come (up to 4x the log size)', async () => {
    const a = owner(dir, { minCompactBytes: 1000, minIntervalMs: 60_000 });
    let n = 0;
    // Each urgent change is on disk well before the minute-long interval.
    for (let i = 0; i < 40; i++) {
      a.set(`k${i}`, 'x'.repeat(120));
      a.store.changed(true);
      for (let t = 0; t < 100 && a.store.stats.appends + a.store.stats.compactions === n; t++) await wait(5);
      n = a.store.stats.appends + a.store.stats.compactions;
    }
    expect(a.store.stats.appends + a.store.stats.compactions).toBe(40);
    // 40 records of ~140 bytes outgrew 1,000 bytes early on; the compaction came only past 4,000.
    expect(a.store.stats.compactions).toBe(1);
    // And when nobody waits any more, it is done.
    await a.store.close();
    const b = owner(dir);
    expect(b.items.size).toBe(40);
    expect(b.problems).toEqual([]);
  });

  it('removes the temporary files a crash left behind, and says so', async () => {
    fs.writeFileSync(path.join(dir, 'state.json.12345.tmp'), '{"items":{"half');
    fs.writeFileSync(path.join(dir, 'state.changes.999.tmp'), 'x');
    fs.writeFileSync(path.join(dir, 'other.json.1.tmp'), 'not ours');
    const a = owner(dir);
    expect(a.problems).toEqual([expect.stringMatching(/removed 1 temporary file\(s\).*state\.json\.12345\.tmp/), expect.stringMatching(/state\.changes\.999\.tmp/)]);
    expect(fs.readdirSync(dir).sort()).toEqual(['other.json.1.tmp']);
    await a.store.close();
  });

  it('one append is one line however many changes it holds; a log of one line per change (as written before) reads the same, also with appends after it', async () => {
    const a = owner(dir);
    a.set('a', '1');
    a.set('b', '2');
    a.set('c', '3');
    await a.store.close();
    const lines = fs.readFileSync(path.join(dir, 'state.changes'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\{"batch":\[\{"k":"a","v":"1"\},\{"k":"b","v":"2"\},\{"k":"c","v":"3"\}\]\}\t[0-9a-f]{8}$/);
    // The same changes as an earlier version wrote them, a line each; then new appends after them.
    fs.writeFileSync(path.join(dir, 'state.changes'), Buffer.concat([lines[0], ...[{ k: 'a', v: '1' }, { k: 'b', v: '2' }, { k: 'a', v: null }]].map((r) => (typeof r === 'string' ? Buffer.from(`${r}\n`) : frameRecord(r)))));
    const b = owner(dir);
    expect(b.problems).toEqual([]);
    expect(b.items).toEqual(new Map([['b', '2']]));
    b.set('d', '4');
    b.set('e', '5');
    await b.store.close();
    const c = owner(dir);
    expect(c.items).toEqual(new Map([['b', '2'], ['d', '4'], ['e', '5']]));
    await c.store.close();
  });

  it('ignores a torn or damaged end of the log, says so, and what is appended afterwards reads back', async () => {
    const a = owner(dir);
    a.set('a', '1');
    a.set('b', '2');
    await a.store.close();
    const log = path.join(dir, 'state.changes');
    // A crash mid-append: a record cut short; and one whose bytes changed on disk.
    const damaged = Buffer.from(frameRecord({ k: 'a', v: '3' }));
    damaged[damaged.indexOf('3')] = 0x34;
    fs.appendFileSync(log, Buffer.concat([damaged, frameRecord({ k: 'c', v: '4' }), frameRecord({ k: 'b', v: 'x' }).subarray(0, 7)]));
    const b = owner(dir);
    expect(b.items).toEqual(new Map([['a', '1'], ['b', '2']]));
    expect(b.problems).toEqual([expect.stringMatching(/ignored the last \d+ bytes of .*state\.changes/)]);
    b.set('d', '5');
    await b.store.close();
    const c = owner(dir);
    expect(c.items).toEqual(new Map([['a', '1'], ['b', '2'], ['d', '5']]));
    expect(c.problems).toEqual([]);
  });

  it('sets a snapshot it cannot read aside, keeps the logged changes, and writes a new snapshot', async () => {
    const a = owner(dir, { minCompactBytes: 100 });
    a.set('a', '1'.repeat(200));
    await a.store.flush();
    a.set('b', '2');
    await a.store.close();
    expect(a.store.stats.compactions).toBe(1);
    fs.writeFileSync(path.join(dir, 'state.json'), '{"items": {"a": ');
    const b = owner(dir);
    expect(b.problems).toEqual([expect.stringMatching(/state\.json is not a state file .*set aside as .*state\.json\.corrupt-\d+/)]);
    expect(b.items).toEqual(new Map([['b', '2']]));
    await b.store.close();
    expect(b.store.stats.compactions).toBe(1);
    expect(owner(dir).items).toEqual(new Map([['b', '2']]));
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'))).toHaveLength(1);
  });

  it('spaces writes by their size: after a big one, the next waits (bounded), and nothing is dropped', async () => {
    const a = owner(dir, { minIntervalMs: 20, bytesPerSecond: 10_000, maxIntervalMs: 600 });
    for (let i = 0; i < 100; i++) a.set(`k${i}`, 'v'.repeat(80));
    for (let i = 0; i < 200 && a.store.stats.appends === 0; i++) await wait(10);
    a.set('k0', 'changed');
    await wait(250);
    // About 10 kB written: the next write waits at least 0.6 s (the most), not 20 ms.
    expect(a.store.stats.appends).toBe(1);
    for (let i = 0; i < 300 && a.store.stats.appends === 1; i++) await wait(10);
    expect(a.store.stats.appends).toBe(2);
    await a.store.close();
    expect(owner(dir).items.get('k0')).toBe('changed');
  });

  describe("durability 'process-crash'", () => {
    const crash = { durability: 'process-crash' as const, minIntervalMs: 60_000 };
    // What is synced, and a failing disk: snapshot-log-durability.test.ts.

    it('urgent changes do not wait for a compaction: they go to the old log and start the new one', async () => {
      const a = owner(dir, { ...crash, minCompactBytes: 1000 });
      for (let i = 0; i < 40; i++) a.set(`k${i}`, 'x'.repeat(100));
      a.store.changed(true);
      await new Promise((r) => setImmediate(r));
      expect(a.store.stats.compactions).toBe(0);
      // The log is past 1,000 bytes: a flush compacts it; while the snapshot is written, more comes.
      const flushed = a.store.flush();
      const writtenDuring: number[] = [];
      a.set('late', 'during the compaction');
      a.store.changed(true);
      await new Promise((r) => setImmediate(r));
      writtenDuring.push(a.store.stats.appends);
      const oldLog = fs.readFileSync(path.join(dir, 'state.changes'));
      await flushed;
      expect(a.store.stats.compactions).toBe(1);
      // Appended while the compaction ran (the second append), before it ended.
      expect(writtenDuring).toEqual([2]);
      expect(oldLog.toString()).toContain('"k":"late"');
      await a.store.close();
      // The new log holds it: the restart has it.
      expect(owner(dir).items.get('late')).toBe('during the compaction');
      // Had the process died after the new snapshot and before its log, the old log is left: what it
      // got after the snapshot was taken is replayed, and said so.
      fs.writeFileSync(path.join(dir, 'state.changes'), oldLog);
      const b = owner(dir);
      expect(b.items.get('late')).toBe('during the compaction');
      expect(b.items.size).toBe(41);
      expect(b.problems).toEqual([expect.stringMatching(/state\.changes was left from before snapshot 1 .*the 1 change\(s\) it got after the snapshot are replayed/)]);
      // And it is a log of the new snapshot again: a third start reads the same, without a problem.
      await b.store.close();
      const c = owner(dir);
      expect(c.items).toEqual(b.items);
      expect(c.problems).toEqual([]);
    });
  });
});
