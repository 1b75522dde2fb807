/**
 * MAC addresses as people write them: `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, Cisco's
 * `aabb.ccdd.eeff`, or 12 bare hex digits, in any case. Anything else is an InputError naming the
 * value, so a typo in a flow is found at once and not by a PC that stays off.
 */
import { clip, InputError } from '../errors';

const COLONS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const DASHES = /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/i;
const DOTS = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i;
const BARE = /^[0-9a-f]{12}$/i;

/** The 6 bytes of a MAC address; throws an InputError for anything that is not one. */
export function parseMac(value: unknown, what = 'MAC address'): Buffer {
  if (Buffer.isBuffer(value)) {
    if (value.length !== 6) throw new InputError(`${what} must be 6 bytes, got ${value.length}`);
    return Buffer.from(value);
  }
  if (typeof value !== 'string') throw new InputError(`${what} must be text like aa:bb:cc:dd:ee:ff, got ${describe(value)}`);
  const s = value.trim();
  if (!(COLONS.test(s) || DASHES.test(s) || DOTS.test(s) || BARE.test(s))) {
    throw new InputError(`${what} "${clip(value, 40)}" is not a MAC address (use aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or 12 hex digits)`);
  }
  return Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
}

/** Canonical form: lower case, colon separated. */
export function formatMac(mac: Buffer): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Parse and give back the canonical form. */
export function normalizeMac(value: unknown, what?: string): string {
  return formatMac(parseMac(value, what));
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
