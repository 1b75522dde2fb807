/**
 * The redirection (IDE-R) stream reader against a device that sends real-size messages cut at
 * any byte: every message comes out whole and unchanged, and a message trickled a byte at a
 * time costs linear work (it used to be copied together again on every byte).
 */
import * as fc from 'fast-check';
import { FrameReader, MSG, ProtocolError } from '../../lib/amt/redirection/protocol';

function message(kind: number, size: number, fill: number): Buffer {
  switch (kind) {
    case 0: {
      // DATA_TO_HOST: 34-byte header, 16-bit payload length at byte 9.
      const b = Buffer.alloc(34 + size, fill);
      b[0] = MSG.iderDataToHost;
      b.writeUInt16LE(size, 9);
      return b;
    }
    case 1: {
      const b = Buffer.alloc(9 + (size % 4096), fill);
      b[0] = MSG.authenticateReply;
      b.writeUInt32LE(size % 4096, 5);
      return b;
    }
    case 2: {
      const b = Buffer.alloc(13 + (size % 256), fill);
      b[0] = MSG.startSessionReply;
      // Status 0: a refusal (non-zero) is taken as far as it came, as it ends the session anyway.
      b[1] = 0;
      b[12] = size % 256;
      return b;
    }
    case 3: {
      const b = Buffer.alloc(30 + (size % 256), fill);
      b[0] = MSG.iderOpenReply;
      b[29] = size % 256;
      return b;
    }
    default: {
      const b = Buffer.alloc(8, fill);
      b[0] = MSG.iderPong;
      return b;
    }
  }
}

function feed(reader: FrameReader, stream: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts.filter((x) => x > 0 && x < stream.length)].sort((a, b) => a - b)) {
    out.push(...reader.push(stream.subarray(at, c)));
    at = c;
  }
  out.push(...reader.push(stream.subarray(at)));
  return out;
}

describe('redirection stream reader', () => {
  it('returns real-size messages whole, however the stream is cut', () => {
    const msg = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 255 })).map(([k, s, f]) => message(k, s, f));
    fc.assert(
      fc.property(fc.array(msg, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 400_000 }), { maxLength: 300 }), (msgs, cuts) => {
        const stream = Buffer.concat(msgs);
        const got = feed(new FrameReader(), stream, cuts.map((c) => c % (stream.length + 1)));
        expect(got.length).toBe(msgs.length);
        got.forEach((g, i) => expect(g.equals(msgs[i])).toBe(true));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses an unknown message type and an oversized authentication message', () => {
    expect(() => new FrameReader().push(Buffer.from([0x99, 0, 0, 0]))).toThrow(ProtocolError);
    const big = Buffer.alloc(9);
    big[0] = MSG.authenticateReply;
    big.writeUInt32LE(1_000_000, 5);
    const r = new FrameReader();
    r.push(big.subarray(0, 3));
    expect(() => r.push(big.subarray(3))).toThrow(/authentication message of 1000009 bytes/);
  });

  it('a message trickled one byte at a time is copied together once, not on every byte', () => {
    // Work counted as bytes copied by Buffer.concat (the reader's only copying), not as time.
    const original = Buffer.concat;
    let copied = 0;
    const spy = jest.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], total?: number) => {
      const b = original(list, total);
      copied += b.length;
      return b;
    });
    try {
      for (const size of [16_000, 65_535]) {
        const m = message(0, size, 7);
        copied = 0;
        const r = new FrameReader();
        let n = 0;
        for (let i = 0; i < m.length; i++) n += r.push(m.subarray(i, i + 1)).length;
        expect(n).toBe(1);
        // The whole message once, plus at most its 34-byte header once per byte while unknown.
        expect(copied).toBeLessThanOrEqual(m.length + 34 * 34);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
