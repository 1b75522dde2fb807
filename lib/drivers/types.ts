/**
 * What any managed device can do, whatever protocol reaches it: the DeviceDriver. Nodes, the Home
 * Assistant bridge, wake and the alert hub talk to a driver, never to lib/amt or lib/ipmi
 * directly; `driverFor(device)` (index.ts) is the one place that picks the protocol.
 *
 * Every method is async and takes and returns plain data (JSON: no functions, no class
 * instances, no Buffers), so a driver for a device at another site can carry each call over a
 * broker and back. The only callbacks are progress events, which cross a wire as messages too.
 * A capability a device may lack is an optional member: absent means "this device cannot".
 */
import type { Alert } from '../alerts/alert';
import type { AuditPosition, AuditReadResult } from '../amt/audit-log';
import type { BootTarget } from '../amt/boot';
import type { DefenseChange, DefenseStatus, StatusOptions, WatchdogChange } from '../amt/defense';
import type { Inventory } from '../amt/inventory';
import type { PowerStatus } from '../amt/power';
import type { DeviceInfo } from '../device';
import type { IpmiActionName, IpmiActionParams, IpmiActionResult } from '../ipmi/actions';
import type { SensorReading } from '../ipmi/sensors';

/** The protocol a driver speaks to the device (a remote driver reports the far side's). */
export type DriverProtocol = 'amt' | 'ipmi';
/** How this driver reaches the device: itself, or through another site's gateway. */
export type DriverKind = DriverProtocol | 'remote';

export interface DevicePowerStatus extends PowerStatus {
  protocol: DriverProtocol;
}

export interface PowerChange {
  before: DevicePowerStatus;
  after: DevicePowerStatus;
}

/** The OS confirmation a "wake" waits for: is the device on now? */
export interface PowerProbe {
  on: boolean;
  state: string;
}

/** Who a device is (any field the device does not tell is left out). */
export interface DeviceIdentity {
  manufacturer?: string;
  model?: string;
  amtVersion?: string;
  serial?: string;
  uuid?: string;
  hostname?: string;
}

/** A one-time boot from media, PXE, HTTPS or into BIOS setup. */
export interface BootRequest {
  target: BootTarget | string;
  /** IDE-R: the folder images must be in, and the image's name (or path) inside it. */
  imageDirectory?: string;
  image?: string;
  /** UEFI HTTPS boot. */
  https?: { url: string; serverCertSha256?: string };
  /** 'auto' (default): power on when off, reset when on. 'none': arm the next boot only. */
  power?: 'auto' | 'none';
  /** IDE-R: limit from the request to the device loading its boot image. */
  timeoutMs?: number;
  /** IDE-R: close the session once the device has loaded its boot image. */
  stopAfterBoot?: boolean;
  /**
   * The caller can get the user consent code from the person at the PC (a 'consent' event asks for
   * it, `BootJob.submitConsentCode` gives it). Without this, a PC that wants consent for the boot is
   * refused before anything changes.
   */
  consent?: { timeoutMs?: number; attempts?: number };
}

export interface BootOutcome {
  target: BootTarget;
  result: 'booted' | 'requested' | 'stopped';
  power: 'on' | 'reset' | 'none';
  bytesServed: number;
  seconds: number;
  image?: string;
  label?: string;
  /** Set when the boot went through a BMC rather than AMT. */
  protocol?: DriverProtocol;
}

/** When everything is closed and restored (an IDE-R session ends long after the boot). */
export interface BootFinal {
  bytesServed: number;
  seconds: number;
  end: 'device-closed' | 'stopped' | 'error' | 'none';
  /** What went wrong after the outcome, as data (it crosses a wire): the error's code and message. */
  error?: { code?: string; message: string };
}

/** Progress of a boot: phases as text, IDE-R transfer figures. */
export type BootEvent =
  | { type: 'phase'; text: string }
  | { type: 'progress'; bytesServed: number; fraction: number; rate: number; commands: number }
  /** The PC shows its user consent code: give it with `BootJob.submitConsentCode`. */
  | { type: 'consent'; codeTimeoutSeconds: number; attempt: number };

/** A boot under way: its outcome, its end, and a way to stop it. */
export interface BootJob {
  readonly outcome: Promise<BootOutcome>;
  readonly final: Promise<BootFinal>;
  stop(): Promise<BootFinal>;
  /** The code the person at the PC read out, after a 'consent' event; an InputError when none is asked for. */
  submitConsentCode(code: string | number): Promise<void>;
}

/** Where an event-log read stopped: opaque, JSON, kept by the caller between reads. */
export type EventCursor = Record<string, unknown>;

export interface EventRead {
  alerts: Alert[];
  cursor: EventCursor;
}

/** User consent (the code shown on the PC's screen before a remote session may start). */
export interface ConsentState {
  /** What the PC wants consent for: none, kvm (remote screen only), all (every redirection and boot into setup), other. */
  required: 'none' | 'kvm' | 'all' | 'other';
  /** not started, requested, displayed (code on the screen), received (granted), in session. */
  state: string;
  /** How long a code stays valid. */
  codeTimeoutSeconds: number;
  controlMode?: 'client' | 'admin';
}

export interface ConsentCapability {
  read(): Promise<ConsentState>;
  /** Show a code on the PC's screen. */
  request(): Promise<ConsentState>;
  /** The code the person at the PC read out (six digits). */
  submit(code: string | number): Promise<ConsentState>;
  /** Ends a request or a consent in place. */
  cancel(): Promise<ConsentState>;
}

/** System Defense: network filter templates and agent-presence watchdogs (AMT). Changes are recorded as our own. */
export interface DefenseCapability {
  status(o?: StatusOptions): Promise<DefenseStatus>;
  apply(template: string, params: Record<string, unknown>, o?: { replace?: boolean }): Promise<DefenseChange>;
  release(): Promise<DefenseChange>;
  addWatchdog(spec: Record<string, unknown>): Promise<WatchdogChange>;
  removeWatchdog(agentId: unknown): Promise<WatchdogChange>;
}

/** A BMC's own actions by name (chassis status, sensors, SEL, identify, boot override). */
export interface BmcCapability {
  run(action: IpmiActionName, params: IpmiActionParams): Promise<IpmiActionResult>;
}

export interface IsolationChange {
  changed: boolean;
  isolated: boolean;
}

export interface DeviceDriver {
  readonly kind: DriverKind;
  readonly protocol: DriverProtocol;
  /** The device as it may be shown (no credentials). */
  readonly device: DeviceInfo;

  // --- power -----------------------------------------------------------------------------------
  /** The power state; `osPowerSaving: false` skips AMT's extra read of the OS power-saving state. */
  readPower(o?: { osPowerSaving?: boolean }): Promise<DevicePowerStatus>;
  /** Runs a power action by name (POWER_ACTION_TABLE) and reads the state after; recorded as our own. */
  changePower(action: string): Promise<PowerChange>;
  /** The same without reading the state after (a caller that polls anyway); returns the state before. */
  requestPower(action: string): Promise<DevicePowerStatus>;
  /** Power on unless on (the "wake" of a device through its management controller); recorded as a wake. */
  powerOn(): Promise<{ wasOn: boolean; method: 'amt-power-on' | 'ipmi-power-on' }>;
  /**
   * How a "wake" button should wake it: 'wol' sends magic packets first (a PC's OS expects them;
   * powerOn is the fallback), 'power-on' asks the controller straight away (a server's BMC).
   */
  readonly wakeBy: 'wol' | 'power-on';
  /** One check for "wake and confirm": is it on? Rejects only for what waiting will not fix. */
  probePower(): Promise<PowerProbe>;

  // --- boot ------------------------------------------------------------------------------------
  /** Boot targets this kind of device can take at all (the device may still refuse one). */
  readonly bootTargets: readonly BootTarget[];
  startBoot(request: BootRequest, onEvent?: (e: BootEvent) => void): Promise<BootJob>;

  // --- events, identity, inventory -------------------------------------------------------------
  /** Entries added to the device's event log since `cursor`, as alerts. No cursor: 'skip' marks the end, 'all' reads all. */
  readNewEvents(cursor: EventCursor | undefined, o: { initial?: 'skip' | 'all' }): Promise<EventRead>;
  identity?(): Promise<DeviceIdentity>;
  /** Hardware inventory, whatever the OS is doing (AMT). */
  readInventory?(): Promise<Inventory>;
  /** The management controller's own audit log: who did what to the PC (AMT). */
  readAuditLog?(o: { mode: 'new' | 'all'; after?: AuditPosition }): Promise<AuditReadResult>;
  /** Blink the chassis identify light for `seconds` (0 turns it off). */
  identify?(seconds: number): Promise<void>;
  /** Temperatures, fans, voltages... (servers' BMCs). */
  sensors?(): Promise<SensorReading[]>;

  // --- fencing and consent ---------------------------------------------------------------------
  /** System Defense isolation: null when the device cannot tell (no System Defense, client mode). */
  readIsolation?(): Promise<boolean | null>;
  setIsolation?(isolate: boolean, managementHosts: string[]): Promise<IsolationChange>;
  consent?: ConsentCapability;
  defense?: DefenseCapability;

  // --- the protocol's own actions, for the node that speaks it ---------------------------------
  bmc?: BmcCapability;

  /** Releases the connection; the driver must not be used after. */
  close(): void;
}

/** What a driver can do beyond the methods every driver has, by name (for a remote site's announcement). */
export type Capability = 'identity' | 'inventory' | 'audit-log' | 'defense' | 'bmc' | 'identify' | 'sensors' | 'isolation' | 'consent';

export function capabilitiesOf(d: DeviceDriver): Capability[] {
  const out: Capability[] = [];
  if (d.identity) out.push('identity');
  if (d.readInventory) out.push('inventory');
  if (d.readAuditLog) out.push('audit-log');
  if (d.identify) out.push('identify');
  if (d.sensors) out.push('sensors');
  if (d.setIsolation) out.push('isolation');
  if (d.consent) out.push('consent');
  if (d.defense) out.push('defense');
  if (d.bmc) out.push('bmc');
  return out;
}
