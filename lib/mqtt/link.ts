/**
 * One outbound MQTT connection (the `mqtt` package) with our last will and reconnects that back
 * off: 1 s, 2 s, 4 s... up to a maximum, with jitter, back to the start after a successful
 * connect. A broker that refuses (bad credentials, not authorized) or drops the connection is
 * retried the same way; the reason is reported through 'status'.
 *
 * MQTT 5 unless the client options ask for another version (and 3.1.1 after a broker refuses
 * version 5): its reason codes tell a publish or subscription the broker's ACL refused ('denied'),
 * and Retain As Published keeps the retain flag of messages delivered live.
 *
 * Events: 'connect' (every successful connect, after which everything must be republished),
 * 'status' (LinkStatus), 'message' (topic, payload, packet), 'denied' (what: "publish to <topic>",
 * "subscribe to <filter>").
 */
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import mqtt, { IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface LinkStatus {
  state: LinkState;
  /** Why the link is not connected: "refused: Not authorized", "ECONNREFUSED"... */
  reason?: string;
  /** Milliseconds until the next attempt, when one is planned. */
  retryInMs?: number;
}

export interface LinkOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL. */
  url: string;
  /** Credentials, TLS material, client id, protocol version, keepalive. */
  client?: IClientOptions;
  will: { topic: string; payload: string };
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Incoming messages larger than this are dropped and counted. Default 64 KiB. */
  maxIncomingBytes?: number;
  /**
   * Publishes made in one turn of the event loop leave in one socket write instead of one each
   * (they are held until the loop has handled what it read): for links that answer many
   * requests at once. Default off.
   */
  coalesceWrites?: boolean;
}

export class MqttLink extends EventEmitter {
  readonly client: MqttClient;
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private closing = false;
  private downgraded = false;
  private lastReason?: string;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxIncomingBytes: number;
  private readonly coalesceWrites: boolean;
  /** The stream whose writes are held (coalesceWrites), until the loop's next check phase. */
  private held?: Partial<Writable>;
  droppedOversize = 0;

  constructor(o: LinkOptions) {
    super();
    const versionChosen = o.client?.protocolVersion !== undefined;
    this.initialBackoffMs = o.initialBackoffMs ?? 1000;
    this.maxBackoffMs = o.maxBackoffMs ?? 60_000;
    this.maxIncomingBytes = o.maxIncomingBytes ?? 64 * 1024;
    this.coalesceWrites = o.coalesceWrites ?? false;
    this.client = mqtt.connect(o.url, {
      connectTimeout: 10_000,
      keepalive: 30,
      protocolVersion: 5,
      ...o.client,
      clean: true,
      // Reconnects are ours (with backoff); mqtt.js would retry at a fixed period.
      reconnectPeriod: 0,
      // Nothing is queued while offline: the bridge republishes its whole state on connect.
      queueQoSZero: false,
      // mqtt-packet would otherwise keep 65,536 two-byte Buffers (about 7 MB of heap, a tenth of a
      // Raspberry Pi gateway's) to write packet ids and lengths; writing them as needed costs nothing
      // measurable at our message rates. The setting is the module's, for every client using it.
      writeCache: false,
      will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      this.attempt = 0;
      this.lastReason = undefined;
      this.emit('status', { state: 'connected' } satisfies LinkStatus);
      this.emit('connect');
    });
    this.client.on('error', (e: Error & { code?: string | number }) => {
      this.lastReason = describeError(e);
      // "Unacceptable protocol version" (3.1.1 CONNACK 1) or "Unsupported Protocol Version" (0x84).
      if (!versionChosen && this.client.options.protocolVersion === 5 && (e.code === 1 || e.code === 0x84)) {
        this.client.options.protocolVersion = 4;
        this.attempt = 0;
        this.downgraded = true;
      }
    });
    this.client.on('close', () => this.scheduleReconnect());
    this.client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      if (payload.length > this.maxIncomingBytes) {
        this.droppedOversize++;
        return;
      }
      this.emit('message', topic, payload, packet);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Subscriptions keep the retain flag of live messages (MQTT 5). */
  get retainAsPublished(): boolean {
    return this.client.options.protocolVersion === 5;
  }

  private scheduleReconnect(): void {
    if (this.closing || this.retryTimer) return;
    if (this.downgraded) {
      // Not a failure: the broker speaks 3.1.1 only; try again at once with it.
      this.downgraded = false;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.closing) this.client.reconnect();
      }, 0);
      return;
    }
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(this.attempt, 16));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.emit('status', { state: 'disconnected', reason: this.lastReason ?? 'connection closed', retryInMs: delay } satisfies LinkStatus);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closing) return;
      this.emit('status', { state: 'connecting', reason: this.lastReason } satisfies LinkStatus);
      this.client.reconnect();
    }, delay);
  }

  /**
   * Publish when connected; resolves false (and sends nothing) while disconnected. Resolves false
   * too when the broker has not acknowledged within `ackTimeoutMs` (a connection that dropped
   * with the message in flight): nobody waits forever on a lost acknowledgement.
   */
  publish(topic: string, payload: string | Buffer, o: IClientPublishOptions = {}, ackTimeoutMs = 10_000): Promise<boolean> {
    if (!this.client.connected) return Promise.resolve(false);
    if (this.coalesceWrites) this.holdWrites();
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ackTimeoutMs);
      this.client.publish(topic, payload, { qos: 1, ...o }, (err) => {
        clearTimeout(timer);
        if (err && isNotAuthorized(err)) this.emit('denied', `publish to ${topic}`);
        resolve(!err);
      });
    });
  }

  /** Holds the socket's writes until this turn of the event loop has run its I/O callbacks. */
  private holdWrites(): void {
    const stream = this.client.stream as Partial<Writable> | undefined;
    if (this.held || !stream?.cork || !stream.uncork) return;
    stream.cork();
    this.held = stream;
    setImmediate(() => this.releaseWrites());
  }

  private releaseWrites(): void {
    const stream = this.held;
    this.held = undefined;
    stream?.uncork?.();
  }

  /** Subscribe at QoS 1 (or `qos`); `rap` asks for Retain As Published where the protocol has it. */
  subscribe(topics: string[], o: { rap?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    const qos = o.qos ?? 1;
    const options = o.rap && this.retainAsPublished ? { qos, rap: true } : { qos };
    return new Promise((resolve, reject) => {
      this.client.subscribe(topics, options, (err, granted, packet) => {
        // 0x80 (3.1.1 failure) and every MQTT 5 reason code from 0x80 up refuse a subscription;
        // mqtt.js reports them as an error, with the SUBACK's codes in the packet.
        const codes: number[] = (packet as { granted?: number[] } | undefined)?.granted ?? (granted ?? []).map((g) => g.qos);
        const refused = topics.filter((_t, i) => (codes[i] ?? 0) >= 0x80);
        for (const t of refused) this.emit('denied', `subscribe to ${t}`);
        if (refused.length) return reject(new Error(`the broker refused the subscription to ${refused.join(', ')}`));
        if (err) return reject(err);
        resolve();
      });
    });
  }

  unsubscribe(topics: string[]): Promise<void> {
    return new Promise((resolve) => this.client.unsubscribe(topics, () => resolve()));
  }

  /** Publish the given last words (e.g. "offline", since a clean disconnect sends no will), then disconnect. */
  async close(last?: { topic: string; payload: string }): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    if (last && this.client.connected) await this.publish(last.topic, last.payload, { retain: true }, 2000);
    // What was published before close() (held for the turn, or corked until the next tick by
    // mqtt-packet) leaves before the forced end.
    await new Promise((resolve) => setImmediate(resolve));
    // Forced: what mattered (the last words) is acknowledged, and a graceful end would wait for
    // acknowledgements that a dropped connection will never bring.
    await new Promise<void>((resolve) => this.client.end(true, {}, () => resolve()));
    this.emit('status', { state: 'closed' } satisfies LinkStatus);
  }
}

/** MQTT 5 reason code 0x87 "Not authorized" on an acknowledgement. */
function isNotAuthorized(e: Error & { code?: unknown }): boolean {
  return e.code === 0x87 || /not authori[sz]ed/i.test(e.message);
}

function describeError(e: Error & { code?: string | number }): string {
  if (typeof e.code === 'number') return e.message.replace(/^Connection refused: /, 'refused: ');
  if (typeof e.code === 'string') return e.code;
  return e.message;
}

/** Client options that leave the protocol version to the link: MQTT 5, or 3.1.1 where the broker refuses 5. */
export function withNegotiatedVersion(client?: IClientOptions): IClientOptions {
  const out = { ...client };
  delete out.protocolVersion;
  return out;
}
