import fc from 'fast-check';
import { KEY_RECORD, keyRecord, keyRecordJson, OpenKey } from './open-keys';

describe('an open key as written to the state', () => {
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('pet', 'critical', 'fan-failure', 'Fan failed [CPU fan]'));
  const time = fc.oneof(fc.integer({ min: 0, max: 4e12 }), fc.double());
  const device = fc.oneof(
    fc.record({ name: text, host: text, guid: text, site: text }, { requiredKeys: [] }),
    fc.record({ name: text, host: text }).map((d) => Object.freeze(d)),
  );
  const openKey = fc.record(
    {
      id: text,
      device,
      source: text,
      kind: text,
      severity: text,
      summary: text,
      output: fc.integer({ min: 1, max: 9 }),
      firstAt: time,
      lastAt: time,
      count: fc.nat(),
      held: fc.nat(),
      windowEnd: time,
      escalateAt: time,
      escalated: fc.boolean(),
      rateStart: time,
      rateN: fc.nat(),
      ack: fc.record({ by: text, at: time, note: text }, { requiredKeys: ['by', 'at'] }),
      alert: fc.jsonValue(),
    },
    { requiredKeys: ['id', 'device', 'source', 'kind', 'severity', 'summary', 'output', 'firstAt', 'lastAt', 'count', 'held', 'windowEnd'] },
  ) as unknown as fc.Arbitrary<OpenKey>;

  it('its record is written as the text JSON.stringify gives, whatever its fields hold', () => {
    fc.assert(
      fc.property(text, openKey, (dedupKey, k) => {
        const r = keyRecord(dedupKey, k);
        expect(keyRecordJson(r)).toBe(JSON.stringify(r));
        expect(JSON.parse(keyRecordJson(r))[0]).toBe(KEY_RECORD);
      }),
      { numRuns: 400 },
    );
  });

  it('keys sharing one frozen device all write it as it is', () => {
    const shared = Object.freeze({ name: 'pc-1', host: '10.0.0.1', site: 'branch-1' });
    const base = { id: 'a', device: shared, source: 'pet', kind: 'fan-failure', severity: 'major', summary: 'Fan failed', output: 1, firstAt: 1, lastAt: 2, count: 1, held: 0, windowEnd: 3 } as OpenKey;
    for (let i = 0; i < 3; i++) {
      const r = keyRecord(`pc-1/pet/fan-failure/${i}`, { ...base, id: `id-${i}` });
      expect(keyRecordJson(r)).toBe(JSON.stringify(r));
    }
  });
});
