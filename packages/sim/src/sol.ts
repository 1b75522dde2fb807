/**
 * Serial-over-LAN on the simulated PC's redirection port, device side (after StartRedirectionSession
 * "SOL " and Digest): the SOL start and its reply, the PC's screen as ANSI text (repainted on every
 * change; nothing while the PC is off), typed text and escape sequences as key presses, heartbeats
 * at the interval the console asked for, and the SOL end with its reply.
 */
import type * as net from 'node:net';
import { MSG, readSolData, readSolStart, solBare, solData, solStartReply } from '../../../lib/amt/redirection/protocol';
import type { SimDevice } from './device';
import { ansiFrame, ScreenKey, simScreen } from './screen';

/** Escape sequences of a VT100/xterm keyboard, as BIOS console redirection reads them. */
const SEQUENCES: Array<[string, ScreenKey]> = [
  ['\x1b[A', 'up'],
  ['\x1b[B', 'down'],
  ['\x1b[C', 'right'],
  ['\x1b[D', 'left'],
  ['\x1bOA', 'up'],
  ['\x1bOB', 'down'],
  ['\x1bOC', 'right'],
  ['\x1bOD', 'left'],
  ['\x1bOQ', 'f2'],
  ['\x1b[12~', 'f2'],
  ['\x1b2', 'f2'],
];

/** Key presses in text typed on a serial terminal. */
export function keysOfText(text: string): ScreenKey[] {
  const keys: ScreenKey[] = [];
  for (let i = 0; i < text.length; ) {
    const seq = text[i] === '\x1b' ? SEQUENCES.find(([s]) => text.startsWith(s, i)) : undefined;
    if (seq) {
      keys.push(seq[1]);
      i += seq[0].length;
      continue;
    }
    const c = text[i++];
    if (c === '\r') {
      keys.push('enter');
      if (text[i] === '\n') i++;
    } else if (c === '\n') keys.push('enter');
    else if (c === '\x1b') keys.push('escape');
    else if (c === '\x7f' || c === '\b') keys.push('backspace');
    else if (c >= ' ' && c <= '~') keys.push({ char: c });
  }
  return keys;
}

/** One SOL session; `onMessage` returns false to drop the connection. */
export class SimSolSession {
  private seq = 0;
  private started = false;
  private heartbeat?: NodeJS.Timeout;
  private readonly screen;
  private readonly onChange = () => this.paint();
  /** Text the console sent (the newest 16 KiB) and its length in all, for tests. */
  input = '';
  received = 0;

  constructor(
    private readonly d: SimDevice,
    private readonly socket: net.Socket,
  ) {
    this.screen = simScreen(d);
    d.classState<{ session?: SimSolSession }>('sol-session', () => ({})).session = this;
  }

  private send(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  private paint(): void {
    const text = ansiFrame(this.screen.image());
    if (!text) return;
    const b = Buffer.from(text, 'latin1');
    for (let at = 0; at < b.length; at += 4096) this.send(solData(MSG.solDataFromHost, this.seq++, b.subarray(at, at + 4096)));
  }

  onMessage(m: Buffer): boolean {
    switch (m[0]) {
      case MSG.solStart: {
        if (this.started) return false;
        this.started = true;
        const s = readSolStart(m);
        this.send(solStartReply(this.seq++, 0));
        if (s.heartbeatMs > 0) {
          this.heartbeat = setInterval(() => this.send(solBare(MSG.solHeartbeat, this.seq++)), Math.max(50, s.heartbeatMs));
          this.heartbeat.unref();
        }
        this.screen.on('change', this.onChange);
        this.paint();
        return true;
      }
      case MSG.solDataToHost: {
        if (!this.started) return false;
        const text = readSolData(m).toString('latin1');
        this.received += text.length;
        this.input = (this.input + text).slice(-16 * 1024);
        for (const k of keysOfText(text)) this.screen.key(k);
        return true;
      }
      case MSG.solEnd:
        this.send(solBare(MSG.solEndReply, this.seq++));
        this.close();
        this.socket.end();
        return false;
      case MSG.solControlsToHost:
      case MSG.solKeepAlive:
      case MSG.solHeartbeat:
        return true;
      default:
        return false;
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.screen.off('change', this.onChange);
    const holder = this.d.classState<{ session?: SimSolSession }>('sol-session');
    if (holder?.session === this) holder.session = undefined;
  }
}

/** The open SOL session of a device, if any. */
export function solSessionOf(d: SimDevice): SimSolSession | undefined {
  return d.classState<{ session?: SimSolSession }>('sol-session')?.session;
}
