/**
 * What the simulated PC shows on its screen, as 80x25 text: nothing while it is off, the POST and
 * boot messages while it starts ("booted from media: <volume id>" after an IDE-R boot), a BIOS setup
 * you can move through with the keyboard when it was booted into setup, and the OS login prompt
 * with the PC's name once the OS runs. SOL sends it as ANSI text, KVM draws it into a framebuffer.
 *
 * Built from the device's own state (power, firmware boot record, OS) on every change, so power and
 * boot changes show at once; the only state of its own is the setup cursor, the setup values and
 * what was typed at the login prompt. Emits 'change' after anything that alters the picture.
 */
import { EventEmitter } from 'node:events';
import type { SimDevice } from './device';
import { BootRecord, lastBoot } from './firmware';
import { consentState } from './consent';

export const COLUMNS = 80;
export const ROWS = 25;

export type Rgb = readonly [number, number, number];

export interface ScreenRow {
  text: string;
  /** Drawn in reverse video (the setup cursor). */
  inverse: boolean;
}

export interface ScreenImage {
  /** False while the PC is off: KVM shows "no signal", SOL sends nothing. */
  signal: boolean;
  /** Which screen: 'off', 'post', 'setup', 'os'. */
  kind: 'off' | 'post' | 'setup' | 'os';
  rows: ScreenRow[];
  foreground: Rgb;
  background: Rgb;
}

export type ScreenKey = 'up' | 'down' | 'left' | 'right' | 'enter' | 'escape' | 'backspace' | 'f2' | { char: string };

interface SetupItem {
  label: string;
  values: string[];
}

const SETUP_ITEMS: SetupItem[] = [
  { label: 'Boot Order', values: ['Disk, CD, Network', 'CD, Disk, Network', 'Network, Disk, CD'] },
  { label: 'Intel AMT', values: ['Enabled', 'Disabled'] },
  { label: 'Virtualization', values: ['Enabled', 'Disabled'] },
  { label: 'Secure Boot', values: ['Enabled', 'Disabled'] },
  { label: 'Wake on LAN', values: ['Enabled', 'Disabled'] },
];
const SAVE_AND_EXIT = SETUP_ITEMS.length;

const GREY: Rgb = [0xc0, 0xc0, 0xc0];
const BLACK: Rgb = [0, 0, 0];
const BIOS_BLUE: Rgb = [0x00, 0x00, 0xaa];
const WHITE: Rgb = [0xff, 0xff, 0xff];

/** The BIOS's line while it loads a boot image over IDE-R, with what it has read so far. */
function bootingFrom(b: BootRecord): string {
  const drive = b.target === 'ide-r-cd' ? 'CD-ROM' : 'floppy';
  return `Booting from ${drive} (Intel(R) AMT IDE-R)... ${Math.floor((b.bytesRead ?? 0) / 1024)} KiB read`;
}

const pad = (s: string) => s.slice(0, COLUMNS).padEnd(COLUMNS);
const centre = (s: string) => pad(' '.repeat(Math.max(0, Math.floor((COLUMNS - s.length) / 2))) + s);

export class SimScreen extends EventEmitter {
  /** Index of the selected setup line (the last one is "Save Changes and Exit"). */
  setupCursor = 0;
  /** Chosen value index per setup item. */
  readonly setupValues = SETUP_ITEMS.map(() => 0);
  /** Lines typed at the login prompt, and the one being typed. */
  private readonly typed: string[] = [];
  private typing = '';
  /** The boot record whose setup was left (its screen is over). */
  private setupLeft?: BootRecord;

  constructor(private readonly d: SimDevice) {
    super();
    // One 'change' per turn of the event loop: a power change is several device events.
    let queued = false;
    const changed = () => {
      if (queued) return;
      queued = true;
      setImmediate(() => {
        queued = false;
        this.emit('change');
      });
    };
    d.on('power', changed);
    d.on('os', changed);
    d.on('firmware', changed);
    d.on('boot-progress', changed);
    d.on('consent', changed);
    d.on('boot', () => {
      this.typed.length = 0;
      this.typing = '';
      this.setupCursor = 0;
      changed();
    });
  }

  private inSetup(): boolean {
    const b = lastBoot(this.d);
    return this.d.power.state === 2 && b?.target === 'bios-setup' && b.status === 'BIOS setup' && this.setupLeft !== b && this.d.power.os !== 'running';
  }

  image(): ScreenImage {
    const d = this.d;
    if (d.power.state !== 2) return { signal: false, kind: 'off', rows: [], foreground: GREY, background: BLACK };
    const consent = consentState(d);
    // The user consent code, as firmware paints it over whatever the PC shows.
    if (consent.code && consent.state === 2) {
      const rows: ScreenRow[] = Array.from({ length: ROWS }, () => ({ text: '', inverse: false }));
      rows[10] = { text: centre('Intel(R) AMT: a remote console asks for your consent'), inverse: false };
      rows[12] = { text: centre(`User consent code: ${consent.code}`), inverse: true };
      rows[14] = { text: centre('Read this code to the person at the console'), inverse: false };
      return { signal: true, kind: 'post', rows, foreground: WHITE, background: [0x40, 0x00, 0x00] };
    }
    if (this.inSetup()) return this.setupImage();
    const rows: ScreenRow[] = [
      'Simulated PC BIOS 2.1 - OOBKit oob-sim',
      `Intel(R) AMT ${d.firmware.version}  UUID ${d.uuid}`,
      'Memory test: 16384 MB OK',
      'Press F2 or DEL to enter setup',
      '',
    ].map((text) => ({ text, inverse: false }));
    const b = lastBoot(d);
    if (b && b.target !== 'normal' && b.target !== 'bios-setup') rows.push({ text: b.done ? b.status : bootingFrom(b), inverse: false });
    if (d.power.os === 'running') {
      rows.push({ text: '', inverse: false }, { text: `${d.name} login: `, inverse: false });
      for (const t of this.typed) {
        rows[rows.length - 1].text += t;
        rows.push({ text: `${d.name} login: `, inverse: false });
      }
      rows[rows.length - 1].text += this.typing;
      // The newest lines stay on screen, as a terminal scrolls.
      return { signal: true, kind: 'os', rows: rows.slice(-ROWS), foreground: GREY, background: BLACK };
    }
    const status = d.power.os === 'booting' || b?.status === 'booting' ? 'Booting...' : d.power.osInstalled ? '' : 'No bootable device -- insert boot disk and press any key';
    if (status) rows.push({ text: status, inverse: false });
    return { signal: true, kind: 'post', rows, foreground: GREY, background: BLACK };
  }

  private setupImage(): ScreenImage {
    const rows: ScreenRow[] = [
      { text: centre('BIOS Setup Utility'), inverse: false },
      { text: '-'.repeat(COLUMNS), inverse: false },
      { text: '', inverse: false },
    ];
    SETUP_ITEMS.forEach((item, i) => {
      const sel = this.setupCursor === i;
      rows.push({ text: `${sel ? '>' : ' '} ${item.label.padEnd(22)}[${item.values[this.setupValues[i]]}]`, inverse: sel });
    });
    rows.push({ text: `${this.setupCursor === SAVE_AND_EXIT ? '>' : ' '} Save Changes and Exit`, inverse: this.setupCursor === SAVE_AND_EXIT });
    while (rows.length < ROWS - 2) rows.push({ text: '', inverse: false });
    rows.push({ text: '-'.repeat(COLUMNS), inverse: false }, { text: ' Up/Down: select   Enter: change   Esc: exit', inverse: false });
    return { signal: true, kind: 'setup', rows, foreground: WHITE, background: BIOS_BLUE };
  }

  /** A key pressed on the PC's keyboard (KVM) or typed on its serial console (SOL). */
  key(k: ScreenKey): void {
    const d = this.d;
    if (d.power.state !== 2) return;
    if (this.inSetup()) {
      if (k === 'up') this.setupCursor = Math.max(0, this.setupCursor - 1);
      else if (k === 'down') this.setupCursor = Math.min(SAVE_AND_EXIT, this.setupCursor + 1);
      else if (k === 'enter' || k === 'right' || k === 'left') {
        if (this.setupCursor === SAVE_AND_EXIT) {
          if (k === 'enter') return this.leaveSetup();
        } else {
          const n = SETUP_ITEMS[this.setupCursor].values.length;
          this.setupValues[this.setupCursor] = (this.setupValues[this.setupCursor] + (k === 'left' ? n - 1 : 1)) % n;
        }
      } else if (k === 'escape') return this.leaveSetup();
      else return;
      this.emit('change');
      return;
    }
    if (d.power.os !== 'running') return;
    if (k === 'enter') {
      this.typed.push(this.typing);
      if (this.typed.length > ROWS) this.typed.shift();
      this.typing = '';
    } else if (k === 'backspace') this.typing = this.typing.slice(0, -1);
    else if (typeof k === 'object' && this.typing.length < 40) this.typing += k.char;
    else return;
    this.emit('change');
  }

  private leaveSetup(): void {
    this.setupLeft = lastBoot(this.d);
    if (this.d.power.osInstalled) this.d.setOsRunning(true, 'bios-setup');
    this.emit('change');
  }

  /** The value shown for a setup item, e.g. setupValue('Virtualization') === 'Disabled'. */
  setupValue(label: string): string | undefined {
    const i = SETUP_ITEMS.findIndex((s) => s.label === label);
    return i < 0 ? undefined : SETUP_ITEMS[i].values[this.setupValues[i]];
  }
}

/** The screen of a device, created on first use. */
export function simScreen(d: SimDevice): SimScreen {
  return d.classState<SimScreen>('screen', () => new SimScreen(d));
}

/** The picture as ANSI for a serial console: clear, then every line, the setup cursor in reverse video. */
export function ansiFrame(img: ScreenImage): string {
  if (!img.signal) return '';
  const lines = img.rows.map((r) => (r.inverse ? `\x1b[7m${r.text.trimEnd()}\x1b[27m` : r.text.trimEnd()));
  const colour = img.kind === 'setup' ? '\x1b[37;44m' : '\x1b[0m';
  return `${colour}\x1b[2J\x1b[H${lines.join('\r\n')}`;
}
