/**
 * PET trap datagrams for the alert benchmarks, made the same way in every process that needs
 * them (the senders, and the receiving side that times them): trap i is a function of i alone.
 *
 * Trap i comes from sender address i % sources, and each sender counts its own PET sequence
 * numbers and seconds, as a device does. Its condition (sender x kind x sensor number) differs
 * from that of the sources x 32 x 255 traps around it, so alert-in opens a dedup key for each and
 * emits it: the worst case for its work and its memory. (After that many, a condition comes back;
 * by then alert-in, which keeps at most 50,000 open keys, has long forgotten it.)
 */
import { encodePet, PET_ENTERPRISE, PET_VARBIND_OID, specificTrapOf } from '../lib/asf/pet';
import type { Rule } from '../lib/alerts/policy';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

/** Sensor type, event type, offset and PET severity of the conditions the traps cycle through. */
const KINDS: Array<[sensorType: number, eventType: number, offset: number, severity: number]> = [
  [0x05, 0x6f, 0, 0x10], // chassis-intrusion
  [0x05, 0x6f, 1, 0x10],
  [0x05, 0x6f, 4, 0x08], // lan-leash-lost
  [0x04, 0x01, 2, 0x10], // fan-failure (lower critical going low)
  [0x04, 0x01, 0, 0x08], // fan-failure (lower non-critical going low)
  [0x01, 0x01, 9, 0x10], // temperature-high (upper critical going high)
  [0x01, 0x01, 7, 0x08], // temperature-high (upper non-critical going high)
  [0x02, 0x01, 2, 0x10], // voltage-low
  [0x02, 0x01, 9, 0x10], // voltage-high
  [0x06, 0x6f, 1, 0x08], // security-violation
  [0x06, 0x6f, 5, 0x08],
  [0x07, 0x6f, 0, 0x10], // processor-error
  [0x07, 0x6f, 1, 0x10], // processor-thermal-trip
  [0x07, 0x6f, 10, 0x04], // processor-throttled
  [0x08, 0x6f, 1, 0x10], // power-supply-failure
  [0x08, 0x6f, 3, 0x08], // power-supply-ac-lost
  [0x09, 0x6f, 6, 0x10], // power-failure
  [0x0c, 0x6f, 0, 0x04], // memory-ecc-correctable
  [0x0c, 0x6f, 1, 0x10], // memory-ecc-uncorrectable
  [0x0c, 0x6f, 3, 0x10], // memory-error
  [0x0d, 0x6f, 1, 0x08], // drive-fault
  [0x0d, 0x6f, 2, 0x04],
  [0x0f, 0x6f, 0, 0x08], // bios-post-error
  [0x0f, 0x6f, 1, 0x10], // firmware-hang
  [0x10, 0x6f, 4, 0x04], // event-log-full
  [0x12, 0x6f, 2, 0x08], // system-event
  [0x13, 0x6f, 8, 0x10], // critical-interrupt
  [0x1e, 0x6f, 0, 0x08], // boot-failure
  [0x1e, 0x6f, 2, 0x08],
  [0x23, 0x6f, 0, 0x10], // os-watchdog
  [0x28, 0x6f, 2, 0x08], // management-health
  [0x29, 0x6f, 1, 0x08], // battery-failed
];

/** Offsets of the PET varbind's sequence number, timestamp and sensor number inside the varbind. */
const SEQUENCE_AT = 16;
const TIME_AT = 18;
const SENSOR_AT = 28;
const FIRST_SECOND = 1_600_000_000;

/** One trap as net-snmp's sender writes it, and where its PET varbind starts. */
function template(kind: (typeof KINDS)[number]): { bytes: Buffer; pet: number } {
  const [sensorType, eventType, offset, severity] = kind;
  const varbind = encodePet({ sequence: 0, sensorNumber: 0, entity: 0x17, severity, time: FIRST_SECOND, guid: Buffer.from('00112233445566778899aabbccddeeff', 'hex') });
  let bytes: Buffer | undefined;
  const session = snmp.createSession('127.0.0.1', 'public', { version: snmp.Version1, trapPort: 9 });
  session.dgram.send = (buf: Buffer, _o: number, _l: number, _p: number, _h: string, cb?: () => void) => {
    bytes = Buffer.from(buf);
    cb?.();
  };
  session.trap(`${PET_ENTERPRISE}.${specificTrapOf({ sensorType, eventType, offset })}`, [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: varbind }], { agentAddr: '10.0.0.1' }, () => undefined);
  session.close();
  if (!bytes) throw new Error('net-snmp wrote no trap');
  return { bytes, pet: bytes.indexOf(varbind) };
}

/**
 * Makes trap i of the sequence, for `sources` sender addresses. With `conditions`, trap i reports
 * the condition of trap i % conditions (with its own sequence number and time): the same few
 * conditions over and over, as a flapping sensor or a device repeating its traps does.
 */
export class TrapMaker {
  private readonly templates = KINDS.map(template);

  constructor(
    readonly sources: number,
    readonly conditions = Infinity,
  ) {}

  /** Index of the sender address trap i comes from. */
  source(i: number): number {
    return i % this.sources;
  }

  /** The PET sequence number of trap i (its sender's count, modulo 2^16). */
  sequence(i: number): number {
    return Math.floor(i / this.sources) & 0xffff;
  }

  datagram(i: number): Buffer {
    const perSource = Math.floor(i / this.sources);
    const condition = Math.floor((i % this.conditions) / this.sources);
    const t = this.templates[condition % KINDS.length];
    const b = Buffer.from(t.bytes);
    b.writeUInt16BE(perSource & 0xffff, t.pet + SEQUENCE_AT);
    // A second later per trap of a sender, as a device's clock moves on.
    b.writeUInt32BE(b.readUInt32BE(t.pet + TIME_AT) + perSource, t.pet + TIME_AT);
    b[t.pet + SENSOR_AT] = Math.floor(condition / KINDS.length) % 255;
    return b;
  }
}

export interface Pool {
  /** Index into the sender addresses, per datagram. */
  source: Uint8Array;
  datagrams: Buffer[];
}

/** The first `n` traps, made in advance (for the in-process benchmarks). */
export function trapPool(n: number, sources: number): Pool {
  const maker = new TrapMaker(sources);
  const source = new Uint8Array(n);
  const datagrams: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    source[i] = maker.source(i);
    datagrams.push(maker.datagram(i));
  }
  return { source, datagrams };
}

/** Addresses the senders send from (all on loopback): 127.0.1.1 ... */
export function senderAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.1.${i + 1}`);
}

/** The PET sequence number in a PET varbind (what the receivers time each trap by). */
export function sequenceOfVarbind(varbind: Buffer): number {
  return varbind.readUInt16BE(SEQUENCE_AT);
}

/** 20 rules a real policy might have; none drops the benchmark's traps. */
export function twentyRules(): Rule[] {
  const rules: Rule[] = [];
  for (let i = 0; i < 17; i++) rules.push({ match: { kind: `kind-${i}-*`, site: `branch-${i}` }, action: i % 2 ? 'drop' : 'route', output: 1 });
  rules.push({ match: { kind: 'chassis-*, os-watchdog' }, action: 'severity', severity: 'critical' });
  rules.push({ match: { severity: '<=info', source: 'eventlog' }, action: 'drop' });
  rules.push({ match: { severity: '>=major' }, action: 'route', output: 2 });
  return rules;
}
