/**
 * One simulated PC with Intel AMT: identity (name, UUID, MAC, firmware version), credentials and
 * Digest realm, optional TLS certificate, the power state machine with its OS, per-class state,
 * open enumerations, WS-Eventing subscriptions and the fault-injection queue. The HTTP side lives
 * in wsman-server.ts; `listen()` starts it.
 *
 * Events (a SimDevice is an EventEmitter):
 *   'power'   { from, to, cause }            every PowerState change (reset emits 2->8 then 8->2)
 *   'boot'    { cause, preventOsStart() }    the firmware starts booting; a boot-from-media
 *                                            feature calls preventOsStart() and later setOsRunning(true)
 *   'os'      { from, to, cause }            host OS state: off, booting, running, stopping, sleeping, hibernated
 *   'nmi'     { cause }
 *   'request' { action, resourceUri, status } every answered WS-Man request (after auth)
 *   'packet'  { ...PacketSpec, verdict, policy?, filter?, reason }   every sendPacket() (defense.ts)
 *   'defense' { kind, port, policy, filter?, cause? }  System Defense: policy-activated/-deactivated,
 *                                            filter-match and default-match events (defense.ts)
 *   'watchdog' { agentId, from, to, cause }  every agent-presence watchdog transition
 *   'agent-presence' { agentId, from, to, policy?, ... }  a transition whose action raises an
 *                                            event: the alert AMT would send (agent-presence.ts)
 *   'firmware' BootRecord                    what the simulated BIOS did at a boot (firmware.ts), once final
 *   'boot-progress' BootRecord               a boot from media read more of the medium (the screen shows it)
 *   'consent' ConsentEvent                   the user consent code shown on the PC's screen, or cleared (consent.ts)
 *   'alarm'   AlarmEvent                     an alarm-clock wake-up came due (alarm-clock.ts)
 *
 * The redirection port (IDE-R, redirection.ts) starts with `listenRedirection()`.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { DigestAuthenticator } from './digest-server';
import { FirmwareProfile, firmwareProfile, profileOfVersion } from './firmware-profile';
import { BootDetails, PowerMachine, PowerTimings } from './power';
import { takeBootRequest } from './classes/boot';
import type { ClassHandler } from './classes/types';
import { defaultClasses } from './classes';
import { startWsmanServer } from './wsman-server';
import type { SimProps } from './values';
import { PacketResult, PacketSpec, sendPacket, SimDefenseOptions } from './defense';
import { SimAgent, simAgent } from './agent-presence';
import { hardwareFor, HardwareProfile } from './hardware';
// boot from media: redirection port and simulated BIOS
import { onFirmwareBoot } from './firmware';
import { RedirectionListener, SimIderSession, SimRedirectionOptions, startRedirectionServer } from './redirection';
import { secureOnBytes } from './wol-codec';
import type { SimConsentOptions } from './consent';

export interface FirmwareInfo {
  /** e.g. "15.0.23" */
  version: string;
  /** e.g. "1706" */
  build: string;
  /** CIM_SoftwareIdentity "Sku" */
  sku?: string;
}

export interface TlsMaterial {
  key: string;
  cert: string;
  /** SHA-256 of the DER certificate, uppercase hex pairs joined by ':' (Node's fingerprint256). */
  fingerprint256: string;
}

export type FaultKind = 'drop' | 'hang' | 'http500' | 'garble';

export interface InjectedFault {
  kind: FaultKind;
  /** How many of the next authenticated requests it applies to (default 1). */
  count?: number;
}

export interface SimDeviceOptions {
  name: string;
  uuid: string;
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  user: string;
  password: string;
  /** `Digest:<32 uppercase hex>`; derived from the UUID when omitted. */
  realm?: string;
  firmware?: Partial<FirmwareInfo>;
  /** Firmware generation to play ("11", "12", "15", "16", "18"; see firmware-profile.ts); sets version and build unless `firmware` does. */
  amtVersion?: string;
  /** Offer qop="auth-int, auth" like newer firmware. */
  authInt?: boolean;
  nonceTtlMs?: number;
  /** Delay before each answer is written. */
  latencyMs?: number;
  tls?: TlsMaterial;
  /** Initial power: on with the OS running (default) or off. */
  power?: 'on' | 'off';
  /** False: the PC boots into nothing (no OS starts). */
  osInstalled?: boolean;
  timings?: Partial<PowerTimings>;
  /** Largest request body accepted (default 1 MiB); bigger ones get 413. */
  maxBodyBytes?: number;
  /** Class handlers (default: every class in packages/sim/src/classes). */
  classes?: ClassHandler[];
  /** What the PC is made of (inventory classes); default: the first model, serials from the UUID. */
  hardware?: HardwareProfile;
  /** AMT control mode the PC was provisioned in (default admin). */
  controlMode?: 'admin' | 'client';
  /** Redirection port behaviour (IDE-R read buffer, a drop after N bytes). */
  redirection?: Partial<SimRedirectionOptions>;
  /** System Defense and Agent Presence limits and timing. */
  defense?: SimDefenseOptions;
  /** SecureOn password the NIC wants with a magic packet (4 or 6 bytes; see wol-listener.ts). */
  wolPassword?: string;
  /** User consent: admin-mode policy, code lifetime, the boot-without-consent quirk (consent.ts). */
  consent?: SimConsentOptions;
}

export interface Enumeration {
  className: string;
  items: SimProps[];
  /** EnumerationMode EnumerateEPR: the items are written as references. */
  eprs: boolean;
  position: number;
  created: number;
}

export interface Subscription {
  id: string;
  resourceUri: string;
  notifyTo: string;
  deliveryMode: string;
  /** ReferenceParameters of NotifyTo, as written by the subscriber (copied into each push). */
  referenceParametersXml: string;
  expires?: string;
  /** When the subscription ends (ms since 1970); undefined = never. */
  expiresAt?: number;
  /** Push credentials from the IssuedTokens header, when given. */
  pushAuth?: { username: string; password: string };
  created: number;
}

const MAX_ENUMERATIONS = 16;

export class SimDevice extends EventEmitter {
  readonly name: string;
  readonly uuid: string;
  readonly mac: string;
  readonly realm: string;
  /** The Digest user the device was provisioned with (AMT's admin account). */
  readonly adminUser: string;
  readonly firmware: FirmwareInfo;
  /** What this generation of firmware does differently (TLS versions, port 16992, properties). */
  readonly profile: FirmwareProfile;
  readonly hardware: HardwareProfile;
  readonly digest: DigestAuthenticator;
  readonly tls?: TlsMaterial;
  readonly power: PowerMachine;
  readonly maxBodyBytes: number;
  latencyMs: number;
  readonly classes: Map<string, ClassHandler>;
  /** SecureOn password, when the NIC wants one with a magic packet. */
  secureOn?: Buffer;
  readonly enumerations = new Map<string, Enumeration>();
  readonly subscriptions = new Map<string, Subscription>();
  private readonly state = new Map<string, unknown>();
  private readonly faultQueue: FaultKind[] = [];
  private messageCounter = 0;
  private enumCounter = 0;
  /** Control mode reported by IPS_HostBasedSetupService; tests may change it at any time. */
  controlMode: 'admin' | 'client';
  readonly defenseOptions: SimDefenseOptions;
  readonly consentOptions: SimConsentOptions;
  private readonly closers: Array<() => void> = [];
  server?: Server | HttpsServer;
  port = 0;
  host = '127.0.0.1';
  /** Redirection port, once listenRedirection() ran. */
  redirectionPort = 0;
  readonly redirection: SimRedirectionOptions;
  /** The IDE-R session of the console that is connected, if any. */
  iderSession?: SimIderSession;
  private redirectionListener?: RedirectionListener;

  constructor(o: SimDeviceOptions) {
    super();
    this.name = o.name;
    this.uuid = o.uuid.toLowerCase();
    this.mac = o.mac.toLowerCase();
    this.realm = o.realm ?? realmFor(this.uuid);
    this.adminUser = o.user;
    const generation = o.amtVersion !== undefined ? firmwareProfile(o.amtVersion) : undefined;
    this.firmware = { version: generation?.version ?? '15.0.23', build: generation?.build ?? '1706', sku: '16392', ...o.firmware };
    // A version given alone changes what the device reports, not which ports and TLS it serves.
    this.profile = generation ?? { ...profileOfVersion(this.firmware.version), plainHttp: true, tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } };
    this.hardware = o.hardware ?? hardwareFor(0, this.uuid);
    this.controlMode = o.controlMode ?? 'admin';
    this.digest = new DigestAuthenticator({ realm: this.realm, user: o.user, password: o.password, authInt: o.authInt, nonceTtlMs: o.nonceTtlMs });
    this.tls = o.tls;
    this.latencyMs = o.latencyMs ?? 0;
    this.maxBodyBytes = o.maxBodyBytes ?? 1024 * 1024;
    this.power = new PowerMachine(this, o.power ?? 'on', o.timings);
    if (o.osInstalled === false) this.power.osInstalled = false;
    this.classes = new Map((o.classes ?? defaultClasses).map((h) => [h.className, h]));
    this.defenseOptions = { ...o.defense };
    this.consentOptions = { ...o.consent };
    this.redirection = { readBufferSize: 8192, ...o.redirection };
    this.on('boot', (e) => onFirmwareBoot(this, e));
    if (o.wolPassword) this.secureOn = secureOnBytes(o.wolPassword);
  }

  /** `Intel(R) Active Management Technology 15.0.23.1706` */
  get serverHeader(): string {
    return `Intel(R) Active Management Technology ${this.firmware.version}.${this.firmware.build}`;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}/wsman`;
  }

  // --- power, for tests and later features (WOL, IDE-R, alerts) -------------------------------

  get powerState(): number {
    return this.power.state;
  }

  get osState(): string {
    return this.power.os;
  }

  /** Turn on (WOL, power button...). False when already on. */
  powerOn(cause = 'api'): boolean {
    return this.power.powerOn(cause);
  }

  powerOff(cause = 'api'): boolean {
    return this.power.powerOff(cause);
  }

  reset(cause = 'api'): void {
    this.power.reset(cause);
  }

  setOsRunning(running: boolean, cause = 'api'): void {
    this.power.setOsRunning(running, cause);
  }

  setOsPowerSaving(saving: boolean): void {
    this.power.osPowerSaving = saving;
  }

  /** CIM_PowerManagementService.RequestPowerStateChange; throws a SimFault when not available now. */
  requestPowerStateChange(value: number, cause?: string): void {
    this.power.request(value, cause);
  }

  /** PowerHost hook: the one-time boot settings, consumed by this boot. */
  bootDetails(): BootDetails {
    return takeBootRequest(this);
  }

  // --- network traffic and agents, for System Defense and Agent Presence ----------------------

  /** A packet from ('out') or to ('in') the PC through the System Defense policy in force. */
  sendPacket(p: PacketSpec): PacketResult {
    return sendPacket(this, p);
  }

  /** The agent software (antivirus, firewall...) with this GUID, as it runs in the simulated OS. */
  agent(agentId: string): SimAgent {
    return simAgent(this, agentId);
  }

  /** Run `fn` when the device stops (handlers with timers clean up here). */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  // --- per-class state --------------------------------------------------------------------------

  /** Mutable state of one class handler, created on first use. */
  classState<T>(className: string, init: () => T): T;
  classState<T>(className: string): T | undefined;
  classState<T>(className: string, init?: () => T): T | undefined {
    let s = this.state.get(className) as T | undefined;
    if (s === undefined && init) {
      s = init();
      this.state.set(className, s);
    }
    return s;
  }

  // --- WS-Man bookkeeping -----------------------------------------------------------------------

  /** `uuid:00000000-8086-8086-8086-<12 uppercase hex>` from the device's counter. */
  nextMessageId(): string {
    this.messageCounter = (this.messageCounter + 1) % 0x1000000000000;
    return `uuid:00000000-8086-8086-8086-${this.messageCounter.toString(16).toUpperCase().padStart(12, '0')}`;
  }

  /** Opens an enumeration; the context looks like AMT's (`17000000-0000-0000-0000-000000000000`). */
  openEnumeration(e: Omit<Enumeration, 'position' | 'created'>): string {
    this.enumCounter = (this.enumCounter + 1) >>> 0;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(this.enumCounter);
    const id = `${b.toString('hex').toUpperCase()}-0000-0000-0000-000000000000`;
    if (this.enumerations.size >= MAX_ENUMERATIONS) {
      const oldest = this.enumerations.keys().next().value;
      if (oldest !== undefined) this.enumerations.delete(oldest);
    }
    this.enumerations.set(id, { ...e, position: 0, created: Date.now() });
    return id;
  }

  // --- fault injection --------------------------------------------------------------------------

  /**
   * Make the next `count` authenticated requests misbehave: 'drop' closes the connection without
   * an answer, 'hang' never answers (until the device stops), 'http500' answers 500 with an HTML
   * body, 'garble' answers 200 with broken XML.
   */
  injectFault(f: InjectedFault): void {
    for (let i = 0; i < (f.count ?? 1); i++) this.faultQueue.push(f.kind);
  }

  clearFaults(): void {
    this.faultQueue.length = 0;
  }

  /** The fault for this request, if one is queued. */
  takeFault(): FaultKind | undefined {
    return this.faultQueue.shift();
  }

  // --- lifecycle ----------------------------------------------------------------------------------

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (!this.tls && !this.profile.plainHttp) {
      throw new Error(`AMT ${this.firmware.version} serves WS-Management only over TLS (port 16992 is closed from AMT 16.1): give the device a certificate`);
    }
    const { server, port: bound } = await startWsmanServer(this, port, host);
    this.server = server;
    this.port = bound;
    this.host = host;
    return bound;
  }

  /** Start the redirection port (AMT's 16994/16995); TLS when the device has a certificate. */
  async listenRedirection(port = 0, host = this.host): Promise<number> {
    this.redirectionListener = await startRedirectionServer(this, port, host, this.redirection);
    this.redirectionPort = this.redirectionListener.port;
    return this.redirectionPort;
  }

  async close(): Promise<void> {
    await this.redirectionListener?.close();
    this.redirectionListener = undefined;
    this.power.cancelTimers();
    for (const fn of this.closers.splice(0)) fn();
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}

/** Deterministic realm from the UUID: `Digest:` + 32 uppercase hex. */
export function realmFor(uuid: string): string {
  return `Digest:${createHash('md5').update(`realm:${uuid}`).digest('hex').toUpperCase()}`;
}
