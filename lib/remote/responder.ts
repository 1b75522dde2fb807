/**
 * The gateway's side: takes signed commands for its site from the broker, checks them
 * (CommandGuard), runs the allowed ones on local devices through an executor, and answers each
 * on the command's MQTT 5 response topic with its correlation data (over MQTT 3.1.1: on the reply topic the signed command names), signed with the site's key.
 * Long actions send progress on the same topic first. Its availability (retained, last will)
 * tells the centre when the site is gone.
 *
 * Events: 'online' (subscribed, and said so), 'accepted' ({ action, device }: a command passed the checks and runs now), 'refused'
 * (Refusal), 'ran' (RunRecord), 'status' (LinkStatus).
 */
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import type { IClientOptions, IPublishPacket } from 'mqtt';
import type { ManagedDevice } from '../device';
import { clip, OobError } from '../errors';
import { MqttLink, withNegotiatedVersion } from '../mqtt/link';
import { noDelay } from './no-delay';
import { OFFLINE, ONLINE, SiteTopics } from '../mqtt/topics';
import { TokenBuckets } from '../util/token-bucket';
import type { ActionClass, RemoteAction } from './actions';
import { Answer, Command, PROTOCOL_VERSION, signAnswer } from './envelope';
import { CommandGuard, RefusalReason } from './guard';
import { isOwnReplyTopic, remoteAvailabilityTopic, remoteCommandTopic, remoteReplyTopic } from './topics';

/** Runs one allowed action on a local device; `progress` sends an event to the centre. */
export type Executor = (device: ManagedDevice, action: RemoteAction, args: Record<string, unknown>, progress: (event: unknown) => void) => Promise<unknown>;

export interface Refusal {
  reason: RefusalReason | 'busy' | 'unknown-device';
  message: string;
  action?: string;
  device?: string;
}

export interface RunRecord {
  action: string;
  device: string;
  ok: boolean;
  error?: string;
}

export interface ResponderOptions extends SiteTopics {
  url: string;
  client?: IClientOptions;
  /** The site's private key: answers are signed with it. */
  siteKey: KeyObject;
  /** The centre's public key, pinned here. */
  centreKey: KeyObject;
  allow: ReadonlySet<ActionClass>;
  /** The site's devices by topic segment (slug). */
  devices: (slug: string) => ManagedDevice | undefined;
  execute: Executor;
  windowMs?: number;
  /** Actions running at once at most; more are refused as busy. Default 16. */
  maxRunning?: number;
  /** Refusals answered per second at most (the rest are dropped silently). Default 10. */
  refusalsPerSecond?: number;
  now?: () => number;
}

export class RemoteResponder extends EventEmitter {
  readonly link: MqttLink;
  private readonly guard: CommandGuard;
  private readonly topics: SiteTopics;
  private readonly now: () => number;
  private readonly refusalRate: TokenBuckets;
  private running = 0;
  private closed = false;
  /** Commands dropped without an answer (no or foreign response topic, refusal flood). */
  dropped = 0;

  constructor(private readonly o: ResponderOptions) {
    super();
    this.topics = { base: o.base, site: o.site };
    this.now = o.now ?? Date.now;
    this.guard = new CommandGuard({ site: o.site, centreKey: o.centreKey, allow: o.allow, windowMs: o.windowMs, now: this.now });
    const rate = o.refusalsPerSecond ?? 10;
    this.refusalRate = new TokenBuckets(rate, rate, 1, this.now);
    this.link = new MqttLink({
      url: o.url,
      // MQTT 5 where the broker speaks it, else 3.1.1 (the reply topic then comes from the command).
      client: withNegotiatedVersion(o.client),
      will: { topic: remoteAvailabilityTopic(this.topics), payload: OFFLINE },
      maxIncomingBytes: 64 * 1024,
      coalesceWrites: true,
    });
    noDelay(this.link);
    this.link.on('status', (s) => this.emit('status', s));
    this.link.on('connect', () => void this.onConnect());
    this.link.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => this.onMessage(topic, payload, packet));
  }

  private async onConnect(): Promise<void> {
    try {
      // QoS 0 from the broker to here, and for answers: sessions are clean, so QoS 1 would redeliver
      // nothing after a drop (the will tells the centre, whose wait ends), and its acknowledgements
      // would only double the packets per command. The centre publishes commands at QoS 1, so the
      // broker still says that it took (or refused) each one.
      await this.link.subscribe([remoteCommandTopic(this.topics)], { qos: 0 });
      if (await this.link.publish(remoteAvailabilityTopic(this.topics), ONLINE, { retain: true })) this.emit('online');
    } catch (e) {
      this.emit('status', { state: 'disconnected', reason: e instanceof Error ? e.message : String(e) });
    }
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.closed || topic !== remoteCommandTopic(this.topics)) return;
    const correlation = packet.properties?.correlationData;
    const checked = this.guard.check(payload);
    const replyName = checked.ok ? checked.command.reply : checked.reply;
    const replyTo = packet.properties?.responseTopic ?? (replyName ? remoteReplyTopic(this.topics, replyName) : undefined);
    if (!checked.ok) {
      this.refuse(replyTo, correlation, { reason: checked.reason, message: checked.message }, checked.nonce);
      return;
    }
    const c = checked.command;
    if (!isOwnReplyTopic(this.topics, replyTo)) {
      // A signed command without a place to answer: run nothing nobody could hear the outcome of.
      this.dropped++;
      this.emit('refused', { reason: 'malformed', message: 'command has no response topic under this site', action: c.action, device: c.device } satisfies Refusal);
      return;
    }
    const device = this.o.devices(c.device);
    if (!device) {
      this.refuse(replyTo, correlation, { reason: 'unknown-device', message: `no device "${clip(c.device, 64)}" at site ${this.o.site}`, action: c.action, device: c.device }, c.nonce, c);
      return;
    }
    if (this.running >= (this.o.maxRunning ?? 16)) {
      this.refuse(replyTo, correlation, { reason: 'busy', message: `${this.running} commands are running at this site; try again`, action: c.action, device: c.device }, c.nonce, c);
      return;
    }
    void this.run(c, device, replyTo, correlation);
  }

  private async run(c: Command, device: ManagedDevice, replyTo: string, correlation: Buffer | undefined): Promise<void> {
    this.running++;
    this.emit('accepted', { action: c.action, device: c.device });
    let seq = 0;
    const progress = (event: unknown) => {
      void this.answer(replyTo, correlation, { ...this.base(c), type: 'progress', seq: ++seq, event });
    };
    try {
      const result = await this.o.execute(device, c.action as RemoteAction, c.args, progress);
      await this.answer(replyTo, correlation, { ...this.base(c), type: 'result', result: result === undefined ? null : result });
      this.emit('ran', { action: c.action, device: c.device, ok: true } satisfies RunRecord);
    } catch (e) {
      const error = { code: e instanceof OobError ? e.code : 'ERROR', message: e instanceof Error ? e.message : String(e) };
      await this.answer(replyTo, correlation, { ...this.base(c), type: 'error', error });
      this.emit('ran', { action: c.action, device: c.device, ok: false, error: error.message } satisfies RunRecord);
    } finally {
      this.running--;
    }
  }

  private base(c: Pick<Command, 'device' | 'action' | 'nonce'>): Omit<Answer, 'type'> {
    return { v: PROTOCOL_VERSION, site: this.o.site, device: c.device, action: c.action, nonce: c.nonce, ts: this.now() };
  }

  private refuse(replyTo: unknown, correlation: Buffer | undefined, r: Refusal, nonce: string | undefined, c?: Command): void {
    this.emit('refused', r);
    if (!isOwnReplyTopic(this.topics, replyTo) || !nonce || !this.refusalRate.take('')) {
      this.dropped++;
      return;
    }
    const a: Answer = { ...this.base({ device: c?.device ?? '', action: c?.action ?? '', nonce }), type: 'refused', error: { code: r.reason, message: r.message } };
    void this.answer(replyTo, correlation, a);
  }

  private answer(replyTo: string, correlation: Buffer | undefined, a: Answer): Promise<boolean> {
    return this.link.publish(replyTo, signAnswer(a, this.o.siteKey), { qos: 0, properties: correlation ? { correlationData: correlation } : {} });
  }

  /** Says "offline" (retained) and disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    await this.link.close({ topic: remoteAvailabilityTopic(this.topics), payload: OFFLINE });
  }
}
