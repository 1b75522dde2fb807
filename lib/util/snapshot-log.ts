/**
 * A state that survives restarts, written in proportion to what changes: a snapshot of the whole
 * state, and a log of the changes since (lib/util/record-log: checksummed lines, a damaged tail
 * is not trusted). The state itself stays with its owner, who says what changed as records
 * (`takeChanges`), gives the whole of it for a snapshot (`snapshot`), and applies the records of
 * the log to the snapshot after a restart.
 *
 *  - Appends: after `changed()`, the changes are appended and synced to disk within about
 *    `minIntervalMs` (1 s); many changes in that time make one append (one line of the log,
 *    `{"batch":[...]}`), off the event loop.
 *  - Bounded write rate: after a write of B bytes, the next waits B / `bytesPerSecond`, at least
 *    `minIntervalMs` and at most `maxIntervalMs`: a flood of repeats coalesces into fewer, not
 *    bigger, writes; what must be written (each new condition) is never dropped. And bounded
 *    work: the next write also waits 19 times as long as encoding the last one took on the
 *    event loop, so writing the state never takes more than a twentieth of it.
 *  - Compaction: once the log has grown bigger than the snapshot (and than `minCompactBytes`), a
 *    new snapshot is written (atomically, in pieces off the event loop) and the log starts over.
 *    Everything written is then at most about twice what changed.
 *  - Generations: the snapshot names its generation and the log names the generation it follows
 *    (its first line). A crash between writing a snapshot and starting its log leaves the old log
 *    behind; its generation tells it apart, and it is not replayed over the newer snapshot.
 *  - A snapshot that cannot be read is set aside (*.corrupt-<time>); the changes in the log are
 *    still used, and a new snapshot is written at the first occasion. A snapshot that is gone
 *    while its log is there is treated the same way, and reported; so is a log that follows
 *    another snapshot than the one there (its changes are not replayed).
 *  - Urgent changes (`changed(true)`): written as soon as the write in progress ends, without
 *    waiting for the interval. Whoever must not act before a change is on disk (alert-in emits a
 *    new condition only after it is written) marks it urgent and waits for `onWritten`.
 *  - Durability (`durability`): with 'power-loss' (the default), a write is synced to storage
 *    (fdatasync) before `onWritten`, and urgent changes wait for the write in progress. With
 *    'process-crash', urgent changes are appended with write(2) in the event-loop turn after
 *    `changed(true)` (one append for all that came in that turn), `onWritten` follows at once,
 *    and a sync to storage follows in the background, within `syncIntervalMs`. Data handed to the
 *    kernel survives the death of this process (kill -9, a crash), not a power loss: after a power
 *    loss the last second or so of changes can be missing. Urgent changes do not wait for a
 *    compaction either: they go to the old log, a marker there says where the snapshot was taken,
 *    and the new log starts with them; a crash between the new snapshot and its log replays the
 *    old log's records after the marker.
 *  - Failures: a write that fails is reported (`onError`, `lastError`), retried as a whole
 *    snapshot, and makes `flush()` and `close()` reject. Temporary files a crash left behind
 *    are removed by `load()`.
 */
import * as fs from 'node:fs';
import { readOrSetAside, removeLeftoverTemps, writeFileAtomic, writeFileAtomicInPieces } from './atomic-file';
import { jsonPieces } from './json-pieces';
import { frameRecord, frameRecords, readRecordLog, RecordLog } from './record-log';

export interface SnapshotLogOptions<D extends object, R> {
  snapshotFile: string;
  logFile: string;
  /** The whole state now, for a new snapshot (a plain object). */
  snapshot(): D;
  /** Records of what changed since the last call; called when an append is due. */
  takeChanges(): R[];
  /** Shortest time from a change to its write, and between writes. Default 1,000 ms. */
  minIntervalMs?: number;
  /** Longest time between writes while there are changes. Default 10,000 ms. */
  maxIntervalMs?: number;
  /** Writes are spaced to keep to this many bytes a second on average, within the intervals. Default 64 KiB. */
  bytesPerSecond?: number;
  /** The log is not compacted below this size. Default 256 KiB. */
  minCompactBytes?: number;
  /** What a write survives before `onWritten` (see the top of this file). Default 'power-loss'. */
  durability?: Durability;
  /** With 'process-crash': the longest time from an append to its sync to storage. Default 1,000 ms. */
  syncIntervalMs?: number;
  /** A write failed (it is retried; `lastError` holds it until one succeeds). */
  onError?(e: Error): void;
  /** A write ended (`error` when it failed): everything taken by takeChanges() before it is on disk, or not. */
  onWritten?(error?: Error): void;
}

/**
 * 'power-loss': written and synced to storage (fdatasync) before it counts as written.
 * 'process-crash': handed to the OS (write(2)) before it counts as written, synced soon after.
 */
export type Durability = 'power-loss' | 'process-crash';

export interface LoadedState<D, R> {
  /** The snapshot, if there is a usable one (files written before there was a log read the same). */
  snapshot?: D;
  /** The changes logged since the snapshot, in order. */
  changes: R[];
  /** What was wrong and left out (a damaged snapshot set aside, a damaged end of the log), for a person. */
  problems: string[];
}

export interface SnapshotLogStats {
  appends: number;
  compactions: number;
  /** Bytes written to the log and the snapshots since start. */
  bytesWritten: number;
}

/** The first line of a log: which snapshot generation its changes follow. */
interface LogHeader {
  logOf: number;
}

/** In a log, where the snapshot of the next generation was taken: what follows is not in it. */
interface CompactionMarker {
  compactedTo: number;
}

function isMarker(r: unknown): r is CompactionMarker {
  return typeof r === 'object' && r !== null && typeof (r as CompactionMarker).compactedTo === 'number';
}

/**
 * The changes of one append, as one line of the log: one text, one checksum and one copy for all
 * of them (per line, those cost more than a change's own JSON). A torn line loses that append,
 * which nobody had acted on yet: `onWritten` comes after it. Logs written before there were
 * batches have a line per change; both are read.
 */
interface ChangeBatch {
  batch: unknown[];
}

function frameChanges(changes: readonly unknown[]): Buffer {
  return changes.length === 0 ? Buffer.alloc(0) : frameRecords([{ batch: changes } as ChangeBatch]);
}

function isBatch(r: unknown): r is ChangeBatch {
  return typeof r === 'object' && r !== null && !Array.isArray(r) && Array.isArray((r as ChangeBatch).batch) && Object.keys(r).length === 1;
}

/** A log's records with each ChangeBatch opened up in its place. */
function unbatched(records: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const r of records) {
    if (isBatch(r)) for (const c of r.batch) out.push(c);
    else out.push(r);
  }
  return out;
}

/** Changes framed at a time, the event loop getting control back in between. */
const FRAME_BATCH = 500;

function isHeader(r: unknown): r is LogHeader {
  return typeof r === 'object' && r !== null && typeof (r as LogHeader).logOf === 'number';
}

export class SnapshotLog<D extends object, R> {
  readonly stats: SnapshotLogStats = { appends: 0, compactions: 0, bytesWritten: 0 };
  lastError?: Error;
  private readonly log: RecordLog;
  private readonly minIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly bytesPerSecond: number;
  private readonly minCompactBytes: number;
  private generation = 0;
  /** The generation the open log follows; a write first starts a new log when it differs. */
  private logGeneration = -1;
  private snapshotBytes = 0;
  private dirty = false;
  private compactDue = false;
  /** The compaction is due only because the log outgrew the snapshot: it may wait for a quiet moment. */
  private compactForSize = false;
  private nextWriteAt = 0;
  /** Time the write in progress (or the last) spent on the event loop. */
  private encodeMs = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private urgent = false;
  private running?: Promise<void>;
  private closed = false;
  private readonly durability: Durability;
  private readonly syncIntervalMs: number;
  /** 'process-crash': a compaction is writing its snapshot; appends go to the old log meanwhile. */
  private compacting = false;
  /** What was appended to the old log during the compaction: the new log starts with it. */
  private carried: Buffer[] = [];
  /** Appends that failed: a compaction in progress does not cover them. */
  private appendFailures = 0;
  /** Appended and not yet synced to storage; a sync under way; its timer; when the last one began. */
  private unsynced = false;
  private syncing?: Promise<void>;
  private syncTimer?: NodeJS.Timeout;
  private lastSyncAt = 0;

  constructor(private readonly o: SnapshotLogOptions<D, R>) {
    this.log = new RecordLog(o.logFile);
    this.minIntervalMs = o.minIntervalMs ?? 1000;
    this.maxIntervalMs = Math.max(this.minIntervalMs, o.maxIntervalMs ?? 10_000);
    this.bytesPerSecond = o.bytesPerSecond ?? 65536;
    this.minCompactBytes = o.minCompactBytes ?? 262_144;
    this.durability = o.durability ?? 'power-loss';
    this.syncIntervalMs = o.syncIntervalMs ?? 1000;
  }

  /** Reads the snapshot and the log, and opens the log for appending. Call once, before anything else. */
  load(): LoadedState<D, R> {
    const problems: string[] = [];
    for (const f of [this.o.snapshotFile, this.o.logFile]) {
      const removed = removeLeftoverTemps(f);
      if (removed.length) problems.push(`removed ${removed.length} temporary file(s) a crash left behind: ${removed.join(', ')}`);
    }
    const read = readOrSetAside(
      this.o.snapshotFile,
      (text) => {
        const doc = JSON.parse(text) as unknown;
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
        return doc as D & { logGeneration?: unknown };
      },
      { stamped: true },
    );
    let snapshot: D | undefined;
    let snapshotDamaged = read.value === undefined && read.problem !== undefined;
    if (read.value !== undefined) {
      const { logGeneration, ...doc } = read.value;
      this.generation = typeof logGeneration === 'number' && Number.isSafeInteger(logGeneration) ? logGeneration : 0;
      this.snapshotBytes = Buffer.byteLength(read.text ?? '');
      snapshot = doc as unknown as D;
    } else if (read.problem) {
      problems.push(`${read.problem}${read.setAsideAs ? `; set aside as ${read.setAsideAs}` : ''}`);
    }

    let changes: R[] = [];
    try {
      const log = readRecordLog(this.o.logFile, { afterDamage: 'stop' });
      const [header, ...lines] = log.records;
      const rest = unbatched(lines);
      if (read.value === undefined && !snapshotDamaged && isHeader(header) && header.logOf > 0) {
        // The log follows a snapshot that is not there (deleted, or lost with a disk): its changes are all we have.
        problems.push(`${this.o.snapshotFile} is missing but ${this.o.logFile} follows snapshot ${header.logOf}: the state is rebuilt from the ${rest.length} change(s) in the log alone; whatever was only in the snapshot is lost`);
        snapshotDamaged = true;
      }
      if (log.damagedLines > 0) {
        problems.push(
          `ignored the last ${log.totalBytes - log.trustedBytes} bytes of ${this.o.logFile} (a write cut short by a crash, or damage): the changes before them are kept`,
        );
      }
      // A crash between a new snapshot and its log: what the old log got after the snapshot was taken.
      let marker = -1;
      if (isHeader(header) && header.logOf === this.generation - 1 && read.value !== undefined) {
        for (let i = rest.length - 1; i >= 0 && marker < 0; i--) if (isMarker(rest[i]) && (rest[i] as CompactionMarker).compactedTo === this.generation) marker = i;
      }
      if (marker >= 0) {
        changes = rest.slice(marker + 1).filter((r) => !isMarker(r)) as R[];
        this.log.close();
        writeFileAtomic(this.o.logFile, Buffer.concat([frameRecord({ logOf: this.generation } satisfies LogHeader), frameChanges(changes)]));
        this.log.open();
        this.logGeneration = this.generation;
        if (changes.length) problems.push(`${this.o.logFile} was left from before snapshot ${this.generation} (a crash between writing the snapshot and starting its log): the ${changes.length} change(s) it got after the snapshot are replayed`);
        return { snapshot, changes, problems };
      }
      const follows = isHeader(header) && (header.logOf === this.generation || snapshotDamaged);
      if (!follows && log.records.length > 0) {
        problems.push(
          isHeader(header)
            ? `${this.o.logFile} follows snapshot ${header.logOf}, not ${this.generation} (a crash between writing a snapshot and starting its log): its ${rest.length} change(s) are not replayed`
            : `${this.o.logFile} does not start with a header: its ${log.records.length} record(s) are not replayed`,
        );
      }
      if (follows) changes = rest.filter((r) => !isMarker(r)) as R[];
      if (follows && !snapshotDamaged) {
        this.log.open(log.trustedBytes);
        this.logGeneration = this.generation;
      }
      // Otherwise the first write starts a new log (or, after a damaged snapshot, writes a new one).
    } catch (e) {
      problems.push(`cannot read ${this.o.logFile}: ${(e as Error).message}`);
    }
    if (snapshotDamaged) this.compactDue = true;
    if (this.compactDue) this.schedule();
    return { snapshot, changes, problems };
  }

  /**
   * Something changed: it is written within about minIntervalMs (longer after big writes); with
   * `urgent`, as soon as the write in progress (if any) ends.
   */
  changed(urgent = false): void {
    this.dirty = true;
    if (urgent) this.urgent = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.durability === 'process-crash' && this.urgent && !this.lastError && !this.closed) {
      // Group commit: whatever comes in during this turn of the event loop, in one append after it.
      if (!this.immediate && this.canAppendNow()) this.immediate = setImmediate(() => this.appendUrgent());
      if (this.canAppendNow()) return;
    }
    if (this.running || this.closed || this.immediate || !(this.dirty || this.compactDue)) return;
    // A failed write is retried after the longest interval, urgent or not: a full disk is not hammered.
    if (this.urgent && !this.lastError) {
      // Right after the I/O callbacks now due (a timer would wait a millisecond at least).
      clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        if (!this.running) void this.run();
      });
      return;
    }
    if (this.timer) return;
    const wait = Math.max(this.minIntervalMs, this.nextWriteAt - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running) void this.run();
    }, wait);
    this.timer.unref();
  }

  /** 'process-crash': whether an append can go to a log now (during a compaction, only to the old one while it is open). */
  private canAppendNow(): boolean {
    return !this.compacting || (this.log.isOpen && this.logGeneration === this.generation);
  }

  /** 'process-crash': the urgent changes, appended now; what waited for them can go on. */
  private appendUrgent(): void {
    this.immediate = undefined;
    if (this.closed || this.lastError || !this.canAppendNow() || (this.running && !this.compacting)) return this.schedule();
    this.urgent = false;
    try {
      this.appendNow();
    } catch (e) {
      this.failed(e as Error);
    }
    this.o.onWritten?.(this.lastError);
    this.schedule();
  }

  /** 'process-crash': takes the changes and appends them with write(2); a sync to storage follows in the background. */
  private appendNow(): number {
    this.dirty = false;
    const t0 = performance.now();
    const records = this.o.takeChanges();
    if (records.length === 0) {
      this.encodeMs += performance.now() - t0;
      return 0;
    }
    if (this.logGeneration !== this.generation) this.startLogNow();
    const framed = frameChanges(records);
    this.encodeMs += performance.now() - t0;
    this.log.appendFramedSync(framed);
    if (this.compacting) this.carried.push(framed);
    this.stats.appends++;
    this.stats.bytesWritten += framed.length;
    if (!this.compactDue && this.log.size > Math.max(this.minCompactBytes, this.snapshotBytes)) this.compactDue = this.compactForSize = true;
    this.syncSoon();
    return framed.length;
  }

  /** A write failed: reported, and the next write is a whole snapshot (after the longest interval). */
  private failed(e: Error): void {
    this.lastError = e;
    this.appendFailures++;
    this.compactDue = true;
    this.compactForSize = false;
    this.nextWriteAt = Date.now() + this.maxIntervalMs;
    this.o.onError?.(e);
  }

  /** 'process-crash': the log is synced to storage within syncIntervalMs of an append, off the event loop. */
  private syncSoon(): void {
    this.unsynced = true;
    if (this.syncing || this.syncTimer || this.closed) return;
    const wait = this.lastSyncAt + this.syncIntervalMs - Date.now();
    if (wait > 0) {
      this.syncTimer = setTimeout(() => {
        this.syncTimer = undefined;
        void this.syncNow();
      }, wait);
      this.syncTimer.unref();
      return;
    }
    void this.syncNow();
  }

  /** Syncs what was appended until now; resolves when done (a failure is reported like a failed write). */
  private syncNow(): Promise<void> {
    if (this.syncing) return this.syncing.then(() => (this.unsynced ? this.syncNow() : undefined));
    if (!this.unsynced) return Promise.resolve();
    this.unsynced = false;
    this.lastSyncAt = Date.now();
    const p = new Promise<void>((resolve) => {
      const started = this.log.syncInBackground((e) => {
        if (e && this.syncing === p) {
          this.failed(e);
          this.o.onWritten?.(e);
          this.schedule();
        }
        resolve();
      });
      if (!started) resolve();
    }).finally(() => {
      if (this.syncing === p) this.syncing = undefined;
      if (this.unsynced && !this.syncTimer) this.syncSoon();
    });
    this.syncing = p;
    return p;
  }

  private run(): Promise<void> {
    const p = this.write().finally(() => {
      if (this.running === p) this.running = undefined;
      this.schedule();
    });
    this.running = p;
    return p;
  }

  private async write(): Promise<void> {
    const started = Date.now();
    let bytes = 0;
    this.encodeMs = 0;
    // Whoever waits for an urgent change waits for this write: a compaction that is due only for
    // size (a whole snapshot, far longer than an append) waits for a write nobody waits for, or
    // until the log is four times what would have made it due.
    const urgent = this.urgent;
    this.urgent = false;
    try {
      const mayWait = urgent && this.compactForSize && this.logGeneration === this.generation && this.log.isOpen && this.log.size < 4 * Math.max(this.minCompactBytes, this.snapshotBytes);
      if (this.compactDue && !mayWait) bytes = await this.compact();
      else bytes = this.durability === 'process-crash' ? this.appendNow() : await this.append();
      this.lastError = undefined;
    } catch (e) {
      // What could not be appended is not kept for a retry: the next write is a whole snapshot.
      this.failed(e as Error);
    }
    this.o.onWritten?.(this.lastError);
    const spacing = Math.max(Math.min(this.maxIntervalMs, Math.max(this.minIntervalMs, (bytes / this.bytesPerSecond) * 1000)), 19 * this.encodeMs);
    this.nextWriteAt = started + (this.lastError ? Math.max(spacing, this.maxIntervalMs) : spacing);
  }

  private async append(): Promise<number> {
    this.dirty = false;
    let t0 = performance.now();
    const records = this.o.takeChanges();
    this.encodeMs += performance.now() - t0;
    if (records.length === 0) return 0;
    if (this.logGeneration !== this.generation) await this.startLog();
    let bytes = 0;
    for (let i = 0; i < records.length; i += FRAME_BATCH) {
      t0 = performance.now();
      const framed = frameChanges(records.slice(i, i + FRAME_BATCH));
      this.encodeMs += performance.now() - t0;
      // Synced once, after the last piece.
      await this.log.append(framed, i + FRAME_BATCH >= records.length);
      bytes += framed.length;
      this.stats.bytesWritten += framed.length;
    }
    this.stats.appends++;
    if (!this.compactDue && this.log.size > Math.max(this.minCompactBytes, this.snapshotBytes)) this.compactDue = this.compactForSize = true;
    return bytes;
  }

  /** A new snapshot of the whole state, then a new log that follows it. */
  private async compact(): Promise<number> {
    if (this.durability === 'process-crash') return this.compactBesideAppends();
    // The snapshot holds every change made until now; those made while it is written are marked again.
    this.dirty = false;
    const t0 = performance.now();
    this.o.takeChanges();
    const doc = { ...this.o.snapshot(), logGeneration: this.generation + 1 };
    this.encodeMs += performance.now() - t0;
    const w = await writeFileAtomicInPieces(this.o.snapshotFile, jsonPieces(doc));
    this.encodeMs += w.encodeMs;
    this.generation = doc.logGeneration;
    this.snapshotBytes = w.bytes;
    this.stats.bytesWritten += w.bytes;
    this.compactDue = false;
    this.compactForSize = false;
    this.stats.compactions++;
    return w.bytes + (await this.startLog());
  }

  /**
   * 'process-crash': a compaction while urgent appends go on. What is pending goes to the old log
   * first (and out); then the snapshot is taken and a marker in the old log says so; appends made
   * while the snapshot is written go to the old log and are kept, and the new log starts with them.
   */
  private async compactBesideAppends(): Promise<number> {
    const oldLogOpen = this.log.isOpen && this.logGeneration === this.generation;
    if (oldLogOpen && this.dirty) {
      this.appendNow();
      this.o.onWritten?.(undefined);
    }
    this.dirty = false;
    const t0 = performance.now();
    this.o.takeChanges();
    const doc = { ...this.o.snapshot(), logGeneration: this.generation + 1 };
    if (oldLogOpen) this.log.appendFramedSync(frameRecord({ compactedTo: doc.logGeneration } satisfies CompactionMarker));
    this.encodeMs += performance.now() - t0;
    const failuresBefore = this.appendFailures;
    this.compacting = true;
    this.carried = [];
    let w: Awaited<ReturnType<typeof writeFileAtomicInPieces>>;
    try {
      w = await writeFileAtomicInPieces(this.o.snapshotFile, jsonPieces(doc));
    } finally {
      this.compacting = false;
    }
    this.encodeMs += w.encodeMs;
    // From the snapshot to its log in one go: no append comes in between.
    this.generation = doc.logGeneration;
    this.snapshotBytes = w.bytes;
    this.stats.bytesWritten += w.bytes;
    this.compactDue = this.appendFailures !== failuresBefore;
    this.compactForSize = false;
    this.stats.compactions++;
    return w.bytes + this.startLogNow();
  }

  /**
   * 'process-crash': replaces the log with one that follows the current snapshot and holds what
   * was carried over from the old one, in this turn of the event loop; synced in the background.
   */
  private startLogNow(): number {
    const content = Buffer.concat([frameRecord({ logOf: this.generation } satisfies LogHeader), ...this.carried]);
    this.carried = [];
    this.log.close();
    writeFileAtomic(this.o.logFile, content, { sync: false });
    this.log.open();
    this.logGeneration = this.generation;
    this.stats.bytesWritten += content.length;
    this.syncSoon();
    return content.length;
  }

  /** Replaces the log with an empty one that follows the current snapshot. */
  private async startLog(): Promise<number> {
    this.log.close();
    const header = frameRecord({ logOf: this.generation } satisfies LogHeader);
    await writeFileAtomicInPieces(this.o.logFile, [header.toString('latin1')]);
    this.log.open();
    this.logGeneration = this.generation;
    this.stats.bytesWritten += header.length;
    return header.length;
  }

  /**
   * Writes what is pending now (after a write in progress), and then a compaction if that made
   * one due; resolves when it is on disk, rejects with the error when it could not be written.
   */
  async flush(): Promise<void> {
    for (;;) {
      clearTimeout(this.timer);
      this.timer = undefined;
      clearImmediate(this.immediate);
      this.immediate = undefined;
      if (!this.running) break;
      await this.running;
    }
    if (this.dirty || this.compactDue) await this.run();
    if (this.compactDue && !this.lastError) await this.run();
    if (this.durability === 'process-crash' && !this.lastError) {
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
      await this.syncNow();
    }
    if (this.lastError) throw this.lastError;
  }

  /** Flushes and closes the log; later changes are not written. Rejects when the last write failed. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
      clearImmediate(this.immediate);
      this.immediate = undefined;
      this.log.close();
    }
  }

  /** Bytes in the log now (for tests and benchmarks). */
  get logBytes(): number {
    try {
      return fs.statSync(this.o.logFile).size;
    } catch {
      return 0;
    }
  }
}
