/**
 * An IDE-R session, console side: open it on an authenticated redirection channel, have the device
 * attach the drive on its next boot (or now), then answer the ATAPI commands its BIOS and OS send,
 * reading from one image (CD or floppy; the other drive reports no medium).
 *
 * Throughput: the device sends one command and waits for its data, so the cost of each command is
 * one round trip plus the bytes. Every answer comes from the image's read-ahead cache, all its
 * chunks leave in one corked write with no per-chunk wait, Nagle is off, and the socket's own
 * buffer is the window (we wait for 'drain' only above its high-water mark, which bounds memory
 * against a slow reader).
 */
import { EventEmitter } from 'node:events';
import { ConnectionError, TimeoutError } from '../../errors';
import { AtapiDrive, AtapiReply } from './atapi';
import type { RedirectionChannel } from './connection';
import type { ImageMedium } from './medium';
import {
  commandEnd,
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
} from './protocol';

export interface IderOptions {
  medium: ImageMedium;
  /** Attach the drive at the device's next boot (default) or at once. */
  start?: 'reboot' | 'now';
  /** Heartbeat interval asked of the device, and our keep-alive ping interval. Default 5 s. */
  heartbeatMs?: number;
  /** The device is taken for gone after this long without a message. Default 4 heartbeats. */
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
  readonly ended: Promise<IderEnd>;
  private endResolve!: (e: IderEnd) => void;
  private finished = false;
  private outSeq = 0;
  private inSeq = 0;
  private chunk = 8192;
  private readonly drives: Record<DriveSelect, AtapiDrive>;
  private readonly seen: Uint8Array;
  private seenBlocks = 0;
  private bootBlocksLeft: number;
  private bootFirst = 0;
  private bootLast = -1;
  private work: Promise<void> = Promise.resolve();
  private resetPending = false;
  private lastIn = Date.now();
  private lastOut = Date.now();
  private timer?: NodeJS.Timeout;
  private readonly samples: Array<[number, number]> = [];
  private lastProgress = 0;
  private closeReply?: () => void;

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
    s.run();
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
    const heartbeatMs = this.o.heartbeatMs ?? 5000;
    this.send(iderOpen(this.seq(), { rxTimeoutMs: Math.max(heartbeatMs * 4, 10000), txTimeoutMs: 0, heartbeatMs, version: 1 }));
    const open = readIderOpenReply(await this.expect(MSG.iderOpenReply, 'the IDE-R open request'));
    if (open.protocol !== 0) throw new ConnectionError(`${this.label} offers IDE-R protocol ${open.protocol}, not 0`);
    if (open.readBufferSize < 512) throw new ConnectionError(`${this.label} reported an IDE-R read buffer of ${open.readBufferSize} bytes`);
    this.chunk = Math.min(open.readBufferSize, 0xffff);
    const when = this.o.start === 'now' ? FEATURE.now : FEATURE.onReboot;
    this.send(iderFeatures(this.seq(), FEATURE.set, FEATURE.enable | when));
    const reply = readFeatures(await this.expect(MSG.iderFeaturesReply, 'the IDE-R enable request'));
    if (reply.type !== FEATURE.set || reply.value !== 1) throw new ConnectionError(`${this.label} did not enable the IDE-R drive (reply ${reply.type}/${reply.value})`);
  }

  private run(): void {
    this.channel.on('message', (m: Buffer) => this.onMessage(m));
    this.channel.once('close', (e?: Error) => {
      if (this.finished) return;
      if (this.closeReply) return this.finish({ reason: 'stopped' });
      this.finish(e ? { reason: 'error', error: new ConnectionError(`${this.label} dropped the IDE-R session: ${e.message}`, e) } : { reason: 'device-closed' });
    });
    const heartbeatMs = this.o.heartbeatMs ?? 5000;
    const silenceMs = this.o.silenceMs ?? heartbeatMs * 4;
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastIn > silenceMs) {
        this.fail(new TimeoutError(`${this.label} sent nothing on the IDE-R session for ${Math.round(silenceMs / 1000)} s`));
        return;
      }
      if (now - this.lastOut >= heartbeatMs) this.send(iderBare(MSG.iderPing, this.seq()));
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
      case MSG.iderCommand:
        this.enqueue(() => this.command(m));
        return;
      case MSG.iderReset:
        // The host reset the bus: abandon a transfer in progress, then acknowledge.
        this.resetPending = true;
        this.enqueue(async () => {
          this.resetPending = false;
          for (const d of Object.values(this.drives)) d.reset();
          this.send(iderBare(MSG.iderResetReply, this.seq()));
        });
        return;
      case MSG.iderCloseReply:
        this.closeReply?.();
        return;
      case MSG.iderError:
        this.fail(new ConnectionError(`${this.label} reported IDE-R error ${m[8]}`));
        return;
      case MSG.iderDataFromHost:
        // We never ask for data (the drives are read-only); a device that sends some gets write-protect.
        this.enqueue(async () => {
          this.send(commandEnd(this.seq(), this.drive, { key: 7, asc: 0x27, ascq: 0 }));
        });
        return;
      default:
        this.fail(new ConnectionError(`${this.label} sent unexpected IDE-R message 0x${m[0].toString(16)}`));
    }
  }

  private enqueue(job: () => Promise<void>): void {
    this.work = this.work.then(job).catch((e: Error) => this.fail(e));
  }

  private async command(m: Buffer): Promise<void> {
    const c = readCommand(m);
    this.commands++;
    const drive = this.drives[c.drive];
    if (c.ataCommand !== 0xa0) {
      // Only ATAPI PACKET commands reach a console; anything else is refused as invalid.
      this.send(commandEnd(this.seq(), c.drive, { key: 5, asc: 0x20, ascq: 0 }));
      return;
    }
    const reply: AtapiReply = drive.handle(c.cdb);
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
    await this.stream(c.drive, c.dma, reply.offset, reply.length);
    this.markRead(reply.lba, reply.blocks);
  }

  /** Send [offset, offset+length) of the image as DATA_TO_HOST chunks, the last one ending the command. */
  private async stream(drive: DriveSelect, dma: boolean, offset: number, length: number): Promise<void> {
    const batch = Math.max(this.chunk, this.o.highWaterBytes ?? 1024 * 1024);
    const socket = this.channel.socket;
    let sent = 0;
    while (sent < length) {
      if (this.resetPending || this.finished) return;
      const n = Math.min(batch, length - sent);
      const data = this.medium.readCached(offset + sent, n) ?? (await this.medium.read(offset + sent, n));
      socket.cork();
      for (let at = 0; at < n; at += this.chunk) {
        const piece = data.subarray(at, Math.min(n, at + this.chunk));
        const last = sent + at + piece.length >= length;
        this.send(dataToHostHeader(this.seq(), drive, piece.length, last, dma), piece);
      }
      socket.uncork();
      sent += n;
      this.bytesServed += n;
      this.progress(false);
      // The socket's queue is the window; only a reader slower than the link makes it grow this far.
      if (socket.writableLength > 4 * batch) await this.channel.drained();
    }
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
      await this.work.catch(() => undefined);
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

