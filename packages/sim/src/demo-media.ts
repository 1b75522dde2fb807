/**
 * A small bootable CD image for demos, written without any tool: the volume descriptors a BIOS
 * reads (primary volume at sector 16, El Torito boot record at 17, terminator at 18), a boot
 * catalog, path tables and an empty root directory, and a boot file with a boot information
 * table, then `payloadBytes` of data outside any file. The simulated BIOS boots it; its boot file
 * is not a real loader. Tests use xorriso-made images instead.
 */
import { writeFileSync } from 'node:fs';
import { bootFileChecksum, ISO_SECTOR } from '../../../lib/amt/redirection/el-torito';

export function demoIso(volumeId = 'OOBKIT_RESCUE', payloadBytes = 8 * 1024 * 1024): Buffer {
  const bootLba = 23;
  const bootBytes = 8 * 1024;
  const payloadLba = bootLba + bootBytes / ISO_SECTOR;
  const blocks = payloadLba + Math.ceil(payloadBytes / ISO_SECTOR);
  const img = Buffer.alloc(blocks * ISO_SECTOR);
  const sector = (n: number) => img.subarray(n * ISO_SECTOR, (n + 1) * ISO_SECTOR);
  const descriptor = (n: number, type: number) => {
    const s = sector(n);
    s[0] = type;
    s.write('CD001', 1, 'latin1');
    s[6] = 1;
    return s;
  };
  const pvd = descriptor(16, 1);
  pvd.write(''.padEnd(32), 8, 'latin1');
  pvd.write(volumeId.toUpperCase().padEnd(32).slice(0, 32), 40, 'latin1');
  pvd.writeUInt32LE(blocks, 80);
  pvd.writeUInt32BE(blocks, 84);
  pvd.writeUInt16LE(1, 120);
  pvd.writeUInt16BE(1, 122);
  pvd.writeUInt16LE(1, 124);
  pvd.writeUInt16BE(1, 126);
  pvd.writeUInt16LE(ISO_SECTOR, 128);
  pvd.writeUInt16BE(ISO_SECTOR, 130);
  pvd[881] = 1;
  // Path tables (little- and big-endian) with the root alone, and the root directory: "." and "..".
  pvd.writeUInt32LE(10, 132);
  pvd.writeUInt32BE(10, 136);
  pvd.writeUInt32LE(20, 140);
  pvd.writeUInt32BE(21, 148);
  const dirRecord = (target: Buffer, at: number, name: number) => {
    target[at] = 34;
    target.writeUInt32LE(22, at + 2);
    target.writeUInt32BE(22, at + 6);
    target.writeUInt32LE(ISO_SECTOR, at + 10);
    target.writeUInt32BE(ISO_SECTOR, at + 14);
    target.set([126, 1, 1, 0, 0, 0, 0], at + 18); // 2026-01-01 00:00:00 UTC
    target[at + 25] = 0x02;
    target.writeUInt16LE(1, at + 28);
    target.writeUInt16BE(1, at + 30);
    target[at + 32] = 1;
    target[at + 33] = name;
  };
  dirRecord(pvd, 156, 0);
  const lpath = sector(20);
  lpath[0] = 1;
  lpath.writeUInt32LE(22, 2);
  lpath.writeUInt16LE(1, 6);
  const mpath = sector(21);
  mpath[0] = 1;
  mpath.writeUInt32BE(22, 2);
  mpath.writeUInt16BE(1, 6);
  dirRecord(sector(22), 0, 0);
  dirRecord(sector(22), 34, 1);
  const boot = descriptor(17, 0);
  boot.write('EL TORITO SPECIFICATION', 7, 'latin1');
  boot.writeUInt32LE(19, 0x47);
  descriptor(18, 255);
  const catalog = sector(19);
  catalog[0] = 1;
  catalog[0x1e] = 0x55;
  catalog[0x1f] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + catalog.readUInt16LE(i)) & 0xffff;
  catalog.writeUInt16LE((0x10000 - sum) & 0xffff, 0x1c);
  catalog[32] = 0x88;
  catalog.writeUInt16LE(4, 38);
  catalog.writeUInt32LE(bootLba, 40);
  const file = img.subarray(bootLba * ISO_SECTOR, bootLba * ISO_SECTOR + bootBytes);
  for (let i = 64; i < bootBytes; i++) file[i] = (i * 31 + 7) & 0xff;
  file.writeUInt32LE(16, 8);
  file.writeUInt32LE(bootLba, 12);
  file.writeUInt32LE(bootBytes, 16);
  file.writeUInt32LE(bootFileChecksum(file), 20);
  for (let i = payloadLba * ISO_SECTOR; i < img.length; i++) img[i] = (i >> 11) & 0xff;
  return img;
}

export function writeDemoIso(path: string, volumeId?: string, payloadBytes?: number): void {
  writeFileSync(path, demoIso(volumeId, payloadBytes));
}
