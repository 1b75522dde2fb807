// noVNC's own ZRLE decoder (@novnc/novnc core/decoders/zrle.js, unmodified) run in Node on the
// rectangles given as JSON on stdin: [{ x, y, width, height, data: <hex of what follows the header> }].
// Prints { ok: true, drawn } or { ok: false, error } on stdout. Used to see what a standard viewer
// makes of a PC's encoding-16 rectangles.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { URL } from 'node:url';

// The package exports only core/rfb.js; the decoder sits next to it.
const { default: ZRLEDecoder } = await import(new URL('./decoders/zrle.js', import.meta.resolve('@novnc/novnc')).href);

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const rects = JSON.parse(Buffer.concat(chunks).toString());
const decoder = new ZRLEDecoder();
let drawn = 0;
const display = {
  blitImage: () => drawn++,
  fillRect: () => drawn++,
};
try {
  for (const r of rects) {
    const bytes = Buffer.from(r.data, 'hex');
    let at = 0;
    const sock = {
      rQwait: (_what, n) => bytes.length - at < n,
      rQshift32: () => {
        at += 4;
        return bytes.readUInt32BE(at - 4);
      },
      rQshiftBytes: (n) => {
        at += n;
        return new Uint8Array(bytes.subarray(at - n, at));
      },
    };
    if (!decoder.decodeRect(r.x, r.y, r.width, r.height, sock, display, 24)) throw new Error('the rectangle was incomplete');
  }
  process.stdout.write(JSON.stringify({ ok: true, drawn }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message ? e.message : e), drawn }));
}
