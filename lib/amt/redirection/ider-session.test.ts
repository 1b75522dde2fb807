/**
 * How the console serves reads, driven by a bare device written here from the protocol's bytes
 * (not our simulator), so that it can do what the simulated BIOS never does: send a second command
 * before the first is answered, read slowly, reset the bus mid-transfer, report an odd read buffer.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedirectionChannel } from './connection';
import { IderSession } from './ider-session';
import { ImageMedium } from './medium';
import { DRIVE, FEATURE, FrameReader, iderBare, iderCommand, iderError, iderFeatures, iderOpenReply, iderReset, INTEL_IANA, MSG, readDataToHost, readIderOpen, sequenceOf } from './protocol';

let dir: string;
let image: Buffer;
const open: Array<{ close(): void }> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'oob-ider-session-'));
  image = randomBytes(8 * 1024 * 1024 + 3 * 2048);
  writeFileSync(join(dir, 'disk.iso'), image);
});

afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A device end: answers OPEN and the enable request, then lets the test write commands and read what comes back. */
async function connect(o: { readBufferSize: number; segmentBytes?: number; highWaterBytes?: number; beforeFeaturesReply?: Array<(seq: number) => Buffer>; heartbeatDefault?: boolean }) {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const console = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => console.once('connect', r));
  const device = await accepted;
  const medium = await ImageMedium.open(join(dir, 'disk.iso'), 'cd', { segmentBytes: o.segmentBytes ?? 64 * 1024, readAheadSegments: 4 });
  const reader = new FrameReader();
  const inbox: Buffer[] = [];
  let wake: (() => void) | undefined;
  device.on('data', (c: Buffer) => {
    inbox.push(...reader.push(c).map((m) => Buffer.from(m)));
    wake?.();
  });
  const next = async (): Promise<Buffer> => {
    while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
    return inbox.shift()!;
  };
  let seq = 0;
  const opening = IderSession.open(new RedirectionChannel(console, 'test-device'), { medium, heartbeatMs: o.heartbeatDefault ? undefined : 60_000, highWaterBytes: o.highWaterBytes });
  const openRequest = await next();
  expect(openRequest[0]).toBe(MSG.iderOpen);
  device.write(iderOpenReply(seq++, { major: 1, minor: 0, firmwareMajor: 16, firmwareMinor: 1, readBufferSize: o.readBufferSize, writeBufferSize: 8192, protocol: 0, iana: INTEL_IANA }));
  expect((await next())[0]).toBe(MSG.iderFeatures);
  for (const make of o.beforeFeaturesReply ?? []) device.write(make(seq++));
  device.write(iderFeatures(seq++, FEATURE.set, 1, true));
  const session = await opening;
  open.push({ close: () => (device.destroy(), console.destroy(), server.close()) });
  const read = (lba: number, blocks: number) => {
    const cdb = Buffer.alloc(12);
    cdb[0] = 0xa8; // READ(12)
    cdb.writeUInt32BE(lba, 2);
    cdb.writeUInt32BE(blocks, 6);
    return iderCommand(seq++, { drive: DRIVE.cd, dma: false, byteCountLimit: 0xfffe, ataCommand: 0xa0, cdb });
  };
  /** The DATA_TO_HOST messages of one command, up to the one that ends it. */
  const answer = async () => {
    const pieces: ReturnType<typeof readDataToHost>[] = [];
    const seqs: number[] = [];
    for (;;) {
      const m = await next();
      if (m[0] !== MSG.iderDataToHost) throw new Error(`expected DATA_TO_HOST, got 0x${m[0].toString(16)}`);
      seqs.push(sequenceOf(m));
      const d = readDataToHost(m);
      pieces.push(d);
      if (d.last) return { data: Buffer.concat(pieces.map((p) => p.data)), sizes: pieces.map((p) => p.data.length), seqs };
    }
  };
  const read10 = (lba: number, blocks: number, ataCommand = 0xa0) => {
    const cdb = Buffer.alloc(12);
    cdb[0] = 0x28;
    cdb.writeUInt32BE(lba, 2);
    cdb.writeUInt16BE(blocks, 7);
    return iderCommand(seq++, { drive: DRIVE.cd, dma: false, byteCountLimit: 0xfffe, ataCommand, cdb });
  };
  return { session, medium, device, next, answer, read, read10, open: readIderOpen(openRequest), send: (make: (seq: number) => Buffer) => device.write(make(seq++)), reset: () => device.write(iderReset(seq++, 1)) };
}

describe('what MeshCommander shows of real firmware', () => {
  it('takes the enable reply whenever it comes, after a heartbeat and a reset', async () => {
    const d = await connect({ readBufferSize: 8192, beforeFeaturesReply: [(seq) => iderBare(MSG.iderHeartbeat, seq), (seq) => iderReset(seq, 1)] });
    // The reset was answered in turn, and the session serves reads.
    expect((await d.next())[0]).toBe(MSG.iderResetReply);
    d.device.write(d.read10(16, 1));
    expect((await d.answer()).data.equals(image.subarray(16 * 2048, 17 * 2048))).toBe(true);
  });

  it('answers a command whatever its ATA command byte holds', async () => {
    const d = await connect({ readBufferSize: 8192 });
    d.device.write(d.read10(5, 2, 0x00));
    expect((await d.answer()).data.equals(image.subarray(5 * 2048, 7 * 2048))).toBe(true);
  });

  it('goes on after a device ERROR, and takes the device CLOSE as the end', async () => {
    const d = await connect({ readBufferSize: 8192 });
    d.send((seq) => iderError(seq, 1));
    d.device.write(d.read10(9, 1));
    expect((await d.answer()).data.equals(image.subarray(9 * 2048, 10 * 2048))).toBe(true);
    expect(d.session.deviceErrors).toBe(1);
    d.send((seq) => iderBare(MSG.iderCloseReply, seq));
    expect(await d.session.ended).toEqual({ reason: 'device-closed' });
  });

  it('sends at most 8 KiB per DATA_TO_HOST, even to a device that reports a larger read buffer', async () => {
    const d = await connect({ readBufferSize: 16384 });
    d.device.write(d.read10(0, 20));
    const a = await d.answer();
    expect(a.data.equals(image.subarray(0, 20 * 2048))).toBe(true);
    expect(a.sizes).toEqual([8192, 8192, 8192, 8192, 8192]);
  });

  it('asks the device for 30 s / 20 s, as MeshCommander does', async () => {
    const d = await connect({ readBufferSize: 8192, heartbeatDefault: true });
    expect(d.open).toEqual({ rxTimeoutMs: 30000, txTimeoutMs: 0, heartbeatMs: 20000, version: 1 });
  });
});

describe('serving reads', () => {
  it('answers commands a device sends before the previous one is answered, in order, with the right bytes', async () => {
    const d = await connect({ readBufferSize: 8192, highWaterBytes: 64 * 1024 });
    // Three reads written at once: a long one that waits for the image file and for the device to
    // read (it is paused a moment), then two short ones elsewhere on the disk.
    d.device.pause();
    d.device.write(Buffer.concat([d.read(3000, 1000), d.read(100, 64), d.read(164, 64)]));
    await new Promise((r) => setTimeout(r, 50));
    d.device.resume();
    const answers = [await d.answer(), await d.answer(), await d.answer()];
    expect(answers[0].data.equals(image.subarray(3000 * 2048, 4000 * 2048))).toBe(true);
    expect(answers[1].data.equals(image.subarray(100 * 2048, 164 * 2048))).toBe(true);
    expect(answers[2].data.equals(image.subarray(164 * 2048, 228 * 2048))).toBe(true);
    // One sequence of message numbers across the three answers, without gaps.
    const seqs = answers.flatMap((a) => a.seqs);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    expect(d.session.commands).toBe(3);
  });

  it('sends every piece but the last of a command at the full read buffer, even one that does not divide the batch', async () => {
    const d = await connect({ readBufferSize: 3000, highWaterBytes: 64 * 1024 });
    d.device.write(d.read(7, 1500)); // 3 MB, across many 64 KiB segments
    const a = await d.answer();
    expect(a.data.equals(image.subarray(7 * 2048, 1507 * 2048))).toBe(true);
    expect(a.sizes.slice(0, -1).every((n) => n === 3000)).toBe(true);
    expect(a.sizes.length).toBe(Math.ceil((1500 * 2048) / 3000));
  });

  it('streams a large read without waiting for the device per piece, and no faster than a slow device reads it', async () => {
    const d = await connect({ readBufferSize: 8192, highWaterBytes: 128 * 1024 });
    const socket = (d.session as unknown as { channel: RedirectionChannel }).channel.socket;
    d.device.pause();
    d.device.write(d.read(0, 4096)); // 8 MiB
    // The device reads nothing for a while: the console fills the link and its socket up to its window, then waits.
    let most = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 10));
      most = Math.max(most, socket.writableLength);
    }
    expect(d.session.bytesServed).toBeGreaterThan(0);
    expect(d.session.bytesServed).toBeLessThan(image.length);
    expect(most).toBeLessThanOrEqual(5 * 128 * 1024);
    d.device.resume();
    const a = await d.answer();
    expect(a.data.equals(image.subarray(0, 4096 * 2048))).toBe(true);
    expect(d.session.bytesServed).toBe(4096 * 2048);
  });

  it('serves a sequential reader from the read-ahead: the file is read once and hardly ever waited for', async () => {
    const d = await connect({ readBufferSize: 8192, segmentBytes: 256 * 1024 });
    const blocks = Math.floor(image.length / 2048);
    for (let lba = 0; lba < blocks; lba += 64) {
      const n = Math.min(64, blocks - lba);
      d.device.write(d.read(lba, n));
      const a = await d.answer();
      if (!a.data.equals(image.subarray(lba * 2048, (lba + n) * 2048))) throw new Error(`wrong bytes at block ${lba}`);
      // The device takes its time between commands, as a firmware does; the read-ahead uses it (how far it keeps up with a fast device is the bench's question).
      await d.medium.settled();
    }
    // Only the first read finds nothing cached; after that the read-ahead is in front.
    expect(d.session.diskWaits).toBe(1);
    expect(d.medium.fileBytesRead).toBe(image.length);
    // Evicted segments were reused rather than new memory taken for each of the 33.
    expect(d.medium.segmentsAllocated).toBeLessThan(16);
  });

  it('stops a transfer when the device resets the bus, acknowledges the reset, and then serves again', async () => {
    const d = await connect({ readBufferSize: 8192, highWaterBytes: 64 * 1024 });
    d.device.pause();
    d.device.write(d.read(0, 4096));
    await new Promise((r) => setTimeout(r, 50));
    d.reset();
    d.device.resume();
    let m: Buffer;
    do m = await d.next();
    while (m[0] === MSG.iderDataToHost && !readDataToHost(m).last);
    // The reset reply comes without the rest of the 8 MiB.
    expect(m[0]).toBe(MSG.iderResetReply);
    expect(d.session.bytesServed).toBeLessThan(4096 * 2048);
    d.device.write(d.read(10, 2));
    expect((await d.answer()).data.equals(image.subarray(10 * 2048, 12 * 2048))).toBe(true);
  });
});

describe('the read-ahead cache', () => {
  it('reuses the memory of evicted segments only once their views are released, and always returns the file bytes', async () => {
    const segment = 32 * 1024;
    const step = 48 * 1024; // reads that often straddle two segments
    const medium = await ImageMedium.open(join(dir, 'disk.iso'), 'cd', { segmentBytes: segment, readAheadSegments: 2 });
    let released = false;
    medium.viewsReleased = () => released;
    /** The views of [at, at + step), as the session gets them: from the cache once the read-ahead has them. */
    const get = async (at: number): Promise<Buffer[]> => {
      for (let i = 0; i < 100; i++) {
        const parts = medium.readCached(at, step);
        if (parts) return parts;
        await new Promise((r) => setTimeout(r, 5));
        if (i === 0 && at === 0) return [await medium.read(at, step)];
      }
      return [await medium.read(at, step)];
    };
    try {
      // While the consumer holds its views, eviction must not hand their memory to new segments.
      const held: Array<{ at: number; view: Buffer }> = [];
      let at = 0;
      for (; at < 1024 * 1024; at += step) {
        let offset = at;
        for (const view of await get(at)) {
          held.push({ at: offset, view });
          offset += view.length;
        }
      }
      const allocatedWhileHeld = medium.segmentsAllocated;
      expect(allocatedWhileHeld).toBeGreaterThanOrEqual(Math.floor(at / segment));
      for (const h of held) expect(h.view.equals(image.subarray(h.at, h.at + h.view.length))).toBe(true);
      // Once released, evicted memory is reused: far fewer new segments for the next megabytes.
      released = true;
      const start = at;
      for (; at < start + 2 * 1024 * 1024; at += step) {
        const got = Buffer.concat(await get(at));
        expect(got.equals(image.subarray(at, at + step))).toBe(true);
      }
      expect(medium.segmentsAllocated - allocatedWhileHeld).toBeLessThan((2 * 1024 * 1024) / segment / 4);
    } finally {
      await medium.close();
    }
  });
});
