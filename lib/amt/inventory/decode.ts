/**
 * From AMT/CIM instances (as lib/wsman reads and types them) to inventory fields. Pure: no I/O,
 * so the same functions read real captures, the simulator's answers and a live device.
 */
import type { TypedInstance } from '../../wsman/client';
import type { TypedObject, TypedValue } from '../../wsman/typing';
import { amtVersionFrom, uuidFromPlatformGuid } from '../identity';
import { CHASSIS_TYPES, CONTROL_MODES, CPU_STATUS, MEMORY_FORM_FACTORS, MEMORY_TYPES, PROVISIONING_STATES, WIRELESS_CONNECTION } from './names';
import type { AmtInfo, BiosInfo, BoardInfo, FeatureInfo, MemoryModule, NetworkPort, PlatformInfo, ProcessorInfo, StorageDevice } from './types';

/** Trimmed text; undefined for empty values and the placeholders firmware leaves in unset SMBIOS strings. */
export function str(v: TypedValue | undefined): string | undefined {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\0/g, '').trim();
  if (s === '' || /^(to be filled by o\.e\.m\.|default string|not specified|none)$/i.test(s)) return undefined;
  return s;
}

export function num(v: TypedValue | undefined): number | undefined {
  if (Array.isArray(v)) return num(v[0]);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function named(table: Readonly<Record<number, string>>, v: TypedValue | undefined): string | undefined {
  const n = num(v);
  return n === undefined ? undefined : (table[n] ?? `type ${n}`);
}

/** The trailing number of "MEDIA DEV 1" or "Storage Media Package 12"; -1 when there is none. */
export function ordinalOf(s: string | undefined): number {
  const m = /(\d+)\s*$/.exec(s ?? '');
  return m ? Number(m[1]) : -1;
}

const byClass = (items: TypedInstance[], cls: string) => items.filter((i) => (str(i.props.CreationClassName) ?? i.className) === cls);

function board(card: TypedObject | undefined): BoardInfo {
  const b: BoardInfo = {};
  if (!card) return b;
  const set = (k: keyof BoardInfo, v: TypedValue | undefined) => {
    const s = str(v);
    if (s !== undefined) b[k] = s;
  };
  set('manufacturer', card.Manufacturer);
  set('model', card.Model);
  set('serial', card.SerialNumber);
  set('version', card.Version);
  return b;
}

/** Platform from CIM_ComputerSystemPackage and the chassis and base board (CIM_Chassis, CIM_Card). */
export function platformFrom(o: { systemPackage?: TypedObject; chassis?: TypedObject; card?: TypedObject }): PlatformInfo {
  const p: PlatformInfo = { board: board(o.card) };
  const c = o.chassis;
  if (c) {
    const set = (k: 'manufacturer' | 'model' | 'serial' | 'version', v: TypedValue | undefined) => {
      const s = str(v);
      if (s !== undefined) p[k] = s;
    };
    set('manufacturer', c.Manufacturer);
    set('model', c.Model);
    set('serial', c.SerialNumber);
    set('version', c.Version);
    const type = num(c.ChassisPackageType);
    if (type !== undefined && CHASSIS_TYPES[type]) p.chassisType = CHASSIS_TYPES[type];
  }
  const guid = o.systemPackage?.PlatformGUID;
  if (typeof guid === 'string') {
    const uuid = uuidFromPlatformGuid(guid);
    if (uuid) p.uuid = uuid;
  }
  return p;
}

/** Chassis and base board out of a CIM_PhysicalPackage enumeration (which returns both, with the disks' packages). */
export function packagesFrom(items: TypedInstance[]): { chassis?: TypedObject; card?: TypedObject; media: TypedInstance[] } {
  return {
    chassis: byClass(items, 'CIM_Chassis')[0]?.props,
    card: byClass(items, 'CIM_Card')[0]?.props,
    media: items.filter((i) => num(i.props.PackageType) === 15),
  };
}

export function biosFrom(b: TypedObject | undefined): BiosInfo {
  const out: BiosInfo = {};
  if (!b) return out;
  const vendor = str(b.Manufacturer);
  const version = str(b.Version) ?? str(b.SoftwareElementID);
  const date = str(b.ReleaseDate);
  if (vendor) out.vendor = vendor;
  if (version) out.version = version;
  if (date && /^\d{4}-\d{2}-\d{2}/.test(date)) out.releaseDate = date.slice(0, 10);
  return out;
}

/**
 * Processors: speeds and status from CIM_Processor, the model name from the processor chips of
 * CIM_Chip (Version), matched on "CPU n" (CIM_Processor.DeviceID = CIM_Chip.Tag), else in order.
 */
export function processorsFrom(processors: TypedInstance[], chips: TypedInstance[]): ProcessorInfo[] {
  const cpuChips = byClass(chips, 'CIM_Chip').filter((c) => /processor/i.test(str(c.props.ElementName) ?? '') || /^CPU/i.test(str(c.props.Tag) ?? ''));
  const used = new Set<TypedInstance>();
  const out: ProcessorInfo[] = processors.map((p, i) => {
    const socket = str(p.props.DeviceID) ?? `CPU ${i}`;
    const chip = cpuChips.find((c) => !used.has(c) && str(c.props.Tag) === socket) ?? cpuChips.find((c) => !used.has(c));
    if (chip) used.add(chip);
    const info: ProcessorInfo = { socket };
    const model = str(chip?.props.Version);
    const maker = str(chip?.props.Manufacturer);
    if (model) info.model = model;
    if (maker) info.manufacturer = maker;
    const set = (k: 'maxSpeedMHz' | 'currentSpeedMHz' | 'externalClockMHz' | 'family', v: TypedValue | undefined) => {
      const n = num(v);
      if (n !== undefined && n > 0) info[k] = n;
    };
    set('maxSpeedMHz', p.props.MaxClockSpeed);
    set('currentSpeedMHz', p.props.CurrentClockSpeed);
    set('externalClockMHz', p.props.ExternalBusClockSpeed);
    set('family', p.props.Family);
    const stepping = str(p.props.Stepping);
    if (stepping) info.stepping = stepping;
    const status = named(CPU_STATUS, p.props.CPUStatus);
    if (status) info.status = status;
    return info;
  });
  // Processor chips with no CIM_Processor instance (firmware that lacks the class) still say what is there.
  for (const chip of cpuChips) {
    if (used.has(chip)) continue;
    const info: ProcessorInfo = { socket: str(chip.props.Tag) ?? `CPU ${out.length}` };
    const model = str(chip.props.Version);
    const maker = str(chip.props.Manufacturer);
    if (model) info.model = model;
    if (maker) info.manufacturer = maker;
    out.push(info);
  }
  return out;
}

/**
 * Memory modules from CIM_PhysicalMemory instances (a CIM_Chip enumeration returns them too).
 * Speed: ConfiguredMemoryClockSpeed (MHz), else Speed when IsSpeedInMhz, else MaxMemorySpeed;
 * CIM's Speed is in nanoseconds and AMT reports it as 0.
 */
export function memoryFrom(items: TypedInstance[]): MemoryModule[] {
  return byClass(items, 'CIM_PhysicalMemory').map((m) => {
    const p = m.props;
    const mod: MemoryModule = {};
    const slot = str(p.BankLabel);
    if (slot) mod.slot = slot;
    const size = num(p.Capacity);
    if (size !== undefined && size > 0) mod.sizeBytes = size;
    const speeds = [num(p.ConfiguredMemoryClockSpeed), p.IsSpeedInMhz === true ? num(p.Speed) : undefined, num(p.MaxMemorySpeed)];
    const speed = speeds.find((s) => s !== undefined && s > 0);
    if (speed !== undefined) mod.speedMHz = speed;
    const type = named(MEMORY_TYPES, p.MemoryType);
    if (type) mod.type = type;
    const form = named(MEMORY_FORM_FACTORS, p.FormFactor);
    if (form) mod.formFactor = form;
    const maker = str(p.Manufacturer);
    if (maker) mod.manufacturer = maker;
    const part = str(p.PartNumber);
    if (part) mod.partNumber = part;
    const serial = str(p.SerialNumber);
    if (serial) mod.serial = serial;
    return mod;
  });
}

/** Disks: size from CIM_MediaAccessDevice (kB of 1000), model and serial from the "Storage Media Package n" of the same number. */
export function storageFrom(media: TypedInstance[], packages: TypedInstance[]): StorageDevice[] {
  return media.map((d, i) => {
    const id = str(d.props.DeviceID) ?? `MEDIA DEV ${i}`;
    const n = ordinalOf(id);
    const pkg = packages.find((p) => num(p.props.PackageType) === 15 && n >= 0 && ordinalOf(str(p.props.Tag)) === n);
    const dev: StorageDevice = { id };
    const model = str(pkg?.props.Model);
    const serial = str(pkg?.props.SerialNumber);
    if (model) dev.model = model;
    if (serial) dev.serial = serial;
    const kb = num(d.props.MaxMediaSize);
    if (kb !== undefined && kb > 0) dev.sizeBytes = kb * 1000;
    return dev;
  });
}

/** "a4-bb-6d-89-52-e4" -> "a4:bb:6d:89:52:e4"; undefined for an all-zero or malformed MAC. */
export function normalizeMac(v: TypedValue | undefined): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  const hex = s.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  if (hex.length !== 12 || /^0+$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

export function networkFrom(ports: TypedInstance[]): NetworkPort[] {
  return ports.map((p, i) => {
    const id = ordinalOf(str(p.props.InstanceID));
    const port = id >= 0 ? id : i;
    const wireless = num(p.props.PhysicalConnectionType) === WIRELESS_CONNECTION || (num(p.props.PhysicalConnectionType) === undefined && port === 1);
    const out: NetworkPort = { port, kind: wireless ? 'wireless' : 'wired' };
    const mac = normalizeMac(p.props.MACAddress);
    if (mac) out.mac = mac;
    const ip = str(p.props.IPAddress);
    if (ip && ip !== '0.0.0.0') out.ipv4 = ip;
    if (typeof p.props.DHCPEnabled === 'boolean') out.dhcp = p.props.DHCPEnabled;
    if (typeof p.props.LinkIsUp === 'boolean') out.linkUp = p.props.LinkIsUp;
    return out;
  });
}

export function amtFrom(software: TypedInstance[] | undefined, setup: TypedObject | undefined): AmtInfo {
  const out: AmtInfo = {};
  if (software) {
    const version = amtVersionFrom(software);
    const entry = (id: string) => str(software.find((s) => s.props.InstanceID === id)?.props.VersionString);
    if (version) out.version = version;
    const build = entry('Build Number');
    const sku = entry('Sku');
    if (build) out.build = build;
    if (sku) out.sku = sku;
  }
  if (setup) {
    const state = num(setup.ProvisioningState);
    if (state !== undefined) out.provisioningState = PROVISIONING_STATES[state] ?? `state ${state}`;
    const mode = num(setup.ProvisioningMode);
    if (state === 0) out.controlMode = 'none';
    else if (mode !== undefined) out.controlMode = CONTROL_MODES[mode] ?? `mode ${mode}`;
  }
  return out;
}

/** A class the device does not have, as opposed to one that could not be read. */
export const UNSUPPORTED = 'unsupported' as const;

export interface FeatureSources {
  redirection?: TypedObject | typeof UNSUPPORTED;
  kvm?: TypedObject | typeof UNSUPPORTED;
  defensePolicies?: TypedInstance[] | typeof UNSUPPORTED;
}

/**
 * AMT_RedirectionService.EnabledState: 32768 none, 32769 IDE-R, 32770 SOL, 32771 both;
 * CIM_KVMRedirectionSAP.EnabledState: 2 enabled, 6 enabled but no session, 3 disabled;
 * System Defense is on when a policy is bound to a port (AMT_NetworkPortSystemDefensePolicy).
 */
export function featuresFrom(s: FeatureSources): FeatureInfo {
  const f: FeatureInfo = { kvm: 'unknown', sol: 'unknown', ider: 'unknown', systemDefense: 'unknown', redirection: 'unknown' };
  const r = s.redirection;
  if (r === UNSUPPORTED) {
    f.sol = f.ider = f.redirection = 'unsupported';
  } else if (r) {
    const state = num(r.EnabledState);
    if (state !== undefined && state >= 32768 && state <= 32771) {
      const bits = state - 32768;
      f.ider = bits & 1 ? 'enabled' : 'disabled';
      f.sol = bits & 2 ? 'enabled' : 'disabled';
    }
    if (typeof r.ListenerEnabled === 'boolean') f.redirection = r.ListenerEnabled ? 'enabled' : 'disabled';
  }
  const k = s.kvm;
  if (k === UNSUPPORTED) f.kvm = 'unsupported';
  else if (k) {
    const state = num(k.EnabledState);
    if (state === 2 || state === 6) f.kvm = 'enabled';
    else if (state === 3) f.kvm = 'disabled';
  }
  const d = s.defensePolicies;
  if (d === UNSUPPORTED) f.systemDefense = 'unsupported';
  else if (d) f.systemDefense = d.length > 0 ? 'enabled' : 'disabled';
  return f;
}
