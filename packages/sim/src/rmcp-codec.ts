/**
 * The RMCP bytes a simulated AMT management engine reads and writes on UDP 623, written for the
 * simulator from ASF 2.0 (DMTF DSP0136, section 3.2: the RMCP header, the ASF message header, the
 * Presence Ping and Presence Pong messages). Kept apart from lib/asf so that a test that pings a
 * simulated PC through lib checks lib against an independent reading, not against itself.
 *
 *   RMCP header (4)   version 06h, reserved 00h, sequence number (FFh: no ACK), class of message
 *                     (bits 4:0; 06h ASF; bit 7 set: this is an ACK)
 *   ASF header (8)    IANA 4542 (000011BEh), message type (80h ping, 40h pong), message tag,
 *                     reserved 00h, data length
 *   Pong data (16)    IANA, OEM-defined (4), supported entities (bit 7 IPMI, bits 3:0 ASF
 *                     version), supported interactions (bit 5 DASH), reserved (6)
 */

const RMCP_VERSION_1_0 = 0x06;
const CLASS_ASF = 0x06;
const ACK_FLAG = 0x80;
const NO_ACK_SEQUENCE = 0xff;
const ASF_ENTERPRISE = 4542;
const PING = 0x80;
const PONG = 0x40;

export interface SimPing {
  sequence: number;
  tag: number;
  /** The sender wants an RMCP ACK first (sequence number other than FFh). */
  wantsAck: boolean;
}

/** A Presence Ping, or undefined for anything else (never throws). */
export function readPing(b: Buffer): SimPing | undefined {
  // 4 + 8 bytes, data length 0 (bytes after them are not looked at).
  if (b.length < 12) return undefined;
  if (b[0] !== RMCP_VERSION_1_0 || b[1] !== 0x00) return undefined;
  if (b[3] !== CLASS_ASF) return undefined;
  const enterprise = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
  if (enterprise !== ASF_ENTERPRISE || b[8] !== PING || b[11] !== 0) return undefined;
  return { sequence: b[2], tag: b[9], wantsAck: b[2] !== NO_ACK_SEQUENCE };
}

/** The RMCP ACK of a message: its header, with the ACK bit set in the class. */
export function ackFor(sequence: number): Buffer {
  return Buffer.from([RMCP_VERSION_1_0, 0x00, sequence, CLASS_ASF | ACK_FLAG]);
}

export interface SimPongFacts {
  /** The IANA number of the pong data (Intel: 343). */
  enterprise: number;
  /** The 4 OEM-defined bytes. */
  oem: [number, number, number, number];
  ipmi: boolean;
  dash: boolean;
}

/** A Presence Pong answering `tag`; pongs ask for no ACK. */
export function pong(tag: number, f: SimPongFacts): Buffer {
  const e = f.enterprise >>> 0;
  const asfHeader = [0x00, 0x00, 0x11, 0xbe, PONG, tag, 0x00, 16];
  const data = [(e >>> 24) & 0xff, (e >>> 16) & 0xff, (e >>> 8) & 0xff, e & 0xff, ...f.oem, (f.ipmi ? 0x80 : 0) | 0x01, f.dash ? 0x20 : 0x00, 0, 0, 0, 0, 0, 0];
  return Buffer.from([RMCP_VERSION_1_0, 0x00, NO_ACK_SEQUENCE, CLASS_ASF, ...asfHeader, ...data]);
}

/**
 * AMT's OEM bytes, as Intel's own scanner in MeshCentral reads them (Intel publishes no layout):
 * the WS-Management port (big-endian), then major.minor in one byte's two nibbles, then the
 * provisioning state in bits 1:0 (2 = provisioned).
 */
export function amtOem(port: number, version: string, provisioning: 0 | 1 | 2): [number, number, number, number] {
  const [major, minor] = version.split('.').map((x) => Math.min(15, Number(x) || 0));
  return [(port >> 8) & 0xff, port & 0xff, (major << 4) | (minor ?? 0), provisioning];
}
