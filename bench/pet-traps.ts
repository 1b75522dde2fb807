/**
 * PET trap datagrams for the alert benchmarks, and the file the sender process reads them from.
 *
 * Every trap of a pool is a different condition (sender x kind x sensor number), so that alert-in
 * opens a dedup key for each and emits it: the worst case for its work and its memory. Each
 * sender address counts its own PET sequence numbers, as a device does.
 */
import * as fs from 'node:fs';
import { encodePet, PET_ENTERPRISE, PET_VARBIND_OID, specificTrapOf } from '../lib/asf/pet';
import type { Rule } from '../lib/alerts/policy';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

/** Sensor type, event type, offset and PET severity of the kinds the pool cycles through. */
const KINDS: Array<[sensorType: number, eventType: number, offset: number, severity: number]> = [
  [0x05, 0x6f, 0, 0x10], // chassis-intrusion
  [0x04, 0x01, 2, 0x10], // fan-failure (lower critical going low)
  [0x01, 0x01, 9, 0x10], // temperature-high (upper critical going high)
  [0x08, 0x6f, 1, 0x10], // power-supply-failure
  [0x0c, 0x6f, 1, 0x10], // memory-ecc-uncorrectable
  [0x1e, 0x6f, 0, 0x08], // boot-failure
  [0x23, 0x6f, 0, 0x10], // os-watchdog
  [0x0d, 0x6f, 1, 0x08], // drive-fault
];

/** Offsets of the PET varbind's sequence number, timestamp and sensor number inside the varbind. */
const SEQUENCE_AT = 16;
const SENSOR_AT = 28;
const TIME_AT = 18;

/** One trap as net-snmp's sender writes it, and where its PET varbind starts. */
function template(kind: (typeof KINDS)[number]): { bytes: Buffer; pet: number } {
  const [sensorType, eventType, offset, severity] = kind;
  const varbind = encodePet({ sequence: 0, sensorNumber: 0, entity: 0x17, severity, time: 1_600_000_000, guid: Buffer.from('00112233445566778899aabbccddeeff', 'hex') });
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

export interface Pool {
  /** Index into the sender addresses, per datagram. */
  source: Uint8Array;
  datagrams: Buffer[];
}

/** Addresses the sender sends from (all on loopback): 127.0.1.1 ... */
export function senderAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.1.${i + 1}`);
}

/**
 * `n` traps from `sources` senders. Trap i comes from sender i % sources; its kind and sensor
 * number make its condition unique up to sources x 8 x 255 traps.
 */
export function trapPool(n: number, sources: number): Pool {
  if (n > sources * KINDS.length * 255) throw new Error(`a pool of ${n} would repeat conditions`);
  const templates = KINDS.map(template);
  const source = new Uint8Array(n);
  const datagrams: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const s = i % sources;
    const perSource = Math.floor(i / sources);
    const t = templates[perSource % KINDS.length];
    const b = Buffer.from(t.bytes);
    b.writeUInt16BE(perSource & 0xffff, t.pet + SEQUENCE_AT);
    // A second later per trap of a sender, as a device's clock moves on.
    b.writeUInt32BE(b.readUInt32BE(t.pet + TIME_AT) + perSource, t.pet + TIME_AT);
    b[t.pet + SENSOR_AT] = Math.floor(perSource / KINDS.length) % 255;
    source[i] = s;
    datagrams.push(b);
  }
  return { source, datagrams };
}

/** The PET sequence number of a pool datagram (what the receivers use to time each trap). */
export function sequenceOfVarbind(varbind: Buffer): number {
  return varbind.readUInt16BE(SEQUENCE_AT);
}

/** Pool file: per datagram, source index (1 byte), length (2 bytes, big-endian), bytes. */
export function writePool(file: string, pool: Pool): void {
  const parts: Buffer[] = [];
  pool.datagrams.forEach((d, i) => {
    const head = Buffer.alloc(3);
    head[0] = pool.source[i];
    head.writeUInt16BE(d.length, 1);
    parts.push(head, d);
  });
  fs.writeFileSync(file, Buffer.concat(parts));
}

export function readPool(file: string): Pool {
  const b = fs.readFileSync(file);
  const sources: number[] = [];
  const datagrams: Buffer[] = [];
  for (let at = 0; at < b.length; ) {
    sources.push(b[at]);
    const len = b.readUInt16BE(at + 1);
    datagrams.push(b.subarray(at + 3, at + 3 + len));
    at += 3 + len;
  }
  return { source: Uint8Array.from(sources), datagrams };
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
