/**
 * An IDE-R session, console side: open it on an authenticated redirection channel, have the device
 * attach the drive on its next boot (or now), then answer the ATAPI commands its BIOS and OS send,
 * reading from one image (CD or floppy; the other drive reports no medium).
 *
 * Throughput. The device cannot pipeline: AMT presents an IDE channel, which carries one command at
 * a time, so the host writes the next command only after the last DATA_TO_HOST of the one before
 * (a Linux host asks 128 KiB per READ(10), libata's limit for an ATAPI drive). Each command thus
 * costs one round trip plus its bytes, and what is ours to make small is the time between a
 * command arriving and its bytes leaving:
 *  - the answer is sent in the same turn of the event loop that received the command, from the
 *    image's read-ahead cache (no promise, no timer, no copy: views of the cached segments);
 *  - its bytes go in DATA_TO_HOST pieces of the full read buffer the device reported (8 KiB on AMT;
 *    only a command's last piece is shorter), all headers in one allocation, all pieces in one
 *    writev, with no wait between pieces;
 *  - the socket's own buffer is the window: we wait for 'drain' only above a few batches queued,
 *    which bounds memory against a slow reader;
 *  - a command that arrives while an answer waits (for the disk, or for a slow reader) is queued
 *    and answered in order.
 */
import { EventEmitter } from 'node:events';
import { ConnectionError, TimeoutError } from '../../errors';
import { AtapiDrive, AtapiReply } from './atapi';
import type { RedirectionChannel } from './connection';
import type { ImageMedium } from './medium';
import {
  commandEnd,
  DATA_TO_HOST_HEADER,
  dataToHostHeader,
  DRIVE,
  DriveSelect,
  endSession,
  FEATURE,
  iderBare,
  iderFeatures,
  iderOpen,
  MSG,
  readCommand,
  readFeatures,
  readIderOpenReply,
  sequenceOf,
  writeDataToHostHeader,
} from './protocol';

const DEFAULT_HEARTBEAT_MS = 20_000;
const RX_TIMEOUT_MS = 30_000;
/** Largest DATA_TO_HOST payload we send. */
const MAX_READ_BUFFER = 8192;

/** A read being sent: `sent` of `length` bytes from `offset`, blocks `lba`.. of the drive. */
interface Transfer {
  drive: DriveSelect;
  dma: boolean;
  offset: number;
  length: number;
  sent: number;
  lba: number;
  blocks: number;
}

export interface IderOptions {
  medium: ImageMedium;
  /** Attach the drive at the device's next boot (default) or at once. */
  start?: 'reboot' | 'now';
  /**
   * Heartbeat interval asked of the device. Default 20 s, with a receive timeout of 30 s: what
   * MeshCommander asks (docs/firmware-evidence.md). We send no pings, as it sends none.
   */
  heartbeatMs?: number;
  /** The device is taken for gone after this long without a message. Default 3 heartbeats. */
  silenceMs?: number;
  /** Handshake step limit. Default 15 s. */
  timeoutMs?: number;
  /** Byte range whose complete read means the device has loaded its boot image. */
  bootRange?: { offset: number; length: number };
  /** Bytes read from the image and queued per batch; above 4 batches queued we wait for the socket to drain. Default 1 MiB. */
  highWaterBytes?: number;
}

export interface IderProgress {
  /** Bytes of image data sent. */
  bytesServed: number;
  /** Share of the image's blocks the device has read at least once, 0..1. */
  fraction: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  commands: number;
}

export type IderEnd =
  | { reason: 'device-closed' | 'stopped' }
  | { reason: 'error'; error: Error };

/**
 * Events: 'progress' (IderProgress, at most every 250 ms), 'booted' (the boot range has been read),
 * 'command' ({ op, drive }), 'end' (IderEnd, once).
 */
export class IderSession extends EventEmitter {
  readonly medium: ImageMedium;
  readonly startedAt = Date.now();
  bytesServed = 0;
  commands = 0;
  /** Commands answered per kind of reply: 'read', 'data' or 'status'. */
  readonly replies = { read: 0, data: 0, status: 0 };
  booted = false;
  /** ERROR messages (4Ah) the device sent; they do not end the session. */
  deviceErrors = 0;
  /** Transfers that had to wait for the image file (the read-ahead had not fetched their bytes yet). */
  diskWaits = 0;
  readonly ended: Promise<IderEnd>;
  private endResolve!: (e: IderEnd) => void;
  private finished = false;
  private outSeq = 0;
  private inSeq = 0;
  private chunk = 8192;
  /** Bytes read from the cache and sent per step: whole pieces of `chunk`. */
  private batch = 1024 * 1024;
  private readonly drives: Record<DriveSelect, AtapiDrive>;
  private readonly seen: Uint8Array;
  private seenBlocks = 0;
  private bootBlocksLeft: number;
  private bootFirst = 0;
  private bootLast = -1;
  /** Settles when the answer in progress, which waits for the disk or the socket, is sent. */
  private waiting?: Promise<void>;
  /** Messages that arrived while an answer waited, answered in order after it. */
  private readonly backlog: Buffer[] = [];
  private resetPending = false;
  private lastIn = Date.now();
  private lastOut = Date.now();
  private timer?: NodeJS.Timeout;
  private readonly samples: Array<[number, number]> = [];
  private lastProgress = 0;
  private closeReply?: () => void;
  /** Settles the enable request when its FEATURES reply arrives, whenever that is. */
  private featuresReply?: (reply: { type: number; value: number }) => void;

  private constructor(
    private readonly channel: RedirectionChannel,
    private readonly o: IderOptions,
  ) {
    super();
    this.medium = o.medium;
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
    const kind = o.medium.kind;
    this.drives = {
      [DRIVE.cd]: new AtapiDrive('cd', kind === 'cd' ? o.medium : undefined),
      [DRIVE.floppy]: new AtapiDrive('floppy', kind === 'floppy' ? o.medium : undefined),
    } as Record<DriveSelect, AtapiDrive>;
    this.seen = new Uint8Array(Math.ceil(o.medium.blocks / 8));
    // The cache's views we send are done with once the socket has handed them all to the kernel.
    o.medium.viewsReleased = () => channel.socket.writableLength === 0;
    const bs = o.medium.blockSize;
    if (o.bootRange && o.bootRange.length > 0) {
      this.bootFirst = Math.floor(o.bootRange.offset / bs);
      this.bootLast = Math.min(o.medium.blocks - 1, Math.floor((o.bootRange.offset + o.bootRange.length - 1) / bs));
    }
    this.bootBlocksLeft = Math.max(0, this.bootLast - this.bootFirst + 1);
  }

  get drive(): DriveSelect {
    return this.medium.kind === 'cd' ? DRIVE.cd : DRIVE.floppy;
  }

  get label(): string {
    return this.channel.label;
  }

  /** Bytes this console sent on the connection, headers included. */
  get wireBytesOut(): number {
    return this.channel.bytesOut;
  }

  /** Open IDE-R on an authenticated channel and attach the drive. */
  static async open(channel: RedirectionChannel, o: IderOptions): Promise<IderSession> {
    const s = new IderSession(channel, o);
    await s.handshake();
    return s;
  }

  private send(...parts: Buffer[]): boolean {
    this.lastOut = Date.now();
    return this.channel.send(...parts);
  }

  private seq(): number {
    return this.outSeq++;
  }

  private async expect(type: number, what: string): Promise<Buffer> {
    const timeoutMs = this.o.timeoutMs ?? 15000;
    for (;;) {
      const m = await this.channel.next(timeoutMs, what);
      this.checkSequence(m);
      if (m[0] === type) return m;
      if (m[0] === MSG.iderHeartbeat || m[0] === MSG.iderPong) continue;
      throw new ConnectionError(`${this.label} answered ${what} with message 0x${m[0].toString(16)}`);
    }
  }

  private checkSequence(m: Buffer): void {
    if (m[0] < MSG.iderOpen) return; // session manager messages carry no sequence
    const seq = sequenceOf(m);
    if (seq !== this.inSeq) throw new ConnectionError(`${this.label} sent IDE-R message ${seq} where ${this.inSeq} was due`);
    this.inSeq++;
  }

  private async handshake(): Promise<void> {
    const heartbeatMs = this.o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const timeoutMs = this.o.timeoutMs ?? 15000;
    this.send(iderOpen(this.seq(), { rxTimeoutMs: Math.max(heartbeatMs, RX_TIMEOUT_MS), txTimeoutMs: 0, heartbeatMs, version: 1 }));
    const open = readIderOpenReply(await this.expect(MSG.iderOpenReply, 'the IDE-R open request'));
    if (open.protocol !== 0) throw new ConnectionError(`${this.label} offers IDE-R protocol ${open.protocol}, not 0`);
    if (open.readBufferSize < 512) throw new ConnectionError(`${this.label} reported an IDE-R read buffer of ${open.readBufferSize} bytes`);
    // Never more than 8 KiB per DATA_TO_HOST, whatever the device reports: MeshCommander refuses a larger buffer.
    this.chunk = Math.min(open.readBufferSize, MAX_READ_BUFFER);
    this.batch = Math.max(1, Math.floor((this.o.highWaterBytes ?? 1024 * 1024) / this.chunk)) * this.chunk;
    const when = this.o.start === 'now' ? FEATURE.now : FEATURE.onReboot;
    // The reply may come after other messages (a reset, a command): from here on the session runs.
    const replied = new Promise<{ type: number; value: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError(`${this.label} did not answer the IDE-R enable request within ${timeoutMs} ms`)), timeoutMs);
      this.featuresReply = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      void this.ended.then((e) => {
        clearTimeout(timer);
        reject(e.reason === 'error' ? e.error : new ConnectionError(`${this.label} closed the IDE-R session during the enable request`));
      });
    });
    this.run();
    this.send(iderFeatures(this.seq(), FEATURE.set, FEATURE.enable | when));
    let reply: { type: number; value: number };
    try {
      reply = await replied;
    } catch (e) {
      this.fail(e as Error);
      throw e;
    }
    if (reply.type !== FEATURE.set || reply.value !== 1) {
      const e = new ConnectionError(`${this.label} did not enable the IDE-R drive (reply ${reply.type}/${reply.value})`);
      this.fail(e);
      throw e;
    }
  }

  private run(): void {
    this.channel.on('message', (m: Buffer) => this.onMessage(m));
    this.channel.once('close', (e?: Error) => {
      if (this.finished) return;
      if (this.closeReply) return this.finish({ reason: 'stopped' });
      this.finish(e ? { reason: 'error', error: new ConnectionError(`${this.label} dropped the IDE-R session: ${e.message}`, e) } : { reason: 'device-closed' });
    });
    const heartbeatMs = this.o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const silenceMs = this.o.silenceMs ?? heartbeatMs * 3;
    // The device's heartbeats show it is there; we ping nothing (MeshCommander never does).
    this.timer = setInterval(() => {
      if (Date.now() - this.lastIn > silenceMs) {
        this.fail(new TimeoutError(`${this.label} sent nothing on the IDE-R session for ${Math.round(silenceMs / 1000)} s`));
      }
    }, Math.max(50, Math.min(heartbeatMs, silenceMs) / 2));
    this.timer.unref();
  }

  private onMessage(m: Buffer): void {
    if (this.finished) return;
    this.lastIn = Date.now();
    try {
      this.checkSequence(m);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    switch (m[0]) {
      case MSG.iderHeartbeat:
      case MSG.iderPong:
        return;
      case MSG.iderPing:
        this.send(iderBare(MSG.iderPong, this.seq()));
        return;
      case MSG.iderReset:
        // The host reset the bus: a transfer in progress stops at once, then the reset is acknowledged in turn.
        this.resetPending = true;
        this.inTurn(m);
        return;
      case MSG.iderCommand:
      case MSG.iderDataFromHost:
        this.inTurn(m);
        return;
      case MSG.iderFeaturesReply:
        this.featuresReply?.(readFeatures(m));
        this.featuresReply = undefined;
        return;
      case MSG.iderCloseReply:
        // Our close answered, or the device ending the session by itself: either way the end.
        if (this.closeReply) this.closeReply();
        else {
          this.finish({ reason: 'device-closed' });
          this.channel.end();
        }
        return;
      case MSG.iderError:
        // Not fatal: the device goes on (MeshCommander only logs it); the next command is answered as usual.
        this.deviceErrors++;
        this.emit('device-error', m[8]);
        return;
      default:
        this.fail(new ConnectionError(`${this.label} sent unexpected IDE-R message 0x${m[0].toString(16)}`));
    }
  }

  /**
   * Answers a message that must be answered in order: at once when nothing before it waits (the
   * usual case: the answer comes from the read-ahead cache and goes out in the same turn of the
   * event loop), else after what waits (the disk, or a socket over its high-water mark).
   */
  private inTurn(m: Buffer): void {
    if (this.waiting) {
      this.backlog.push(m);
      return;
    }
    let next: Buffer | undefined = m;
    while (next && !this.finished) {
      let pending: void | Promise<void>;
      try {
        pending = this.answer(next);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      if (pending) {
        this.waiting = pending.then(
          () => {
            this.waiting = undefined;
            const queued = this.backlog.shift();
            if (queued) this.inTurn(queued);
          },
          (e: Error) => {
            this.waiting = undefined;
            this.fail(e);
          },
        );
        return;
      }
      next = this.backlog.shift();
    }
  }

  private answer(m: Buffer): void | Promise<void> {
    switch (m[0]) {
      case MSG.iderCommand:
        return this.command(m);
      case MSG.iderReset:
        this.resetPending = false;
        for (const d of Object.values(this.drives)) d.reset();
        this.send(iderBare(MSG.iderResetReply, this.seq()));
        return;
      default:
        // DATA_FROM_HOST: we never ask for data (the drives are read-only); a device that sends some gets write-protect.
        this.send(commandEnd(this.seq(), this.drive, { key: 7, asc: 0x27, ascq: 0 }));
    }
  }

  private command(m: Buffer): void | Promise<void> {
    const c = readCommand(m);
    this.commands++;
    // Byte 15 (the ATA command) is not checked: only PACKET commands reach a console, and
    // MeshCommander reads the CDB whatever that byte holds.
    const reply: AtapiReply = this.drives[c.drive].handle(c.cdb);
    this.replies[reply.kind]++;
    this.emit('command', { op: c.cdb[0], drive: c.drive === DRIVE.cd ? 'cd' : 'floppy' });
    if (reply.kind === 'status') {
      this.send(commandEnd(this.seq(), c.drive, reply.sense));
      return;
    }
    if (reply.kind === 'data') {
      this.send(dataToHostHeader(this.seq(), c.drive, reply.data.length, true, c.dma), reply.data);
      return;
    }
    return this.stream({ drive: c.drive, dma: c.dma, offset: reply.offset, length: reply.length, sent: 0, lba: reply.lba, blocks: reply.blocks });
  }

  /**
   * Sends the transfer's bytes as DATA_TO_HOST messages of the device's full read buffer (only the
   * last one shorter), the last one ending the command. Synchronous while the bytes are in the
   * read-ahead cache and the socket keeps up; waits for the disk or for 'drain' otherwise.
   */
  private stream(t: Transfer): void | Promise<void> {
    const socket = this.channel.socket;
    while (t.sent < t.length) {
      if (this.resetPending || this.finished) return;
      // The socket's queue is the window; only a reader slower than the link makes it grow this far.
      if (socket.writableLength > 4 * this.batch) return this.channel.drained().then(() => this.stream(t));
      const n = Math.min(this.batch, t.length - t.sent);
      const parts = this.medium.readCached(t.offset + t.sent, n);
      if (!parts) {
        this.diskWaits++;
        return this.medium.read(t.offset + t.sent, n).then((data) => {
          if (!this.resetPending && !this.finished) this.sendBatch(t, [data], n);
          return this.stream(t);
        });
      }
      this.sendBatch(t, parts, n);
    }
    this.markRead(t.lba, t.blocks);
  }

  /** `n` bytes of the transfer (in `parts`, views of the cache) as whole read-buffer pieces, with their headers in one allocation and in one write. */
  private sendBatch(t: Transfer, parts: Buffer[], n: number): void {
    const chunk = this.chunk;
    const pieces = Math.ceil(n / chunk);
    const headers = Buffer.alloc(pieces * DATA_TO_HOST_HEADER);
    const out: Buffer[] = new Array<Buffer>(pieces * 2);
    let part = 0;
    let partAt = 0;
    for (let i = 0; i < pieces; i++) {
      const len = Math.min(chunk, n - i * chunk);
      const at = i * DATA_TO_HOST_HEADER;
      writeDataToHostHeader(headers, at, this.seq(), t.drive, len, t.sent + i * chunk + len >= t.length, t.dma);
      out[2 * i] = headers.subarray(at, at + DATA_TO_HOST_HEADER);
      if (parts[part].length - partAt >= len) {
        out[2 * i + 1] = parts[part].subarray(partAt, partAt + len);
        partAt += len;
      } else {
        // A piece across two cached segments: the only bytes copied.
        const piece = Buffer.allocUnsafe(len);
        for (let got = 0; got < len; ) {
          if (partAt === parts[part].length) {
            part++;
            partAt = 0;
          }
          const k = parts[part].copy(piece, got, partAt, Math.min(parts[part].length, partAt + len - got));
          got += k;
          partAt += k;
        }
        out[2 * i + 1] = piece;
      }
      if (partAt === parts[part].length && part < parts.length - 1) {
        part++;
        partAt = 0;
      }
    }
    this.send(...out);
    t.sent += n;
    this.bytesServed += n;
    this.progress(false);
  }

  private markRead(lba: number, blocks: number): void {
    for (let b = lba; b < lba + blocks; b++) {
      const bit = 1 << (b & 7);
      if (this.seen[b >> 3] & bit) continue;
      this.seen[b >> 3] |= bit;
      this.seenBlocks++;
      if (b >= this.bootFirst && b <= this.bootLast) this.bootBlocksLeft--;
    }
    if (!this.booted && this.bootLast >= 0 && this.bootBlocksLeft === 0) {
      this.booted = true;
      this.progress(true);
      this.emit('booted', this.snapshot());
    }
  }

  snapshot(): IderProgress {
    const now = Date.now();
    const from = this.samples.find(([t]) => now - t <= 3000) ?? [this.startedAt, 0];
    const seconds = Math.max(0.001, (now - from[0]) / 1000);
    return {
      bytesServed: this.bytesServed,
      fraction: this.medium.blocks ? this.seenBlocks / this.medium.blocks : 0,
      rate: (this.bytesServed - from[1]) / seconds,
      commands: this.commands,
    };
  }

  private progress(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastProgress < 250) return;
    this.lastProgress = now;
    this.samples.push([now, this.bytesServed]);
    while (this.samples.length > 1 && now - this.samples[0][0] > 3000) this.samples.shift();
    this.emit('progress', this.snapshot());
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finish({ reason: 'error', error });
    this.channel.destroy();
  }

  private finish(e: IderEnd): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    this.progress(true);
    void this.medium.close();
    this.endResolve(e);
    this.emit('end', e);
  }

  /** Clean close: END IDE-R, wait (briefly) for its reply, end the redirection session, close. */
  async stop(): Promise<IderEnd> {
    if (!this.finished && !this.channel.isClosed) {
      while (this.waiting) await this.waiting.catch(() => undefined);
      const replied = new Promise<void>((resolve) => {
        this.closeReply = resolve;
        setTimeout(resolve, 2000).unref();
      });
      this.send(iderBare(MSG.iderClose, this.seq()));
      await replied;
      this.channel.send(endSession());
      this.finish({ reason: 'stopped' });
      this.channel.end();
    }
    return this.ended;
  }
}

