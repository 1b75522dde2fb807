/**
 * KVM on the simulated redirection port, device side: after StartRedirectionSession "KVMR" and
 * Digest, the console asks for the data channel (0x40) and we answer 0x41; from then on the
 * connection carries RFB, which this file serves as AMT does: version "RFB 004.000" (consoles answer
 * 3.3 or 3.8), security type None (the redirection layer authenticated already), a 640x400 screen in
 * RGB565 unless the viewer sets another true-colour format, pixels in tiles of at most 64x64, Raw or
 * (when the viewer asks for encoding 16) Intel's run-length tiles (intel-rle.ts), CopyRect rows for
 * a viewer that asks for it, key events into the PC's keyboard. The picture is the PC's screen (screen.ts) drawn with font.ts: "No signal"
 * while it is off, a blue BIOS setup, black POST and OS screens.
 *
 * Updates are sent when the viewer has asked for one and the picture changed, per 16-pixel text row;
 * a row that now shows what another row showed (text scrolling up) is sent as CopyRect.
 */
import type * as net from 'node:net';
import { KVM_DATA_CHANNEL, KVM_DATA_CHANNEL_LENGTH, kvmDataChannel } from '../../../lib/amt/redirection/protocol';
import type { SimDevice } from './device';
import { setKvmSessionOpen } from './classes/kvm';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphOf } from './font';
import { INTEL_RLE, intelRleRectData, RLE_TILE } from './intel-rle';
import { COLUMNS, ROWS, ScreenImage, ScreenKey, simScreen } from './screen';

export const KVM_WIDTH = COLUMNS * GLYPH_WIDTH;
export const KVM_HEIGHT = ROWS * GLYPH_HEIGHT;

const NO_SIGNAL: ScreenImage = {
  signal: false,
  kind: 'off',
  rows: Array.from({ length: ROWS }, (_, i) => ({ text: i === 12 ? ' '.repeat(35) + 'No signal' : '', inverse: false })),
  foreground: [0x60, 0x60, 0x60],
  background: [0, 0, 0],
};

/** One text row's pixels as RGB888, and a key that is equal when the pixels are. */
interface RowPixels {
  key: string;
  rgb: Uint8Array;
}

function drawRow(img: ScreenImage, r: number): RowPixels {
  const row = img.rows[r] ?? { text: '', inverse: false };
  const fg = row.inverse ? img.background : img.foreground;
  const bg = row.inverse ? img.foreground : img.background;
  const rgb = new Uint8Array(KVM_WIDTH * GLYPH_HEIGHT * 3);
  const text = row.text.padEnd(COLUMNS).slice(0, COLUMNS);
  for (let c = 0; c < COLUMNS; c++) {
    const g = glyphOf(text[c]);
    for (let y = 0; y < GLYPH_HEIGHT; y++) {
      for (let x = 0; x < GLYPH_WIDTH; x++) {
        const at = (y * KVM_WIDTH + c * GLYPH_WIDTH + x) * 3;
        const col = g[y * GLYPH_WIDTH + x] ? fg : bg;
        rgb[at] = col[0];
        rgb[at + 1] = col[1];
        rgb[at + 2] = col[2];
      }
    }
  }
  return { key: `${fg.join(',')}|${bg.join(',')}|${text}`, rgb };
}

export function drawScreen(img: ScreenImage): RowPixels[] {
  const shown = img.signal ? img : NO_SIGNAL;
  return Array.from({ length: ROWS }, (_, r) => drawRow(shown, r));
}

interface PixelFormat {
  bpp: number;
  bigEndian: boolean;
  max: [number, number, number];
  shift: [number, number, number];
}

/** AMT's default: 16 bits, RGB565, little-endian. */
const RGB565: PixelFormat = { bpp: 16, bigEndian: false, max: [31, 63, 31], shift: [11, 5, 0] };

function encodePixels(rgb: Uint8Array, f: PixelFormat): Buffer {
  const n = rgb.length / 3;
  const bytes = f.bpp / 8;
  const out = Buffer.alloc(n * bytes);
  for (let i = 0; i < n; i++) {
    const v =
      (Math.round((rgb[i * 3] * f.max[0]) / 255) << f.shift[0]) |
      (Math.round((rgb[i * 3 + 1] * f.max[1]) / 255) << f.shift[1]) |
      (Math.round((rgb[i * 3 + 2] * f.max[2]) / 255) << f.shift[2]);
    if (bytes === 1) out[i] = v;
    else if (bytes === 2) {
      if (f.bigEndian) out.writeUInt16BE(v & 0xffff, i * 2);
      else out.writeUInt16LE(v & 0xffff, i * 2);
    } else if (f.bigEndian) out.writeUInt32BE(v >>> 0, i * 4);
    else out.writeUInt32LE(v >>> 0, i * 4);
  }
  return out;
}

/** X11 keysyms a viewer sends, as the PC's keyboard sees them. */
const KEYSYMS: Record<number, ScreenKey> = {
  0xff52: 'up',
  0xff54: 'down',
  0xff51: 'left',
  0xff53: 'right',
  0xff0d: 'enter',
  0xff8d: 'enter',
  0xff1b: 'escape',
  0xff08: 'backspace',
  0xffbf: 'f2',
  0xffff: 'f2',
};

export function keyOfKeysym(sym: number): ScreenKey | undefined {
  if (KEYSYMS[sym]) return KEYSYMS[sym];
  if (sym >= 0x20 && sym <= 0x7e) return { char: String.fromCharCode(sym) };
  return undefined;
}

const MODIFIERS: Record<number, 'ctrl' | 'alt'> = { 0xffe3: 'ctrl', 0xffe4: 'ctrl', 0xffe9: 'alt', 0xffea: 'alt' };

const RFB_VERSION = 'RFB 004.000\n';
const SERVER_NAME = 'Intel(r) AMT KVM';
const ENCODING = { raw: 0, copyRect: 1 } as const;

/** Messages a viewer sends and their fixed lengths (SetEncodings and ClientCutText have a tail). */
const CLIENT_LENGTH: Record<number, number> = { 0: 20, 2: 4, 3: 10, 4: 8, 5: 6, 6: 8 };

export class SimKvmSession {
  private buf: Buffer = Buffer.alloc(0);
  private stage: 'channel' | 'version' | 'security' | 'init' | 'rfb' = 'channel';
  private version = 8;
  private format = RGB565;
  private copyRect = false;
  /** What the viewer has now, row by row (undefined until the first full update). */
  private shown?: RowPixels[];
  private wanted?: { incremental: boolean };
  private closed = false;
  private readonly screen;
  private readonly onChange = () => this.update();
  /** Frames, rectangles by encoding and bytes sent, for tests and benchmarks. */
  frames = 0;
  readonly rects = { raw: 0, intelRle: 0, copyRect: 0 };
  bytesSent = 0;
  private readonly held = { ctrl: false, alt: false };
  /** The encodings the viewer asked for last. */
  encodings: number[] = [];

  constructor(
    private readonly d: SimDevice,
    private readonly socket: net.Socket,
  ) {
    this.screen = simScreen(d);
    if (!setKvmSessionOpen(d, true)) {
      socket.destroy();
      this.closed = true;
      return;
    }
    socket.on('data', (c: Buffer) => this.onData(c));
    this.screen.on('change', this.onChange);
    d.classState<{ session?: SimKvmSession }>('kvm-session', () => ({})).session = this;
  }

  /** Fault injection: the PC drops the connection. */
  drop(): void {
    this.fail();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    setKvmSessionOpen(this.d, false);
    const holder = this.d.classState<{ session?: SimKvmSession }>('kvm-session');
    if (holder?.session === this) holder.session = undefined;
    this.screen.off('change', this.onChange);
  }

  private fail(): void {
    this.socket.destroy();
    this.close();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.buf.length > 64 * 1024) return this.fail();
    for (;;) {
      if (this.buf.length === 0) return;
      const used = this.step();
      if (used === 0 || this.closed) return;
      this.buf = this.buf.subarray(used);
    }
  }

  /** Handles one message at the head of the buffer; returns the bytes used (0: need more). */
  private step(): number {
    const b = this.buf;
    switch (this.stage) {
      case 'channel':
        if (b.length < KVM_DATA_CHANNEL_LENGTH) return 0;
        if (b[0] !== KVM_DATA_CHANNEL) {
          this.fail();
          return 0;
        }
        this.socket.write(kvmDataChannel(true));
        this.socket.write(RFB_VERSION);
        this.stage = 'version';
        return KVM_DATA_CHANNEL_LENGTH;
      case 'version': {
        if (b.length < 12) return 0;
        const m = /^RFB 003\.(\d{3})\n$/.exec(b.toString('latin1', 0, 12));
        if (!m) {
          this.fail();
          return 0;
        }
        this.version = Number(m[1]) >= 8 ? 8 : Number(m[1]) === 7 ? 7 : 3;
        if (this.version === 3) {
          // 3.3: the server names the security type (1, None) and the client init follows.
          this.socket.write(Buffer.from([0, 0, 0, 1]));
          this.stage = 'init';
        } else {
          this.socket.write(Buffer.from([1, 1]));
          this.stage = 'security';
        }
        return 12;
      }
      case 'security':
        if (b.length < 1) return 0;
        if (b[0] !== 1) {
          this.fail();
          return 0;
        }
        if (this.version === 8) this.socket.write(Buffer.alloc(4));
        this.stage = 'init';
        return 1;
      case 'init': {
        if (b.length < 1) return 0;
        const name = Buffer.from(SERVER_NAME, 'latin1');
        const init = Buffer.alloc(24 + name.length);
        init.writeUInt16BE(KVM_WIDTH, 0);
        init.writeUInt16BE(KVM_HEIGHT, 2);
        init[4] = 16;
        init[5] = 16;
        init[6] = 0;
        init[7] = 1;
        init.writeUInt16BE(31, 8);
        init.writeUInt16BE(63, 10);
        init.writeUInt16BE(31, 12);
        init[14] = 11;
        init[15] = 5;
        init[16] = 0;
        init.writeUInt32BE(name.length, 20);
        name.copy(init, 24);
        this.socket.write(init);
        this.stage = 'rfb';
        return 1;
      }
      case 'rfb':
        return this.clientMessage(b);
    }
  }

  private clientMessage(b: Buffer): number {
    const fixed = CLIENT_LENGTH[b[0]];
    if (fixed === undefined) {
      this.fail();
      return 0;
    }
    if (b.length < fixed) return 0;
    switch (b[0]) {
      case 0: {
        const bpp = b[4];
        if (b[7] !== 1 || ![8, 16, 32].includes(bpp)) {
          // Only true colour, as AMT.
          this.fail();
          return 0;
        }
        this.format = { bpp, bigEndian: b[6] !== 0, max: [b.readUInt16BE(8), b.readUInt16BE(10), b.readUInt16BE(12)], shift: [b[14], b[15], b[16]] };
        this.shown = undefined;
        return 20;
      }
      case 2: {
        const n = b.readUInt16BE(2);
        if (n > 256) {
          this.fail();
          return 0;
        }
        if (b.length < 4 + 4 * n) return 0;
        this.encodings = Array.from({ length: n }, (_, i) => b.readInt32BE(4 + 4 * i));
        this.copyRect = this.encodings.includes(ENCODING.copyRect);
        return 4 + 4 * n;
      }
      case 3:
        this.wanted = { incremental: b[1] !== 0 && this.wanted?.incremental !== false };
        if (!this.wanted.incremental) this.shown = undefined;
        this.update();
        return 10;
      case 4: {
        const sym = b.readUInt32BE(4);
        const down = b[1] !== 0;
        if (MODIFIERS[sym]) this.held[MODIFIERS[sym]] = down;
        else if (down && sym === 0xffff && this.held.ctrl && this.held.alt) {
          // Ctrl-Alt-Del: the PC restarts, as a BIOS or a text console does.
          if (this.d.power.state === 2) this.d.reset('ctrl-alt-del');
        } else {
          const key = down ? keyOfKeysym(sym) : undefined;
          if (key) this.screen.key(key);
        }
        return 8;
      }
      case 5:
        return 6;
      case 6: {
        const n = b.readUInt32BE(4);
        if (n > 16 * 1024) {
          this.fail();
          return 0;
        }
        return b.length < 8 + n ? 0 : 8 + n;
      }
    }
    return 0;
  }

  /** Sends what changed since the viewer's picture, if it asked for an update. */
  private update(): void {
    if (!this.wanted || this.closed || this.stage !== 'rfb') return;
    const now = drawScreen(this.screen.image());
    const before = this.shown;
    const rects: Buffer[] = [];
    let count = 0;
    const rle = this.encodings.includes(INTEL_RLE);
    const bytes = this.format.bpp / 8;
    const rectHeader = (y: number, encoding: number, x = 0, width = KVM_WIDTH) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(x, 0);
      h.writeUInt16BE(y * GLYPH_HEIGHT, 2);
      h.writeUInt16BE(width, 4);
      h.writeUInt16BE(GLYPH_HEIGHT, 6);
      h.writeInt32BE(encoding, 8);
      return h;
    };
    for (let r = 0; r < ROWS; r++) {
      if (before && before[r].key === now[r].key) continue;
      // A row may be copied from one the viewer still shows as before: one after it (not yet
      // rewritten in this update) or one that does not change.
      const from = before && this.copyRect ? before.findIndex((p, s) => p.key === now[r].key && (s > r || before[s].key === now[s].key)) : -1;
      if (from >= 0) {
        count++;
        const src = Buffer.alloc(4);
        src.writeUInt16BE(0, 0);
        src.writeUInt16BE(from * GLYPH_HEIGHT, 2);
        rects.push(rectHeader(r, ENCODING.copyRect), src);
        this.rects.copyRect++;
        continue;
      }
      // As AMT: pixels in tiles of at most 64x64, Raw or Intel's run-length tiles.
      const px = encodePixels(now[r].rgb, this.format);
      for (let x = 0; x < KVM_WIDTH; x += RLE_TILE) {
        const tile = Buffer.alloc(RLE_TILE * GLYPH_HEIGHT * bytes);
        for (let y = 0; y < GLYPH_HEIGHT; y++) px.copy(tile, y * RLE_TILE * bytes, (y * KVM_WIDTH + x) * bytes, (y * KVM_WIDTH + x + RLE_TILE) * bytes);
        count++;
        rects.push(rectHeader(r, rle ? INTEL_RLE : ENCODING.raw, x, RLE_TILE), rle ? intelRleRectData(tile, bytes) : tile);
        this.rects[rle ? 'intelRle' : 'raw']++;
      }
    }
    if (count === 0) return;
    const head = Buffer.alloc(4);
    head[0] = 0;
    head.writeUInt16BE(count, 2);
    this.wanted = undefined;
    this.shown = now;
    this.frames++;
    const frame = Buffer.concat([head, ...rects]);
    this.bytesSent += frame.length;
    this.socket.write(frame);
  }
}

/** The open KVM session of a device, if any. */
export function kvmSessionOf(d: SimDevice): SimKvmSession | undefined {
  return d.classState<{ session?: SimKvmSession }>('kvm-session')?.session;
}
