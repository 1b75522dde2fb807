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

  it('a message trickled one byte at a time costs work linear in its size', () => {
    const cost = (size: number) => {
      const m = message(0, size, 7);
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        const r = new FrameReader();
        const t0 = process.cpuUsage();
        let n = 0;
        for (let i = 0; i < m.length; i++) n += r.push(m.subarray(i, i + 1)).length;
        const t = process.cpuUsage(t0);
        expect(n).toBe(1);
        best = Math.min(best, t.user + t.system);
      }
      return best;
    };
    const small = cost(16_000);
    const large = cost(64_000);
    // Linear is 4x; copying the pending bytes on every byte was 16x.
    expect(large / Math.max(small, 1000)).toBeLessThan(9);
  });
});
