/**
 * The inventory of one PC as OOBKit reports it. Field names are stable: flows, spreadsheets and
 * asset registers key on them (the oob-inventory help lists them). A field the device did not
 * report is left out, never guessed.
 */

export interface BoardInfo {
  manufacturer?: string;
  model?: string;
  serial?: string;
  version?: string;
}

export interface PlatformInfo {
  manufacturer?: string;
  model?: string;
  serial?: string;
  /** SMBIOS system UUID, lower case. */
  uuid?: string;
  version?: string;
  /** Chassis type name, when the firmware reports one ("desktop", "notebook"...). */
  chassisType?: string;
  board: BoardInfo;
}

export interface BiosInfo {
  vendor?: string;
  version?: string;
  /** YYYY-MM-DD */
  releaseDate?: string;
}

export interface ProcessorInfo {
  /** "CPU 0" */
  socket: string;
  /** "Intel(R) Core(TM) i5-1145G7 @ 2.60GHz" */
  model?: string;
  manufacturer?: string;
  maxSpeedMHz?: number;
  currentSpeedMHz?: number;
  externalClockMHz?: number;
  /** SMBIOS processor family number (198 = Core i7, 205 = Core i5...). */
  family?: number;
  stepping?: string;
  /** enabled, disabled-by-user, disabled-by-bios, idle, other, unknown */
  status?: string;
}

export interface MemoryModule {
  /** Bank or slot label: "CHANNEL A SLOT 0", "BANK 0"... */
  slot?: string;
  sizeBytes?: number;
  speedMHz?: number;
  /** DDR4, DDR5, LPDDR4... */
  type?: string;
  /** DIMM, SODIMM... */
  formFactor?: string;
  manufacturer?: string;
  partNumber?: string;
  serial?: string;
}

export interface StorageDevice {
  /** "MEDIA DEV 0" */
  id: string;
  model?: string;
  serial?: string;
  /** Capacity in bytes (AMT reports kilobytes of 1000 bytes). */
  sizeBytes?: number;
}

export interface NetworkPort {
  /** 0 wired, 1 wireless on AMT. */
  port: number;
  kind: 'wired' | 'wireless';
  /** aa:bb:cc:dd:ee:ff */
  mac?: string;
  ipv4?: string;
  dhcp?: boolean;
  linkUp?: boolean;
}

export interface AmtInfo {
  /** "16.1.25" */
  version?: string;
  build?: string;
  sku?: string;
  /** admin, client or none (not provisioned) */
  controlMode?: string;
  /** pre, in or post */
  provisioningState?: string;
}

export type FeatureState = 'enabled' | 'disabled' | 'unsupported' | 'unknown';

export interface FeatureInfo {
  kvm: FeatureState;
  sol: FeatureState;
  ider: FeatureState;
  systemDefense: FeatureState;
  /** The redirection port (16994/16995) that KVM, SOL and IDE-R need. */
  redirection: FeatureState;
}

export interface MissingPart {
  /** platform, bios, processors, memory, storage, network, amt, features */
  section: string;
  /** The AMT/CIM class that could not be read. */
  class?: string;
  reason: string;
}

export interface Inventory {
  /** ISO 8601 time of the read. */
  readAt: string;
  platform: PlatformInfo;
  bios: BiosInfo;
  processors: ProcessorInfo[];
  memory: MemoryModule[];
  memoryTotalBytes: number;
  storage: StorageDevice[];
  network: NetworkPort[];
  amt: AmtInfo;
  features: FeatureInfo;
  /** True when some section could not be read; `missing` says which and why. */
  partial: boolean;
  missing: MissingPart[];
}

export const SECTIONS = ['platform', 'bios', 'processors', 'memory', 'storage', 'network', 'amt', 'features'] as const;
export type Section = (typeof SECTIONS)[number];
