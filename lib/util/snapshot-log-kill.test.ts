/**
 * What a SnapshotLog with durability 'process-crash' reports as written survives kill -9 at any
 * point: a child process appends urgent changes every turn of the event loop, compacting often
 * (appends going on meanwhile), and is killed at a random moment; the state read back holds every
 * change the child was told was written.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { SnapshotLog } from './snapshot-log';

const CHILD = path.join(__dirname, '..', '..', 'test', 'helpers', 'snapshot-log-child.ts');

function readBack(dir: string): { items: Map<string, string>; problems: string[] } {
  const store = new SnapshotLog<{ items: Record<string, string> }, { k: string; v: string | null }>({
    snapshotFile: path.join(dir, 'state.json'),
    logFile: path.join(dir, 'state.changes'),
    snapshot: () => ({ items: {} }),
    takeChanges: () => [],
  });
  const loaded = store.load();
  const items = new Map(Object.entries(loaded.snapshot?.items ?? {}));
  for (const c of loaded.changes) {
    if (c.v === null) items.delete(c.k);
    else items.set(c.k, c.v);
  }
  return { items, problems: loaded.problems };
}

describe("SnapshotLog 'process-crash' killed at a random point", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-snapkill-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2, 3, 4, 5, 6])('run %i: every change reported written is there after the restart', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    const written: string[] = [];
    let compactions = 0;
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      const o = JSON.parse(l) as { written: string[]; compactions: number };
      written.push(...o.written);
      compactions = o.compactions;
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // Once it is writing, a random moment later.
    for (let i = 0; i < 400 && written.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 400));
    child.kill('SIGKILL');
    await exited;
    expect(written.length).toBeGreaterThan(0);
    expect(compactions).toBeGreaterThan(0);
    const { items } = readBack(dir);
    const lost = written.filter((k) => items.get(k) !== `value of ${k.slice(1)}`.padEnd(60, '.'));
    expect(lost).toEqual([]);
  }, 30_000);
});
