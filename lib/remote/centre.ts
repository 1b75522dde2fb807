/**
 * The centre's side: signs a command for a device at a site, publishes it on the site's command
 * topic with an MQTT 5 response topic and correlation data (over MQTT 3.1.1: the reply topic named in the signed command, the nonce), and waits for the site's signed
 * answer. An answer that does not verify with the site's pinned key, or is not about this very
 * command (site, device, action, nonce), is dropped and named if the wait then times out.
 * Progress resets the wait. A site whose availability turns "offline" (its gateway's last will)
 * ends every wait on it at once.
 */
import { randomBytes, KeyObject } from 'node:crypto';
import type { IClientOptions, IPublishPacket } from 'mqtt';
import { ConnectionError, InputError, OobError, TimeoutError } from '../errors';
import { MqttLink, withNegotiatedVersion } from '../mqtt/link';
import { noDelay } from './no-delay';
import { OFFLINE, ONLINE } from '../mqtt/topics';
import type { RemoteAction } from './actions';
import { Answer, Command, nonceText, openAnswer, peekNonce, PROTOCOL_VERSION, signCommand } from './envelope';
import { errorFromSite, RemoteRefusedError, SiteOfflineError } from './errors';
import { centreSubscriptions, parseRemoteTopic, remoteCommandTopic, remoteReplyTopic } from './topics';

export interface CentreOptions {
  url: string;
  client?: IClientOptions;
  base: string;
  /** This centre's name in reply topics (slug). */
  centre: string;
  /** The centre's private key: commands are signed with it. */
  centreKey: KeyObject;
  /** Each site's public key, pinned here. */
  siteKeys: (site: string) => KeyObject | undefined;
  /** Wait for an answer (or the next progress) this long. Default 30 s. */
  timeoutMs?: number;
  /** Waits at once at most. Default 10,000. */
  maxPending?: number;
  now?: () => number;
}

export interface RequestOptions {
  timeoutMs?: number;
  onProgress?: (event: unknown) => void;
  signal?: AbortSignal;
}

export type SiteAvailability = 'online' | 'offline' | 'unknown';

interface Pending {
  site: string;
  command: Command;
  key: KeyObject;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  timeoutMs: number;
  seq: number;
  onProgress?: (event: unknown) => void;
  dropped?: string;
}

export class RemoteCentre {
  readonly link: MqttLink;
  private readonly pending = new Map<string, Pending>();
  /** Nonce of each pending command -> its id: how answers find their command without MQTT 5. */
  private readonly byNonce = new Map<string, string>();
  private readonly availability = new Map<string, SiteAvailability>();
  private readonly now: () => number;
  private readonly ready: Promise<void>;
  private subscribed = false;
  private closed = false;

  constructor(private readonly o: CentreOptions) {
    this.now = o.now ?? Date.now;
    this.link = new MqttLink({
      url: o.url,
      // MQTT 5 where the broker speaks it, else 3.1.1 (commands name where to answer, nonces correlate).
      client: withNegotiatedVersion(o.client),
      // The centre's own presence is nobody's business here; a will is required by the link.
      will: { topic: `${o.base}/_centre/${o.centre}/availability`, payload: OFFLINE },
      maxIncomingBytes: 1024 * 1024 + 1024,
      coalesceWrites: true,
    });
    noDelay(this.link);
    let ready: () => void;
    this.ready = new Promise((r) => (ready = r));
    this.link.on('connect', async () => {
      try {
        await this.link.subscribe(centreSubscriptions(o.base, o.centre));
        this.subscribed = true;
        ready();
      } catch (e) {
        this.failAll(() => new ConnectionError(`the broker refused the centre's subscriptions: ${(e as Error).message}`));
      }
    });
    this.link.client.on('close', () => {
      this.subscribed = false;
      this.failAll((p) => new ConnectionError(`connection to the broker lost while waiting for site ${p.site} (${p.command.action} on ${p.command.device})`));
    });
    this.link.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => this.onMessage(topic, payload, packet));
  }

  /** Resolves once connected and subscribed (the first time). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Waits (at most `ms`) for the link to be connected and subscribed. */
  private async waitForLink(ms: number, site: string): Promise<void> {
    const end = Date.now() + ms;
    while (!(this.link.connected && this.subscribed)) {
      if (this.closed || Date.now() >= end) throw new ConnectionError(`the centre is not connected to the broker; site ${site} cannot be reached`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  siteAvailability(site: string): SiteAvailability {
    return this.availability.get(site) ?? 'unknown';
  }

  /** Runs `action` on `device` at `site` and resolves with the site's result. */
  async request(site: string, device: string, action: RemoteAction, args: Record<string, unknown> = {}, ro: RequestOptions = {}): Promise<unknown> {
    if (this.closed) throw new ConnectionError('the centre is closed');
    const key = this.o.siteKeys(site);
    if (!key) throw new InputError(`no public key is pinned for site "${site}"`);
    if (!this.link.connected || !this.subscribed) await this.waitForLink(Math.min(ro.timeoutMs ?? this.o.timeoutMs ?? 30_000, 10_000), site);
    if (this.availability.get(site) === 'offline') throw new SiteOfflineError(site, `site ${site} is offline (its gateway is not connected to the broker)`);
    if (this.pending.size >= (this.o.maxPending ?? 10_000)) throw new ConnectionError(`${this.pending.size} remote commands are waiting already`);
    ro.signal?.throwIfAborted();
    // One random draw for both: the nonce is its text, the correlation data its bytes (neither is secret).
    const correlation = randomBytes(16);
    const command: Command = { v: PROTOCOL_VERSION, site, device, action, args, ts: this.now(), nonce: nonceText(correlation), reply: this.o.centre };
    const id = correlation.toString('hex');
    const result = new Promise<unknown>((resolve, reject) => {
      const p: Pending = { site, command, key, resolve, reject, timeoutMs: ro.timeoutMs ?? this.o.timeoutMs ?? 30_000, seq: 0, onProgress: ro.onProgress };
      this.pending.set(id, p);
      this.byNonce.set(command.nonce, id);
      this.arm(id, p);
      ro.signal?.addEventListener('abort', () => this.settle(id, () => reject(ro.signal!.reason ?? new Error('aborted'))), { once: true });
    });
    const sent = await this.link.publish(remoteCommandTopic({ base: this.o.base, site }), signCommand(command, this.o.centreKey), {
      qos: 1,
      properties: { responseTopic: remoteReplyTopic({ base: this.o.base, site }, this.o.centre), correlationData: correlation },
    });
    if (!sent) this.settle(id, (p) => p.reject(new ConnectionError(`the broker did not take the command for site ${site}`)));
    return result;
  }

  private arm(id: string, p: Pending): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.settle(id, () =>
        p.reject(
          new TimeoutError(
            `no answer from site ${p.site} within ${Math.round(p.timeoutMs / 1000)} s (${p.command.action} on ${p.command.device})` +
              (p.dropped ? `; an answer that failed verification was dropped: ${p.dropped}` : ''),
          ),
        ),
      );
    }, p.timeoutMs);
  }

  private settle(id: string, fn: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.byNonce.delete(p.command.nonce);
    clearTimeout(p.timer);
    fn(p);
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const t = parseRemoteTopic(this.o.base, topic);
    if (!t) return;
    if (t.leaf.length === 1 && t.leaf[0] === 'availability') return this.onAvailability(t.site, payload.toString('utf8'));
    const correlation = packet.properties?.correlationData;
    const id = Buffer.isBuffer(correlation) ? correlation.toString('hex') : this.byNonce.get(peekNonce(payload) ?? '');
    if (id === undefined) return;
    const p = this.pending.get(id);
    if (!p) return;
    const opened = openAnswer(payload, p.key);
    if (!opened.ok) {
      p.dropped = `${opened.reason} (${opened.message})`;
      return;
    }
    const a = opened.value;
    const c = p.command;
    if (a.site !== c.site || a.nonce !== c.nonce || (a.type !== 'refused' && (a.device !== c.device || a.action !== c.action))) {
      p.dropped = 'signed by the site but about another command';
      return;
    }
    this.onAnswer(id, p, a);
  }

  private onAnswer(id: string, p: Pending, a: Answer): void {
    switch (a.type) {
      case 'progress':
        if (typeof a.seq !== 'number' || a.seq <= p.seq) return;
        p.seq = a.seq;
        this.arm(id, p);
        try {
          p.onProgress?.(a.event);
        } catch {
          // a listener's failure is its own business
        }
        return;
      case 'result':
        return this.settle(id, () => p.resolve(a.result));
      case 'error':
        return this.settle(id, () => p.reject(errorFromSite(p.site, a.error)));
      case 'refused':
        return this.settle(id, () =>
          p.reject(new RemoteRefusedError(p.site, String(a.error?.code ?? 'refused'), `site ${p.site} refused ${p.command.action} on ${p.command.device}: ${String(a.error?.message ?? a.error?.code ?? 'refused').slice(0, 300)}`)),
        );
    }
  }

  private onAvailability(site: string, text: string): void {
    const state: SiteAvailability = text === ONLINE ? 'online' : text === OFFLINE ? 'offline' : 'unknown';
    this.availability.set(site, state);
    if (state !== 'offline') return;
    for (const [id, p] of this.pending) {
      if (p.site !== site) continue;
      this.settle(id, () =>
        p.reject(new SiteOfflineError(site, `site ${site} went offline while ${p.command.action} on ${p.command.device} was under way; the outcome at the site is unknown`)),
      );
    }
  }

  private failAll(make: (p: Pending) => OobError): void {
    for (const [id, p] of this.pending) this.settle(id, () => p.reject(make(p)));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(() => new ConnectionError('the centre closed'));
    await this.link.close();
  }
}
