/**
 * Serial-over-LAN on an authenticated redirection connection, console side: the SOL start with our
 * buffer and timeout settings, the modem control lines, text both ways, keep-alives every couple of
 * seconds (AMT ends a session that stays silent past its receive timeout), and a clean close (SOL
 * end, its reply, then the end of the redirection session).
 *
 * Events: 'data' (Buffer of text from the PC), 'close' (Error when the PC or the network ended it).
 */
import { EventEmitter } from 'node:events';
import { ConnectionError, OobError, TimeoutError } from '../../errors';
import { openRedirection, RedirectionChannel, RedirectionEndpoint } from './connection';
import { endSession, MSG, readSolData, SolSettings, solBare, solControlsToHost, solData, solStart } from './protocol';

export interface SolOptions {
  /** Keep-alive interval. Default 2000 ms. */
  keepAliveMs?: number;
  /** Heartbeat interval asked of the PC; the session is declared dead after three missed. Default 5000 ms. */
  heartbeatMs?: number;
  /** Start handshake limit. Default 15 s. */
  timeoutMs?: number;
}

/** What we ask of the PC; the largest text per message is also what we send at most. */
const SETTINGS: Omit<SolSettings, 'heartbeatMs'> = { maxTxBuffer: 10000, txTimeoutMs: 100, txOverflowTimeoutMs: 0, rxTimeoutMs: 10000, rxFlushTimeoutMs: 100 };

export class SolSession extends EventEmitter {
  private seq = 1;
  private keepAlive?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private closing?: Promise<void>;
  private ended = false;

  private constructor(readonly channel: RedirectionChannel) {
    super();
  }

  /** Starts SOL on `channel` (already authenticated for "SOL "). */
  static start(channel: RedirectionChannel, o: SolOptions = {}): Promise<SolSession> {
    const s = new SolSession(channel);
    const heartbeatMs = o.heartbeatMs ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => channel.destroy(new TimeoutError(`${channel.label} did not answer the SOL start within ${o.timeoutMs ?? 15000} ms`)), o.timeoutMs ?? 15000);
      // Text may follow the reply in the same read: the session takes over synchronously.
      const onFirst = (reply: Buffer) => {
        clearTimeout(timer);
        channel.off('message', onFirst);
        channel.off('close', onClose);
        if (reply[0] !== MSG.solStartReply || reply[1] !== 0) {
          channel.destroy();
          reject(
            reply[0] !== MSG.solStartReply
              ? new ConnectionError(`${channel.label} answered the SOL start with message 0x${reply[0].toString(16)}`)
              : new OobError('DEVICE_REFUSED', `${channel.label} refused to start Serial-over-LAN (status ${reply[1]})`),
          );
          return;
        }
        channel.send(solControlsToHost(s.seq++));
        s.attach(o.keepAliveMs ?? 2000, heartbeatMs * 3);
        resolve(s);
      };
      const onClose = (e?: Error) => {
        clearTimeout(timer);
        channel.off('message', onFirst);
        reject(e instanceof OobError ? e : new ConnectionError(`${channel.label} closed the connection during the SOL start${e ? `: ${e.message}` : ''}`, e));
      };
      channel.on('message', onFirst);
      channel.once('close', onClose);
      channel.send(solStart(s.seq++, { ...SETTINGS, heartbeatMs }));
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  private attach(keepAliveMs: number, silenceMs: number): void {
    const c = this.channel;
    this.keepAlive = setInterval(() => c.send(solBare(MSG.solKeepAlive, this.seq++)), keepAliveMs);
    this.keepAlive.unref();
    this.watchdog = setTimeout(() => c.destroy(new TimeoutError(`${c.label} sent nothing on the SOL session for ${silenceMs} ms`)), silenceMs);
    this.watchdog.unref();
    c.on('message', (m: Buffer) => {
      this.watchdog?.refresh();
      switch (m[0]) {
        case MSG.solDataFromHost:
          this.deliver(Buffer.from(readSolData(m)));
          return;
        case MSG.solEndReply:
          c.send(endSession());
          c.end();
          return;
        case MSG.solEnd:
          c.send(solBare(MSG.solEndReply, this.seq++));
          c.end();
          return;
        default:
          // Heartbeats, keep-alives, serial settings and control lines carry nothing for a console.
          return;
      }
    });
    c.once('close', (e?: Error) => {
      this.ended = true;
      clearInterval(this.keepAlive);
      clearTimeout(this.watchdog);
      if (this.closing) this.emit('close');
      else this.emit('close', e instanceof OobError ? e : new ConnectionError(`${c.label} ended the SOL session${e ? ` (${e.message})` : ''}`, e));
    });
  }

  private backlog: Buffer[] = [];
  private backlogBytes = 0;

  /** Text that arrives before anyone listens is kept (up to 64 KiB) and handed to the first listener. */
  private deliver(b: Buffer): void {
    if (this.listenerCount('data') > 0) {
      this.emit('data', b);
      return;
    }
    if (this.backlog.length === 0) {
      const flush = (event: string | symbol) => {
        if (event !== 'data') return;
        this.off('newListener', flush);
        setImmediate(() => {
          const held = this.backlog.splice(0);
          this.backlogBytes = 0;
          for (const h of held) this.emit('data', h);
        });
      };
      this.on('newListener', flush);
    }
    if (this.backlogBytes + b.length > 64 * 1024) return;
    this.backlog.push(b);
    this.backlogBytes += b.length;
  }

  /** Text to the PC, as typed (split into messages the PC accepts). */
  write(text: string | Buffer): void {
    if (this.ended || this.closing) return;
    const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    for (let at = 0; at < b.length; at += SETTINGS.maxTxBuffer) {
      this.channel.send(solData(MSG.solDataToHost, this.seq++, b.subarray(at, at + SETTINGS.maxTxBuffer)));
    }
  }

  /** Ends SOL and the redirection session; resolves when the connection is closed (at most ~2 s). */
  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => {
        this.channel.once('close', () => resolve());
        this.channel.send(solBare(MSG.solEnd, this.seq++));
        setTimeout(() => this.channel.destroy(), 2000).unref();
      });
    }
    return this.closing;
  }
}

/** Connects to the redirection port, authenticates and starts SOL. */
export async function openSol(e: RedirectionEndpoint, o: SolOptions = {}): Promise<SolSession> {
  const channel = await openRedirection(e, 'SOL ');
  return SolSession.start(channel, { timeoutMs: e.timeoutMs, ...o });
}
