import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicInPieces } from './atomic-file';

describe('a file written atomically in pieces', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-atomic-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('holds the pieces joined, as UTF-8, whatever their sizes (across its 64 KiB writes, and larger than one)', async () => {
    const piece = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', minLength: 30_000, maxLength: 70_000 }));
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const file = path.join(dir, 'doc.json');
        const w = await writeFileAtomicInPieces(file, pieces);
        const expected = Buffer.from(pieces.join(''));
        expect(w.bytes).toBe(expected.length);
        expect(fs.readFileSync(file).equals(expected)).toBe(true);
        expect(fs.readdirSync(dir)).toEqual(['doc.json']);
      }),
      { numRuns: 25 },
    );
  });
});
