/**
 * Durable state for alert-in, in plain files under a directory (Node-RED's user directory in a
 * flow): no context store has to be configured for alerts to survive a restart, and we decide
 * when a write is durable.
 *
 *  - StateFile: one JSON document (engine state, event-log positions), written whole to a
 *    temporary file and renamed over the old one, so a crash leaves the old or the new version,
 *    never half of one. Writes are coalesced (at most one per `debounceMs`); `flush()` writes now.
 *  - Journal: an append-only log of alerts we acknowledged to a device (a WS-Eventing push is
 *    answered only after its alert is on disk) and not yet emitted. Appends are fsync'ed; after
 *    a restart `pending()` gives back what was acknowledged but never emitted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Alert } from './alert';

export class StateFile<T> {
  private timer?: NodeJS.Timeout;
  private source?: () => T;
  /** Last write error, for a status; writes keep being retried. */
  lastError?: Error;

  constructor(
    readonly file: string,
    private readonly debounceMs = 1000,
  ) {}

  /** The stored document; undefined when there is none. A corrupt file is set aside, not trusted. */
  load(): T | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      try {
        fs.renameSync(this.file, `${this.file}.corrupt-${Date.now()}`);
      } catch {
        /* leave it */
      }
      return undefined;
    }
  }

  /** Schedule a write of `source()`; calls within the debounce window coalesce. */
  save(source: () => T): void {
    this.source = source;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.debounceMs);
    this.timer.unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const source = this.source;
    if (!source) return;
    try {
      writeAtomic(this.file, JSON.stringify(source()));
      this.lastError = undefined;
    } catch (e) {
      this.lastError = e as Error;
    }
  }
}

export function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

interface JournalLine {
  a?: Alert;
  e?: string;
}

export class Journal {
  private fd?: number;
  private readonly open = new Map<string, Alert>();
  private lines = 0;

  constructor(readonly file: string) {}

  /** Opens (creating it) and returns what was acknowledged but not emitted before. */
  start(): Alert[] {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      /* none yet */
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let j: JournalLine;
      try {
        j = JSON.parse(line) as JournalLine;
      } catch {
        continue; // a line torn by a crash mid-append: it was never acknowledged
      }
      if (j.a && typeof j.a.id === 'string') this.open.set(j.a.id, j.a);
      else if (typeof j.e === 'string') this.open.delete(j.e);
    }
    this.rewrite();
    return [...this.open.values()];
  }

  get pendingCount(): number {
    return this.open.size;
  }

  /** Durably records an alert before it is acknowledged. */
  append(alert: Alert): void {
    if (this.fd === undefined) throw new Error('journal not started');
    fs.writeSync(this.fd, `${JSON.stringify({ a: alert })}\n`);
    fs.fdatasyncSync(this.fd);
    this.open.set(alert.id, alert);
    this.lines++;
  }

  /** The alert went through the engine (emitted or suppressed by policy): no replay needed. */
  done(id: string): void {
    if (this.fd === undefined || !this.open.delete(id)) return;
    fs.writeSync(this.fd, `${JSON.stringify({ e: id })}\n`);
    this.lines++;
    if (this.open.size === 0 && this.lines > 1000) this.rewrite();
  }

  private rewrite(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    writeAtomic(this.file, [...this.open.values()].map((a) => `${JSON.stringify({ a })}\n`).join(''));
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.lines = this.open.size;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
