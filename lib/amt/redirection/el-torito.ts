/**
 * What makes a CD image or a floppy image bootable, read through any block reader: the ISO 9660
 * primary volume descriptor (sector 16), the El Torito boot record (sector 17) pointing at the boot
 * catalog, the catalog's validation entry (checksum, 55 AA key) and default entry (bootable flag,
 * load sector count, load RBA), and the boot information table that mkisofs/xorriso write into the
 * boot file with -boot-info-table (boot file LBA, length and a 32-bit checksum from byte 64 on).
 * Floppies: the 55 AA signature at the end of sector 0 and the FAT volume label.
 *
 * The console checks an image with it before serving it, and the simulated BIOS boots with it.
 */
export const ISO_SECTOR = 2048;
const EL_TORITO_ID = 'EL TORITO SPECIFICATION';

export class ImageError extends Error {}

export interface BootEntry {
  /** 0 no emulation, 1-3 floppy emulation, 4 hard disk emulation. */
  mediaType: number;
  loadSegment: number;
  /** 512-byte virtual sectors the BIOS loads. */
  sectorCount: number;
  /** First 2048-byte sector of the boot image. */
  loadRba: number;
}

export interface BootInfoTable {
  pvdLba: number;
  fileLba: number;
  fileLength: number;
  checksum: number;
}

export interface IsoBootInfo {
  volumeId: string;
  /** Blocks in the volume (from the PVD). */
  volumeBlocks: number;
  catalogLba: number;
  entry: BootEntry;
  /** Present when the boot file carries a boot information table. */
  infoTable?: BootInfoTable;
  /** Bytes the BIOS loads from loadRba. */
  loadBytes: number;
}

/** Reads `count` 2048-byte sectors starting at `lba`. */
export type SectorReader = (lba: number, count: number) => Promise<Buffer>;

export function parsePrimaryVolume(s: Buffer): { volumeId: string; volumeBlocks: number } {
  if (s.length < ISO_SECTOR || s[0] !== 1 || s.toString('latin1', 1, 6) !== 'CD001') {
    throw new ImageError('not an ISO 9660 image: no primary volume descriptor at sector 16');
  }
  return { volumeId: s.toString('latin1', 40, 72).trim(), volumeBlocks: s.readUInt32LE(80) };
}

export function parseBootRecord(s: Buffer): number {
  if (s[0] !== 0 || s.toString('latin1', 1, 6) !== 'CD001' || s[6] !== 1) {
    throw new ImageError('not bootable: no El Torito boot record at sector 17');
  }
  if (s.toString('latin1', 7, 7 + EL_TORITO_ID.length) !== EL_TORITO_ID) {
    throw new ImageError('not bootable: the boot record at sector 17 is not an El Torito one');
  }
  return s.readUInt32LE(0x47);
}

export function parseBootCatalog(s: Buffer): BootEntry {
  if (s[0] !== 1 || s[0x1e] !== 0x55 || s[0x1f] !== 0xaa) throw new ImageError('not bootable: the boot catalog has no validation entry');
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + s.readUInt16LE(i)) & 0xffff;
  if (sum !== 0) throw new ImageError('not bootable: boot catalog checksum is wrong (corrupted image?)');
  if (s[32] !== 0x88) throw new ImageError('not bootable: the default boot catalog entry is not marked bootable');
  const entry = { mediaType: s[33] & 0x0f, loadSegment: s.readUInt16LE(34), sectorCount: s.readUInt16LE(38), loadRba: s.readUInt32LE(40) };
  if (entry.mediaType > 4) throw new ImageError(`not bootable: unknown boot media type ${entry.mediaType}`);
  return entry;
}

/** Bytes the BIOS loads for an entry: the sector count for no emulation, the floppy size when emulating one. */
export function loadBytes(e: BootEntry): number {
  switch (e.mediaType) {
    case 1:
      return 1_228_800;
    case 2:
      return 1_474_560;
    case 3:
      return 2_949_120;
    default:
      return Math.max(1, e.sectorCount) * 512;
  }
}

export function parseBootInfoTable(firstSector: Buffer, e: BootEntry): BootInfoTable | undefined {
  const t = { pvdLba: firstSector.readUInt32LE(8), fileLba: firstSector.readUInt32LE(12), fileLength: firstSector.readUInt32LE(16), checksum: firstSector.readUInt32LE(20) };
  return t.pvdLba === 16 && t.fileLba === e.loadRba && t.fileLength > 64 ? t : undefined;
}

/** The boot information table checksum: 32-bit sum of the file's little-endian words from byte 64. */
export function bootFileChecksum(file: Buffer): number {
  let sum = 0;
  const end = file.length - (file.length % 4);
  for (let i = 64; i < end; i += 4) sum = (sum + file.readUInt32LE(i)) >>> 0;
  if (end < file.length) {
    const tail = Buffer.alloc(4);
    file.copy(tail, 0, end);
    sum = (sum + tail.readUInt32LE(0)) >>> 0;
  }
  return sum;
}

const sectorsFor = (bytes: number) => Math.ceil(bytes / ISO_SECTOR);

/** Everything a BIOS checks before it jumps into the boot image, reading the fewest sectors. */
export async function inspectIso(read: SectorReader, blocks: number): Promise<IsoBootInfo> {
  if (blocks < 18) throw new ImageError(`not an ISO 9660 image: ${blocks} sectors is too small`);
  const { volumeId, volumeBlocks } = parsePrimaryVolume(await read(16, 1));
  const catalogLba = parseBootRecord(await read(17, 1));
  if (catalogLba >= blocks) throw new ImageError(`not bootable: the boot catalog (sector ${catalogLba}) is past the end of the image`);
  const entry = parseBootCatalog(await read(catalogLba, 1));
  const bytes = loadBytes(entry);
  if (entry.loadRba + sectorsFor(bytes) > blocks) throw new ImageError('not bootable: the boot image runs past the end of the image');
  const infoTable = parseBootInfoTable(await read(entry.loadRba, 1), entry);
  if (infoTable && entry.loadRba + sectorsFor(infoTable.fileLength) > blocks) throw new ImageError('not bootable: the boot file runs past the end of the image');
  return { volumeId, volumeBlocks, catalogLba, entry, infoTable, loadBytes: bytes };
}

/** Reads the boot file named by the info table and checks its checksum; throws when it does not match. */
export async function verifyBootFile(read: SectorReader, info: IsoBootInfo): Promise<void> {
  const t = info.infoTable;
  if (!t) return;
  const file = (await read(t.fileLba, sectorsFor(t.fileLength))).subarray(0, t.fileLength);
  const sum = bootFileChecksum(file);
  if (sum !== t.checksum) {
    throw new ImageError(`not bootable: boot file checksum is 0x${sum.toString(16)}, its boot information table says 0x${t.checksum.toString(16)} (corrupted image?)`);
  }
}

/** A floppy boot sector: the 55 AA signature, and the FAT volume label when there is one. */
export function inspectFloppy(sector0: Buffer): { label: string } {
  if (sector0.length < 512 || sector0[510] !== 0x55 || sector0[511] !== 0xaa) throw new ImageError('not bootable: no 55 AA boot signature in sector 0');
  const label = sector0[38] === 0x29 ? sector0.toString('latin1', 43, 54).trim() : '';
  return { label: label || 'NO NAME' };
}
