import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { makeAlert, makeDedupKey, stableId } from './alert';

describe('alert ids and keys', () => {
  it('an id is the first 128 bits of SHA-256 over the parts joined by NUL: the same as before, for the same event', () => {
    const reference = (...parts: Array<string | number | undefined>) =>
      createHash('sha256')
        .update(parts.map((p) => String(p ?? '')).join('\0'))
        .digest('hex')
        .slice(0, 32);
    // An id an earlier version gave this trap (sender, GUID, sequence, time, specific trap, event data).
    expect(stableId('pet', '10.0.0.2', 'e7eb938e-074d-11e1-a56c-5cf3fc304624', 83, 1336417910000, 814848, '0,255,255')).toBe(
      reference('pet', '10.0.0.2', 'e7eb938e-074d-11e1-a56c-5cf3fc304624', 83, 1336417910000, 814848, '0,255,255'),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)), { maxLength: 8 }), (parts) => {
        const id = stableId(...parts);
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(id).toBe(reference(...parts));
      }),
    );
  });

  it('different events get different ids, even when their parts only move a boundary', () => {
    expect(stableId('pet', 'ab', 'c')).not.toBe(stableId('pet', 'a', 'bc'));
    expect(stableId('pet', 1, 23)).not.toBe(stableId('pet', 12, 3));
    expect(stableId('pet', undefined, 'x')).toBe(stableId('pet', '', 'x'));
  });

  it('a dedup key is device/source/kind[/qualifier], empty parts left out', () => {
    expect(makeDedupKey({ name: 'PC-01', host: '10.0.0.1' }, 'pet', 'fan-failure', 'critical/s49')).toBe('pc-01/pet/fan-failure/critical/s49');
    expect(makeDedupKey({ host: '10.0.0.1' }, 'heartbeat', 'heartbeat-missed')).toBe('10.0.0.1/heartbeat/heartbeat-missed');
    expect(makeDedupKey({}, 'pet', 'test', '')).toBe('unknown/pet/test');
  });

  it('the time is ISO 8601 from the given time, now when it is missing or not a date', () => {
    const base = { device: { name: 'pc' }, source: 'pet', kind: 'k', severity: 'info', summary: 's' } as const;
    expect(makeAlert({ ...base, time: new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 7)) }).time).toBe('2024-02-29T23:59:59.007Z');
    expect(makeAlert({ ...base, time: '2012-05-07T19:11:50Z' }).time).toBe('2012-05-07T19:11:50.000Z');
    const before = Date.now();
    const t = Date.parse(makeAlert({ ...base, time: 'not a date' }).time);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
