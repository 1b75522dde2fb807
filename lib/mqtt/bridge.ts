/**
 * The gateway side of the MQTT integration: publishes the managed PCs of one site (discovery,
 * retained states, availability), polls them, and carries out the commands Home Assistant (or any
 * MQTT client) sends on the command topics, through each device's control (control.ts).
 *
 * On every connect: gateway availability "online" (the last will says "offline"); then, for a
 * moment, the retained configs under this gateway's node_id are collected. Configs of entities
 * that moved (other discovery mode, other topic, same unique_id) are migrated as HA asks
 * (`migrate_discovery` on the old topic, the new config, then the old one emptied); configs that
 * belong to no current entity (other devices, ids of earlier versions) are emptied once the new
 * ones are out, so a device whose entities got new ids never has none left. Discovery goes once per
 * device and with its identity, as soon as its first poll has answered; until then the retained
 * state and availability of the last run stay as they are, so a restart does not make PCs flap.
 * When HA announces itself on `<prefix>/status` ("online"), discovery and states are published
 * again after a small random delay, so that many gateways do not answer in the same instant.
 *
 * A broker that denies what the gateway needs (an ACL) is reported in the status: MQTT 5 reason
 * codes on publishes and subscriptions, and with MQTT 3.1.1 a publish that never comes back on
 * the gateway's own subscription.
 *
 * Events: 'status' (BridgeStatus), 'command' (CommandRequest, before it runs), 'result'
 * (CommandResult), 'problem' (Error: bad command, unknown device, device stopped answering...).
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt';
import { deviceInfo, DeviceInfo, ManagedDevice } from '../device';
import { InputError, OobError, shortReason } from '../errors';
import { AlertLike, checkAlert, DeviceAlerts, heartbeatVerdict, publishableAlert } from './alerts';
import { ControlOptions, controlFor, DeviceControl, DeviceIdentity } from './control';
import {
  birthTopic,
  deviceConfigTopics,
  deviceDiscovery,
  deviceKeyOf,
  DiscoveredDevice,
  DiscoveryContext,
  DiscoveryMode,
  gatewayDiscovery,
  legacyUniqueIdOf,
  MIGRATE_PAYLOAD,
  Origin,
  ownConfigSubscription,
  RetainedMessage,
  uniqueIdOf,
  uniqueIdsIn,
} from './discovery';
import { DeviceStateDoc, entitiesFor, entityById, EntitySpec, sensorEntities } from './entities';
import { LinkOptions, LinkStatus, MqttLink } from './link';
import { Limiter } from '../util/limiter';
import { PollWheel } from '../util/poll-wheel';
import {
  checkBaseTopic,
  checkDiscoveryPrefix,
  commandResultTopic,
  commandSubscription,
  deviceTopic,
  gatewayAvailabilityTopic,
  OFFLINE,
  ONLINE,
  parseCommandTopic,
  requireSlug,
  SiteTopics,
} from './topics';

/** Retained topics of ours remembered while scanning on connect (stale ones are emptied). */
const MAX_SCANNED_TOPICS = 20_000;
/** Devices whose discovery is in flight at once. */
const ANNOUNCED_AT_ONCE = 8;
/** What a publish that has nothing to send returns (one promise for all of them). */
const NOTHING_TO_SEND: Promise<boolean> = Promise.resolve(true);

export interface BridgeOptions {
  broker: Omit<LinkOptions, 'will'>;
  /** First topic level(s) of our own topics. Default "oobkit". */
  base?: string;
  site: string;
  /** Home Assistant's discovery prefix. Default "homeassistant". */
  discoveryPrefix?: string;
  mode?: DiscoveryMode;
  gatewayName?: string;
  origin: Origin;
  /** Seconds between state polls of each device; 0 = no polling. Default 30. */
  pollSeconds?: number;
  control?: ControlOptions;
  /** How a device's control is made (tests and benchmarks substitute their own). */
  makeControl?: (d: ManagedDevice) => DeviceControl;
  /** Random delay before answering HA's birth message. Default [500, 3000] ms. */
  birthDelayMs?: [number, number];
  /** How long to collect retained configs on connect before migrating and publishing. Default 1500 ms. */
  scanMs?: number;
  /** How long a publish may take to come back on our own subscription before it counts as denied. Default 3000 ms. */
  echoMs?: number;
  /** Link of HA's device pages (the Node-RED editor, a console page): http(s) only. */
  configurationUrl?: string;
  /**
   * Asked before each command runs: true runs it; false or a reason text vetoes it. Without it,
   * every valid command runs.
   */
  approve?: (cmd: CommandRequest) => Promise<boolean | string>;
  /** Most commands waiting per device; more are refused as busy. Default 4. */
  maxQueuedPerDevice?: number;
}

export interface CommandRequest {
  id: string;
  site: string;
  device: DeviceInfo;
  entity: string;
  /** ON, OFF or PRESS as received. */
  payload: string;
  topic: string;
  at: string;
}

export interface CommandResult {
  id: string;
  site: string;
  device: DeviceInfo | { slug: string };
  entity: string;
  payload: string;
  ok: boolean;
  action?: string;
  note?: string;
  error?: string;
  code?: string;
  vetoed?: boolean;
  state?: DeviceStateDoc;
  durationMs: number;
}

export interface BridgeStatus {
  link: LinkStatus;
  devices: number;
  /** Devices whose last poll failed. */
  unreachable: number;
  /** What the broker refused this gateway (topics it may not publish or subscribe to). */
  denied: string[];
}

interface Entry {
  desc: DiscoveredDevice;
  device: ManagedDevice;
  signature: string;
  control: DeviceControl;
  entities: EntitySpec[];
  /** Entity ids announced to HA on this connection. */
  announced: Set<string>;
  identityRead: boolean;
  /** The first poll has answered or failed (always, for a device that is not polled). */
  firstPollDone: boolean;
  /** Configs of this device under ids of earlier versions: emptied once its new ones are out. */
  legacyTopics: string[];
  doc: DeviceStateDoc;
  /** The last published state (its time aside), to publish only changes. */
  publishedState?: DeviceStateDoc;
  available: boolean;
  publishedAvailability?: string;
  alerts: DeviceAlerts;
  /** The one poll of a bridge that does not poll regularly. */
  pollTimer?: NodeJS.Timeout;
  failing: boolean;
  queue: Promise<unknown>;
  queued: number;
  followUps: NodeJS.Timeout[];
  removed: boolean;
}

const MAX_COMMAND_BYTES = 256;
const FOLLOW_UP_MS = [300, 1000, 3000, 10_000, 30_000];

export class HaBridge extends EventEmitter {
  readonly topics: SiteTopics;
  readonly ctx: DiscoveryContext;
  readonly link: MqttLink;
  private readonly entries = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();
  private readonly pollMs: number;
  private readonly birthDelay: [number, number];
  private readonly scanMs: number;
  private readonly maxQueued: number;
  private birthTimer?: NodeJS.Timeout;
  /** Retained topics of ours seen while scanning, with the unique_ids a config announces. */
  private scan?: { seen: Map<string, string[]>; timer: NodeJS.Timeout };
  /** Discovery goes out only once the retained configs of earlier runs have been looked at. */
  private ready = false;
  private readonly echoMs: number;
  /** Publishes waiting to come back on our own subscription: topic -> payload. */
  private readonly echoes = new Map<string, string>();
  private echoTimer?: NodeJS.Timeout;
  private readonly denied = new Set<string>();
  /** Our retained device topics (`<base>/<site>/<device>/<leaf>`), seen while scanning on connect. */
  private get deviceLeaves(): string {
    return `${this.topics.base}/${this.topics.site}/+/+`;
  }
  private linkStatus: LinkStatus = { state: 'connecting' };
  private closed = false;
  private readonly reportedUnknown = new Map<string, number>();
  /** Messages published since start (for benchmarks and the status). */
  published = 0;
  private readonly announcing = new Limiter(ANNOUNCED_AT_ONCE);
  /** Regular polls: the devices of a slot are polled together. */
  private readonly polls?: PollWheel<Entry>;

  constructor(private readonly o: BridgeOptions) {
    super();
    this.topics = { base: checkBaseTopic(o.base ?? 'oobkit'), site: requireSlug(o.site, 'site') };
    const url = o.configurationUrl?.trim();
    if (url && !/^https?:\/\/[^\s]+$/i.test(url)) throw new InputError(`the configuration URL "${url}" must start with http:// or https://`);
    this.ctx = { prefix: checkDiscoveryPrefix(o.discoveryPrefix ?? 'homeassistant'), topics: this.topics, mode: o.mode ?? 'entity', origin: o.origin, configurationUrl: url || undefined };
    this.pollMs = Math.max(0, (o.pollSeconds ?? 30) * 1000);
    if (this.pollMs > 0) this.polls = new PollWheel({ periodMs: this.pollMs, run: (e) => this.poll(e) });
    this.birthDelay = o.birthDelayMs ?? [500, 3000];
    this.scanMs = o.scanMs ?? 1500;
    this.echoMs = o.echoMs ?? 3000;
    this.maxQueued = o.maxQueuedPerDevice ?? 4;
    this.link = new MqttLink({ ...o.broker, will: { topic: gatewayAvailabilityTopic(this.topics), payload: OFFLINE } });
    this.link.on('status', (s: LinkStatus) => {
      this.linkStatus = s;
      this.emitStatus();
    });
    this.link.on('connect', () => void this.onConnect());
    this.link.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => this.onMessage(topic, payload, packet));
    this.link.on('denied', (what: string) => this.deny(what));
  }

  private deny(what: string): void {
    if (this.denied.has(what) || this.denied.size >= 20) return;
    this.denied.add(what);
    this.emit('problem', new OobError('AUTH_FAILED', `the broker does not allow this gateway to ${what}: check its ACL (the node's help shows the lines for this site)`));
    this.emitStatus();
  }

  /** The retained configs of earlier runs have been looked at on this connection: discovery may go out. */
  get discoveryReady(): boolean {
    return this.ready && this.link.connected;
  }

  get status(): BridgeStatus {
    let unreachable = 0;
    for (const e of this.entries.values()) if (e.failing) unreachable++;
    return { link: this.linkStatus, devices: this.entries.size, unreachable, denied: [...this.denied] };
  }

  private emitStatus(): void {
    if (!this.closed) this.emit('status', this.status);
  }

  /** Devices by topic segment. */
  deviceSlugs(): string[] {
    return [...this.entries.keys()];
  }

  stateOf(slug: string): DeviceStateDoc | undefined {
    return this.entries.get(slug)?.doc;
  }

  // --- devices -------------------------------------------------------------------------------

  /**
   * Make the published set exactly these devices: new ones are announced, gone ones removed
   * (their configs and retained states emptied), changed ones replaced. Devices that cannot be
   * published (no name or host usable as a topic, a duplicate name) are reported, not fatal.
   */
  setDevices(devices: ManagedDevice[]): void {
    const wanted = new Map<string, { desc: DiscoveredDevice; device: ManagedDevice; signature: string }>();
    const keys = new Map<string, string>();
    for (const device of devices) {
      let desc: DiscoveredDevice;
      try {
        desc = this.describe(device);
      } catch (e) {
        this.emit('problem', e);
        continue;
      }
      const sameKey = keys.get(desc.key);
      if (sameKey !== undefined) {
        // Two config nodes for one PC (same MAC): published once, under the first name.
        if (sameKey !== desc.slug) this.emit('problem', new InputError(`"${desc.name}" has the MAC of "${wanted.get(sameKey)!.desc.name}": published once, as "${wanted.get(sameKey)!.desc.name}"`));
        continue;
      }
      if (wanted.has(desc.slug)) {
        this.emit('problem', new InputError(`two devices are called "${desc.slug}" on site ${this.topics.site}; "${desc.name}" is not published — give them distinct names`));
        continue;
      }
      keys.set(desc.key, desc.slug);
      wanted.set(desc.slug, { desc, device, signature: signatureOf(device) });
    }
    for (const [slug, entry] of this.entries) {
      const w = wanted.get(slug);
      if (!w || w.signature !== entry.signature || w.desc.key !== entry.desc.key) this.removeEntry(entry, !w || w.desc.key !== entry.desc.key);
    }
    for (const [slug, w] of wanted) if (!this.entries.has(slug)) this.addEntry(w.desc, w.device, w.signature);
    this.emitStatus();
  }

  /** Add or replace one device (from a message). */
  addDevice(device: ManagedDevice): string {
    const desc = this.describe(device);
    const existing = this.entries.get(desc.slug);
    const other = this.byKey.get(desc.key);
    if (other && other.desc.slug !== desc.slug) throw new InputError(`"${desc.name}" has the MAC of "${other.desc.name}", which is already published`);
    if (existing) this.removeEntry(existing, existing.desc.key !== desc.key);
    this.addEntry(desc, device, signatureOf(device));
    this.emitStatus();
    return desc.slug;
  }

  /** Remove a device by name, host or slug; its HA entities disappear. */
  removeDevice(ref: string): boolean {
    const entry = this.find({ name: ref, host: ref }) ?? this.entries.get(ref);
    if (!entry) return false;
    this.removeEntry(entry, true);
    this.emitStatus();
    return true;
  }

  private describe(device: ManagedDevice): DiscoveredDevice {
    const name = device.name || device.host;
    const slug = requireSlug(name, 'device name');
    const mac = device.mac ? normalizeMac(device.mac) : undefined;
    const hex = mac?.replace(/:/g, '');
    const legacyKey = hex ?? `${this.topics.site}_${slug}`.replace(/-/g, '_');
    const area = typeof device.area === 'string' && device.area.trim() ? device.area.trim().slice(0, 64) : undefined;
    return { key: deviceKeyOf(slug, hex), legacyKey, slug, name, mac, area };
  }

  private addEntry(desc: DiscoveredDevice, device: ManagedDevice, signature: string): void {
    const control = (this.o.makeControl ?? ((d) => controlFor(d, this.o.control)))(device);
    const entry: Entry = {
      desc,
      device,
      signature,
      control,
      entities: entitiesFor(control),
      announced: new Set(),
      identityRead: false,
      firstPollDone: !control.poll,
      legacyTopics: [],
      doc: { power: null, connected: !control.poll, amtVersion: null, isolated: null, problem: false, openAlerts: 0, changed: new Date().toISOString() },
      // A device that cannot be polled is "available" as long as the gateway is.
      available: !control.poll,
      alerts: new DeviceAlerts(),
      failing: false,
      queue: Promise.resolve(),
      queued: 0,
      followUps: [],
      removed: false,
    };
    this.entries.set(desc.slug, entry);
    this.byKey.set(desc.key, entry);
    void this.publishDevice(entry);
    if (control.poll && this.polls) this.polls.add(entry);
    else if (control.poll) entry.pollTimer = setTimeout(() => void this.poll(entry), 0);
  }

  private removeEntry(entry: Entry, clearTopics: boolean): void {
    entry.removed = true;
    this.polls?.remove(entry);
    clearTimeout(entry.pollTimer);
    for (const t of entry.followUps) clearTimeout(t);
    entry.control.close();
    this.entries.delete(entry.desc.slug);
    if (this.byKey.get(entry.desc.key) === entry) this.byKey.delete(entry.desc.key);
    if (!clearTopics || !this.link.connected) return;
    const topics = deviceConfigTopics(this.ctx, entry.desc, entry.entities);
    for (const leaf of ['state', 'alert', 'availability'] as const) topics.push(deviceTopic(this.topics, entry.desc.slug, leaf));
    for (const t of topics) void this.send(t, '', true);
  }

  // --- connection ----------------------------------------------------------------------------

  private async onConnect(): Promise<void> {
    if (this.scan) clearTimeout(this.scan.timer);
    clearTimeout(this.echoTimer);
    this.ready = false;
    this.echoes.clear();
    // Checked again on every connect: an ACL fixed meanwhile clears the red status.
    this.denied.clear();
    const seen = new Map<string, string[]>();
    this.scan = { seen, timer: setTimeout(() => void this.finishScan(seen), this.scanMs) };
    // Each on its own: a refused one (HA's birth topic, say) must not cost the others.
    const subscriptions = [
      this.link.subscribe([ownConfigSubscription(this.ctx), this.deviceLeaves]),
      // Retain As Published (MQTT 5): a retained command keeps its flag, so it is never run.
      this.link.subscribe([commandSubscription(this.topics)], { rap: true }),
      this.link.subscribe([birthTopic(this.ctx)]),
    ];
    for (const r of await Promise.allSettled(subscriptions)) if (r.status === 'rejected') this.emit('problem', r.reason);
    this.expectEcho(gatewayAvailabilityTopic(this.topics), ONLINE);
    await this.send(gatewayAvailabilityTopic(this.topics), ONLINE, true);
  }

  /**
   * After the scan: migrate what moved, publish discovery, empty the old topics of what moved and
   * what no current entity owns; then watch for our own configs to come back.
   */
  private async finishScan(seen: Map<string, string[]>): Promise<void> {
    if (this.scan?.seen !== seen) return;
    this.scan = undefined;
    if (this.closed || !this.link.connected) return;
    const gateway = gatewayDiscovery(this.ctx, this.gatewayName);
    const currentTopics = new Set<string>([gateway.topic]);
    const currentIds = new Set<string>(uniqueIdsIn(gateway.payload));
    const legacy = new Map<string, Entry>();
    for (const e of this.entries.values()) {
      for (const t of deviceConfigTopics(this.ctx, e.desc, e.entities)) currentTopics.add(t);
      for (const spec of e.entities) {
        currentIds.add(uniqueIdOf(this.ctx, e.desc, spec));
        const old = legacyUniqueIdOf(e.desc, spec);
        if (old) legacy.set(old, e);
      }
    }
    const moved: string[] = [];
    const stale: string[] = [];
    for (const [topic, ids] of seen) {
      if (!topic.endsWith('/config') || currentTopics.has(topic)) continue;
      const owner = ids.map((id) => legacy.get(id)).find((e) => e !== undefined);
      if (ids.some((id) => currentIds.has(id))) moved.push(topic);
      else if (owner) {
        // Published by a gateway before site-scoped ids: HA's device stays the same device.
        if (!owner.desc.keepLegacyIdentifier) owner.desc = { ...owner.desc, keepLegacyIdentifier: true };
        owner.legacyTopics.push(topic);
      } else stale.push(topic);
    }
    // Moved entities are unloaded with their registry entries kept, then announced where they are now.
    for (const t of moved) void this.send(t, MIGRATE_PAYLOAD, false);
    this.ready = true;
    this.expectEcho(gateway.topic, gateway.payload);
    await this.publishAll();
    for (const t of [...moved, ...stale]) await this.send(t, '', true);
    await this.clearStaleLeaves(seen);
    this.watchEchoes();
  }

  /**
   * Set apart from finishScan: a closure made there would keep all of that scan's sets alive (every
   * config topic and id) for as long as the timer object is referenced.
   */
  private watchEchoes(): void {
    this.echoTimer = setTimeout(() => {
      this.echoTimer = undefined;
      this.checkEchoes();
    }, this.echoMs);
  }

  private get gatewayName(): string {
    return this.o.gatewayName ?? `OOBKit gateway ${this.topics.site}`;
  }

  private expectEcho(topic: string, payload: string): void {
    this.echoes.set(topic, payload);
  }

  /** What did not come back was dropped by the broker (MQTT 3.1.1 acknowledges denied publishes). */
  private checkEchoes(): void {
    for (const topic of this.echoes.keys()) this.deny(`publish to ${topic}`);
    this.echoes.clear();
    void this.link.unsubscribe([ownConfigSubscription(this.ctx), this.deviceLeaves]).catch(() => undefined);
  }

  /** Everything again: gateway availability, discovery, availability and states of every device. */
  async publishAll(): Promise<void> {
    if (!this.link.connected || !this.ready) return;
    const sends: Array<Promise<boolean>> = [this.send(gatewayAvailabilityTopic(this.topics), ONLINE, true)];
    const gw = gatewayDiscovery(this.ctx, this.gatewayName);
    sends.push(this.send(gw.topic, gw.payload, true));
    for (const entry of this.entries.values()) {
      entry.publishedState = undefined;
      entry.publishedAvailability = undefined;
      sends.push(this.publishDevice(entry));
    }
    await Promise.all(sends);
  }

  /**
   * Announces a device, a few devices at a time: a gateway that starts with hundreds of PCs would
   * otherwise have every config of every PC in flight at once (36 retained messages a PC, each
   * held until the broker acknowledges it), several MB that outlive the start only as garbage.
   */
  private publishDevice(entry: Entry): Promise<boolean> {
    return this.announcing.run(() => this.announceDevice(entry));
  }

  /** Discovery, availability, state and last alert of one device, once it has something true to say. */
  private async announceDevice(entry: Entry): Promise<boolean> {
    if (!this.link.connected || !this.ready || !entry.firstPollDone || entry.removed) return false;
    const removed = [...entry.announced].filter((id) => !entry.entities.some((e) => e.id === id)).map((id) => entityById(id)!);
    const messages: RetainedMessage[] = deviceDiscovery(this.ctx, entry.desc, entry.entities, removed);
    entry.announced = new Set(entry.entities.map((e) => e.id));
    const sends = messages.map((m) => this.send(m.topic, m.payload, true));
    sends.push(this.publishAvailability(entry), this.publishState(entry));
    if (entry.alerts.last) sends.push(this.send(deviceTopic(this.topics, entry.desc.slug, 'alert'), JSON.stringify(publishableAlert(entry.alerts.last)), true));
    const results = await Promise.all(sends);
    // Only now: the HA device must never be left without entities (HA would remove it, area and all).
    for (const t of entry.legacyTopics.splice(0)) await this.send(t, '', true);
    return results.every(Boolean);
  }

  private publishAvailability(entry: Entry): Promise<boolean> {
    const payload = entry.available ? ONLINE : OFFLINE;
    if (entry.publishedAvailability === payload) return NOTHING_TO_SEND;
    if (this.link.connected) entry.publishedAvailability = payload;
    return this.send(deviceTopic(this.topics, entry.desc.slug, 'availability'), payload, true);
  }

  private publishState(entry: Entry): Promise<boolean> {
    // Before the first poll the retained state of the last run is the best there is.
    if (!entry.firstPollDone) return NOTHING_TO_SEND;
    // Compared field by field: most polls change nothing, and then nothing is built.
    if (entry.publishedState && sameState(entry.publishedState, entry.doc)) return NOTHING_TO_SEND;
    if (entry.publishedState !== undefined) entry.doc.changed = new Date().toISOString();
    if (this.link.connected) entry.publishedState = { ...entry.doc, ...(entry.doc.sensors ? { sensors: { ...entry.doc.sensors } } : {}) };
    return this.send(deviceTopic(this.topics, entry.desc.slug, 'state'), JSON.stringify(entry.doc), true);
  }

  private send(topic: string, payload: string, retain: boolean): Promise<boolean> {
    if (!this.link.connected) return Promise.resolve(false);
    this.published++;
    return this.link.publish(topic, payload, { retain, qos: 1 });
  }

  /** Empty the state, availability and alert topics of devices no longer in the flows. */
  private async clearStaleLeaves(seen: Map<string, string[]>): Promise<void> {
    if (this.closed || !this.link.connected) return;
    const current = new Set<string>([gatewayAvailabilityTopic(this.topics)]);
    for (const e of this.entries.values()) for (const leaf of ['state', 'alert', 'availability'] as const) current.add(deviceTopic(this.topics, e.desc.slug, leaf));
    for (const topic of seen.keys()) if (isDeviceLeaf(this.topics, topic) && !current.has(topic)) await this.send(topic, '', true);
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const echo = this.echoes.get(topic);
    if (echo !== undefined && !packet.retain && payload.toString('utf8') === echo) this.echoes.delete(topic);
    if (this.scan && ((topic.endsWith('/config') && topic.startsWith(`${this.ctx.prefix}/`)) || isDeviceLeaf(this.topics, topic))) {
      // Only what was retained before we came (our own echoes are not earlier runs), and bounded: a
      // broker holding a flood of retained topics under ours costs at most this many.
      // Only the unique_ids of a config are kept, never its text.
      if (payload.length && packet.retain && this.scan.seen.size < MAX_SCANNED_TOPICS) this.scan.seen.set(topic, topic.endsWith('/config') ? uniqueIdsIn(payload.toString('utf8')) : []);
      return;
    }
    if (topic === birthTopic(this.ctx)) {
      // A retained "online" is HA's past, not a restart; we have just published everything anyway.
      if (!packet.retain && payload.toString('utf8').trim() === ONLINE) this.scheduleBirthRepublish();
      return;
    }
    const cmd = parseCommandTopic(this.topics, topic);
    if (cmd) this.onCommand(topic, cmd.device, cmd.entity, payload, packet.retain === true);
  }

  private scheduleBirthRepublish(): void {
    if (this.birthTimer) return;
    const [min, max] = this.birthDelay;
    this.birthTimer = setTimeout(() => {
      this.birthTimer = undefined;
      void this.publishAll();
    }, min + Math.random() * Math.max(0, max - min));
  }

  // --- polling -------------------------------------------------------------------------------

  /** Poll one device (by topic segment) or every device now, and publish what changed. */
  async refresh(slug?: string): Promise<void> {
    const targets = slug === undefined ? [...this.entries.values()] : [this.entries.get(slug)].filter((e): e is Entry => e !== undefined);
    await Promise.all(targets.map((e) => this.poll(e)));
  }

  /** Read the device now and publish what changed. */
  private async poll(entry: Entry): Promise<void> {
    if (!entry.control.poll || entry.removed) return;
    try {
      const r = await entry.control.poll();
      if (entry.removed) return;
      entry.doc.power = r.power;
      if (r.isolated !== undefined) entry.doc.isolated = r.isolated;
      entry.doc.connected = true;
      entry.available = true;
      if (entry.failing) {
        entry.failing = false;
        this.emitStatus();
      }
      if (!entry.identityRead && entry.control.identity) await this.readIdentity(entry);
      if (entry.control.sensors) await this.readSensors(entry);
    } catch (e) {
      if (entry.removed) return;
      entry.doc.connected = false;
      entry.available = false;
      if (!entry.failing) {
        entry.failing = true;
        this.emit('problem', withContext(e, `${entry.desc.name} does not answer`));
        this.emitStatus();
      }
    }
    if (entry.removed) return;
    if (!entry.firstPollDone) {
      entry.firstPollDone = true;
      await this.publishDevice(entry);
      return;
    }
    const availability = this.publishAvailability(entry);
    const state = this.publishState(entry);
    // Most polls change nothing: then there is nothing to wait for.
    if (availability !== NOTHING_TO_SEND || state !== NOTHING_TO_SEND) await Promise.all([availability, state]);
  }

  /** A server's sensor values into the state; new or vanished sensors re-announce the device. */
  private async readSensors(entry: Entry): Promise<void> {
    let readings: Awaited<ReturnType<NonNullable<DeviceControl['sensors']>>>;
    try {
      readings = await entry.control.sensors!();
    } catch (e) {
      this.emit('problem', withContext(e, `cannot read the sensors of ${entry.desc.name}`));
      return;
    }
    if (entry.removed) return;
    const specs = sensorEntities(readings);
    entry.doc.sensors = Object.fromEntries(readings.filter((r) => r.states === undefined).map((r) => [String(r.number), r.value]));
    const known = entry.entities.filter((e) => e.id.startsWith('sensor_')).map((e) => e.id);
    if (known.join() !== specs.map((s) => s.id).join()) {
      entry.entities = [...entitiesFor(entry.control), ...specs];
      await this.publishDevice(entry);
    }
  }

  private async readIdentity(entry: Entry): Promise<void> {
    let identity: DeviceIdentity;
    try {
      identity = await entry.control.identity!();
    } catch {
      return; // tried again on the next poll
    }
    if (entry.removed) return;
    entry.identityRead = true;
    entry.desc = { ...entry.desc, identity };
    entry.doc.amtVersion = identity.amtVersion ?? null;
    // Learnt after the first poll (which published without it): announce the device again.
    if (entry.firstPollDone) await this.publishDevice(entry);
  }

  // --- commands ------------------------------------------------------------------------------

  private onCommand(topic: string, slug: string, entityId: string, payload: Buffer, retained: boolean): void {
    // An empty payload is someone clearing a retained command: nothing to do, nothing to report.
    if (!payload.length) return;
    if (retained) {
      // A retained command would run again at every connect: never act on one, and remove it.
      if (payload.length) void this.send(topic, '', true);
      if (payload.length) this.emit('problem', new InputError(`ignored a retained command on ${topic} and removed it; commands must not be retained`));
      return;
    }
    const entry = this.entries.get(slug);
    const started = Date.now();
    const fail = (e: OobError, device: DeviceInfo | { slug: string }) => {
      const result: CommandResult = { id: randomUUID(), site: this.topics.site, device, entity: entityId, payload: printable(payload), ok: false, error: e.message, code: e.code, durationMs: Date.now() - started };
      this.emit('problem', e);
      this.emit('result', result);
      void this.send(commandResultTopic(this.topics, slug, entityId), JSON.stringify(result), false);
    };
    if (!entry) {
      // Reported once a minute per topic, so a misconfigured sender cannot flood the log.
      const last = this.reportedUnknown.get(topic) ?? 0;
      if (Date.now() - last < 60_000) return;
      if (this.reportedUnknown.size > 1000) this.reportedUnknown.clear();
      this.reportedUnknown.set(topic, Date.now());
      return fail(new InputError(`no device "${slug}" on site ${this.topics.site} (command on ${topic})`), { slug });
    }
    const info = deviceInfo(entry.device);
    const entity = entry.entities.find((e) => e.id === entityId);
    if (!entity?.command) {
      return fail(new InputError(`${entry.desc.name} has no command "${entityId}"; it takes: ${entry.entities.filter((e) => e.command).map((e) => e.id).join(', ')}`), info);
    }
    if (payload.length > MAX_COMMAND_BYTES) return fail(new InputError(`command on ${topic} is ${payload.length} bytes; at most ${MAX_COMMAND_BYTES}`), info);
    const text = payload.toString('utf8').trim();
    const expected = entity.component === 'switch' ? ['ON', 'OFF'] : ['PRESS'];
    const word = text.toUpperCase();
    if (!expected.includes(word)) return fail(new InputError(`"${entityId}" of ${entry.desc.name} takes ${expected.join(' or ')}, got ${JSON.stringify(printable(payload))}`), info);
    if (entry.queued >= this.maxQueued) return fail(new InputError(`${entry.desc.name} is busy: ${entry.queued} commands are waiting`), info);
    const request: CommandRequest = { id: randomUUID(), site: this.topics.site, device: info, entity: entityId, payload: word, topic, at: new Date().toISOString() };
    // MQTT 3.1.1 cannot tell a command retained while we were online from a live one: clear the
    // topic, so that whatever it was cannot run again at the next connect.
    if (!this.link.retainAsPublished) void this.send(topic, '', true);
    entry.queued++;
    entry.queue = entry.queue.then(() => this.runCommand(entry, entity, request, started)).finally(() => entry.queued--);
  }

  private async runCommand(entry: Entry, entity: EntitySpec, request: CommandRequest, started: number): Promise<void> {
    const result: CommandResult = { id: request.id, site: request.site, device: request.device, entity: request.entity, payload: request.payload, ok: false, durationMs: 0 };
    this.emit('command', request);
    try {
      if (this.o.approve) {
        const verdict = await this.o.approve(request);
        if (verdict !== true) {
          result.vetoed = true;
          throw new InputError(`vetoed${typeof verdict === 'string' && verdict ? `: ${verdict}` : ' by the flow'}`);
        }
      }
      if (entry.removed) throw new InputError(`${entry.desc.name} was removed`);
      const outcome = await entity.command!(entry.control, request.payload);
      result.ok = true;
      result.action = outcome.action;
      if (outcome.note) result.note = outcome.note;
      await this.poll(entry);
      result.state = { ...entry.doc };
      this.followUp(entry);
    } catch (e) {
      result.error = (e as Error).message;
      result.code = e instanceof OobError ? e.code : undefined;
      if (!result.vetoed) this.emit('problem', withContext(e, `${request.entity} ${request.payload} on ${entry.desc.name}`));
    }
    result.durationMs = Date.now() - started;
    this.emit('result', result);
    await this.send(commandResultTopic(this.topics, entry.desc.slug, request.entity), JSON.stringify(result), false);
  }

  /**
   * Actions take time on a real PC (a graceful shutdown, a reset's boot): read the state again a
   * few times after a command so HA sees it settle without waiting for the next regular poll.
   */
  private followUp(entry: Entry): void {
    for (const t of entry.followUps) clearTimeout(t);
    entry.followUps = FOLLOW_UP_MS.map((ms) => setTimeout(() => void this.poll(entry), ms));
  }

  // --- alerts --------------------------------------------------------------------------------

  /** Take an alert (the Alert of oob-alert-in) for one of our devices. */
  applyAlert(value: unknown): string {
    const alert = checkAlert(value);
    const entry = this.find(alert.device);
    if (!entry) throw new InputError(`no published device matches the alert's device ${JSON.stringify(alert.device)}`);
    entry.alerts.apply(alert);
    entry.doc.openAlerts = entry.alerts.count;
    entry.doc.problem = entry.alerts.count > 0;
    const heartbeat = heartbeatVerdict(alert);
    if (heartbeat !== undefined && !entry.control.poll) {
      entry.doc.connected = heartbeat;
    }
    void this.send(deviceTopic(this.topics, entry.desc.slug, 'alert'), JSON.stringify(publishableAlert(alert)), true);
    void this.publishState(entry);
    return entry.desc.slug;
  }

  private find(d: AlertLike['device']): Entry | undefined {
    if (d.mac) {
      let mac: string | undefined;
      try {
        mac = normalizeMac(d.mac);
      } catch {
        mac = undefined;
      }
      const byMac = mac ? this.byKey.get(mac.replace(/:/g, '')) : undefined;
      if (byMac) return byMac;
    }
    const all = [...this.entries.values()];
    if (d.name) {
      const byName = all.find((e) => e.desc.name === d.name || e.device.name === d.name);
      if (byName) return byName;
    }
    if (d.host) {
      const byHost = all.filter((e) => e.device.host === d.host);
      if (byHost.length === 1) return byHost[0];
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.birthTimer);
    clearTimeout(this.echoTimer);
    if (this.scan) clearTimeout(this.scan.timer);
    this.polls?.close();
    for (const e of this.entries.values()) {
      e.removed = true;
      clearTimeout(e.pollTimer);
      for (const t of e.followUps) clearTimeout(t);
      e.control.close();
    }
    await this.link.close({ topic: gatewayAvailabilityTopic(this.topics), payload: OFFLINE });
  }
}

function isDeviceLeaf(t: SiteTopics, topic: string): boolean {
  const prefix = `${t.base}/${t.site}/`;
  if (!topic.startsWith(prefix)) return false;
  const rest = topic.slice(prefix.length).split('/');
  return rest.length === 2 && ['state', 'alert', 'availability'].includes(rest[1]);
}

function normalizeMac(mac: string): string {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  if (hex.length !== 12) throw new InputError(`MAC address "${mac}" is not 6 bytes`);
  return hex.match(/../g)!.join(':');
}

/** What makes two configurations of a device the same (the password only as a hash). */
function signatureOf(d: ManagedDevice): string {
  const amt = d.amt ? { ...d.amt, password: undefined, onFingerprintTrusted: undefined } : undefined;
  // A digest: kept per device for the life of the gateway, where the text would be half a KB.
  return createHash('sha256')
    .update(JSON.stringify({ ...deviceInfo(d), area: d.area, amt }))
    .update('\0')
    .update(d.amt?.password ?? '')
    .digest('base64');
}

function printable(b: Buffer): string {
  const s = b.toString('utf8', 0, Math.min(b.length, 64));
  return s.replace(/[^\x20-\x7e]/g, '?') + (b.length > 64 ? '…' : '');
}

function withContext(e: unknown, what: string): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const wrapped = new Error(`${what}: ${err.message}`) as Error & { code?: string; short?: string };
  if (e instanceof OobError) wrapped.code = e.code;
  wrapped.short = shortReason(e);
  return wrapped;
}

/** Two states alike in everything but their time. */
function sameState(a: DeviceStateDoc, b: DeviceStateDoc): boolean {
  if (a.power !== b.power || a.connected !== b.connected || a.amtVersion !== b.amtVersion || a.isolated !== b.isolated || a.problem !== b.problem || a.openAlerts !== b.openAlerts) return false;
  if (!a.sensors || !b.sensors) return a.sensors === b.sensors;
  const keys = Object.keys(b.sensors);
  if (keys.length !== Object.keys(a.sensors).length) return false;
  for (const k of keys) if (a.sensors[k] !== b.sensors[k]) return false;
  return true;
}
