/**
 * What a simulated server BMC knows and controls: chassis power (with the timing of a real
 * server), the identify light, boot flags, the SEL, the SDR repository and sensor values, and the
 * IPMI commands that read and change them.
 */
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { CMD, NETFN } from '../../../../lib/ipmi/constants';
import { defaultSensors, sensorRecord, SimSensor, thresholdStatusBits } from './sensors';

export interface BmcStateOptions {
  power?: 'on' | 'off';
  /** Delay of a power cycle's off phase and of an OS soft shutdown (default 1000 and 500 ms). */
  cycleMs?: number;
  softOffMs?: number;
  sensors?: SimSensor[];
  /** SEL capacity in records (default 512). */
  selCapacity?: number;
  /** IANA manufacturer and product of Get Device ID (default 0 / 0x4f4f, "OO"). */
  manufacturerId?: number;
  productId?: number;
}

export interface SimSelEvent {
  sensorType: number;
  sensorNumber: number;
  /** Event/reading type with bit 7 = deassertion. */
  eventDirType: number;
  data: [number, number, number];
  /** Seconds since 1970; default now. */
  timestamp?: number;
}

export type BootDeviceName = 'none' | 'pxe' | 'disk' | 'cdrom' | 'bios' | string;

const BOOT_NAMES: Record<number, string> = { 0: 'none', 1: 'pxe', 2: 'disk', 3: 'disk-safe-mode', 4: 'diagnostic', 5: 'cdrom', 6: 'bios', 15: 'floppy' };

/** A one-time boot override the BMC holds longer than this is dropped (IPMI v2.0 section 28.12). */
const BOOT_FLAG_VALID_MS = 60_000;

const now = () => Math.floor(Date.now() / 1000);

export class BmcState extends EventEmitter {
  powerOn: boolean;
  identifyUntil = 0;
  identifyForced = false;
  /** Boot flags parameter (5 bytes) as last written. */
  bootFlags = Buffer.alloc(5);
  lastPowerEvent = 0;
  readonly sensors: SimSensor[];
  readonly sel: Array<{ id: number; record: Buffer }> = [];
  private nextSelId = 1;
  private selReservation = 0;
  private sdrReservation = 0;
  private selLastAdd = 0;
  private selLastErase = 0;
  private readonly sdrAddedAt = now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private bootFlagTimer?: NodeJS.Timeout;

  constructor(private readonly o: BmcStateOptions = {}) {
    super();
    this.powerOn = (o.power ?? 'on') === 'on';
    this.sensors = o.sensors ?? defaultSensors();
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    clearTimeout(this.bootFlagTimer);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  setPower(on: boolean, cause: string): void {
    if (this.powerOn === on) return;
    this.powerOn = on;
    if (on) this.consumeBootFlags();
    this.emit('power', { state: on ? 'on' : 'off', cause });
  }

  /** On a boot, a valid one-time override is used and cleared. */
  private consumeBootFlags(): void {
    const valid = (this.bootFlags[0] & 0x80) !== 0;
    const device = BOOT_NAMES[(this.bootFlags[1] >> 2) & 0x0f] ?? 'other';
    this.emit('boot', { device: valid ? device : 'default', efi: valid && (this.bootFlags[0] & 0x20) !== 0 });
    if (valid && !(this.bootFlags[0] & 0x40)) {
      this.bootFlags = Buffer.alloc(5);
      clearTimeout(this.bootFlagTimer);
    }
  }

  get bootDevice(): { device: BootDeviceName; valid: boolean; persistent: boolean; efi: boolean } {
    return { device: BOOT_NAMES[(this.bootFlags[1] >> 2) & 0x0f] ?? 'other', valid: (this.bootFlags[0] & 0x80) !== 0, persistent: (this.bootFlags[0] & 0x40) !== 0, efi: (this.bootFlags[0] & 0x20) !== 0 };
  }

  deviceId(): number[] {
    const mfg = this.o.manufacturerId ?? 0;
    const product = this.o.productId ?? 0x4f4f;
    // device ID, revision, firmware 1.23, IPMI 2.0, chassis + SEL + SDR repository + sensor device
    return [0x20, 0x01, 0x01, 0x23, 0x02, 0x87, mfg & 0xff, (mfg >> 8) & 0xff, (mfg >> 16) & 0x0f, product & 0xff, product >> 8];
  }

  addSelEvent(e: SimSelEvent): number {
    const capacity = this.o.selCapacity ?? 512;
    if (this.sel.length >= capacity) return 0;
    const id = this.nextSelId++;
    if (this.nextSelId >= 0xfffe) this.nextSelId = 1;
    const r = Buffer.alloc(16);
    r.writeUInt16LE(id, 0);
    r[2] = 0x02;
    r.writeUInt32LE(e.timestamp ?? now(), 3);
    r.writeUInt16LE(0x0020, 7); // generator: the BMC itself
    r[9] = 0x04;
    r[10] = e.sensorType;
    r[11] = e.sensorNumber;
    r[12] = e.eventDirType;
    r[13] = e.data[0];
    r[14] = e.data[1];
    r[15] = e.data[2];
    this.sel.push({ id, record: r });
    this.selLastAdd = now();
    this.selReservation = 0;
    this.emit('sel', { id });
    return id;
  }

  clearSel(): void {
    this.sel.length = 0;
    this.selLastErase = now();
    this.selReservation = 0;
  }

  sensorByName(name: string): SimSensor | undefined {
    return this.sensors.find((s) => s.name === name);
  }

  /** Answers one command that is not about sessions: [completion code, data]. */
  handle(netFn: number, cmd: number, b: Buffer): [number, number[] | Buffer] {
    if (netFn === NETFN.chassis) return this.chassis(cmd, b);
    if (netFn === NETFN.storage) return this.storage(cmd, b);
    if (netFn === NETFN.sensorEvent && cmd === CMD.getSensorReading) return this.sensorReading(b);
    if (netFn === NETFN.sensorEvent && cmd === CMD.getSensorThresholds) return this.sensorThresholds(b);
    return [0xc1, []];
  }

  private chassis(cmd: number, b: Buffer): [number, number[] | Buffer] {
    switch (cmd) {
      case CMD.getChassisStatus: {
        const identifying = this.identifyForced ? 0x20 : Date.now() < this.identifyUntil ? 0x10 : 0;
        return [0, [(this.powerOn ? 0x01 : 0) | (0x02 << 5), this.lastPowerEvent, 0x40 | identifying, 0x00]];
      }
      case CMD.chassisControl: {
        if (b.length < 1) return [0xc7, []];
        return [this.control(b[0] & 0x0f), []];
      }
      case CMD.chassisIdentify: {
        const seconds = b.length >= 1 ? b[0] : 15;
        this.identifyForced = b.length >= 2 && (b[1] & 0x01) === 1;
        this.identifyUntil = Date.now() + seconds * 1000;
        this.emit('identify', { seconds, forced: this.identifyForced });
        return [0, []];
      }
      case CMD.setSystemBootOptions: {
        if (b.length < 1) return [0xc7, []];
        const param = b[0] & 0x7f;
        if (param === 5) {
          if (b.length < 6) return [0xc7, []];
          this.bootFlags = Buffer.from(b.subarray(1, 6));
          clearTimeout(this.bootFlagTimer);
          if (this.bootFlags[0] & 0x80 && !(this.bootFlags[0] & 0x40)) {
            this.bootFlagTimer = setTimeout(() => (this.bootFlags[0] &= 0x7f), BOOT_FLAG_VALID_MS);
            this.bootFlagTimer.unref();
          }
          return [0, []];
        }
        // set-in-progress, valid-bit clearing, boot info acknowledge: accepted, nothing to keep
        if (param === 0 || param === 3 || param === 4) return [0, []];
        return [0x80, []]; // parameter not supported
      }
      case CMD.getSystemBootOptions: {
        const param = (b[0] ?? 0) & 0x7f;
        if (param === 5) return [0, [0x01, 0x05, ...this.bootFlags]];
        if (param === 0) return [0, [0x01, 0x00, 0x00]];
        return [0x80, []];
      }
    }
    return [0xc1, []];
  }

  private control(action: number): number {
    const cycleMs = this.o.cycleMs ?? 1000;
    switch (action) {
      case 0x00:
        this.setPower(false, 'power-down');
        return 0;
      case 0x01:
        this.lastPowerEvent = 0x10;
        this.setPower(true, 'power-up');
        return 0;
      case 0x02:
        if (!this.powerOn) return 0xd5;
        this.setPower(false, 'power-cycle');
        this.later(cycleMs, () => this.setPower(true, 'power-cycle'));
        return 0;
      case 0x03:
        if (!this.powerOn) return 0xd5;
        this.consumeBootFlags();
        this.emit('power', { state: 'on', cause: 'hard-reset' });
        return 0;
      case 0x04:
        if (!this.powerOn) return 0xd5;
        this.emit('power', { state: 'on', cause: 'diagnostic-interrupt' });
        return 0;
      case 0x05:
        if (!this.powerOn) return 0xd5;
        this.later(this.o.softOffMs ?? 500, () => this.setPower(false, 'soft-shutdown'));
        return 0;
    }
    return 0xcc;
  }

  private storage(cmd: number, b: Buffer): [number, number[] | Buffer] {
    switch (cmd) {
      case CMD.getSelInfo: {
        const d = Buffer.alloc(14);
        d[0] = 0x51;
        d.writeUInt16LE(this.sel.length, 1);
        d.writeUInt16LE(Math.max(0, ((this.o.selCapacity ?? 512) - this.sel.length) * 16), 3);
        d.writeUInt32LE(this.selLastAdd || 0xffffffff, 5);
        d.writeUInt32LE(this.selLastErase || 0xffffffff, 9);
        d[13] = 0x02; // reserve supported
        return [0, d];
      }
      case CMD.reserveSel:
        this.selReservation = randomInt(1, 0xffff);
        return [0, [this.selReservation & 0xff, this.selReservation >> 8]];
      case CMD.getSelEntry: {
        if (b.length < 6) return [0xc7, []];
        const reservation = b.readUInt16LE(0);
        const id = b.readUInt16LE(2);
        const offset = b[4];
        const length = b[5];
        if (offset !== 0 && reservation !== this.selReservation) return [0xc5, []];
        if (this.sel.length === 0) return [0xcb, []];
        const at = id === 0x0000 ? 0 : id === 0xffff ? this.sel.length - 1 : this.sel.findIndex((e) => e.id === id);
        if (at < 0) return [0xcb, []];
        const next = at + 1 < this.sel.length ? this.sel[at + 1].id : 0xffff;
        const rec = this.sel[at].record;
        const part = rec.subarray(offset, length === 0xff ? 16 : offset + length);
        return [0, Buffer.concat([Buffer.from([next & 0xff, next >> 8]), part])];
      }
      case CMD.clearSel: {
        if (b.length < 6) return [0xc7, []];
        if (b.readUInt16LE(0) !== this.selReservation || this.selReservation === 0) return [0xc5, []];
        if (b[2] !== 0x43 || b[3] !== 0x4c || b[4] !== 0x52) return [0xcc, []];
        if (b[5] === 0xaa) this.clearSel();
        else if (b[5] !== 0x00) return [0xcc, []];
        return [0, [0x01]];
      }
      case CMD.getSdrRepositoryInfo: {
        const d = Buffer.alloc(14);
        d[0] = 0x51;
        d.writeUInt16LE(this.sensors.length, 1);
        d.writeUInt16LE(0xffff, 3);
        d.writeUInt32LE(this.sdrAddedAt, 5);
        d.writeUInt32LE(0xffffffff, 9);
        d[13] = 0x02;
        return [0, d];
      }
      case CMD.reserveSdrRepository:
        this.sdrReservation = randomInt(1, 0xffff);
        return [0, [this.sdrReservation & 0xff, this.sdrReservation >> 8]];
      case CMD.getSdr: {
        if (b.length < 6) return [0xc7, []];
        const reservation = b.readUInt16LE(0);
        const id = b.readUInt16LE(2);
        const offset = b[4];
        const length = b[5];
        if (offset !== 0 && reservation !== this.sdrReservation) return [0xc5, []];
        const index = id === 0 ? 0 : id - 1;
        const s = this.sensors[index];
        if (!s) return [0xcb, []];
        const rec = sensorRecord(s, index + 1);
        if (offset >= rec.length) return [0xc9, []];
        // Like real BMCs, refuse a read larger than a LAN answer can carry.
        if (length !== 0xff && length > 32) return [0xca, []];
        const end = length === 0xff ? rec.length : Math.min(rec.length, offset + length);
        if (length === 0xff && rec.length > 32) return [0xca, []];
        const next = index + 1 < this.sensors.length ? index + 2 : 0xffff;
        return [0, Buffer.concat([Buffer.from([next & 0xff, next >> 8]), rec.subarray(offset, end)])];
      }
    }
    return [0xc1, []];
  }

  private sensorThresholds(b: Buffer): [number, number[]] {
    const s = this.sensors.find((x) => x.number === b[0]);
    if (!s) return [0xcb, []];
    if (s.kind !== 'analog') return [0xcd, []];
    const t = s.thresholds;
    const mask = (t.lnc !== undefined ? 0x01 : 0) | (t.lc !== undefined ? 0x02 : 0) | (t.lnr !== undefined ? 0x04 : 0) | (t.unc !== undefined ? 0x08 : 0) | (t.uc !== undefined ? 0x10 : 0) | (t.unr !== undefined ? 0x20 : 0);
    return [0, [mask, t.lnc ?? 0, t.lc ?? 0, t.lnr ?? 0, t.unc ?? 0, t.uc ?? 0, t.unr ?? 0]];
  }

  private sensorReading(b: Buffer): [number, number[]] {
    const s = this.sensors.find((x) => x.number === b[0]);
    if (!s) return [0xcb, []];
    if (s.kind === 'analog') return [0, [s.raw & 0xff, 0xc0, 0xc0 | thresholdStatusBits(s)]];
    return [0, [0x00, 0xc0, s.states & 0xff, 0x80 | ((s.states >> 8) & 0x7f)]];
  }
}
