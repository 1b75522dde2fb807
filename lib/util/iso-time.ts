/**
 * Date.prototype.toISOString for a time in milliseconds, about twice as fast for the years
 * 0000-9999 (every alert carries one; a trap flood makes tens of thousands a second) and as one
 * flat string. Other times, and anything that is not a finite number, go to toISOString.
 */
const DIGITS = Buffer.from('0123456789', 'latin1');
const DAY = 86_400_000;
/** 9999-12-31T23:59:59.999Z + 1 ms; the fast path starts at 0000-01-01T00:00:00.000Z. */
const END = 253_402_300_800_000;
const START = -62_167_219_200_000;

/** The last time written: alerts of a burst often carry the same time (devices count in seconds). */
let lastMs = Number.NaN;
let lastText = '';

export function isoTime(ms: number): string {
  if (ms === lastMs) return lastText;
  if (!(ms >= START && ms < END) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY);
  let rest = ms - days * DAY;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, eras of 400 years from 0000-03-01).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  const b = Buffer.allocUnsafe(24);
  b[0] = DIGITS[Math.floor(year / 1000)];
  b[1] = DIGITS[Math.floor(year / 100) % 10];
  b[2] = DIGITS[Math.floor(year / 10) % 10];
  b[3] = DIGITS[year % 10];
  b[4] = 0x2d; // -
  b[5] = DIGITS[Math.floor(month / 10)];
  b[6] = DIGITS[month % 10];
  b[7] = 0x2d;
  b[8] = DIGITS[Math.floor(day / 10)];
  b[9] = DIGITS[day % 10];
  b[10] = 0x54; // T
  b[11] = DIGITS[Math.floor(hour / 10)];
  b[12] = DIGITS[hour % 10];
  b[13] = 0x3a; // :
  b[14] = DIGITS[Math.floor(minute / 10)];
  b[15] = DIGITS[minute % 10];
  b[16] = 0x3a;
  b[17] = DIGITS[Math.floor(second / 10)];
  b[18] = DIGITS[second % 10];
  b[19] = 0x2e; // .
  b[20] = DIGITS[Math.floor(milli / 100)];
  b[21] = DIGITS[Math.floor(milli / 10) % 10];
  b[22] = DIGITS[milli % 10];
  b[23] = 0x5a; // Z
  lastMs = ms;
  lastText = b.toString('latin1');
  return lastText;
}
