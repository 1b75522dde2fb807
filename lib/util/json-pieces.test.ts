import fc from 'fast-check';
import { jsonPieces, LazyList } from './json-pieces';

describe('state written in pieces', () => {
  it('the pieces joined are the text JSON.stringify gives, for any JSON-like value and long lists', () => {
    const value = fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 490, maxLength: 1600 }));
    const withOddities = fc.record({ doc: value, missing: fc.constant(undefined), fn: fc.constant(() => 1), when: fc.date({ noInvalidDate: true }), list: fc.array(fc.oneof(fc.jsonValue(), fc.constant(undefined)), { minLength: 501, maxLength: 700 }) });
    fc.assert(
      fc.property(fc.oneof(value, withOddities), (v) => {
        expect([...jsonPieces(v)].join('')).toBe(JSON.stringify(v));
      }),
      { numRuns: 60 },
    );
  });

  it('a long list comes in several pieces, so encoding it gives the event loop back in between', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => [`pc-${i}/pet/fan-failure`, { count: i }]);
    const pieces = [...jsonPieces({ engine: { version: 2, keys }, eventLog: {} })];
    expect(pieces.length).toBeGreaterThan(10);
    expect(JSON.parse(pieces.join('')).engine.keys).toHaveLength(5000);
  });

  it('a LazyList is encoded as the array of its elements, made one by one, in pieces like a long array', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 1200 }), (items) => {
        const made: number[] = [];
        const list = new LazyList(items, (x) => (made.push(1), { x }));
        const doc = { list, n: items.length };
        const pieces = [...jsonPieces(doc)];
        expect(pieces.join('')).toBe(JSON.stringify({ list: items.map((x) => ({ x })), n: items.length }));
        expect(pieces.join('')).toBe(JSON.stringify(doc));
        expect(made.length).toBe(2 * items.length);
        if (items.length > 500) expect(pieces.length).toBeGreaterThan(4);
      }),
      { numRuns: 30 },
    );
    expect([...new LazyList([1, 2], (x) => x * 10)]).toEqual([10, 20]);
  });
});
