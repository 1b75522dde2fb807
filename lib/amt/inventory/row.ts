/**
 * One flat row per PC, for a CSV file, a spreadsheet or an asset register: text and numbers
 * only, lists joined with "; ", columns in a fixed order (ROW_COLUMNS, documented in the
 * oob-inventory help).
 */
import type { Inventory } from './types';

export const ROW_COLUMNS = [
  'name',
  'host',
  'site',
  'readAt',
  'partial',
  'missing',
  'manufacturer',
  'model',
  'serial',
  'uuid',
  'chassisType',
  'boardManufacturer',
  'boardModel',
  'boardSerial',
  'biosVendor',
  'biosVersion',
  'biosDate',
  'cpuModel',
  'cpuCount',
  'cpuMaxMHz',
  'memoryGB',
  'memoryModules',
  'memory',
  'diskCount',
  'diskTotalGB',
  'disks',
  'macs',
  'ipv4',
  'amtVersion',
  'amtBuild',
  'controlMode',
  'provisioningState',
  'kvm',
  'sol',
  'ider',
  'systemDefense',
] as const;

export type InventoryRow = Record<(typeof ROW_COLUMNS)[number], string | number | boolean>;

const GB = 1e9;
const GiB = 2 ** 30;

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export function inventoryRow(inv: Inventory, device: { name?: string; host: string; site?: string }): InventoryRow {
  const join = (xs: Array<string | undefined>) => xs.filter((x): x is string => Boolean(x)).join('; ');
  const models = [...new Set(inv.processors.map((p) => p.model).filter(Boolean))] as string[];
  const diskTotal = inv.storage.reduce((t, d) => t + (d.sizeBytes ?? 0), 0);
  return {
    name: device.name ?? '',
    host: device.host,
    site: device.site ?? '',
    readAt: inv.readAt,
    partial: inv.partial,
    missing: join(inv.missing.map((m) => `${m.section}${m.class ? ` (${m.class})` : ''}: ${m.reason}`)),
    manufacturer: inv.platform.manufacturer ?? '',
    model: inv.platform.model ?? '',
    serial: inv.platform.serial ?? '',
    uuid: inv.platform.uuid ?? '',
    chassisType: inv.platform.chassisType ?? '',
    boardManufacturer: inv.platform.board.manufacturer ?? '',
    boardModel: inv.platform.board.model ?? '',
    boardSerial: inv.platform.board.serial ?? '',
    biosVendor: inv.bios.vendor ?? '',
    biosVersion: inv.bios.version ?? '',
    biosDate: inv.bios.releaseDate ?? '',
    cpuModel: models.join('; '),
    cpuCount: inv.processors.length,
    cpuMaxMHz: Math.max(0, ...inv.processors.map((p) => p.maxSpeedMHz ?? 0)) || '',
    memoryGB: inv.memoryTotalBytes ? round1(inv.memoryTotalBytes / GiB) : '',
    memoryModules: inv.memory.length,
    memory: join(
      inv.memory.map((m) =>
        [m.slot ? `${m.slot}:` : undefined, m.sizeBytes ? `${round1(m.sizeBytes / GiB)} GB` : undefined, m.type, m.speedMHz ? `${m.speedMHz} MHz` : undefined, m.partNumber]
          .filter(Boolean)
          .join(' '),
      ),
    ),
    diskCount: inv.storage.length,
    diskTotalGB: diskTotal ? round1(diskTotal / GB) : '',
    disks: join(inv.storage.map((d) => [d.model ?? d.id, d.sizeBytes ? `${round1(d.sizeBytes / GB)} GB` : undefined, d.serial ? `S/N ${d.serial}` : undefined].filter(Boolean).join(' '))),
    macs: join(inv.network.map((n) => n.mac)),
    ipv4: join(inv.network.map((n) => n.ipv4)),
    amtVersion: inv.amt.version ?? '',
    amtBuild: inv.amt.build ?? '',
    controlMode: inv.amt.controlMode ?? '',
    provisioningState: inv.amt.provisioningState ?? '',
    kvm: inv.features.kvm,
    sol: inv.features.sol,
    ider: inv.features.ider,
    systemDefense: inv.features.systemDefense,
  };
}
