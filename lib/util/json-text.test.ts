import fc from 'fast-check';
import { jsonInArray, quote, quoteRecurring } from './json-text';

/** What JSON.stringify writes for v as an element of an array. */
const asElement = (v: unknown) => JSON.stringify([v]).slice(1, -1);

describe('JSON text of record fields', () => {
  it('quotes any string as JSON.stringify does: quotes, backslashes, control characters, non-ASCII, lone surrogates', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\u2028', '\ud800', 'a', '/') }));
    fc.assert(
      fc.property(text, (s) => {
        expect(quote(s)).toBe(JSON.stringify(s));
        expect(quoteRecurring(s)).toBe(JSON.stringify(s));
        // Asked again: from the table now, the same text.
        expect(quoteRecurring(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: 500 },
    );
  });

  it('a recurring string stays right after the table has started over, and a long one is quoted each time', () => {
    for (let i = 0; i < 3000; i++) expect(quoteRecurring(`kind-${i % 1500}"`)).toBe(JSON.stringify(`kind-${i % 1500}"`));
    const long = `${'x'.repeat(400)}\\`;
    expect(quoteRecurring(long)).toBe(JSON.stringify(long));
    expect(quoteRecurring(long)).toBe(JSON.stringify(long));
  });

  it('writes any value as JSON.stringify writes it inside an array', () => {
    const odd = fc.constantFrom(undefined, () => 1, Symbol('s'), NaN, Infinity, -Infinity, -0, new Date(0), { toJSON: () => undefined }, new Number(5), [undefined, NaN]);
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), odd, fc.double(), fc.integer()), (v) => {
        expect(jsonInArray(v)).toBe(asElement(v));
      }),
      { numRuns: 500 },
    );
    expect(() => jsonInArray(1n)).toThrow(TypeError);
  });

  it('a frozen device is written once and always the same; anything that can change is written as it is now', () => {
    const device = Object.freeze({ name: 'pc-1', host: '10.0.0.1', site: 'branch "a"' });
    expect(jsonInArray(device)).toBe(JSON.stringify(device));
    expect(jsonInArray(device)).toBe(JSON.stringify(device));

    const mutable: Record<string, string> = { name: 'pc-2' };
    expect(jsonInArray(mutable)).toBe('{"name":"pc-2"}');
    mutable.name = 'pc-3';
    expect(jsonInArray(mutable)).toBe('{"name":"pc-3"}');

    const inner = { n: 1 };
    const holdsObject = Object.freeze({ inner });
    expect(jsonInArray(holdsObject)).toBe('{"inner":{"n":1}}');
    inner.n = 2;
    expect(jsonInArray(holdsObject)).toBe('{"inner":{"n":2}}');

    let calls = 0;
    const withGetter = Object.freeze(
      Object.defineProperty({}, 'n', {
        get: () => ++calls,
        enumerable: true,
      }),
    );
    expect(jsonInArray(withGetter)).toBe('{"n":1}');
    expect(jsonInArray(withGetter)).toBe('{"n":2}');

    const list = Object.freeze(['a']);
    expect(jsonInArray(list)).toBe('["a"]');
  });
});
