/**
 * The simulated PC's BIOS at each firmware boot: it reads the one-time boot request (AMT_BootSettingData
 * and the forced boot source) and acts on it, and records what happened in `firmwareState(device)`:
 *
 *   IDE-R CD      over the IDE-R session whose drive is attached: RESET, TEST UNIT READY, INQUIRY
 *                 (answered by AMT itself, not the console), READ CAPACITY, the primary volume descriptor (sector 16), the El Torito boot record
 *                 (sector 17), the boot catalog, the boot image, and (as the loader does with a boot
 *                 information table) the whole boot file with its checksum; "booted from media: <volume id>"
 *   IDE-R floppy  the boot sector and its 55 AA signature; "booted from media: <label>"
 *   PXE, UEFI HTTPS (with the URL from the boot parameters), BIOS setup: recorded; the PC then runs
 *                 its OS, except in BIOS setup where it waits
 *
 * A boot from media that fails (no session, not bootable, checksum mismatch, a console that stops
 * answering) is recorded as "boot failed: <why>" and the BIOS falls back to the disk, as a real one
 * does. The device emits 'firmware' with each record when it is final.
 */
import { ISO_SECTOR, inspectFloppy, inspectIso, loadBytes, verifyBootFile } from '../../../lib/amt/redirection/el-torito';
import { addEventLogRecord } from './classes/logs';
import type { SimDevice } from './device';
import type { BootEvent } from './power';
import type { SimIderSession } from './redirection';

export type FirmwareTarget = 'normal' | 'pxe' | 'https' | 'bios-setup' | 'ide-r-cd' | 'ide-r-floppy';

export interface BootRecord {
  at: string;
  cause: string;
  target: FirmwareTarget;
  /** 'booting', 'booted from media: RESCUE', 'boot failed: ...', 'PXE boot', 'UEFI HTTPS boot from <url>', 'BIOS setup'. */
  status: string;
  done: boolean;
  volumeId?: string;
  url?: string;
  /** ATAPI commands the BIOS sent and the bytes it read. */
  commands?: string[];
  bytesRead?: number;
}

export interface FirmwareOptions {
  /**
   * Blocks per READ(10) the BIOS and the OS loader ask for. Default 64 (128 KiB of CD: the most
   * Linux libata asks of an ATAPI drive in one command). One command at a time, as on an IDE channel.
   */
  readBlocks: number;
  /** After the boot file, read every block of the medium as a live system loading itself would. */
  loadWholeMedium: boolean;
  /** Pause between ATAPI commands (a slow device). */
  commandDelayMs: number;
  /** Per-command answer limit. */
  commandTimeoutMs: number;
}

export interface FirmwareState {
  options: FirmwareOptions;
  boots: BootRecord[];
}

export function firmwareState(d: SimDevice): FirmwareState {
  return d.classState<FirmwareState>('firmware', () => ({
    options: { readBlocks: 64, loadWholeMedium: false, commandDelayMs: 0, commandTimeoutMs: 10000 },
    boots: [],
  }));
}

/** The most recent boot record. */
export function lastBoot(d: SimDevice): BootRecord | undefined {
  return firmwareState(d).boots.at(-1);
}

const SOURCE_TARGETS: Record<string, FirmwareTarget> = {
  'Intel(r) AMT: Force PXE Boot': 'pxe',
  'Intel(r) AMT: Force OCR UEFI HTTPS Boot': 'https',
};

/** OCR_EFI_NETWORK_DEVICE_PATH (type 1) from AMT's boot parameter TLVs (vendor, type, length, value). */
export function httpsBootUrl(base64: string | undefined): string | undefined {
  if (!base64) return undefined;
  const b = Buffer.from(base64, 'base64');
  for (let at = 0; at + 8 <= b.length; ) {
    const type = b.readUInt16LE(at + 2);
    const len = b.readUInt32LE(at + 4);
    if (type === 1) return b.toString('utf8', at + 8, at + 8 + len);
    at += 8 + len;
  }
  return undefined;
}

/** System Firmware Progress codes the BIOS reports in AMT's event log. */
const PROGRESS = { setup: 0x05, osBoot: 0x13 } as const;

function reportProgress(d: SimDevice, code: number): void {
  addEventLogRecord(d, { time: Math.floor(Date.now() / 1000), sensorType: 0x0f, eventType: 0x6f, eventOffset: 2, severity: 0x08, entity: 0x22, eventData: [0x40, code] });
}

function record(d: SimDevice, r: Omit<BootRecord, 'at'>): BootRecord {
  const rec: BootRecord = { at: new Date().toISOString(), ...r };
  if (r.status === 'BIOS setup') reportProgress(d, PROGRESS.setup);
  if (r.status === 'booted from disk') reportProgress(d, PROGRESS.osBoot);
  const s = firmwareState(d);
  s.boots.push(rec);
  if (s.boots.length > 50) s.boots.shift();
  if (rec.done) d.emit('firmware', rec);
  return rec;
}

function finish(d: SimDevice, rec: BootRecord, status: string): void {
  rec.status = status;
  rec.done = true;
  d.emit('firmware', rec);
}

/** Called on every 'boot' event of the device. */
export function onFirmwareBoot(d: SimDevice, e: BootEvent): void {
  const s = e.settings;
  const target: FirmwareTarget =
    s.UseIDER === 'true' ? (s.IDERBootDevice === '1' ? 'ide-r-cd' : 'ide-r-floppy') : s.BIOSSetup === 'true' ? 'bios-setup' : (SOURCE_TARGETS[e.source ?? ''] ?? 'normal');
  switch (target) {
    case 'normal':
      record(d, { cause: e.cause, target, status: 'booted from disk', done: true });
      return;
    case 'pxe':
      record(d, { cause: e.cause, target, status: 'PXE boot', done: true });
      return;
    case 'https': {
      const url = httpsBootUrl(s.UefiBootParametersArray);
      record(d, { cause: e.cause, target, url, status: url ? `UEFI HTTPS boot from ${url}` : 'boot failed: UEFI HTTPS boot without a URL', done: true });
      return;
    }
    case 'bios-setup':
      e.preventOsStart();
      record(d, { cause: e.cause, target, status: 'BIOS setup', done: true });
      return;
    default: {
      e.preventOsStart();
      const rec = record(d, { cause: e.cause, target, status: 'booting', done: false, commands: [], bytesRead: 0 });
      bootFromIder(d, rec, target === 'ide-r-cd' ? 'cd' : 'floppy').then(
        (label) => {
          rec.volumeId = label;
          finish(d, rec, `booted from media: ${label}`);
          // The OS on the medium runs, unless the PC was reset or turned off meanwhile.
          if (lastBoot(d) === rec && d.power.state === 2) d.setOsRunning(true, 'media');
        },
        (err: Error) => {
          finish(d, rec, `boot failed: ${err.message}`);
          // Like a real BIOS, fall back to the next boot device: the disk.
          if (lastBoot(d) === rec && d.power.osInstalled && d.power.state === 2) d.setOsRunning(true, 'disk');
        },
      );
    }
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bootFromIder(d: SimDevice, rec: BootRecord, drive: 'cd' | 'floppy'): Promise<string> {
  const session: SimIderSession | undefined = d.iderSession;
  if (!session || !session.enabled) throw new Error('no IDE-R session has a drive attached (no bootable media)');
  const o = firmwareState(d).options;
  const atapi = async (name: string, cdb: number[] | Buffer, allowAttention = false, keep = true) => {
    if (o.commandDelayMs > 0) await delay(o.commandDelayMs);
    if (rec.commands && rec.commands.length < 1000) rec.commands.push(name);
    const r = await session.command(drive, Buffer.isBuffer(cdb) ? cdb : Buffer.from(cdb), o.commandTimeoutMs, keep);
    rec.bytesRead = (rec.bytesRead ?? 0) + r.length;
    d.emit('boot-progress', rec);
    if (!r.ok && !(allowAttention && r.sense?.key === 6)) {
      throw new Error(`${name} failed with sense ${r.sense?.key}/${r.sense?.asc.toString(16)}/${r.sense?.ascq.toString(16)}`);
    }
    return r;
  };
  await session.reset();
  let ready = false;
  for (let i = 0; i < 3 && !ready; i++) ready = (await atapi('TEST UNIT READY', [0x00, 0, 0, 0, 0, 0], true)).ok;
  if (!ready) throw new Error('the drive never became ready');
  const inquiry = (await atapi('INQUIRY', [0x12, 0, 0, 0, 36, 0])).data;
  const wantType = drive === 'cd' ? 0x05 : 0x00;
  if (inquiry.length < 36 || (inquiry[0] & 0x1f) !== wantType) throw new Error(`INQUIRY answered device type ${inquiry[0] & 0x1f}, not ${wantType}`);
  const capacity = (await atapi('READ CAPACITY', [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])).data;
  if (capacity.length !== 8) throw new Error(`READ CAPACITY answered ${capacity.length} bytes`);
  const blocks = capacity.readUInt32BE(0) + 1;
  const blockSize = capacity.readUInt32BE(4);
  if (blockSize !== (drive === 'cd' ? ISO_SECTOR : 512)) throw new Error(`READ CAPACITY answered ${blockSize}-byte blocks`);
  /** Reads blocks; with `keep` false the data is checked for length and dropped (a live system loading itself). */
  const read = async (lba: number, count: number, keep = true): Promise<Buffer> => {
    if (lba + count > blocks) throw new Error(`read past the end of the medium (block ${lba + count} of ${blocks})`);
    const parts: Buffer[] = [];
    for (let at = lba; at < lba + count; ) {
      const n = Math.min(o.readBlocks, lba + count - at, 0xffff);
      const c = Buffer.alloc(10);
      c[0] = 0x28;
      c.writeUInt32BE(at, 2);
      c.writeUInt16BE(n, 7);
      const r = await atapi('READ(10)', c, false, keep);
      if (r.length !== n * blockSize) throw new Error(`READ(10) of ${n} blocks answered ${r.length} bytes`);
      if (keep) parts.push(r.data);
      at += n;
    }
    return Buffer.concat(parts);
  };
  let label: string;
  if (drive === 'cd') {
    const iso = await inspectIso(read, blocks);
    await read(iso.entry.loadRba, Math.ceil(loadBytes(iso.entry) / ISO_SECTOR));
    await verifyBootFile(read, iso);
    label = iso.volumeId || 'CDROM';
  } else {
    label = inspectFloppy(await read(0, 1)).label;
  }
  if (o.loadWholeMedium) await read(0, blocks, false);
  return label;
}
