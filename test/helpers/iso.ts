/**
 * Bootable test images made by real tools: ISOs by Debian's xorriso (El Torito, no emulation,
 * boot information table, like isolinux images), floppy images written here as a FAT12 boot sector.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, closeSync, readSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface IsoOptions {
  volumeId?: string;
  /** Size of the boot file (the boot loader) in bytes. Default 24 KiB. */
  bootBytes?: number;
  /** Size of an extra data file on the image (a live system's payload). Default 0. */
  payloadBytes?: number;
  name?: string;
}

/** Deterministic, incompressible-looking bytes. */
export function pattern(bytes: number, seed: string): Buffer {
  const out = Buffer.alloc(bytes);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < bytes; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Builds `<dir>/<name>` with xorriso and returns its path. */
export function buildIso(dir: string, o: IsoOptions = {}): string {
  const name = o.name ?? 'rescue.iso';
  const tree = join(dir, `${name}.tree`);
  mkdirSync(join(tree, 'boot'), { recursive: true });
  writeFileSync(join(tree, 'boot', 'loader.bin'), pattern(o.bootBytes ?? 24 * 1024, `boot:${name}`));
  if (o.payloadBytes) writeFileSync(join(tree, 'payload.bin'), pattern(o.payloadBytes, `payload:${name}`));
  const out = join(dir, name);
  execFileSync(
    'xorriso',
    ['-as', 'mkisofs', '-quiet', '-V', o.volumeId ?? 'RESCUE', '-o', out, '-b', 'boot/loader.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', tree],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return out;
}

/** What xorriso itself reports about an ISO's El Torito boot image (an independent reading). */
export function xorrisoBootReport(iso: string): { loadRba: number; loadSectors: number } {
  const text = execFileSync('xorriso', ['-indev', iso, '-report_el_torito', 'plain'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  // "El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4          33"
  const line = text.split('\n').find((l) => /El Torito boot img\s*:\s*1\s/.test(l));
  if (!line) throw new Error(`xorriso reported no boot image:\n${text}`);
  const cols = line.split(':')[1].trim().split(/\s+/);
  return { loadSectors: Number(cols[cols.length - 2]), loadRba: Number(cols[cols.length - 1]) };
}

/** Flip one byte of the file at `offset`. */
export function corruptAt(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] ^= 0xff;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

/** Byte offset of the ISO's boot file (from the El Torito catalog, as xorriso reports it). */
export function bootFileOffset(iso: string): number {
  return xorrisoBootReport(iso).loadRba * 2048;
}

/** A 1.44 MB floppy image with a FAT12 boot sector, volume label and 55 AA signature. */
export function buildFloppy(dir: string, label = 'RESCUEFLOP', name = 'rescue.img', bootable = true): string {
  const img = Buffer.alloc(1_474_560);
  const bs = img.subarray(0, 512);
  bs.set([0xeb, 0x3c, 0x90], 0);
  bs.write('MSWIN4.1', 3, 'latin1');
  bs.writeUInt16LE(512, 11);
  bs[13] = 1;
  bs.writeUInt16LE(1, 14);
  bs[16] = 2;
  bs.writeUInt16LE(224, 17);
  bs.writeUInt16LE(2880, 19);
  bs[21] = 0xf0;
  bs.writeUInt16LE(9, 22);
  bs.writeUInt16LE(18, 24);
  bs.writeUInt16LE(2, 26);
  bs[38] = 0x29;
  bs.writeUInt32LE(0x1234abcd, 39);
  bs.write(label.padEnd(11).slice(0, 11), 43, 'latin1');
  bs.write('FAT12   ', 54, 'latin1');
  if (bootable) {
    bs[510] = 0x55;
    bs[511] = 0xaa;
  }
  const out = join(dir, name);
  writeFileSync(out, img);
  return out;
}

export function readAll(file: string): Buffer {
  return readFileSync(file);
}
