/**
 * A 16-segment bitmap font for the simulated screen, generated here: each character is a set of
 * segments (top, bottom and middle halves, four verticals, four diagonals) drawn into an 8x16 cell.
 * Lower case is drawn as upper case. Readable enough to see what a screen says.
 */
export const GLYPH_WIDTH = 8;
export const GLYPH_HEIGHT = 16;

type Segment = 'a1' | 'a2' | 'b' | 'c' | 'd1' | 'd2' | 'e' | 'f' | 'g1' | 'g2' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'dot' | 'colon';

const L = 1;
const R = 6;
const M = 3;
const TOP = 2;
const MID = 7;
const BOT = 13;

const LINES: Record<Exclude<Segment, 'dot' | 'colon'>, [number, number, number, number]> = {
  a1: [L, TOP, M, TOP],
  a2: [M, TOP, R, TOP],
  b: [R, TOP, R, MID],
  c: [R, MID, R, BOT],
  d1: [L, BOT, M, BOT],
  d2: [M, BOT, R, BOT],
  e: [L, MID, L, BOT],
  f: [L, TOP, L, MID],
  g1: [L, MID, M, MID],
  g2: [M, MID, R, MID],
  h: [L, TOP, M, MID],
  i: [M, TOP, M, MID],
  j: [R, TOP, M, MID],
  k: [M, MID, L, BOT],
  l: [M, MID, M, BOT],
  m: [M, MID, R, BOT],
};

const O = 'a1 a2 b c d1 d2 e f';
const CHARS: Record<string, string> = {
  '0': `${O} j k`, '1': 'b c', '2': 'a1 a2 b g1 g2 e d1 d2', '3': 'a1 a2 b c d1 d2 g2', '4': 'f g1 g2 b c',
  '5': 'a1 a2 f g1 g2 c d1 d2', '6': 'a1 a2 f e d1 d2 c g1 g2', '7': 'a1 a2 b c', '8': `${O} g1 g2`, '9': 'a1 a2 b c d1 d2 f g1 g2',
  A: 'a1 a2 b c e f g1 g2', B: 'a1 a2 b c d1 d2 i l g2', C: 'a1 a2 f e d1 d2', D: 'a1 a2 b c d1 d2 i l', E: 'a1 a2 f e d1 d2 g1',
  F: 'a1 a2 f e g1', G: 'a1 a2 f e d1 d2 c g2', H: 'f e b c g1 g2', I: 'a1 a2 i l d1 d2', J: 'b c d1 d2 e', K: 'f e g1 j m',
  L: 'f e d1 d2', M: 'f e b c h j', N: 'f e b c h m', O, P: 'a1 a2 b f e g1 g2', Q: `${O} m`, R: 'a1 a2 b f e g1 g2 m',
  S: 'a1 a2 f g1 g2 c d1 d2', T: 'a1 a2 i l', U: 'f e d1 d2 c b', V: 'f e k j', W: 'f e b c k m', X: 'h j k m', Y: 'h j l',
  Z: 'a1 a2 j k d1 d2', '-': 'g1 g2', _: 'd1 d2', '=': 'g1 g2 d1 d2', '+': 'g1 g2 i l', '/': 'j k', '\\': 'h m', '|': 'i l',
  '[': 'a1 f e d1', ']': 'a2 b c d2', '(': 'a2 j m d2', ')': 'a1 h k d1', '<': 'j m', '>': 'h k', '*': 'h i j k l m g1 g2',
  '.': 'dot', ',': 'dot k', ':': 'colon', ';': 'colon k', '!': 'i dot', '?': 'a1 a2 b g2 l', "'": 'i', '"': 'f i', '#': 'b c i l g1 g2 d1 d2',
  '@': 'a1 a2 b c d1 d2 e f g2 l', '%': 'f a1 j k c d2', '&': 'a1 h i j g1 e d1 m', $: 'a1 a2 f g1 g2 c d1 d2 i l', '^': 'k m', '~': 'g1 g2',
  '`': 'h', '{': 'a2 i l d2 g1', '}': 'a1 i l d1 g2',
};

function line(bits: Uint8Array, x0: number, y0: number, x1: number, y1: number): void {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0));
  for (let s = 0; s <= steps; s++) {
    const x = Math.round(x0 + ((x1 - x0) * s) / (steps || 1));
    const y = Math.round(y0 + ((y1 - y0) * s) / (steps || 1));
    bits[y * GLYPH_WIDTH + x] = 1;
  }
}

function glyph(segments: string): Uint8Array {
  const bits = new Uint8Array(GLYPH_WIDTH * GLYPH_HEIGHT);
  for (const s of segments.split(' ') as Segment[]) {
    if (s === 'dot') line(bits, M, BOT - 1, M + 1, BOT);
    else if (s === 'colon') {
      line(bits, M, 4, M + 1, 5);
      line(bits, M, BOT - 2, M + 1, BOT - 1);
    } else if (LINES[s]) {
      const [x0, y0, x1, y1] = LINES[s];
      line(bits, x0, y0, x1, y1);
    }
  }
  return bits;
}

const BLANK = new Uint8Array(GLYPH_WIDTH * GLYPH_HEIGHT);
const GLYPHS = new Map<string, Uint8Array>(Object.entries(CHARS).map(([c, s]) => [c, glyph(s)]));

/** 8x16 pixels, one byte each (1 = ink), for a character; blank for space and unknown ones. */
export function glyphOf(c: string): Uint8Array {
  return GLYPHS.get(c.toUpperCase()) ?? BLANK;
}
