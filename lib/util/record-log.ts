/**
 * An append-only file of JSON records, one a line, each followed by a tab and the CRC-32 of its
 * JSON (8 hex digits): `{"k":"pc-01/pet/fan-failure","v":{...}}\t1c291ca3\n`. JSON text never
 * holds a raw tab or newline, so a line is unambiguous.
 *
 * A crash in the middle of an append leaves a torn last line; a damaged disk can leave anything.
 * Reading checks every line (complete, checksum right, JSON) and says where the trusted part
 * ends: what follows a bad line is not trusted by `readRecordLog(..., { afterDamage: 'stop' })`,
 * or only the bad lines are left out with 'skip' (each record standing on its own).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { writeFileAtomic } from './atomic-file';

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE, as zip and zlib compute it). zlib.crc32 where Node has it (>= 20.15), else a table. */
export const crc32: (b: Buffer) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (b) => (zlib as unknown as { crc32: (d: Buffer) => number }).crc32(b)
    : (b) => {
        let c = -1;
        for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
        return (c ^ -1) >>> 0;
      };

const HEX8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** One record as its line, newline included. */
export function frameRecord(record: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(record));
  const line = Buffer.allocUnsafe(json.length + 10);
  json.copy(line, 0);
  line[json.length] = 0x09;
  line.write(HEX8(crc32(json)), json.length + 1, 'latin1');
  line[json.length + 9] = 0x0a;
  return line;
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * Several records as one buffer, for one write; the same bytes as their frameRecord()s one after
 * the other. Each record's JSON is written straight into one buffer (no joined text in between)
 * and followed by its tab, CRC and newline.
 */
export function frameRecords(records: readonly unknown[]): Buffer {
  const texts = records.map((r) => JSON.stringify(r));
  let size = 0;
  for (const t of texts) size += Buffer.byteLength(t) + 10;
  const b = Buffer.allocUnsafe(size);
  let at = 0;
  for (const t of texts) {
    const start = at;
    at += b.write(t, at);
    let c = crc32(b.subarray(start, at));
    b[at] = 0x09;
    for (let i = at + 8; i > at; i--, c >>>= 4) b[i] = HEX_DIGITS[c & 15];
    b[at + 9] = 0x0a;
    at += 10;
  }
  return b;
}

export interface RecordLogContents {
  records: unknown[];
  /** Lines that were torn, failed their checksum or were not JSON (and, with 'stop', the lines after the first of them). */
  damagedLines: number;
  /** Bytes from the start that hold only good, complete lines: where appending may go on. */
  trustedBytes: number;
  /** Bytes in the file. */
  totalBytes: number;
}

export interface ReadRecordLogOptions {
  /** 'stop': nothing after the first bad line is trusted (a log of changes, in order). 'skip': only bad lines are left out. */
  afterDamage: 'stop' | 'skip';
  /** Also accept lines without a checksum that are JSON (files written before records had one). */
  unframed?: boolean;
}

/** Reads a record log (an absent file reads as empty). */
export function readRecordLog(file: string, o: ReadRecordLogOptions): RecordLogContents {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], damagedLines: 0, trustedBytes: 0, totalBytes: 0 };
    throw e;
  }
  return parseRecordLog(b, o);
}

export function parseRecordLog(b: Buffer, o: ReadRecordLogOptions): RecordLogContents {
  const records: unknown[] = [];
  let damagedLines = 0;
  let trustedBytes = 0;
  let damaged = false;
  for (let start = 0; start < b.length; ) {
    const nl = b.indexOf(0x0a, start);
    const end = nl < 0 ? b.length : nl;
    const next = nl < 0 ? b.length : nl + 1;
    let record: unknown;
    let good = false;
    // A line with no newline after it was torn: even if it reads, appending after it would merge two lines.
    if (nl >= 0 && end > start) {
      const tab = end - 9;
      if (tab > start && b[tab] === 0x09) {
        const json = b.subarray(start, tab);
        if (crc32(json) === parseInt(b.toString('latin1', tab + 1, end), 16)) {
          try {
            record = JSON.parse(json.toString('utf8'));
            good = true;
          } catch {
            good = false;
          }
        }
      } else if (o.unframed) {
        try {
          record = JSON.parse(b.toString('utf8', start, end));
          good = typeof record === 'object' && record !== null;
        } catch {
          good = false;
        }
      }
    } else if (nl >= 0) {
      good = true; // an empty line: nothing to read, nothing wrong
      record = undefined;
    }
    if (good && !(damaged && o.afterDamage === 'stop')) {
      if (record !== undefined) records.push(record);
      if (!damaged) trustedBytes = next;
    } else {
      damagedLines++;
      damaged = true;
    }
    start = next;
  }
  return { records, damagedLines, trustedBytes, totalBytes: b.length };
}

/**
 * The writing side: appends framed records to a file kept open. `appendSync` is for what must be
 * on disk before the caller goes on (an acknowledgement); `append` writes off the event loop.
 */
export class RecordLog {
  private fd?: number;
  /** Bytes in the file. */
  size = 0;

  constructor(readonly file: string) {}

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Opens for appending, first cutting the file to `trustedBytes` when a damaged tail follows them. */
  open(trustedBytes?: number): void {
    this.close();
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
    if (trustedBytes !== undefined && trustedBytes < this.size) {
      fs.ftruncateSync(this.fd, trustedBytes);
      fs.fsyncSync(this.fd);
      this.size = trustedBytes;
    }
  }

  /** Replaces the whole file atomically with these records and keeps it open for appending. */
  replace(records: readonly unknown[]): void {
    this.close();
    writeFileAtomic(this.file, frameRecords(records));
    this.open();
  }

  /** Appends; with `durable`, returns once the records are on disk (fdatasync). Returns the bytes written. */
  appendSync(records: readonly unknown[], durable: boolean): number {
    if (this.fd === undefined) throw new Error(`${this.file} is not open`);
    const b = frameRecords(records);
    fs.writeSync(this.fd, b);
    this.size += b.length;
    if (durable) fs.fdatasyncSync(this.fd);
    return b.length;
  }

  /**
   * Appends framed bytes now (write(2): in the OS's hands, safe from the death of this process,
   * not yet from a power loss). When that fails, the file is cut back to where it was.
   */
  appendFramedSync(framed: Buffer): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`${this.file} is not open`);
    const before = this.size;
    try {
      for (let done = 0; done < framed.length; ) done += fs.writeSync(fd, framed, done, framed.length - done);
      this.size = before + framed.length;
    } catch (e) {
      cutBack(fd, before);
      throw e;
    }
  }

  /** A background sync in flight holds the descriptor: close() then leaves closing it to the sync's end. */
  private syncing?: number;
  private closeWhenSynced = false;

  /**
   * Syncs what was appended so far to storage (fdatasync) off the event loop; `done` gets the
   * error, if any. False when the file is not open or a sync is already under way.
   */
  syncInBackground(done: (e: Error | null) => void): boolean {
    const fd = this.fd;
    if (fd === undefined || this.syncing !== undefined) return false;
    this.syncing = fd;
    fs.fdatasync(fd, (e) => {
      this.syncing = undefined;
      if (this.closeWhenSynced) {
        this.closeWhenSynced = false;
        fs.close(fd, () => undefined);
      }
      done(e);
    });
    return true;
  }

  /**
   * Appends framed bytes (frameRecords) off the event loop; with `durable`, waits until they are
   * on disk. When that fails (disk full...), the file is cut back to where it was, so no half
   * line stays in it.
   */
  async append(framed: Buffer, durable: boolean): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`${this.file} is not open`);
    const before = this.size;
    try {
      for (let done = 0; done < framed.length; ) {
        done += await new Promise<number>((resolve, reject) => fs.write(fd, framed, done, framed.length - done, null, (e, n) => (e ? reject(e) : resolve(n))));
      }
      if (durable) await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
      this.size = before + framed.length;
    } catch (e) {
      cutBack(fd, before);
      throw e;
    }
  }

  close(): void {
    if (this.fd !== undefined && this.fd === this.syncing) this.closeWhenSynced = true;
    else if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** After a failed append: the log back to where it was, so no half record stays behind. */
function cutBack(fd: number, size: number): void {
  try {
    fs.ftruncateSync(fd, size);
  } catch {
    /* the reader will stop at the torn line */
  }
}
