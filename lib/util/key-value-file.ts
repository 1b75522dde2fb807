/**
 * A small JSON key-value file that survives restarts: where a node got to (the audit log
 * position of each device, the SEL cursor of each BMC), whatever context store Node-RED is
 * configured with. Replaced whole and atomically on each change (lib/util/atomic-file), bounded
 * in entries. A file that cannot be read is set aside (renamed *.corrupt) and the store starts
 * empty. For a big state that changes often, SnapshotLog writes only what changed.
 */
import { readOrSetAside, writeFileAtomic } from './atomic-file';
import * as path from 'node:path';

interface Entry<T> {
  value: T;
  updated: number;
}

export interface KeyValueFileOptions {
  /** Most keys kept; the least recently updated go first. Default 10,000. */
  maxEntries?: number;
  /** Told once when the file existed but could not be read. */
  onCorrupt?: (message: string) => void;
}

function parseEntries<T>(text: string): Map<string, Entry<T>> {
  const doc = JSON.parse(text) as { entries?: Record<string, Entry<T>> };
  if (typeof doc !== 'object' || doc === null || typeof doc.entries !== 'object' || doc.entries === null) throw new Error('no entries');
  const m = new Map<string, Entry<T>>();
  for (const [k, v] of Object.entries(doc.entries)) {
    if (v && typeof v === 'object' && 'value' in v) m.set(k, { value: v.value, updated: Number(v.updated) || 0 });
  }
  return m;
}

export class KeyValueFile<T> {
  private entries?: Map<string, Entry<T>>;
  private readonly maxEntries: number;

  constructor(
    readonly file: string,
    private readonly o: KeyValueFileOptions = {},
  ) {
    this.maxEntries = o.maxEntries ?? 10_000;
  }

  private load(): Map<string, Entry<T>> {
    if (this.entries) return this.entries;
    const r = readOrSetAside(this.file, (text) => parseEntries<T>(text));
    if (r.problem) {
      // Unreadable (permissions...): left where it is. Not a state file: set aside.
      const unparsable = r.text !== undefined;
      this.o.onCorrupt?.(unparsable ? `${r.problem}; ${r.setAsideAs ? `moved it to ${path.basename(r.setAsideAs)}` : 'could not move it aside'} and started afresh` : `${r.problem}; starting afresh`);
    }
    this.entries = r.value ?? new Map();
    return this.entries;
  }

  get(key: string): T | undefined {
    return this.load().get(key)?.value;
  }

  /** Stores a value; the file is written only when the value differs from what it holds. */
  set(key: string, value: T): void {
    const m = this.load();
    const before = m.get(key);
    m.delete(key);
    m.set(key, { value, updated: Date.now() });
    let evicted = false;
    while (m.size > this.maxEntries) {
      m.delete(m.keys().next().value as string);
      evicted = true;
    }
    if (evicted || !before || JSON.stringify(before.value) !== JSON.stringify(value)) this.save(m);
  }

  keys(): string[] {
    return [...this.load().keys()];
  }

  delete(key: string): void {
    const m = this.load();
    if (m.delete(key)) this.save(m);
  }

  private save(m: Map<string, Entry<T>>): void {
    writeFileAtomic(this.file, JSON.stringify({ version: 1, entries: Object.fromEntries(m) }));
  }
}
