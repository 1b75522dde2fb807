import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { crc32, frameRecord, frameRecords, parseRecordLog, readRecordLog, RecordLog } from './record-log';

describe('record log', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-log-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checksums a line with the CRC-32 of zip and zlib', () => {
    // The check value of CRC-32/ISO-HDLC.
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(frameRecord({ a: 1 }).toString()).toBe(`{"a":1}\t${crc32(Buffer.from('{"a":1}')).toString(16).padStart(8, '0')}\n`);
  });

  it('frames many records at once as the same bytes as one at a time, whatever their text', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), { maxLength: 30 }), (records) => {
        expect(frameRecords(records).equals(Buffer.concat(records.map((r) => frameRecord(r))))).toBe(true);
      }),
    );
  });

  it('reads back whatever records were appended, across reopenings', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.jsonValue(), { maxLength: 5 }), { maxLength: 6 }), (batches) => {
        const file = path.join(dir, `l-${createHash('sha1').update(JSON.stringify(batches)).digest('hex')}`);
        const log = new RecordLog(file);
        for (const b of batches) {
          log.open();
          log.appendSync(b, false);
          log.close();
        }
        const read = readRecordLog(file, { afterDamage: 'stop' });
        // JSON has no undefined: what reads back is what JSON.parse gives of each record.
        expect(read.records).toEqual(batches.flat().map((r) => JSON.parse(JSON.stringify(r))));
        expect(read).toMatchObject({ damagedLines: 0, trustedBytes: batches.length ? fs.statSync(file).size : 0 });
      }),
      { numRuns: 40 },
    );
  });

  it('does not trust a torn last line, a wrong checksum or garbage, nor (stop) anything after them', () => {
    const good = frameRecords([{ n: 1 }, { n: 2 }]);
    const torn = frameRecord({ n: 3 }).subarray(0, 9);
    expect(parseRecordLog(Buffer.concat([good, torn]), { afterDamage: 'stop' })).toMatchObject({ records: [{ n: 1 }, { n: 2 }], damagedLines: 1, trustedBytes: good.length });
    // The whole line but for its newline: appending after it would merge two lines.
    const noNewline = frameRecord({ n: 3 }).subarray(0, -1);
    expect(parseRecordLog(Buffer.concat([good, noNewline]), { afterDamage: 'stop' }).records).toHaveLength(2);
    const flipped = Buffer.from(frameRecord({ n: 30 }));
    flipped[6] ^= 0x01; // {"n":31} now, its checksum still that of 30
    const after = frameRecord({ n: 4 });
    const stop = parseRecordLog(Buffer.concat([good, flipped, after]), { afterDamage: 'stop' });
    expect(stop).toMatchObject({ records: [{ n: 1 }, { n: 2 }], damagedLines: 2, trustedBytes: good.length });
    const skip = parseRecordLog(Buffer.concat([good, flipped, Buffer.from('\u0000\u0000garbage\n'), after]), { afterDamage: 'skip' });
    expect(skip).toMatchObject({ records: [{ n: 1 }, { n: 2 }, { n: 4 }], damagedLines: 2, trustedBytes: good.length });
    // Lines without a checksum are read only when asked for (files written before there were any).
    const unframed = Buffer.from('{"e":"x"}\n');
    expect(parseRecordLog(Buffer.concat([unframed, good]), { afterDamage: 'skip' }).records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(parseRecordLog(Buffer.concat([unframed, good]), { afterDamage: 'skip', unframed: true }).records).toEqual([{ e: 'x' }, { n: 1 }, { n: 2 }]);
  });

  it('reopening after a damaged tail cuts it off, so what is appended next is read', async () => {
    const file = path.join(dir, 'changes');
    const log = new RecordLog(file);
    log.open();
    log.appendSync([{ n: 1 }], true);
    log.close();
    fs.appendFileSync(file, '{"n":2}\t0000');
    const before = readRecordLog(file, { afterDamage: 'stop' });
    log.open(before.trustedBytes);
    await log.append(frameRecords([{ n: 3 }]), true);
    log.close();
    expect(readRecordLog(file, { afterDamage: 'stop' })).toMatchObject({ records: [{ n: 1 }, { n: 3 }], damagedLines: 0 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
