/**
 * Intel AMT's run-length tiles, RFB encoding 16, as AMT firmware sends them to a viewer that asks
 * for 16 (MeshCommander's desktop client reads them; standard viewers take 16 for ZRLE and cannot).
 *
 * A rectangle is one tile of at most 64x64 pixels. After its header come a 4-byte big-endian length
 * and that many bytes of a raw deflate stream (no zlib header), which AMT writes as stored blocks:
 * 0x00, the length and its complement (16 bits each, little-endian), then the tile:
 *
 *   0          the pixels, raw
 *   1          one pixel: the whole tile is that colour
 *   2..16      a palette of that many pixels, then the indices packed 1 bit (2 colours), 2 bits (3-4)
 *              or 4 bits (5-16) each, high bits first, row after row without padding
 *   128        runs: a pixel, then the run length less one as bytes of 255 ended by a byte below 255
 *   130..255   a palette of (n - 128) pixels, then per run an index byte; a single pixel has the top
 *              bit clear, a longer run sets it and its length less one follows as above
 *
 * Pixels are in the viewer's pixel format, little-endian, as many bytes as its bits per pixel.
 */
export const INTEL_RLE = 16;
/** Largest tile side. */
export const RLE_TILE = 64;

/** Bytes that code a run of `length` (length - 1 as 255s and a last byte below 255). */
function runBytes(length: number): number {
  return Math.floor((length - 1) / 255) + 1;
}

function pushRun(out: number[], length: number): void {
  let rest = length - 1;
  while (rest >= 255) {
    out.push(255);
    rest -= 255;
  }
  out.push(rest);
}

/** The tile's body (sub-encoding and data) for `count` pixels of `bytes` each, the smallest form. */
export function intelRleTileBody(px: Buffer, bytes: number): Buffer {
  const count = px.length / bytes;
  const value = (i: number) => px.readUIntLE(i * bytes, bytes);
  const palette = new Map<number, number>();
  const first = new Map<number, number>();
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const v = value(i);
    if (!palette.has(v)) {
      palette.set(v, palette.size);
      first.set(v, i);
    }
    const last = runs[runs.length - 1];
    if (last && last[0] === v) last[1]++;
    else runs.push([v, 1]);
  }
  const pixel = (v: number) => px.subarray(first.get(v)! * bytes, (first.get(v)! + 1) * bytes);
  const n = palette.size;
  if (n === 1) return Buffer.concat([Buffer.from([1]), pixel(runs[0][0])]);

  const bits = n === 2 ? 1 : n <= 4 ? 2 : 4;
  const sizes = {
    raw: 1 + count * bytes,
    packed: n <= 16 ? 1 + n * bytes + Math.ceil((count * bits) / 8) : Infinity,
    runs: 1 + runs.reduce((s, [, len]) => s + bytes + runBytes(len), 0),
    paletteRuns: n <= 127 ? 1 + n * bytes + runs.reduce((s, [, len]) => s + (len === 1 ? 1 : 1 + runBytes(len)), 0) : Infinity,
  };
  const best = (Object.keys(sizes) as Array<keyof typeof sizes>).reduce((a, b) => (sizes[b] < sizes[a] ? b : a));
  const colours = () => Buffer.concat([...palette.keys()].map(pixel));
  switch (best) {
    case 'raw':
      return Buffer.concat([Buffer.from([0]), px]);
    case 'packed': {
      const packed = Buffer.alloc(Math.ceil((count * bits) / 8));
      for (let i = 0; i < count; i++) {
        const at = i * bits;
        packed[at >> 3] |= palette.get(value(i))! << (8 - bits - (at & 7));
      }
      return Buffer.concat([Buffer.from([n]), colours(), packed]);
    }
    case 'runs': {
      const parts: Buffer[] = [Buffer.from([128])];
      for (const [v, len] of runs) {
        const l: number[] = [];
        pushRun(l, len);
        parts.push(pixel(v), Buffer.from(l));
      }
      return Buffer.concat(parts);
    }
    case 'paletteRuns': {
      const codes: number[] = [];
      for (const [v, len] of runs) {
        const index = palette.get(v)!;
        if (len === 1) codes.push(index);
        else {
          codes.push(index | 0x80);
          pushRun(codes, len);
        }
      }
      return Buffer.concat([Buffer.from([128 + n]), colours(), Buffer.from(codes)]);
    }
  }
}

/** What follows a rectangle header with encoding 16: the length, then the tile as one stored deflate block. */
export function intelRleRectData(px: Buffer, bytes: number): Buffer {
  const body = intelRleTileBody(px, bytes);
  const out = Buffer.alloc(4 + 5 + body.length);
  out.writeUInt32BE(5 + body.length, 0);
  out[4] = 0; // not the last block, stored
  out.writeUInt16LE(body.length, 5);
  out.writeUInt16LE(~body.length & 0xffff, 7);
  body.copy(out, 9);
  return out;
}
