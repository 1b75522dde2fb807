/**
 * The ATAPI/SCSI side of an IDE-R drive: what a read-only CD-ROM (2048-byte blocks) or removable
 * floppy (512-byte blocks) answers to the commands a BIOS, a boot loader or an OS driver sends.
 * Pure logic: the IDE-R session turns a reply into protocol messages and reads medium bytes.
 *
 * Sense codes are SPC/MMC's: 2/3A/00 medium not present, 6/28/00 medium may have changed (once
 * after the medium is inserted or the bus reset), 5/20/00 invalid opcode, 5/24/00 invalid field,
 * 5/21/00 LBA out of range, 7/27/00 write protected.
 */
import { GOOD, Sense } from './protocol';

export type MediumKind = 'cd' | 'floppy';

export interface MediumGeometry {
  kind: MediumKind;
  /** Image size in bytes; a last partial block reads as zeros. */
  size: number;
}

export const BLOCK_SIZE: Readonly<Record<MediumKind, number>> = { cd: 2048, floppy: 512 };

export const SENSE = {
  notReady: { key: 2, asc: 0x3a, ascq: 0 },
  mediumChanged: { key: 6, asc: 0x28, ascq: 0 },
  invalidOpcode: { key: 5, asc: 0x20, ascq: 0 },
  invalidField: { key: 5, asc: 0x24, ascq: 0 },
  outOfRange: { key: 5, asc: 0x21, ascq: 0 },
  writeProtected: { key: 7, asc: 0x27, ascq: 0 },
} as const satisfies Record<string, Sense>;

export type AtapiReply =
  /** A small answer built in memory; ends with good status. */
  | { kind: 'data'; data: Buffer }
  /** Bytes of the medium to send; ends with good status. */
  | { kind: 'read'; offset: number; length: number; lba: number; blocks: number }
  /** No data phase: good status or CHECK CONDITION with this sense. */
  | { kind: 'status'; sense: Sense };

export const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'TEST UNIT READY',
  0x03: 'REQUEST SENSE',
  0x08: 'READ(6)',
  0x12: 'INQUIRY',
  0x1a: 'MODE SENSE(6)',
  0x1b: 'START STOP UNIT',
  0x1e: 'PREVENT ALLOW MEDIUM REMOVAL',
  0x23: 'READ FORMAT CAPACITIES',
  0x25: 'READ CAPACITY',
  0x28: 'READ(10)',
  0x2b: 'SEEK',
  0x43: 'READ TOC',
  0x46: 'GET CONFIGURATION',
  0x4a: 'GET EVENT STATUS NOTIFICATION',
  0x5a: 'MODE SENSE(10)',
  0xa8: 'READ(12)',
  0xbb: 'SET CD SPEED',
  0xbd: 'MECHANISM STATUS',
};

const WRITES = new Set([0x0a, 0x2a, 0x2e, 0xaa, 0x04, 0x15, 0x55]);
const ascii = (s: string, n: number) => Buffer.from(s.padEnd(n).slice(0, n), 'latin1');
const status = (sense: Sense): AtapiReply => ({ kind: 'status', sense });

/** Truncate an answer to the allocation length the host gave. */
function data(buf: Buffer, allocation: number): AtapiReply {
  return { kind: 'data', data: buf.subarray(0, Math.min(buf.length, allocation)) };
}

/** One drive of the IDE-R controller, with or without a medium. */
export class AtapiDrive {
  readonly kind: MediumKind;
  readonly blockSize: number;
  readonly blocks: number;
  private sense: Sense = GOOD;
  private attention: boolean;
  /** GET EVENT STATUS NOTIFICATION reports "new media" once. */
  private newMediaEvent = true;

  constructor(
    kind: MediumKind,
    private readonly medium: MediumGeometry | undefined,
  ) {
    this.kind = kind;
    this.blockSize = BLOCK_SIZE[kind];
    this.blocks = medium ? Math.ceil(medium.size / this.blockSize) : 0;
    this.attention = medium !== undefined;
  }

  /** A bus reset: the next TEST UNIT READY reports UNIT ATTENTION again, as after an insertion. */
  reset(): void {
    this.attention = this.medium !== undefined;
    this.sense = GOOD;
  }

  handle(cdb: Buffer): AtapiReply {
    const reply = this.dispatch(cdb);
    if (cdb[0] !== 0x03) this.sense = reply.kind === 'status' ? reply.sense : GOOD;
    return reply;
  }

  private dispatch(cdb: Buffer): AtapiReply {
    const op = cdb[0];
    if (op === 0x12) return this.inquiry(cdb);
    if (op === 0x03) return this.requestSense(cdb);
    if (!this.medium) {
      if (op === 0x4a) return this.eventStatus(cdb);
      return status(SENSE.notReady);
    }
    if (WRITES.has(op)) return status(SENSE.writeProtected);
    switch (op) {
      case 0x00:
        if (this.attention) {
          this.attention = false;
          return status(SENSE.mediumChanged);
        }
        return status(GOOD);
      case 0x1b:
      case 0x1e:
      case 0x2b:
      case 0x35:
      case 0xbb:
        return status(GOOD);
      case 0x08: {
        const lba = ((cdb[1] & 0x1f) << 16) | (cdb[2] << 8) | cdb[3];
        return this.read(lba, cdb[4] === 0 ? 256 : cdb[4]);
      }
      case 0x28:
        return this.read(cdb.readUInt32BE(2), cdb.readUInt16BE(7));
      case 0xa8:
        return this.read(cdb.readUInt32BE(2), cdb.readUInt32BE(6));
      case 0x25: {
        const b = Buffer.alloc(8);
        b.writeUInt32BE(this.blocks - 1, 0);
        b.writeUInt32BE(this.blockSize, 4);
        return { kind: 'data', data: b };
      }
      case 0x23: {
        const b = Buffer.alloc(12);
        b[3] = 8;
        b.writeUInt32BE(this.blocks, 4);
        b[8] = 0x02; // formatted media
        b.writeUIntBE(this.blockSize, 9, 3);
        return data(b, cdb.readUInt16BE(7));
      }
      case 0x1a:
      case 0x5a:
        return this.modeSense(cdb);
      case 0x43:
        return this.kind === 'cd' ? this.readToc(cdb) : status(SENSE.invalidOpcode);
      case 0x46:
        return this.kind === 'cd' ? this.configuration(cdb) : status(SENSE.invalidOpcode);
      case 0x4a:
        return this.eventStatus(cdb);
      case 0xbd: {
        const b = Buffer.alloc(8);
        return data(b, cdb.readUInt16BE(8));
      }
      default:
        return status(SENSE.invalidOpcode);
    }
  }

  private read(lba: number, count: number): AtapiReply {
    if (count === 0) return status(GOOD);
    if (lba + count > this.blocks) return status(SENSE.outOfRange);
    return { kind: 'read', offset: lba * this.blockSize, length: count * this.blockSize, lba, blocks: count };
  }

  private inquiry(cdb: Buffer): AtapiReply {
    if (cdb[1] & 1) return status(SENSE.invalidField); // no vital product data pages
    const b = Buffer.alloc(36);
    b[0] = this.kind === 'cd' ? 0x05 : 0x00;
    b[1] = 0x80; // removable
    b[3] = 0x21; // ATAPI response format
    b[4] = 31;
    ascii('OOBKit', 8).copy(b, 8);
    ascii(this.kind === 'cd' ? 'Virtual CD-ROM' : 'Virtual Floppy', 16).copy(b, 16);
    ascii('1.00', 4).copy(b, 32);
    return data(b, cdb[4]);
  }

  private requestSense(cdb: Buffer): AtapiReply {
    const b = Buffer.alloc(18);
    b[0] = 0x70;
    b[2] = this.sense.key;
    b[7] = 10;
    b[12] = this.sense.asc;
    b[13] = this.sense.ascq;
    this.sense = GOOD;
    return data(b, cdb[4]);
  }

  /** Mode pages: error recovery (01), flexible disk (05, floppy), CD capabilities (2A), all (3F). */
  private modeSense(cdb: Buffer): AtapiReply {
    const six = cdb[0] === 0x1a;
    const page = cdb[2] & 0x3f;
    const pages: Buffer[] = [];
    const want = (p: number) => page === p || page === 0x3f;
    if (want(0x01)) pages.push(Buffer.from([0x01, 0x0a, 0x00, 0x05, 0, 0, 0, 0, 0x05, 0, 0, 0]));
    if (this.kind === 'floppy' && want(0x05)) pages.push(this.flexibleDiskPage());
    if (this.kind === 'cd' && want(0x2a)) {
      const p = Buffer.alloc(22);
      p[0] = 0x2a;
      p[1] = 20;
      p[6] = 0x29; // lock, eject, tray loading
      p.writeUInt16BE(7056, 8); // maximum read speed, kB/s
      p.writeUInt16BE(512, 12); // buffer, kB
      p.writeUInt16BE(7056, 14);
      pages.push(p);
    }
    if (pages.length === 0) return status(SENSE.invalidField);
    const body = Buffer.concat(pages);
    const mediumType = this.kind === 'cd' ? 0x01 : 0x24;
    const head = six ? Buffer.from([body.length + 3, mediumType, 0x80, 0]) : Buffer.from([0, 0, mediumType, 0x80, 0, 0, 0, 0]);
    if (!six) head.writeUInt16BE(body.length + 6, 0);
    return data(Buffer.concat([head, body]), six ? cdb[4] : cdb.readUInt16BE(7));
  }

  private flexibleDiskPage(): Buffer {
    const p = Buffer.alloc(32);
    const spt = this.blocks <= 1440 ? 9 : this.blocks <= 2880 ? 18 : this.blocks <= 5760 ? 36 : 63;
    const heads = this.blocks <= 5760 ? 2 : 16;
    p[0] = 0x05;
    p[1] = 0x1e;
    p.writeUInt16BE(500, 2); // transfer rate, kbit/s
    p[4] = heads;
    p[5] = spt;
    p.writeUInt16BE(512, 6);
    p.writeUInt16BE(Math.ceil(this.blocks / (heads * spt)), 8);
    p.writeUInt16BE(300, 28); // rotation, rpm
    return p;
  }

  /** READ TOC formats 0 (one data track and the lead-out) and 1 (session info), LBA or MSF. */
  private readToc(cdb: Buffer): AtapiReply {
    const msf = (cdb[1] & 0x02) !== 0;
    const format = (cdb[2] & 0x0f) || cdb[9] >> 6;
    const address = (lba: number): Buffer => {
      const b = Buffer.alloc(4);
      if (!msf) b.writeUInt32BE(lba, 0);
      else {
        const f = lba + 150;
        b[1] = Math.floor(f / 4500);
        b[2] = Math.floor(f / 75) % 60;
        b[3] = f % 75;
      }
      return b;
    };
    const track = (n: number, lba: number) => Buffer.concat([Buffer.from([0, 0x14, n, 0]), address(lba)]);
    let body: Buffer;
    if (format === 0) body = Buffer.concat([Buffer.from([0, 0, 1, 1]), track(1, 0), track(0xaa, this.blocks)]);
    else if (format === 1) body = Buffer.concat([Buffer.from([0, 0, 1, 1]), track(1, 0)]);
    else return status(SENSE.invalidField);
    body.writeUInt16BE(body.length - 2, 0);
    return data(body, cdb.readUInt16BE(7));
  }

  /** GET CONFIGURATION: the CD-ROM profile and its features (profile list, core, removable, random read, CD read). */
  private configuration(cdb: Buffer): AtapiReply {
    const rt = cdb[1] & 0x03;
    const start = cdb.readUInt16BE(2);
    const feature = (code: number, flags: number, body: number[]) => ({ code, bytes: Buffer.from([code >> 8, code & 0xff, flags, body.length, ...body]) });
    const random = Buffer.alloc(8);
    random.writeUInt32BE(2048, 0);
    random.writeUInt16BE(1, 4);
    const all = [
      feature(0x0000, 0x03, [0x00, 0x08, 0x01, 0x00]),
      feature(0x0001, 0x0b, [0, 0, 0, 2, 0, 0, 0, 0]),
      feature(0x0003, 0x03, [0x29, 0, 0, 0]),
      feature(0x0010, 0x01, [...random]),
      feature(0x001e, 0x03, [0, 0, 0, 0]),
    ];
    const chosen = all.filter((f) => (rt === 2 ? f.code === start : f.code >= start));
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x0008, 6); // current profile: CD-ROM
    const body = Buffer.concat([head, ...chosen.map((f) => f.bytes)]);
    body.writeUInt32BE(body.length - 4, 0);
    return data(body, cdb.readUInt16BE(7));
  }

  /** Polled GET EVENT STATUS NOTIFICATION, media class: "new media" once, then "no change". */
  private eventStatus(cdb: Buffer): AtapiReply {
    if ((cdb[1] & 0x01) === 0) return status(SENSE.invalidField);
    const allocation = cdb.readUInt16BE(7);
    if ((cdb[4] & 0x10) === 0) return data(Buffer.from([0, 2, 0x80, 0x10]), allocation);
    const present = this.medium !== undefined;
    const event = present && this.newMediaEvent ? 2 : 0;
    if (present) this.newMediaEvent = false;
    return data(Buffer.from([0, 6, 0x04, 0x10, event, present ? 0x02 : 0x00, 0, 0]), allocation);
  }
}
