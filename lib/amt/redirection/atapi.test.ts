import fc from 'fast-check';
import { AtapiDrive, SENSE } from './atapi';
import { FrameReader, iderCommand, readCommand, DRIVE, dataToHostHeader, readDataToHost, commandEnd, readCommandEnd, StreamingFrameReader } from './protocol';

const cdb = (...b: number[]) => Buffer.from([...b, ...new Array(12 - b.length).fill(0)]);
const cd = () => new AtapiDrive('cd', { kind: 'cd', size: 100 * 2048 + 100 });

describe('ATAPI drive', () => {
  it('reports the medium once as changed, then ready; REQUEST SENSE returns the last sense', () => {
    const d = cd();
    expect(d.handle(cdb(0x00))).toEqual({ kind: 'status', sense: SENSE.mediumChanged });
    const sense = d.handle(cdb(0x03, 0, 0, 0, 18));
    expect(sense.kind === 'data' && [sense.data[2], sense.data[12]]).toEqual([6, 0x28]);
    expect(d.handle(cdb(0x00))).toEqual({ kind: 'status', sense: { key: 0, asc: 0, ascq: 0 } });
    d.reset();
    expect(d.handle(cdb(0x00))).toEqual({ kind: 'status', sense: SENSE.mediumChanged });
  });

  it('answers READ CAPACITY with the last block (a partial last block counts) and 2048-byte blocks', () => {
    const r = cd().handle(cdb(0x25));
    expect(r.kind === 'data' && [r.data.readUInt32BE(0), r.data.readUInt32BE(4)]).toEqual([100, 2048]);
  });

  it('maps READ(10), READ(12) and READ(6) to byte ranges and refuses reads past the end', () => {
    const d = cd();
    expect(d.handle(cdb(0x28, 0, 0, 0, 0, 16, 0, 0, 2))).toMatchObject({ kind: 'read', offset: 16 * 2048, length: 4096 });
    expect(d.handle(cdb(0xa8, 0, 0, 0, 0, 17, 0, 0, 0, 1))).toMatchObject({ kind: 'read', offset: 17 * 2048, length: 2048 });
    expect(d.handle(cdb(0x08, 0, 0, 5, 3))).toMatchObject({ kind: 'read', offset: 5 * 2048, length: 3 * 2048 });
    expect(d.handle(cdb(0x28, 0, 0, 0, 0, 100, 0, 0, 2))).toEqual({ kind: 'status', sense: SENSE.outOfRange });
  });

  it('is read-only and says so', () => {
    expect(cd().handle(cdb(0x2a, 0, 0, 0, 0, 1, 0, 0, 1))).toEqual({ kind: 'status', sense: SENSE.writeProtected });
    const ms = cd().handle(cdb(0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255));
    expect(ms.kind === 'data' && ms.data[3] & 0x80).toBe(0x80);
  });

  it('identifies a CD-ROM and a removable disk, and reports no medium on the drive without an image', () => {
    const inq = cd().handle(cdb(0x12, 0, 0, 0, 36));
    expect(inq.kind === 'data' && [inq.data[0], inq.data[1], inq.data.toString('latin1', 8, 14)]).toEqual([5, 0x80, 'OOBKit']);
    const empty = new AtapiDrive('floppy', undefined);
    const inqF = empty.handle(cdb(0x12, 0, 0, 0, 36));
    expect(inqF.kind === 'data' && inqF.data[0]).toBe(0);
    expect(empty.handle(cdb(0x00))).toEqual({ kind: 'status', sense: SENSE.notReady });
    expect(empty.handle(cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1))).toEqual({ kind: 'status', sense: SENSE.notReady });
  });

  it('writes a READ TOC with one data track and the lead-out after the last block, in MSF too', () => {
    const lba = cd().handle(cdb(0x43, 0, 0, 0, 0, 0, 0, 0, 100));
    expect(lba.kind === 'data' && [lba.data[2], lba.data[3], lba.data[14], lba.data.readUInt32BE(16)]).toEqual([1, 1, 0xaa, 101]);
    const msf = cd().handle(cdb(0x43, 0x02, 0, 0, 0, 0, 0, 0, 100));
    // block 101 + 150 = 251 frames = 0 min 3 s 26 frames
    expect(msf.kind === 'data' && [...msf.data.subarray(16, 20)]).toEqual([0, 0, 3, 26]);
  });

  it('reports "new media" once in polled GET EVENT STATUS NOTIFICATION, and refuses asynchronous mode', () => {
    const d = cd();
    const first = d.handle(cdb(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8));
    const second = d.handle(cdb(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8));
    expect(first.kind === 'data' && [first.data[4], first.data[5]]).toEqual([2, 2]);
    expect(second.kind === 'data' && second.data[4]).toBe(0);
    expect(d.handle(cdb(0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8))).toEqual({ kind: 'status', sense: SENSE.invalidField });
  });

  it('truncates answers to the allocation length and refuses unknown opcodes', () => {
    const r = cd().handle(cdb(0x12, 0, 0, 0, 5));
    expect(r.kind === 'data' && r.data.length).toBe(5);
    expect(cd().handle(cdb(0xff))).toEqual({ kind: 'status', sense: SENSE.invalidOpcode });
  });
});

describe('IDE-R framing', () => {
  it('reassembles messages split anywhere and round-trips commands, data and status', () => {
    const cmd = iderCommand(7, { drive: DRIVE.cd, dma: true, byteCountLimit: 0xfffe, ataCommand: 0xa0, cdb: cdb(0x28, 0, 0, 0, 0, 16, 0, 0, 1) });
    const data = Buffer.concat([dataToHostHeader(8, DRIVE.cd, 5, true, false), Buffer.from('hello')]);
    const end = commandEnd(9, DRIVE.floppy, SENSE.notReady);
    const stream = Buffer.concat([cmd, data, end]);
    const r = new FrameReader();
    const frames = [...r.push(stream.subarray(0, 3)), ...r.push(stream.subarray(3, 40)), ...r.push(stream.subarray(40))];
    expect(frames.map((f) => f[0])).toEqual([0x50, 0x54, 0x51]);
    expect(readCommand(frames[0])).toMatchObject({ seq: 7, drive: DRIVE.cd, dma: true, ataCommand: 0xa0 });
    expect(readDataToHost(frames[1])).toMatchObject({ last: true, dma: false, drive: DRIVE.cd, data: Buffer.from('hello') });
    expect(readCommandEnd(frames[2])).toEqual({ drive: DRIVE.floppy, ok: false, sense: SENSE.notReady });
  });

  it('returns the same messages however the stream is cut', () => {
    const message = fc.oneof(
      fc.integer({ min: 0, max: 9000 }).map((n) => Buffer.concat([dataToHostHeader(1, DRIVE.cd, n, n % 2 === 0, false), Buffer.alloc(n, n & 0xff)])),
      fc.constant(commandEnd(2, DRIVE.cd, SENSE.outOfRange)),
      fc.uint8Array({ maxLength: 12 }).map((c) => iderCommand(3, { drive: DRIVE.floppy, dma: false, byteCountLimit: 512, ataCommand: 0xa0, cdb: Buffer.from(c) })),
    );
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 20000 }), { maxLength: 30 }), (msgs, cuts) => {
        const stream = Buffer.concat(msgs);
        const r = new FrameReader();
        const got: Buffer[] = [];
        let at = 0;
        for (const c of cuts) {
          if (at >= stream.length) break;
          got.push(...r.push(stream.subarray(at, Math.min(stream.length, at + c))));
          at += c;
        }
        if (at < stream.length) got.push(...r.push(stream.subarray(at)));
        expect(got.map((b) => b.toString('hex'))).toEqual(msgs.map((b) => b.toString('hex')));
      }),
      { numRuns: 300 },
    );
  });

  it('streams DATA_TO_HOST payloads in pieces and other messages whole, however the stream is cut', () => {
    const message = fc.oneof(
      fc.integer({ min: 0, max: 9000 }).map((n) => Buffer.concat([dataToHostHeader(1, DRIVE.cd, n, n % 2 === 0, false), Buffer.alloc(n, n & 0xff)])),
      fc.constant(commandEnd(2, DRIVE.cd, SENSE.outOfRange)),
      fc.uint8Array({ maxLength: 12 }).map((c) => iderCommand(3, { drive: DRIVE.floppy, dma: false, byteCountLimit: 512, ataCommand: 0xa0, cdb: Buffer.from(c) })),
    );
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 20000 }), { maxLength: 30 }), (msgs, cuts) => {
        const stream = Buffer.concat(msgs);
        const got: Buffer[] = [];
        let data: Buffer[] = [];
        const r = new StreamingFrameReader({
          message: (m) => void got.push(Buffer.from(m)),
          data: (header, piece, end) => {
            // Each piece is a view of what was pushed: nothing of a payload is copied together.
            data.push(Buffer.from(piece));
            if (end) {
              got.push(Buffer.concat([header, ...data]));
              data = [];
            }
          },
        });
        let at = 0;
        for (const c of cuts) {
          if (at >= stream.length) break;
          r.push(stream.subarray(at, Math.min(stream.length, at + c)));
          at += c;
        }
        if (at < stream.length) r.push(stream.subarray(at));
        expect(got.map((b) => b.toString('hex'))).toEqual(msgs.map((b) => b.toString('hex')));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an unknown message type and an oversized incomplete one', () => {
    expect(() => new FrameReader().push(Buffer.from([0x99, 0, 0, 0]))).toThrow(/unknown redirection message type 0x99/);
    const huge = Buffer.alloc(9);
    huge[0] = 0x13;
    huge.writeUInt32LE(1_000_000, 5);
    expect(() => new FrameReader().push(huge)).toThrow(/authentication message of/);
    const sink = { message: () => undefined, data: () => undefined };
    expect(() => new StreamingFrameReader(sink).push(Buffer.from([0x99, 0, 0, 0]))).toThrow(/unknown redirection message type 0x99/);
    expect(() => new StreamingFrameReader(sink).push(huge)).toThrow(/authentication message of/);
    const endless = new StreamingFrameReader(sink, 1000);
    expect(() => endless.push(Buffer.concat([Buffer.from([0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), Buffer.alloc(2000)]))).toThrow(/incomplete message over 1000 bytes/);
  });
});
