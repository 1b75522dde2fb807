/**
 * What oob-alert-in runs, without Node-RED: the receivers a user turned on (PET traps, AMT
 * WS-Eventing pushes, event-log polls, heartbeats) feeding one AlertEngine, with its state and
 * journal in files under `stateDir`. Every alert from every source goes through `engine.process`;
 * what comes out goes to `emit`.
 *
 * Durability: a WS-Eventing push is journaled (fsync) before it is acknowledged and replayed
 * after a restart if it was never emitted; the engine's open keys, event-log positions and
 * subscriptions are kept as a snapshot and a log of changed entries (lib/util/snapshot-log),
 * and flushed on close. PET traps are UDP and not acknowledged.
 *
 * Persist before emit: what the engine emits is held in an outbox and goes out only once the
 * state write that holds its change is done, so a crash at any point never pages twice for one
 * condition after the restart: a condition either was not emitted or is known to be open. What
 * "done" means is `durability`:
 *  - 'process-crash' (the default): appended to the state log with write(2) at the end of the
 *    event-loop turn it came in (one append for all of that turn), then emitted; synced to storage
 *    in the background within a second. It survives the process dying (kill -9, a crash, an
 *    out-of-memory kill); after a power loss the last second of conditions may page again.
 *  - 'power-loss': synced to storage (fdatasync) before it is emitted (one write per batch: what
 *    came in while the last write was syncing). Each batch waits for the disk.
 * The price either way: a crash between the write and the emit leaves its conditions written but
 * not emitted; after the restart their repeats are counted and go out as the follow-up when the
 * dedup window ends. A flow stopped in the turn after an emit (Node-RED had not delivered it yet)
 * is a close, not a crash: that emission is withdrawn and its push replayed, so it may page twice
 * when its receiver kept running (a partial deploy). When a write fails
 * (full disk) the held alerts still go out (paging twice beats paging nobody) and
 * `onStateError` says so until a write succeeds again.
 */
import { promises as dns } from 'node:dns';
import * as net from 'node:net';
import * as path from 'node:path';
import { acquireAmt } from '../amt/connect';
import { bindAddressFor, EventListener, newRegistration, PushRegistration, PushRejection } from '../amt/event-listener';
import type { EventLogPosition } from '../amt/event-log';
import { DeviceSubscription } from '../amt/event-subscription';
import { petDraft } from '../asf/pet';
import { petFromTrap } from '../asf/pet-trap';
import { DropReason, TrapReceiver } from '../asf/trap-receiver';
import { deviceInfo, ManagedDevice } from '../device';
import { InputError } from '../errors';
import { Alert, AlertDevice } from './alert';
import { AckRequest, registerAcknowledger } from './acknowledge';
import { AckOutcome, AlertEngine, Emission, SuppressReason } from './engine';
import { HeartbeatWatch, presenceCheck } from './heartbeat';
import { MaintenanceWindow } from './maintenance';
import { Policy } from './policy';
import { applyHubChanges, HubChange, HubSection, HubState, Journal } from './store';
import { keyRecord } from './open-keys';
import { Durability, SnapshotLog } from '../util/snapshot-log';
import { EventCursor, hasDriver, withDriver } from '../drivers';
import type { SelCursor } from '../ipmi/sel';

export interface PetSourceOptions {
  port: number;
  address?: string;
  communities: string[];
  /** Extra allowed senders (addresses/subnets); the watched devices are always allowed. */
  allow: string[];
  /** Accept traps from anyone (not recommended). */
  allowAny?: boolean;
  /** Datagrams per second per sender and overall (TrapReceiver's defaults: 50 and 2000). */
  perSenderPerSecond?: number;
  globalPerSecond?: number;
}

export interface WsEventSourceOptions {
  port: number;
  address?: string;
  /** http(s)://<address the devices reach us at>:<port>; required to subscribe. */
  publicUrl: string;
  auth?: 'digest' | 'basic' | 'none';
  tls?: { key: string | Buffer; cert: string | Buffer };
  expiresSeconds?: number;
}

export interface AlertHubOptions {
  id: string;
  stateDir: string;
  devices: ManagedDevice[];
  policy: Policy;
  pet?: PetSourceOptions;
  wsevent?: WsEventSourceOptions;
  eventLog?: { intervalSeconds: number; initial?: 'skip' | 'all' };
  heartbeat?: { intervalSeconds: number; misses?: number; check: string };
  emit(e: Emission): void;
  onSuppressed?(a: Alert, reason: SuppressReason): void;
  /** Something went wrong that is not about one alert (a device we cannot subscribe...). */
  onProblem?(what: string, e?: Error): void;
  /** Input refused before it became an alert (garbage datagram, wrong community...). */
  onDropped?(source: 'pet' | 'wsevent', reason: string, from: string, detail?: string): void;
  /** The state could not be written (e: why), or can be again (e undefined) after a failure. */
  onStateError?(e: Error | undefined): void;
  /** What a new condition's state write must survive before it is emitted (see the top of this file). Default 'process-crash'. */
  durability?: Durability;
  /**
   * Open conditions kept at most (EngineOptions.maxKeys; default 50,000). Each costs ~0.45 KB of
   * memory and ~0.3 KB of the state file.
   */
  maxOpen?: number;
}

/** Where each protocol's event-log position is kept in the saved state. */
const CURSOR_SECTION = { amt: 'eventLog', ipmi: 'sel' } as const;

/** What waits for the state write: an emission, or a journaled alert to mark done once emitted. */
type Held = Emission | { journalDone: string };

export function deviceKey(d: ManagedDevice): string {
  return (d.name ?? d.host).toLowerCase();
}

function alertDevice(d: ManagedDevice): AlertDevice {
  const i = deviceInfo(d);
  return { name: i.name, host: i.host, mac: i.mac, site: i.site };
}

export class AlertHub {
  readonly engine: AlertEngine;
  pet?: TrapReceiver;
  listener?: EventListener;
  heartbeat?: HeartbeatWatch;
  readonly dropped: Record<string, number> = {};
  private readonly state: SnapshotLog<HubState, HubChange>;
  private readonly stored: HubState;
  /** Entries of the hub's own sections changed since the last append. */
  private readonly changedEntries = new Map<HubSection, Set<string>>();
  private readonly journal: Journal;
  private readonly byAddress = new Map<string, ManagedDevice>();
  private readonly petDevices = new Map<ManagedDevice, { device: AlertDevice; kept: { device?: AlertDevice } }>();
  private readonly subscriptions: DeviceSubscription[] = [];
  private readonly leases: Array<() => void> = [];
  private readonly eventLogPositions: Record<string, EventLogPosition>;
  private readonly selPositions: Record<string, SelCursor>;
  private readonly subs: NonNullable<HubState['subscriptions']>;
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  private closed = false;
  /** Emitted by the engine, waiting for the next state write to start. */
  private outbox: Held[] = [];
  /** Taken by the state write in progress: released when it is on disk. */
  private inFlight: Held[] = [];
  private stateFailing = false;
  /** While closing with heldCanBeDelivered: what goes out after the last write. */
  private closingHeld?: Held[];
  /** Handed to `emit` in this event-loop turn: settled in the next one (see settle()). */
  private unsettled: Held[] = [];
  private settleTimer?: NodeJS.Immediate;
  private unregister?: () => void;

  constructor(private readonly o: AlertHubOptions) {
    const safeId = o.id.replace(/[^A-Za-z0-9._-]/g, '_');
    this.state = new SnapshotLog<HubState, HubChange>({
      snapshotFile: path.join(o.stateDir, `alert-in-${safeId}.json`),
      logFile: path.join(o.stateDir, `alert-in-${safeId}.changes`),
      snapshot: this.document,
      takeChanges: () => this.takeChanges(),
      onError: (e) => o.onProblem?.('cannot save the alert state (retrying)', e),
      onWritten: (e) => this.written(e),
      durability: o.durability ?? 'process-crash',
    });
    const loaded = this.state.load();
    for (const p of loaded.problems) o.onProblem?.(`alert state: ${p}`);
    this.stored = applyHubChanges(loaded.snapshot ?? {}, loaded.changes);
    this.journal = new Journal(path.join(o.stateDir, `alert-in-${safeId}.journal`));
    this.eventLogPositions = { ...(this.stored.eventLog ?? {}) };
    this.selPositions = { ...(this.stored.sel ?? {}) };
    this.subs = { ...(this.stored.subscriptions ?? {}) };
    this.engine = new AlertEngine(o.policy, {
      emit: (e) => this.hold(e),
      onSuppressed: o.onSuppressed,
      onStateChange: () => this.state.changed(),
      trackChanges: true,
      state: this.stored.engine,
      maxKeys: o.maxOpen,
    });
  }

  /** The whole state, for a snapshot. */
  private readonly document = (): HubState => ({ engine: this.engine.storedState(), eventLog: this.eventLogPositions, sel: this.selPositions, subscriptions: this.subs });

  private hold(h: Held): void {
    if (this.closed) {
      if (this.closingHeld) this.closingHeld.push(h);
      else this.withdraw([h]);
      return;
    }
    this.outbox.push(h);
    this.state.changed(true);
  }

  /** Held emissions that will reach nobody: their conditions are not kept as paged, their journal entries stay. */
  private withdraw(held: Held[]): void {
    for (const h of held) if (!('journalDone' in h)) this.engine.withdraw(h);
  }

  /** A state write ended: what it covered goes out (also when it failed: see the top of this file). */
  private written(e: Error | undefined): void {
    const out = this.inFlight;
    this.inFlight = [];
    if (e) this.stateFailing = true;
    if (e || this.stateFailing) this.o.onStateError?.(e);
    if (!e) this.stateFailing = false;
    this.deliver(out);
  }

  /**
   * Hands what a write covered to `emit`. Node-RED delivers a sent message in a later turn of the
   * event loop, so a flow stopped in the turn an alert was sent drops it unseen: an emission is
   * settled (its journal entry done) only one turn later, and close() withdraws what is not.
   */
  private deliver(out: Held[], settleNow = false): void {
    if (!settleNow) {
      for (const h of out) this.unsettled.push(h);
      this.settleTimer ??= setImmediate(() => {
        this.settleTimer = undefined;
        const done = this.unsettled;
        this.unsettled = [];
        this.settle(done);
      });
    }
    for (const h of out) {
      // Closed by a flow stopping from inside an emit: close() withdrew the rest.
      if (this.closed && !settleNow) return;
      if ('journalDone' in h) continue;
      try {
        this.o.emit(h);
      } catch (err) {
        this.o.onProblem?.('an emitted alert was refused', err as Error);
      }
    }
    if (settleNow) this.settle(out);
  }

  private settle(held: Held[]): void {
    for (const h of held) if ('journalDone' in h) this.journal.done(h.journalDone);
  }

  /** What changed since the last append: the engine's keys and windows, and the hub's own entries. */
  private takeChanges(): HubChange[] {
    // Everything emitted until now is covered by this write.
    this.inFlight = this.inFlight.length ? this.inFlight.concat(this.outbox) : this.outbox;
    this.outbox = [];
    const out: HubChange[] = this.engine.takeChanges();
    // An open key is written as its KeyRecord (lib/alerts/open-keys).
    for (let i = 0; i < out.length; i++) {
      const c = out[i];
      if ('k' in c && c.v) out[i] = keyRecord(c.k, c.v);
    }
    const sections = { eventLog: this.eventLogPositions, sel: this.selPositions, subscriptions: this.subs } as Record<HubSection, Record<string, unknown>>;
    for (const [section, keys] of this.changedEntries) {
      for (const key of keys) out.push({ section, key, value: sections[section][key] ?? null });
    }
    this.changedEntries.clear();
    return out;
  }

  /** An entry of one of the hub's sections changed. */
  private save(section: HubSection, key: string): void {
    let keys = this.changedEntries.get(section);
    if (!keys) this.changedEntries.set(section, (keys = new Set()));
    keys.add(key);
    this.state.changed();
  }

  private drop(source: 'pet' | 'wsevent', reason: DropReason | PushRejection | string, from: string, detail?: string): void {
    const k = `${source}:${reason}`;
    this.dropped[k] = (this.dropped[k] ?? 0) + 1;
    this.o.onDropped?.(source, reason, from, detail);
  }

  /**
   * Someone takes an open condition on (see AlertEngine.acknowledge). With `device`, only a
   * condition of a device it accepts is found, and none is undefined instead of an error. The
   * acknowledge alert goes out, like every emission, once the state that holds it is on disk.
   */
  acknowledge(r: AckRequest, device?: (d: AlertDevice) => boolean): AckOutcome | undefined {
    if (this.closed) return undefined;
    if (device) {
      const found = this.engine.findOpen(r.key);
      if (!found || !device(found[1].device)) return undefined;
    }
    return this.engine.acknowledge(r.key, r.by, r.note);
  }

  /** Any alert, from any source: through the engine. */
  process(a: Alert): void {
    this.engine.process(a);
  }

  /** Binds the listeners and starts the pollers; rejects (and closes) when a listener cannot bind. */
  async start(): Promise<void> {
    // Replay what was acknowledged but not processed before a crash.
    for (const a of this.journal.start()) {
      this.engine.process(a);
      this.hold({ journalDone: a.id });
    }
    await this.resolveAddresses();
    try {
      if (this.o.pet) await this.startPet(this.o.pet);
      if (this.o.wsevent) await this.startWsEvent(this.o.wsevent);
    } catch (e) {
      // The listener's error is the one to tell; a state write failing on the way out is reported by onStateError.
      await this.close().catch(() => undefined);
      throw e;
    }
    if (this.o.eventLog) this.startEventLog(this.o.eventLog.intervalSeconds);
    if (this.o.heartbeat) this.startHeartbeat(this.o.heartbeat);
    // A centre's acknowledgement reaches this hub through the site's gateway.
    if (!this.closed) this.unregister = registerAcknowledger(this);
  }

  private async resolveAddresses(): Promise<void> {
    for (const d of this.o.devices) {
      // A device at another site sends its traps and pushes to that site's gateway, never here.
      if (d.remote) continue;
      if (net.isIP(d.host)) {
        this.byAddress.set(d.host, d);
        continue;
      }
      try {
        for (const a of await dns.lookup(d.host, { all: true })) this.byAddress.set(a.address, d);
      } catch (e) {
        this.o.onProblem?.(`cannot resolve ${d.host}`, e as Error);
      }
    }
  }

  deviceFor(address: string): ManagedDevice | undefined {
    return this.byAddress.get(address.charCodeAt(0) === 0x3a /* : */ ? address.replace(/^::ffff:/i, '') : address);
  }

  /** The AlertDevice of a watched device, built once (every trap of that device reads it, none changes it), and its PetContext.kept. */
  private petDevice(d: ManagedDevice): { device: AlertDevice; kept: { device?: AlertDevice } } {
    let a = this.petDevices.get(d);
    if (!a) this.petDevices.set(d, (a = { device: alertDevice(d), kept: {} }));
    return a;
  }

  private async startPet(p: PetSourceOptions): Promise<void> {
    const allow = p.allowAny ? [] : [...p.allow, ...this.byAddress.keys()];
    if (!p.allowAny && allow.length === 0) throw new InputError('PET: no device address and no allowed sender: nobody could send traps');
    const receiver = new TrapReceiver({
      port: p.port,
      address: p.address,
      communities: p.communities,
      allow,
      perSenderPerSecond: p.perSenderPerSecond,
      globalPerSecond: p.globalPerSecond,
      onDrop: (reason, from, detail) => this.drop('pet', reason, from, detail),
      onTrap: (t) => {
        const ev = petFromTrap(t);
        if (!ev) return this.drop('pet', 'not-pet', t.from, t.enterprise ?? t.trapOid);
        const d = this.deviceFor(t.from);
        // Built whole only if it is emitted (or kept): a repeat of an open condition is only counted.
        const known = d && this.petDevice(d);
        const alert = petDraft(ev, { device: known ? known.device : { host: t.from }, kept: known ? known.kept : undefined, from: t.from, receivedAt: t.receivedAt, raw: t.raw });
        if (alert.kind === 'lan-heartbeat' && d) {
          // A heartbeat trap is a sign of life, not an alert.
          if (this.heartbeat?.beat(deviceKey(d))) return;
        }
        this.engine.process(alert);
      },
    });
    try {
      await receiver.start();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new InputError(`PET: cannot listen on UDP ${p.address ?? '0.0.0.0'}:${p.port} (${err.code ?? err.message})${err.code === 'EACCES' ? '; ports below 1024 need privileges' : ''}`);
    }
    this.pet = receiver;
  }

  private async startWsEvent(w: WsEventSourceOptions): Promise<void> {
    const address = w.address ?? bindAddressFor(w.publicUrl);
    const listener = new EventListener({
      port: w.port,
      address,
      auth: w.auth,
      tls: w.tls,
      onReject: (reason, from, detail) => this.drop('wsevent', reason, from, detail),
      onAlert: (alert) => {
        this.journal.append(alert);
        this.engine.process(alert);
        this.hold({ journalDone: alert.id });
      },
    });
    try {
      await listener.start();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new InputError(`AMT events: cannot listen on TCP ${address}:${w.port} (${err.code ?? err.message})`);
    }
    this.listener = listener;
    const base = w.publicUrl.replace(/:0(?=\/|$)/, `:${listener.port}`);
    for (const d of this.o.devices) {
      if (!d.amt) continue;
      const key = deviceKey(d);
      const kept = this.subs[key];
      const reg: PushRegistration = kept ? { ...kept.reg, device: alertDevice(d) } : newRegistration(alertDevice(d));
      this.subs[key] = { reg: { path: reg.path, username: reg.username, password: reg.password }, record: kept?.record };
      if (!kept) this.save('subscriptions', key);
      listener.register(reg);
      const lease = acquireAmt(d.amt);
      const sub = new DeviceSubscription({
        client: lease.client,
        notifyBase: base,
        reg,
        record: kept?.record,
        expiresSeconds: w.expiresSeconds,
        onRecord: (r) => {
          this.subs[key] = { ...this.subs[key], record: r };
          this.save('subscriptions', key);
        },
        onError: (e) => this.o.onProblem?.(`cannot subscribe ${d.name ?? d.host} to AMT events`, e),
      });
      this.subscriptions.push(sub);
      this.leases.push(lease.release);
      void sub.start();
    }
  }

  private startEventLog(intervalSeconds: number): void {
    const poll = async () => {
      if (this.closed || this.polling) return;
      this.polling = true;
      try {
        for (const d of this.o.devices) {
          if (this.closed) continue;
          if (hasDriver(d)) await this.pollEventLog(d).catch((e) => this.o.onProblem?.(`cannot read the event log of ${d.name ?? d.host}`, e as Error));
        }
      } finally {
        this.polling = false;
        if (!this.closed) {
          this.pollTimer = setTimeout(poll, intervalSeconds * 1000);
          this.pollTimer.unref();
        }
      }
    };
    this.pollTimer = setTimeout(poll, 50);
    this.pollTimer.unref();
  }

  /** One event-log poll of one device (AMT's event log, a server's SEL): the new entries, as alerts. */
  async pollEventLog(d: ManagedDevice): Promise<number> {
    if (!hasDriver(d)) return 0;
    const key = deviceKey(d);
    return withDriver(d, async (driver) => {
      const section = CURSOR_SECTION[driver.protocol];
      const positions = (section === 'sel' ? this.selPositions : this.eventLogPositions) as Record<string, EventCursor>;
      const { alerts, cursor } = await driver.readNewEvents(positions[key], { initial: this.o.eventLog?.initial ?? 'skip' });
      for (const a of alerts) this.engine.process(a);
      positions[key] = cursor;
      this.save(section, key);
      return alerts.length;
    });
  }

  private startHeartbeat(h: { intervalSeconds: number; misses?: number; check: string }): void {
    const watch = new HeartbeatWatch({ intervalMs: h.intervalSeconds * 1000, misses: h.misses, onAlert: (a) => this.engine.process(a) });
    const check = presenceCheck(h.check);
    for (const d of this.o.devices) {
      const fn = check && (h.check !== 'amt' || d.amt) ? () => check(d, Math.min(10_000, h.intervalSeconds * 1000)) : undefined;
      watch.watch({ key: deviceKey(d), device: alertDevice(d), check: fn });
    }
    this.heartbeat = watch;
  }

  /** A heartbeat pushed from a flow (device name or host); false when that device is not watched. */
  beat(name: string): boolean {
    if (!this.heartbeat) return false;
    const k = name.toLowerCase();
    if (this.heartbeat.beat(k)) return true;
    const d = this.o.devices.find((x) => x.host.toLowerCase() === k);
    return d ? this.heartbeat.beat(deviceKey(d)) : false;
  }

  /** Writes the state now (what changed, and a compaction that is due); resolves when it is on disk, rejects when it cannot be written. */
  async saveState(): Promise<void> {
    await this.state.flush();
  }

  addMaintenance(w: MaintenanceWindow): void {
    this.engine.addMaintenance(w);
  }

  /**
   * Stops the receivers and pollers and writes the state; rejects when it cannot be written.
   * What is held for the state write goes out after the last write; with `heldCanBeDelivered:
   * false` (a Node-RED flow being stopped no longer passes messages on) it is withdrawn instead,
   * with what was emitted in the last turn and may not have been delivered: the conditions it
   * opened are not kept as paged and its journaled alerts are replayed at the next start, so
   * nothing is lost.
   */
  async close(o: { heldCanBeDelivered?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unregister?.();
    const held = this.inFlight.concat(this.outbox);
    this.inFlight = [];
    this.outbox = [];
    if (this.settleTimer) clearImmediate(this.settleTimer);
    this.settleTimer = undefined;
    const unsettled = this.unsettled;
    this.unsettled = [];
    if (o.heldCanBeDelivered === false) this.withdraw(unsettled);
    else this.settle(unsettled);
    if (o.heldCanBeDelivered === false) this.withdraw(held);
    else this.closingHeld = held;
    clearTimeout(this.pollTimer);
    this.heartbeat?.close();
    this.engine.close();
    await Promise.all(this.subscriptions.map((s) => s.stop(true)));
    for (const release of this.leases) release();
    await this.pet?.close();
    await this.listener?.close();
    try {
      await this.state.close();
    } finally {
      const out = this.closingHeld ?? [];
      this.closingHeld = undefined;
      this.deliver(out, true);
      this.journal.close();
    }
  }
}
