/**
 * Keeping one device subscribed to its alerts: Subscribe (PushWithAck, our secret path, the
 * subscription's own Digest credentials, a lifetime), Renew before the lifetime ends, and
 * Unsubscribe on close. The record (path, credentials, identifier) is kept by the caller across
 * restarts, so a device that pushes while Node-RED restarts still finds the same path, and the
 * old subscription is renewed rather than left behind.
 */
import { OobError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import type { SubscriptionHandle } from '../wsman/envelope';
import { AMT_ALL_EVENTS_FILTER } from '../wsman/namespaces';
import { detachedString } from '../util/detached-string';
import type { PushRegistration } from './event-listener';

export interface SubscriptionRecord {
  identifier?: string;
  managerSelectors?: Record<string, string>;
  /** ms since 1970, when the device said it would end; undefined = no end given. */
  expiresAt?: number;
}

export interface DeviceSubscriptionOptions {
  client: WsmanClient;
  /** Base URL the device can reach our listener at: http(s)://<our address>:<port>. */
  notifyBase: string;
  reg: PushRegistration;
  record?: SubscriptionRecord;
  /** Requested lifetime; renewed at 80% of it. Default 3600 s. */
  expiresSeconds?: number;
  onRecord(r: SubscriptionRecord | undefined): void;
  onError(e: Error): void;
  onSubscribed?(): void;
}

/** "PT3600S", "PT1H", "P1DT2H3M4.5S" -> seconds; undefined for anything else (or an xs:dateTime). */
export function durationSeconds(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v.trim());
  if (!m) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : Math.max(0, (t - Date.now()) / 1000);
  }
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

export class DeviceSubscription {
  private timer?: NodeJS.Timeout;
  private record?: SubscriptionRecord;
  private closed = false;
  private inflight?: Promise<void>;
  private readonly expiresSeconds: number;

  constructor(private readonly o: DeviceSubscriptionOptions) {
    this.record = o.record;
    this.expiresSeconds = o.expiresSeconds ?? 3600;
  }

  get notifyTo(): string {
    return `${this.o.notifyBase.replace(/\/$/, '')}${this.o.reg.path}`;
  }

  private handle(): SubscriptionHandle | undefined {
    if (!this.record?.identifier) return undefined;
    return { manager: { address: '', resourceUri: '', selectors: this.record.managerSelectors ?? {} }, identifier: this.record.identifier };
  }

  private setRecord(r: SubscriptionRecord | undefined): void {
    this.record = r;
    this.o.onRecord(r);
  }

  private schedule(seconds: number): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => void this.refresh(), Math.max(5, seconds) * 1000);
    this.timer.unref();
  }

  /** Subscribes (or renews what a previous run left); retries on failure every minute. */
  async start(): Promise<void> {
    await this.refresh();
  }

  private refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const run = this.subscribeOrRenew().finally(() => {
      if (this.inflight === run) this.inflight = undefined;
    });
    this.inflight = run;
    return run;
  }

  private async subscribeOrRenew(): Promise<void> {
    try {
      const old = this.handle();
      if (old) {
        try {
          const expires = await this.o.client.renew(AMT_ALL_EVENTS_FILTER, old, this.expiresSeconds);
          this.after(expires);
          return;
        } catch (e) {
          if (!(e instanceof OobError) || (e.code !== 'WSMAN_FAULT' && e.code !== 'HTTP_STATUS')) throw e;
          // Unknown to the device (expired, or the device was reset): drop it and subscribe anew.
          await this.o.client.unsubscribe(AMT_ALL_EVENTS_FILTER, old).catch(() => undefined);
          this.setRecord(undefined);
        }
      }
      const h = await this.o.client.subscribe(AMT_ALL_EVENTS_FILTER, {
        notifyTo: this.notifyTo,
        mode: 'PushWithAck',
        pushAuth: { username: this.o.reg.username, password: this.o.reg.password },
        reference: this.o.reg.path.split('/').pop(),
        expiresSeconds: this.expiresSeconds,
      });
      // Kept for the life of the subscription: copied, so the reply they were read from can go.
      const managerSelectors = Object.fromEntries(Object.entries(h.manager.selectors).map(([k, v]) => [detachedString(k), detachedString(v)]));
      this.setRecord({ identifier: h.identifier === undefined ? undefined : detachedString(h.identifier), managerSelectors });
      this.after(h.expires);
    } catch (e) {
      this.o.onError(e as Error);
      this.schedule(60);
    }
  }

  private after(expires: string | undefined): void {
    const seconds = durationSeconds(expires) ?? this.expiresSeconds;
    if (this.record) this.setRecord({ ...this.record, expiresAt: Date.now() + seconds * 1000 });
    this.o.onSubscribed?.();
    this.schedule(seconds * 0.8);
  }

  /** Unsubscribes (best effort) and stops renewing. */
  async stop(unsubscribe = true): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    // A Subscribe still on its way would leave a subscription on the device that nobody renews or
    // removes (a redeploy right after a start): let it land, then remove it.
    await this.inflight;
    const h = this.handle();
    if (unsubscribe && h) {
      await this.o.client.unsubscribe(AMT_ALL_EVENTS_FILTER, h).catch(() => undefined);
      this.setRecord(undefined);
    }
  }
}
