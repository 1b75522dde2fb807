/**
 * A small JSON key-value file that survives restarts: where a node got to (the audit log
 * position of each device), whatever context store Node-RED is configured with. Written whole
 * to a temporary file and renamed, so a crash never leaves half a file; bounded in entries.
 * A file that cannot be read is set aside (renamed *.corrupt) and the store starts empty.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Entry<T> {
  value: T;
  updated: number;
}

export interface StateFileOptions {
  /** Most keys kept; the least recently updated go first. Default 10,000. */
  maxEntries?: number;
  /** Told once when the file existed but could not be read. */
  onCorrupt?: (message: string) => void;
}

export class StateFile<T> {
  private entries?: Map<string, Entry<T>>;
  private readonly maxEntries: number;

  constructor(
    readonly file: string,
    private readonly o: StateFileOptions = {},
  ) {
    this.maxEntries = o.maxEntries ?? 10_000;
  }

  private load(): Map<string, Entry<T>> {
    if (this.entries) return this.entries;
    const m = new Map<string, Entry<T>>();
    let text: string | undefined;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.o.onCorrupt?.(`cannot read ${this.file}: ${(e as Error).message}; starting afresh`);
    }
    if (text !== undefined) {
      try {
        const doc = JSON.parse(text) as { entries?: Record<string, Entry<T>> };
        if (typeof doc !== 'object' || doc === null || typeof doc.entries !== 'object' || doc.entries === null) throw new Error('no entries');
        for (const [k, v] of Object.entries(doc.entries)) {
          if (v && typeof v === 'object' && 'value' in v) m.set(k, { value: v.value, updated: Number(v.updated) || 0 });
        }
      } catch (e) {
        const aside = `${this.file}.corrupt`;
        try {
          fs.renameSync(this.file, aside);
        } catch {
          /* keep going without it */
        }
        this.o.onCorrupt?.(`${this.file} is not a state file (${(e as Error).message}); moved it to ${path.basename(aside)} and started afresh`);
      }
    }
    this.entries = m;
    return m;
  }

  get(key: string): T | undefined {
    return this.load().get(key)?.value;
  }

  set(key: string, value: T): void {
    const m = this.load();
    m.delete(key);
    m.set(key, { value, updated: Date.now() });
    while (m.size > this.maxEntries) m.delete(m.keys().next().value as string);
    this.save(m);
  }

  delete(key: string): void {
    const m = this.load();
    if (m.delete(key)) this.save(m);
  }

  private save(m: Map<string, Entry<T>>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version: 1, entries: Object.fromEntries(m) }), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
