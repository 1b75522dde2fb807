/**
 * The Platform Event Trap a simulated AMT PC sends, written from the layout in IPMI's "Platform
 * Event Trap Format Specification" 1.0 (table 3) and ASF 2.0 (section 3.1.5), not from the
 * client's decoder:
 *
 *   trap: SNMPv1, enterprise 1.3.6.1.4.1.3183.1.1 (wired-for-management PET), generic trap 6
 *         (enterpriseSpecific), specific trap = sensor type << 16 | event type << 8 |
 *         (deassertion ? 0x80 : 0) | event offset; one OCTET STRING varbind 1.3.6.1.4.1.3183.1.1.1.
 *   varbind, big-endian:
 *     0  GUID (16)               16 sequence number (2)       18 local timestamp (4, seconds
 *     since 1998-01-01 00:00, 0 = unspecified)                 22 UTC offset (2, minutes,
 *     FFFFh = unspecified)        24 trap source type (1)       25 event source type (1)
 *     26 event severity (1)      27 sensor device (1)          28 sensor number (1)
 *     29 entity (1)              30 entity instance (1)        31 event data 1..8 (8, unused FFh)
 *     39 language code (1)       40 manufacturer IANA (4)      44 system ID (2)
 *     46 OEM custom fields, ended by C1h.
 */

export const SIM_PET_ENTERPRISE = '1.3.6.1.4.1.3183.1.1';
export const SIM_PET_VARBIND = '1.3.6.1.4.1.3183.1.1.1';

/** 1998-01-01T00:00:00Z in Unix seconds: where PET time starts. */
const PET_TIME_ZERO = Date.UTC(1998, 0, 1) / 1000;

/** Trap source: "BIOS/platform firmware" sources start at 20h (ASF 2.0 table, IPMI System Software IDs). */
const TRAP_SOURCE_FIRMWARE = 0x20;
/** Event source: 68h, "ASF 1.0" (the alerting device is an ASF/AMT management controller). */
const EVENT_SOURCE_ASF = 0x68;
/** Sensor device and number FFh: unspecified. */
const UNSPECIFIED = 0xff;
/** Language code 19h: English (IPMI FRU language codes). */
const LANGUAGE_ENGLISH = 0x19;
/** Intel's IANA enterprise number, the manufacturer AMT firmware reports. */
const INTEL_IANA = 343;
/** The type/length byte that ends the OEM custom fields. */
export const SIM_PET_OEM_END = 0xc1;

export interface SimPetEvent {
  guid: Buffer;
  sequence: number;
  /** Unix seconds. */
  unixTime: number;
  utcOffsetMinutes: number;
  severity: number;
  sensorNumber?: number;
  entity: number;
  /** Up to 8 event data bytes; the rest are FFh. */
  eventData: number[];
}

export function simSpecificTrap(sensorType: number, eventType: number, offset: number, deassert: boolean): number {
  return sensorType * 0x10000 + eventType * 0x100 + (deassert ? 0x80 : 0) + (offset & 0x0f);
}

export function encodeSimPet(e: SimPetEvent): Buffer {
  const out = Buffer.alloc(47, UNSPECIFIED);
  e.guid.copy(out, 0, 0, 16);
  out.writeUInt16BE(e.sequence & 0xffff, 16);
  out.writeUInt32BE(e.unixTime > PET_TIME_ZERO ? e.unixTime - PET_TIME_ZERO : 0, 18);
  out.writeInt16BE(e.utcOffsetMinutes, 22);
  out[24] = TRAP_SOURCE_FIRMWARE;
  out[25] = EVENT_SOURCE_ASF;
  out[26] = e.severity;
  out[27] = UNSPECIFIED;
  out[28] = e.sensorNumber ?? UNSPECIFIED;
  out[29] = e.entity;
  out[30] = 0;
  e.eventData.slice(0, 8).forEach((x, i) => (out[31 + i] = x));
  out[39] = LANGUAGE_ENGLISH;
  out.writeUInt32BE(INTEL_IANA, 40);
  out.writeUInt16BE(0, 44);
  out[46] = SIM_PET_OEM_END;
  return out;
}
