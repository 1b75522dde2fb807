/**
 * A small owner of a state for SnapshotLog's tests: items, the keys changed since the last
 * append, and its SnapshotLog, loaded from `dir` as a restarted process would.
 */
import * as path from 'node:path';
import { SnapshotLog, SnapshotLogOptions } from '../../lib/util/snapshot-log';

export interface Doc {
  items: Record<string, string>;
}
export type Change = { k: string; v: string | null };

export function snapshotLogOwner(dir: string, o: Partial<SnapshotLogOptions<Doc, Change>> = {}) {
  const items = new Map<string, string>();
  const changed = new Set<string>();
  const store = new SnapshotLog<Doc, Change>({
    snapshotFile: path.join(dir, 'state.json'),
    logFile: path.join(dir, 'state.changes'),
    snapshot: () => ({ items: Object.fromEntries(items) }),
    takeChanges: () => {
      const out = [...changed].map((k) => ({ k, v: items.get(k) ?? null }));
      changed.clear();
      return out;
    },
    minIntervalMs: 50,
    ...o,
  });
  const loaded = store.load();
  for (const [k, v] of Object.entries(loaded.snapshot?.items ?? {})) items.set(k, v);
  for (const c of loaded.changes) {
    if (c.v === null) items.delete(c.k);
    else items.set(c.k, c.v);
  }
  return {
    store,
    items,
    problems: loaded.problems,
    /** Sets (or, with null, deletes) an item; `urgent`: someone waits for it to be written. */
    set(k: string, v: string | null, urgent = false) {
      if (v === null) items.delete(k);
      else items.set(k, v);
      changed.add(k);
      store.changed(urgent);
    },
  };
}
