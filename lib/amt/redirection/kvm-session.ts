/**
 * KVM on an authenticated redirection connection, console side: ask for the data channel (0x40),
 * wait for the device's 0x41, then the connection carries RFB both ways, unframed. What the viewer
 * and the PC say in RFB is theirs; this carries it and notices when either end goes away.
 *
 * Events: 'data' (RFB bytes from the PC), 'close' (Error when the PC or the network ended it).
 */
import { EventEmitter } from 'node:events';
import { ConnectionError, OobError, TimeoutError } from '../../errors';
import { openRedirection, RedirectionChannel, RedirectionEndpoint } from './connection';
import { endSession, KVM_DATA_CHANNEL_LENGTH, KVM_DATA_CHANNEL_REPLY, kvmDataChannel } from './protocol';

export class KvmStream extends EventEmitter {
  private ending = false;
  private ended = false;

  private constructor(readonly channel: RedirectionChannel) {
    super();
    channel.on('data', (d: Buffer) => this.deliver(d));
    channel.once('close', (e?: Error) => {
      this.ended = true;
      if (this.ending) this.emit('close');
      else this.emit('close', e instanceof OobError ? e : new ConnectionError(`${channel.label} ended the KVM session${e ? ` (${e.message})` : ''}`, e));
    });
  }

  /** Opens the data channel on `channel` (already authenticated for "KVMR"). */
  static start(channel: RedirectionChannel, timeoutMs = 15000): Promise<KvmStream> {
    return new Promise((resolve, reject) => {
      let got = channel.takeRawStream();
      const timer = setTimeout(() => channel.destroy(new TimeoutError(`${channel.label} did not open the KVM data channel within ${timeoutMs} ms`)), timeoutMs);
      const onData = (d: Buffer) => {
        got = got.length ? Buffer.concat([got, d]) : d;
        check();
      };
      const onClose = (e?: Error) => {
        clearTimeout(timer);
        channel.off('data', onData);
        reject(e instanceof OobError ? e : new ConnectionError(`${channel.label} closed the connection while opening KVM${e ? `: ${e.message}` : ''}`, e));
      };
      const check = () => {
        if (got.length < KVM_DATA_CHANNEL_LENGTH) return;
        clearTimeout(timer);
        channel.off('data', onData);
        channel.off('close', onClose);
        if (got[0] !== KVM_DATA_CHANNEL_REPLY) {
          channel.destroy();
          reject(new ConnectionError(`${channel.label} answered the KVM data channel request with 0x${got[0].toString(16)}`));
          return;
        }
        // The stream takes over synchronously: RFB may follow in the same read.
        const stream = new KvmStream(channel);
        stream.deliver(got.subarray(KVM_DATA_CHANNEL_LENGTH));
        resolve(stream);
      };
      channel.on('data', onData);
      channel.once('close', onClose);
      channel.send(kvmDataChannel());
      check();
    });
  }

  private backlog: Buffer[] = [];

  /** Bytes that arrive before anyone listens are held for the first 'data' listener. */
  deliver(d: Buffer): void {
    if (d.length === 0) return;
    if (this.listenerCount('data') > 0) {
      this.emit('data', d);
      return;
    }
    if (this.backlog.length === 0) {
      const flush = (event: string | symbol) => {
        if (event !== 'data') return;
        this.off('newListener', flush);
        setImmediate(() => {
          for (const b of this.backlog.splice(0)) this.emit('data', b);
        });
      };
      this.on('newListener', flush);
    }
    if (this.backlog.length < 64) this.backlog.push(d);
    else this.channel.destroy(new ConnectionError(`${this.channel.label}: nobody reads the KVM stream`));
  }

  get closed(): boolean {
    return this.ended;
  }

  /** RFB bytes to the PC; false when the socket is backed up (see drained()). */
  write(b: Buffer): boolean {
    return this.channel.send(b);
  }

  drained(): Promise<void> {
    return this.channel.drained();
  }

  /** Ends the redirection session and closes the connection. */
  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ending = true;
    return new Promise((resolve) => {
      this.channel.once('close', () => resolve());
      this.channel.send(endSession());
      this.channel.end();
    });
  }
}

/** Connects, authenticates and opens KVM; RFB from the PC comes as 'data' events. */
export async function openKvm(e: RedirectionEndpoint): Promise<KvmStream> {
  const channel = await openRedirection(e, 'KVMR');
  return KvmStream.start(channel, e.timeoutMs);
}
