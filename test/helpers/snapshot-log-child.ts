/**
 * A SnapshotLog with durability 'process-crash' in a process of its own, for the kill -9 test:
 * every turn of the event loop it sets a few new keys as urgent changes, and once an append
 * holding them is reported written it prints them (one JSON line: {"written":[keys],
 * "compactions":n}, synchronous on a pipe). Compactions come often (a small log floor).
 *
 *   node --import tsx snapshot-log-child.ts <dir>
 */
import * as path from 'node:path';
import { SnapshotLog } from '../../lib/util/snapshot-log';

const [dir] = process.argv.slice(2);
const items = new Map<string, string>();
const changed = new Set<string>();
let taken: string[] = [];
const store = new SnapshotLog<{ items: Record<string, string> }, { k: string; v: string | null }>({
  snapshotFile: path.join(dir, 'state.json'),
  logFile: path.join(dir, 'state.changes'),
  snapshot: () => ({ items: Object.fromEntries(items) }),
  takeChanges: () => {
    const out = [...changed].map((k) => ({ k, v: items.get(k) ?? null }));
    taken.push(...changed);
    changed.clear();
    return out;
  },
  durability: 'process-crash',
  minIntervalMs: 5,
  maxIntervalMs: 20,
  bytesPerSecond: 1e9,
  minCompactBytes: 4096,
  onWritten: (e) => {
    if (e) throw e;
    if (taken.length) process.stdout.write(`${JSON.stringify({ written: taken, compactions: store.stats.compactions })}\n`);
    taken = [];
  },
});
store.load();

let n = 0;
const turn = () => {
  for (let i = 0; i < 5; i++, n++) {
    items.set(`k${n}`, `value of ${n}`.padEnd(60, '.'));
    changed.add(`k${n}`);
  }
  store.changed(true);
  setImmediate(turn);
};
turn();
