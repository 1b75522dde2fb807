import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { jsonPieces, StateFile } from './store';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
});

describe('StateFile', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-state-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes in the background after the debounce, coalescing saves, and a flush after a write in progress leaves the newest', async () => {
    const file = path.join(dir, 'sub', 'state.json');
    const store = new StateFile<{ n: number; pad: string[] }>(file, 50);
    let n = 0;
    const doc = () => ({ n, pad: Array.from({ length: 3000 }, (_, i) => `entry ${i} of a state big enough to take several pieces`) });
    for (n = 1; n <= 5; n++) store.save(doc);
    n = 5;
    expect(fs.existsSync(file)).toBe(false);
    for (let i = 0; i < 100 && !fs.existsSync(file); i++) await wait(10);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).n).toBe(5);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // A write starts; before it has finished, a newer state is flushed: the newer one stays.
    n = 6;
    store.save(doc);
    await wait(55);
    n = 7;
    store.save(doc);
    await store.flush();
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).n).toBe(7);
    await wait(150);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).n).toBe(7);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json']);
  });

  it('sets a file it cannot read aside and starts empty', () => {
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, '{"engine": {"keys": [');
    expect(new StateFile(file).load()).toBeUndefined();
    expect(fs.readdirSync(dir).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
  });
});
