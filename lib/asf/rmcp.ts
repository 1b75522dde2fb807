/**
 * RMCP (ASF 2.0, DMTF DSP0136) presence ping and pong, the bytes on UDP 623.
 *
 *   RMCP header   06 00 <seq> <class>        version 6; seq 0xFF = "no ACK wanted"; class 6 = ASF
 *                                            (bit 7 set = an RMCP ACK of that sequence number)
 *   ASF message   00 00 11 BE <type> <tag> 00 <len> <data>
 *                 IANA 4542 (ASF); type 0x80 = presence ping (len 0), 0x40 = presence pong (len 16)
 *   pong data     <IANA 4> <OEM 4> <entities> <interactions> <reserved 6>
 *     entities      bit 7 IPMI supported; bits 3:0 ASF version (1 = 1.0)
 *     interactions  bit 7 RMCP security extensions (RSP) supported, as FreeIPMI's pong template
 *                   reads ASF 2.0; bit 5 DMTF DASH supported (the DASH addition to ASF's pong; Intel
 *                   AMT sets it, and MeshCentral's scanner requires it of AMT)
 *
 * Intel AMT answers with Intel's IANA number 343 and puts AMT facts into the 4 OEM bytes. Intel
 * publishes no layout for them; the one used here is how MeshCentral's AMT scanner (Intel's own
 * Apache-2.0 code) reads them, and it is marked as such in what we return:
 *     OEM[0..1]  the port AMT listens on, big endian (16992, or 16993 with TLS)
 *     OEM[2]     version: major in the high nibble, minor in the low nibble
 *     OEM[3]     bits 1:0 provisioning state (0 pre, 1 in, 2 post); bit 2 both ports open
 */

export const RMCP_PORT = 623;
export const RMCP_VERSION = 0x06;
export const RMCP_NO_ACK = 0xff;
export const RMCP_CLASS_ASF = 0x06;
export const RMCP_CLASS_IPMI = 0x07;
export const RMCP_ACK_BIT = 0x80;
export const ASF_IANA = 4542;
export const INTEL_IANA = 343;
export const ASF_PRESENCE_PING = 0x80;
export const ASF_PRESENCE_PONG = 0x40;
export const PONG_DATA_BYTES = 16;
/** Tag 0xFF marks a one-way message in ASF; pings use 0..254. */
export const MAX_TAG = 0xfe;

const HEADER = 4;
const ASF_HEADER = 8;

/** 12 bytes: `06 00 ff 06 | 00 00 11 be | 80 <tag> 00 00`. */
export function buildPresencePing(tag: number, seq = RMCP_NO_ACK): Buffer {
  const b = Buffer.from([RMCP_VERSION, 0, seq & 0xff, RMCP_CLASS_ASF, 0, 0, 0, 0, ASF_PRESENCE_PING, tag & 0xff, 0, 0]);
  b.writeUInt32BE(ASF_IANA, 4);
  return b;
}

/** The 4-byte RMCP ACK of a message that asked for one (seq != 0xFF). */
export function buildRmcpAck(seq: number, cls = RMCP_CLASS_ASF): Buffer {
  return Buffer.from([RMCP_VERSION, 0, seq & 0xff, (cls & 0x1f) | RMCP_ACK_BIT]);
}

export interface AmtPongFacts {
  /** 16992 (HTTP) or 16993 (TLS), as the device reports it. */
  port: number;
  tls: boolean;
  /** "major.minor" from one byte: only 4 bits each. */
  version: string;
  provisioning: 'pre' | 'in' | 'post' | 'unknown';
  /** Both 16992 and 16993 open. */
  bothPorts: boolean;
}

export interface PongFields {
  /** The enterprise number in the pong data: 4542 plain ASF, 343 Intel (AMT)... */
  iana: number;
  /** The 4 OEM-defined bytes as a number. */
  oem: number;
  ipmi: boolean;
  /** ASF version from bits 3:0 of the supported entities ("1.0"), or null when 0. */
  asfVersion: string | null;
  securityExtensions: boolean;
  dash: boolean;
  /** Raw supported-entities and supported-interactions bytes. */
  entitiesByte: number;
  interactionsByte: number;
  /** Present when the pong carries Intel's IANA number. */
  amt?: AmtPongFacts;
}

export interface PongOptions {
  iana?: number;
  oem?: number;
  ipmi?: boolean;
  /** Bits 3:0 of supported entities (1 = ASF 1.0). */
  asfVersion?: number;
  securityExtensions?: boolean;
  dash?: boolean;
}

/** A presence pong (for simulators and tests): 28 bytes. */
export function buildPresencePong(tag: number, o: PongOptions = {}): Buffer {
  const b = Buffer.alloc(HEADER + ASF_HEADER + PONG_DATA_BYTES);
  b[0] = RMCP_VERSION;
  b[2] = RMCP_NO_ACK;
  b[3] = RMCP_CLASS_ASF;
  b.writeUInt32BE(ASF_IANA, 4);
  b[8] = ASF_PRESENCE_PONG;
  b[9] = tag & 0xff;
  b[11] = PONG_DATA_BYTES;
  b.writeUInt32BE((o.iana ?? ASF_IANA) >>> 0, 12);
  b.writeUInt32BE((o.oem ?? 0) >>> 0, 16);
  b[20] = (o.ipmi ? 0x80 : 0) | ((o.asfVersion ?? 1) & 0x0f);
  b[21] = (o.securityExtensions ? 0x80 : 0) | (o.dash ? 0x20 : 0);
  return b;
}

/** The OEM word AMT puts in its pong (layout as MeshCentral reads it, see the top of this file). */
export function amtOemWord(f: { port: number; major: number; minor: number; provisioning: 0 | 1 | 2; bothPorts?: boolean }): number {
  const versionByte = ((Math.min(f.major, 15) & 0x0f) << 4) | (Math.min(f.minor, 15) & 0x0f);
  const flags = (f.provisioning & 0x03) | (f.bothPorts ? 0x04 : 0);
  return (((f.port & 0xffff) << 16) | (versionByte << 8) | flags) >>> 0;
}

export type RmcpMessage =
  | { kind: 'ack'; seq: number; cls: number }
  | { kind: 'asf'; seq: number; type: number; tag: number; iana: number; data: Buffer }
  | { kind: 'other'; seq: number; cls: number };

/** Reads an RMCP datagram; undefined for anything that is not one (garbage never throws). */
export function readRmcp(b: Buffer): RmcpMessage | undefined {
  if (b.length < HEADER || b[0] !== RMCP_VERSION) return undefined;
  const seq = b[2];
  const cls = b[3];
  if (cls & RMCP_ACK_BIT) return b.length === HEADER ? { kind: 'ack', seq, cls: cls & 0x1f } : undefined;
  if ((cls & 0x1f) !== RMCP_CLASS_ASF) return { kind: 'other', seq, cls };
  if (b.length < HEADER + ASF_HEADER) return undefined;
  const len = b[11];
  if (b.length < HEADER + ASF_HEADER + len) return undefined;
  return { kind: 'asf', seq, type: b[8], tag: b[9], iana: b.readUInt32BE(4), data: Buffer.from(b.subarray(12, 12 + len)) };
}

/** Whether a datagram is a presence ping; returns its tag and sequence number. */
export function readPresencePing(b: Buffer): { tag: number; seq: number } | undefined {
  const m = readRmcp(b);
  if (!m || m.kind !== 'asf' || m.iana !== ASF_IANA || m.type !== ASF_PRESENCE_PING) return undefined;
  return { tag: m.tag, seq: m.seq };
}

/** The fields of a pong's 16 data bytes. */
export function decodePongData(d: Buffer): PongFields | undefined {
  if (d.length < 10) return undefined;
  const iana = d.readUInt32BE(0);
  const oem = d.readUInt32BE(4);
  const entities = d[8];
  const interactions = d[9];
  const asf = entities & 0x0f;
  const fields: PongFields = {
    iana,
    oem,
    ipmi: (entities & 0x80) !== 0,
    asfVersion: asf === 0 ? null : `${asf}.0`,
    securityExtensions: (interactions & 0x80) !== 0,
    dash: (interactions & 0x20) !== 0,
    entitiesByte: entities,
    interactionsByte: interactions,
  };
  if (iana === INTEL_IANA) fields.amt = decodeAmtOem(d.subarray(4, 8));
  return fields;
}

function decodeAmtOem(o: Buffer): AmtPongFacts {
  const port = o.readUInt16BE(0);
  const state = o[3] & 0x03;
  return {
    port,
    tls: port === 16993,
    version: `${o[2] >> 4}.${o[2] & 0x0f}`,
    provisioning: (['pre', 'in', 'post'] as const)[state] ?? 'unknown',
    bothPorts: (o[3] & 0x04) !== 0,
  };
}

/** A presence pong: its tag and decoded fields; undefined when the datagram is not a valid pong. */
export function readPresencePong(b: Buffer): ({ tag: number } & PongFields) | undefined {
  const m = readRmcp(b);
  if (!m || m.kind !== 'asf' || m.iana !== ASF_IANA || m.type !== ASF_PRESENCE_PONG) return undefined;
  const fields = decodePongData(m.data);
  return fields ? { tag: m.tag, ...fields } : undefined;
}
