import fc from 'fast-check';
import { isoTime } from './iso-time';

describe('isoTime', () => {
  it('writes what toISOString writes, for every millisecond of the years 0000-9999', () => {
    const start = new Date('0000-01-01T00:00:00.000Z').getTime();
    const end = new Date('9999-12-31T23:59:59.999Z').getTime();
    for (const t of [start, start + 1, end, 0, -1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, 1_700_000_000_123]) {
      expect(isoTime(t)).toBe(new Date(t).toISOString());
    }
    fc.assert(fc.property(fc.integer({ min: start, max: end }), (t) => isoTime(t) === new Date(t).toISOString()));
    // The same time again and again (as a burst of alerts has), and back and forth.
    const times = fc.constantFrom(0, 1, 1_700_000_000_000, 1_700_000_001_000, 1.5, start);
    fc.assert(fc.property(fc.array(times, { maxLength: 20 }), (ts) => ts.every((t) => isoTime(t) === new Date(t).toISOString())));
  });

  it('hands other times to toISOString: six-digit years, fractions; and throws as it does for no date', () => {
    expect(isoTime(new Date('+010000-01-01T00:00:00.000Z').getTime())).toBe('+010000-01-01T00:00:00.000Z');
    expect(isoTime(new Date('-000001-12-31T23:59:59.999Z').getTime())).toBe('-000001-12-31T23:59:59.999Z');
    expect(isoTime(1.5)).toBe(new Date(1.5).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
