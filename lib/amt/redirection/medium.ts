/**
 * Disk images served over IDE-R: found only inside the configured image directory (symlinks
 * resolved, so a link cannot lead outside it), opened read-only, and read through a small block
 * cache with read-ahead so that a sequential reader (a BIOS, a boot loader, a live OS) is answered
 * from memory while the next blocks are already on their way from the disk.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../errors';
import { BLOCK_SIZE, MediumKind } from './atapi';
import { ImageError, inspectFloppy, inspectIso, IsoBootInfo, ISO_SECTOR, verifyBootFile } from './el-torito';

/** The image file a name refers to, checked to lie inside `directory`. */
export async function resolveImage(directory: string | undefined, name: unknown): Promise<string> {
  if (!directory) throw new InputError('no image directory is set: set one in the node before serving images');
  if (typeof name !== 'string' || name.trim() === '') throw new InputError('no image: set one in the node or in msg.image');
  if (name.includes('\0')) throw new InputError('the image name contains a NUL byte');
  let root: string;
  try {
    root = await fs.realpath(directory);
  } catch {
    throw new InputError(`the image directory ${directory} does not exist`);
  }
  const inside = (p: string) => {
    const rel = path.relative(root, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  const wanted = path.resolve(root, name);
  if (!inside(wanted)) throw new InputError(`image "${name}" is outside the image directory`);
  let real: string;
  try {
    real = await fs.realpath(wanted);
  } catch {
    throw new InputError(`image "${name}" not found in the image directory`);
  }
  if (!inside(real)) throw new InputError(`image "${name}" is outside the image directory (a link leads out of it)`);
  const st = await fs.stat(real);
  if (!st.isFile()) throw new InputError(`image "${name}" is not a file`);
  if (st.size === 0) throw new InputError(`image "${name}" is empty`);
  return real;
}

export interface ImageMediumOptions {
  /** Bytes per cached segment (default 1 MiB). */
  segmentBytes?: number;
  /** Segments fetched ahead of a sequential reader (default 4). */
  readAheadSegments?: number;
}

/** A read-only image with a bounded segment cache; at most (readAhead + 4) segments are held. */
export class ImageMedium {
  readonly size: number;
  readonly blockSize: number;
  readonly blocks: number;
  private readonly segment: number;
  private readonly ahead: number;
  private readonly cache = new Map<number, Promise<Buffer>>();
  /** Segments whose read has completed, for answers without waiting a turn of the event loop. */
  private readonly ready = new Map<number, Buffer>();
  private lastEnd = -1;
  /** Bytes read from the file: with a good read-ahead, close to the bytes served. */
  fileBytesRead = 0;
  /** Segment buffers allocated (the others reused evicted ones). */
  segmentsAllocated = 0;
  /**
   * Set by the one consumer of readCached's views (the IDE-R session): true when none of them is
   * still in use (nothing queued on its socket). Only then is an evicted segment's memory reused;
   * without it every segment gets new memory (page faults, zeroing by the kernel, GC pressure).
   */
  viewsReleased?: () => boolean;
  /** Evicted segment buffers ready for reuse. */
  private readonly spare: Buffer[] = [];
  /** Segments whose views read() handed out: a caller may keep those, so their memory is never reused. */
  private readonly pinned = new Set<number>();

  private constructor(
    private readonly file: fs.FileHandle,
    readonly kind: MediumKind,
    size: number,
    readonly name: string,
    o: ImageMediumOptions,
  ) {
    this.size = size;
    this.blockSize = BLOCK_SIZE[kind];
    this.blocks = Math.ceil(size / this.blockSize);
    this.segment = o.segmentBytes ?? 1024 * 1024;
    this.ahead = o.readAheadSegments ?? 4;
  }

  static async open(filePath: string, kind: MediumKind, o: ImageMediumOptions = {}): Promise<ImageMedium> {
    const file = await fs.open(filePath, 'r');
    const { size } = await file.stat();
    return new ImageMedium(file, kind, size, path.basename(filePath), o);
  }

  private fetch(index: number): Promise<Buffer> {
    let p = this.cache.get(index);
    if (p) {
      this.cache.delete(index);
      this.cache.set(index, p); // most recently used last
      return p;
    }
    const start = index * this.segment;
    const length = Math.max(0, Math.min(this.segment, this.size - start));
    p = (async () => {
      // Not zeroed first: every byte is either read from the file or filled with zeros below.
      const buf = this.spare.pop() ?? this.allocate();
      let got = 0;
      try {
        while (got < length) {
          const { bytesRead } = await this.file.read(buf, got, length - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
      } finally {
        buf.fill(0, got); // beyond the end of the file (or of what could be read): zeros
      }
      this.fileBytesRead += got;
      if (this.cache.get(index) === p) this.ready.set(index, buf);
      return buf;
    })();
    p.catch(() => this.cache.delete(index));
    this.cache.set(index, p);
    while (this.cache.size > this.ahead + 4) {
      const oldest = this.cache.keys().next().value as number;
      const buf = this.ready.get(oldest);
      this.cache.delete(oldest);
      this.ready.delete(oldest);
      if (buf && !this.pinned.has(oldest) && this.spare.length < 2 && this.viewsReleased?.()) this.spare.push(buf);
      this.pinned.delete(oldest);
    }
    return p;
  }

  private allocate(): Buffer {
    this.segmentsAllocated++;
    return Buffer.allocUnsafe(this.segment);
  }

  /** Marks segments as most recently used, so that the read-ahead cannot evict what is being read. */
  private touch(first: number, last: number): void {
    for (let i = first; i <= last; i++) {
      const p = this.cache.get(i);
      if (!p) continue;
      this.cache.delete(i);
      this.cache.set(i, p);
    }
  }

  /**
   * The bytes at once, as views of the cached segments they span (one view unless the range
   * crosses a segment boundary), when all of them are in the cache; else undefined. Either way a
   * sequential reader moves the read-ahead on.
   */
  readCached(offset: number, length: number): Buffer[] | undefined {
    const first = Math.floor(offset / this.segment);
    const last = Math.floor((offset + length - 1) / this.segment);
    const parts: Buffer[] = [];
    for (let i = first; i <= last; i++) {
      const buf = this.ready.get(i);
      if (!buf) return undefined;
      const from = i === first ? offset - i * this.segment : 0;
      const to = i === last ? offset + length - i * this.segment : this.segment;
      parts.push(buf.subarray(from, to));
    }
    this.touch(first, last);
    if (offset === this.lastEnd) this.readAhead(last);
    this.lastEnd = offset + length;
    return parts;
  }

  /** Starts fetching the segments after `index` that are not cached or on their way. */
  private readAhead(index: number): void {
    const maxSegment = Math.floor((this.size - 1) / this.segment);
    for (let i = index + 1; i <= Math.min(index + this.ahead, maxSegment); i++) if (!this.cache.has(i)) void this.fetch(i).catch(() => undefined);
  }

  /** `length` bytes from `offset`; past the end of the file reads zeros. */
  async read(offset: number, length: number): Promise<Buffer> {
    const first = Math.floor(offset / this.segment);
    const last = Math.floor((offset + length - 1) / this.segment);
    const sequential = offset === this.lastEnd;
    this.lastEnd = offset + length;
    const parts: Promise<Buffer>[] = [];
    for (let i = first; i <= last; i++) {
      parts.push(this.fetch(i));
      // Pinned before the wait: the caller gets views of these (or copies from them after it).
      this.pinned.add(i);
    }
    if (sequential) this.readAhead(last);
    const segs = await Promise.all(parts);
    if (segs.length === 1) return segs[0].subarray(offset - first * this.segment, offset - first * this.segment + length);
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for (let i = 0; i < segs.length; i++) {
      const from = i === 0 ? offset - first * this.segment : 0;
      const n = Math.min(this.segment - from, length - at);
      segs[i].copy(out, at, from, from + n);
      at += n;
    }
    return out;
  }

  /** Resolves when every segment read started so far has finished (the read-ahead included). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.cache.values()]);
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.ready.clear();
    this.spare.length = 0;
    this.viewsReleased = undefined;
    await this.file.close().catch(() => undefined);
  }
}

export interface BootableImage {
  kind: MediumKind;
  /** ISO volume id or floppy label, as the PC will show it. */
  label: string;
  iso?: IsoBootInfo;
}

/**
 * Checks that an image is one a BIOS can boot from, before any device is touched: El Torito boot
 * record, catalog and boot file checksum for a CD, the boot signature for a floppy.
 */
export async function checkBootable(m: ImageMedium): Promise<BootableImage> {
  try {
    if (m.kind === 'floppy') {
      if (m.size % 512 !== 0) throw new ImageError(`a floppy image is a whole number of 512-byte sectors; this one is ${m.size} bytes`);
      return { kind: 'floppy', label: inspectFloppy(await m.read(0, 512)).label };
    }
    const read = (lba: number, count: number) => m.read(lba * ISO_SECTOR, count * ISO_SECTOR);
    const iso = await inspectIso(read, m.blocks);
    await verifyBootFile(read, iso);
    return { kind: 'cd', label: iso.volumeId, iso };
  } catch (e) {
    if (e instanceof ImageError) throw new InputError(`image "${m.name}" is ${e.message}`);
    throw e;
  }
}
