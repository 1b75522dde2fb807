/**
 * What a simulated NIC reads in a Wake-on-LAN datagram, written for the simulator from the Magic
 * Packet definition (AMD's white paper: six FFh bytes, then the station's MAC sixteen times,
 * anywhere in the frame) and the SecureOn password convention (4 or 6 bytes right after the
 * sixteenth copy, as ether-wake writes them). Kept apart from lib/wol so that a test that wakes a
 * simulated PC through lib checks lib against an independent reading, not against itself.
 */

const COPIES = 16;
const MAC_LEN = 6;
const SYNC_LEN = 6;
const PATTERN_LEN = SYNC_LEN + COPIES * MAC_LEN;

export interface NicWake {
  /** The 6 MAC bytes the pattern repeats. */
  mac: Buffer;
  /** Every byte after the sixteenth copy to the end of the datagram. */
  trailer: Buffer;
}

function isPatternAt(b: Buffer, at: number): boolean {
  for (let i = 0; i < SYNC_LEN; i++) if (b[at + i] !== 0xff) return false;
  const first = at + SYNC_LEN;
  for (let copy = 1; copy < COPIES; copy++) {
    const start = first + copy * MAC_LEN;
    for (let i = 0; i < MAC_LEN; i++) if (b[start + i] !== b[first + i]) return false;
  }
  return true;
}

/**
 * Every wake pattern in a datagram, first to last (a NIC wakes for its own MAC wherever it sits).
 * Work is bounded by the datagram's length times the pattern's (the listener caps datagrams).
 */
export function findWakePatterns(b: Buffer): NicWake[] {
  const found: NicWake[] = [];
  for (let at = 0; at + PATTERN_LEN <= b.length; at++) {
    if (!isPatternAt(b, at)) continue;
    const macStart = at + SYNC_LEN;
    found.push({ mac: Buffer.from(b.subarray(macStart, macStart + MAC_LEN)), trailer: Buffer.from(b.subarray(at + PATTERN_LEN)) });
  }
  return found;
}

/** "aa:bb:cc:dd:ee:ff" (or with dashes, or none) as 6 bytes; undefined when it is not one. */
export function macBytes(mac: string): Buffer | undefined {
  const hex = mac.replace(/[:-]/g, '');
  return /^[0-9a-fA-F]{12}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/**
 * A SecureOn password as a simulated PC is configured with it: "a.b.c.d" (4 bytes) or six (or
 * four) hex bytes with ":" or "-" between them or none. Throws for anything else.
 */
export function secureOnBytes(text: string): Buffer {
  const s = text.trim();
  const dotted = s.split('.');
  if (dotted.length === 4 && dotted.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return Buffer.from(dotted.map(Number));
  // Pairs of hex digits, one separator (or none) used throughout, 4 or 6 pairs.
  if (/^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){2}((\1[0-9a-f]{2}){2})?$/i.test(s)) return Buffer.from(s.replace(/[:-]/g, ''), 'hex');
  throw new Error('a SecureOn password is 4 bytes (a.b.c.d or 8 hex digits) or 6 bytes (aa:bb:cc:dd:ee:ff)');
}
