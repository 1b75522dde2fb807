/** Wake-on-LAN: MAC parsing, magic packets (with SecureOn) and paced UDP sending. */
export { parseMac, formatMac, normalizeMac } from './mac';
export { buildMagicPacket, parseMagicPacket, parseSecureOn, MAGIC_PACKET_BYTES, SECUREON_LENGTHS } from './magic-packet';
export type { MagicPacket } from './magic-packet';
export { wake, planWake, sendPlan, MAX_MACS_PER_WAKE, resolveWakeAddress, sourceAddressFor, WOL_DEFAULT_PORT, LIMITED_BROADCAST, DEFAULTS as WAKE_DEFAULTS } from './send';
export type { WakeOptions, WakeResult, WakePlan } from './send';
