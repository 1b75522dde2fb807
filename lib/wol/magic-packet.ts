/**
 * The Wake-on-LAN magic packet: 6 bytes of 0xFF (the sync stream), then the target MAC 16 times
 * (102 bytes), optionally followed by a SecureOn password of 4 or 6 bytes that NICs supporting it
 * compare before waking. A NIC looks for the pattern anywhere in a frame, so the parser does too.
 */
import { InputError } from '../errors';
import { formatMac, parseMac } from './mac';

export const SYNC_BYTES = 6;
export const MAC_REPEATS = 16;
export const MAGIC_PACKET_BYTES = SYNC_BYTES + 6 * MAC_REPEATS;
export const SECUREON_LENGTHS: readonly number[] = [4, 6];

/**
 * The bytes of a SecureOn password. 6 bytes are written like a MAC (aa:bb:cc:dd:ee:ff...), 4 bytes
 * as a dotted quad (192.168.1.1, as ether-wake takes it) or 8 hex digits with optional separators.
 * The error never repeats the value: it is a secret.
 */
export function parseSecureOn(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) {
    if (!SECUREON_LENGTHS.includes(value.length)) throw wrongLength(value.length);
    return Buffer.from(value);
  }
  if (typeof value !== 'string') throw new InputError('SecureOn password must be text');
  const s = value.trim();
  const quad = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (quad) {
    const bytes = quad.slice(1).map(Number);
    if (bytes.some((b) => b > 255)) throw new InputError('SecureOn password written as a.b.c.d needs numbers 0-255');
    return Buffer.from(bytes);
  }
  if (/^[0-9a-f]{2}([:-]?[0-9a-f]{2})*$/i.test(s)) {
    const hex = s.replace(/[:-]/g, '');
    if (!SECUREON_LENGTHS.includes(hex.length / 2)) throw wrongLength(hex.length / 2);
    // Mixed separators ("aa:bb-cc...") are not a way anyone writes these: refuse them.
    if (/:/.test(s) && /-/.test(s)) throw new InputError('SecureOn password mixes ":" and "-" separators');
    return Buffer.from(hex, 'hex');
  }
  throw new InputError('SecureOn password must be 4 bytes (a.b.c.d or 8 hex digits) or 6 bytes (aa:bb:cc:dd:ee:ff)');
}

function wrongLength(n: number): InputError {
  return new InputError(`SecureOn password is ${n} byte${n === 1 ? '' : 's'}; it must be 4 bytes (a.b.c.d or 8 hex digits) or 6 bytes (aa:bb:cc:dd:ee:ff)`);
}

/** The magic packet for one MAC, with the SecureOn password appended when given. */
export function buildMagicPacket(mac: Buffer | string, secureOn?: Buffer | string): Buffer {
  const m = parseMac(mac);
  const password = secureOn === undefined || secureOn === '' ? undefined : parseSecureOn(secureOn);
  const out = Buffer.alloc(MAGIC_PACKET_BYTES + (password?.length ?? 0), 0xff);
  for (let i = 0; i < MAC_REPEATS; i++) m.copy(out, SYNC_BYTES + 6 * i);
  if (password) password.copy(out, MAGIC_PACKET_BYTES);
  return out;
}

export interface MagicPacket {
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  /** The 4 or 6 bytes after the 16th repetition, when the payload ends with exactly that many. */
  secureOn?: Buffer;
  /** Where the sync stream starts in the payload. */
  offset: number;
}

/**
 * Finds a magic packet in a payload: a sync stream followed by 16 copies of one MAC. Trailing bytes
 * are a SecureOn password only when there are exactly 4 or 6 of them (as NICs read it).
 * Returns undefined when there is none.
 */
export function parseMagicPacket(payload: Buffer): MagicPacket | undefined {
  const last = payload.length - MAGIC_PACKET_BYTES;
  for (let at = 0; at <= last; at++) {
    if (payload[at] !== 0xff) continue;
    let run = 1;
    while (run < SYNC_BYTES && payload[at + run] === 0xff) run++;
    if (run < SYNC_BYTES) {
      at += run - 1;
      continue;
    }
    // More than six 0xFF in a row: the next position is tried on the following turn.
    const found = matchAt(payload, at + SYNC_BYTES);
    if (found) {
      const tail = payload.length - (at + MAGIC_PACKET_BYTES);
      const packet: MagicPacket = { mac: formatMac(found), offset: at };
      if (SECUREON_LENGTHS.includes(tail)) packet.secureOn = Buffer.from(payload.subarray(at + MAGIC_PACKET_BYTES));
      return packet;
    }
  }
  return undefined;
}

function matchAt(payload: Buffer, start: number): Buffer | undefined {
  if (start + 6 * MAC_REPEATS > payload.length) return undefined;
  const mac = payload.subarray(start, start + 6);
  for (let i = 1; i < MAC_REPEATS; i++) {
    if (!payload.subarray(start + 6 * i, start + 6 * i + 6).equals(mac)) return undefined;
  }
  return Buffer.from(mac);
}
