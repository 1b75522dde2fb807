/** Decodes a JPEG with Debian's djpeg into RGB pixels (PPM), for checking screenshots by region. */
import { execFileSync } from 'node:child_process';

export interface Pixels {
  width: number;
  height: number;
  rgb: Buffer;
}

export function decodeJpeg(file: string): Pixels {
  const ppm = execFileSync('djpeg', ['-pnm', file], { maxBuffer: 64 * 1024 * 1024, timeout: 10_000 });
  const m = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.toString('latin1', 0, 40));
  if (!m) throw new Error('djpeg did not write a P6 image');
  return { width: Number(m[1]), height: Number(m[2]), rgb: ppm.subarray(m[0].length) };
}

/** Mean colour of a rectangle. */
export function meanColour(p: Pixels, x: number, y: number, w: number, h: number): [number, number, number] {
  const sum = [0, 0, 0];
  for (let j = y; j < y + h; j++) {
    for (let i = x; i < x + w; i++) {
      const at = (j * p.width + i) * 3;
      sum[0] += p.rgb[at];
      sum[1] += p.rgb[at + 1];
      sum[2] += p.rgb[at + 2];
    }
  }
  return sum.map((s) => Math.round(s / (w * h))) as [number, number, number];
}
