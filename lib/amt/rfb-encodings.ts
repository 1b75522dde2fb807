/**
 * Watches what a viewer sends to AMT's RFB server and rewrites its SetEncodings: AMT answers
 * encoding 16 with Intel's own run-length tiles (a raw deflate stream of stored blocks, no zlib
 * header), while standard viewers (vncsnapshot, TigerVNC) take 16 for ZRLE and cannot read them.
 * noVNC recognises AMT's server name and asks for 8-bit colour without ZRLE by itself. Encodings AMT offers, as MeshCommander's desktop client
 * meets them on real firmware: Raw (0), Intel RLE (16) and the DesktopSize pseudo-encoding (-223).
 * We pass Raw, CopyRect (1) and DesktopSize, and always Raw (AMT requires it); other pseudo-
 * encodings (cursor, fences, continuous updates...) are dropped, as AMT has none of them. Every
 * other message passes unchanged, byte for byte.
 *
 * The viewer's side of RFB: ProtocolVersion (12 bytes), for 3.7 and later one byte of security
 * type, ClientInit (1 byte), then messages whose lengths are known. Past a message it cannot size
 * (a type it does not know) it stops looking and passes the rest through.
 */

const KEEP = new Set([0, 1, -223]);
const FIXED: Record<number, number> = { 0: 20, 3: 10, 4: 8, 5: 6 };

export class RfbEncodingFilter {
  private stage: 'version' | 'security' | 'init' | 'messages' | 'pass' = 'version';
  private pending: Buffer = Buffer.alloc(0);
  /** The encodings the viewer asked for, and those passed on, after the last SetEncodings. */
  asked: number[] = [];
  passed: number[] = [];

  /** Bytes from the viewer in, bytes for the PC out (possibly fewer, held until complete). */
  push(chunk: Buffer): Buffer {
    if (this.stage === 'pass') return chunk;
    const b = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let at = 0;
    for (;;) {
      const n = this.next(b, at);
      if (n === undefined) break;
      out.push(n.bytes);
      at = n.end;
      if (this.passing()) break;
    }
    this.pending = this.passing() ? Buffer.alloc(0) : Buffer.from(b.subarray(at));
    if (this.passing()) out.push(b.subarray(at));
    // A viewer holding back more than any RFB message needs is not speaking RFB.
    if (this.pending.length > 64 * 1024) {
      this.stage = 'pass';
      out.push(this.pending);
      this.pending = Buffer.alloc(0);
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Filtering stopped (a method, so the compiler does not narrow the stage across next()). */
  private passing(): boolean {
    return this.stage === 'pass';
  }

  private next(b: Buffer, at: number): { bytes: Buffer; end: number } | undefined {
    const left = b.length - at;
    if (left <= 0) return undefined;
    switch (this.stage) {
      case 'version': {
        if (left < 12) return undefined;
        const minor = Number(b.toString('latin1', at + 8, at + 11));
        const major = Number(b.toString('latin1', at + 4, at + 7));
        this.stage = major === 3 && minor < 7 ? 'init' : 'security';
        return { bytes: b.subarray(at, at + 12), end: at + 12 };
      }
      case 'security':
        this.stage = 'init';
        return { bytes: b.subarray(at, at + 1), end: at + 1 };
      case 'init':
        this.stage = 'messages';
        return { bytes: b.subarray(at, at + 1), end: at + 1 };
      case 'messages': {
        const type = b[at];
        if (type === 2) {
          if (left < 4) return undefined;
          const count = b.readUInt16BE(at + 2);
          const end = at + 4 + 4 * count;
          if (b.length < end) return undefined;
          this.asked = Array.from({ length: count }, (_, i) => b.readInt32BE(at + 4 + 4 * i));
          this.passed = this.asked.filter((e) => KEEP.has(e));
          if (!this.passed.includes(0)) this.passed.push(0);
          const msg = Buffer.alloc(4 + 4 * this.passed.length);
          msg[0] = 2;
          msg.writeUInt16BE(this.passed.length, 2);
          this.passed.forEach((e, i) => msg.writeInt32BE(e, 4 + 4 * i));
          return { bytes: msg, end };
        }
        if (type === 6) {
          if (left < 8) return undefined;
          const end = at + 8 + b.readUInt32BE(at + 4);
          return b.length < end ? undefined : { bytes: b.subarray(at, end), end };
        }
        const fixed = FIXED[type];
        if (fixed === undefined) {
          this.stage = 'pass';
          return undefined;
        }
        return left < fixed ? undefined : { bytes: b.subarray(at, at + fixed), end: at + fixed };
      }
      default:
        return undefined;
    }
  }
}
