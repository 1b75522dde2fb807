/**
 * Durable state for alert-in, in plain files under a directory (Node-RED's user directory in a
 * flow): no context store has to be configured for alerts to survive a restart, and we decide
 * when a write is durable.
 *
 *  - StateFile: one JSON document (engine state, event-log positions), written whole to a
 *    temporary file and renamed over the old one, so a crash leaves the old or the new version,
 *    never half of one. Writes are coalesced (at most one per `debounceMs`, fewer when the
 *    document is big) and done off the event loop; `flush()` writes now.
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
  /** The write in progress, if any. */
  private writing?: Promise<void>;
  /** Something changed since the last write started. */
  private dirty = false;
  /** How long the last background write spent encoding (JSON, then UTF-8): the part of it that runs on the event loop. */
  private lastEncodeMs = 0;
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

  /**
   * Schedule a write of `source()`; calls within the debounce window coalesce. The file is
   * written off the event loop; only the JSON encoding runs on it, and writes are spaced so that
   * encoding takes at most a twentieth of the time however big the document grows.
   */
  save(source: () => T): void {
    this.source = source;
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.writing || !this.dirty) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writeInBackground().finally(() => {
        this.writing = undefined;
        this.schedule();
      });
    }, Math.max(this.debounceMs, 19 * this.lastEncodeMs));
    this.timer.unref();
  }

  private encode(): string | undefined {
    const source = this.source;
    if (!source) return undefined;
    this.dirty = false;
    return JSON.stringify(source());
  }

  /**
   * Encodes and writes in pieces, giving the event loop back between them: a state of 50,000
   * open keys takes a tenth of a second to encode, which in one go would hold up every alert
   * arriving meanwhile. Entries changing between pieces are written as they are when their piece
   * is encoded: each entry is whole, and the next write has them all as they are then.
   */
  private async writeInBackground(): Promise<void> {
    const source = this.source;
    if (!source) return;
    this.dirty = false;
    let encodeMs = 0;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      const fh = await fs.promises.open(tmp, 'w', 0o600);
      try {
        let t0 = performance.now();
        let pending = '';
        for (const piece of jsonPieces(source())) {
          pending += piece;
          if (pending.length < 65536) continue;
          const bytes = Buffer.from(pending);
          encodeMs += performance.now() - t0;
          await fh.write(bytes);
          pending = '';
          t0 = performance.now();
        }
        const bytes = Buffer.from(pending);
        encodeMs += performance.now() - t0;
        await fh.write(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, this.file);
      this.lastError = undefined;
    } catch (e) {
      this.lastError = e as Error;
      this.dirty = true;
    } finally {
      this.lastEncodeMs = encodeMs;
    }
  }

  /** Writes what is pending now (after the write in progress, if any); resolves when it is on disk. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.encode();
    if (text === undefined) return;
    try {
      writeAtomic(this.file, text);
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

/** Long arrays are encoded this many elements at a time. */
const PIECE = 500;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * JSON.stringify(value), as a sequence of pieces: plain objects and arrays are opened up, and an
 * array longer than PIECE elements yields its elements PIECE at a time. Joined, the pieces are the
 * same JSON text as JSON.stringify gives.
 */
export function* jsonPieces(value: unknown): Generator<string> {
  if (Array.isArray(value) && value.length > PIECE) {
    for (let i = 0; i < value.length; i += PIECE) {
      let text = i === 0 ? '[' : ',';
      const end = Math.min(value.length, i + PIECE);
      for (let j = i; j < end; j++) text += (j === i ? '' : ',') + (JSON.stringify(value[j]) ?? 'null');
      yield text;
    }
    yield ']';
    return;
  }
  if (isPlainObject(value)) {
    let sep = '';
    yield '{';
    for (const [k, v] of Object.entries(value)) {
      if (isPlainObject(v) || (Array.isArray(v) && v.length > PIECE)) {
        yield `${sep}${JSON.stringify(k)}:`;
        yield* jsonPieces(v);
      } else {
        const text = JSON.stringify(v);
        if (text === undefined) continue;
        yield `${sep}${JSON.stringify(k)}:${text}`;
      }
      sep = ',';
    }
    yield '}';
    return;
  }
  yield JSON.stringify(value) ?? 'null';
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
