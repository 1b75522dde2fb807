/**
 * The XML reader's cost against what a hostile device can send: CPU time and peak memory grow
 * linearly with the input. Measured in child processes (parse-cost.ts), so mutation testing does
 * not list this file for lib/wsman/xml.ts: a mutant never reaches those processes.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { documentFor, WORST_CASES } from './xml-documents';

const run = promisify(execFile);

interface Cost {
  which: string;
  bytes: number;
  cpuMs: number;
  peakGrowthKiB: number;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-xml-cost-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function once(which: string, bytes: number): Promise<Cost> {
  const file = path.join(dir, `${which}-${bytes}.xml`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, documentFor(which, bytes));
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(__dirname, 'parse-cost.ts'), which, file], {
    cwd: path.join(__dirname, '..', '..'),
    timeout: 60_000,
  });
  return JSON.parse(stdout) as Cost;
}

/** The cheaper of two runs (CPU time; memory from the same run): a busy machine only adds. */
async function cost(which: string, bytes: number): Promise<Cost> {
  const a = await once(which, bytes);
  const b = await once(which, bytes);
  return a.cpuMs <= b.cpuMs ? a : b;
}

const TEXT_ONLY = ['entities', 'charRefs', 'textPieces'];
describe('XML reader: linear work and memory in its input', () => {
  // CPU time and peak memory, measured in fresh processes, compared as ratios: worst cases
  // against a real answer of the same size, and each case against itself at four times the size.
  jest.setTimeout(240_000);
  const SMALL = 1_000_000;
  const LARGE = 4_000_000;
  let typical: Cost;
  /**
   * What reading a real answer costs at its peak: as measured, but never less than the tree it
   * must build (8 bytes per input byte; 8.5 to 10 measured). The peak of the resident set sometimes
   * reads far lower (in full-suite runs on fresh clones: under 1 MB), when something before the
   * measurement set the process's peak higher; a baseline that low would fail every case.
   */
  const typicalPeakKiB = () => Math.max(typical.peakGrowthKiB, (typical.bytes * 8) / 1024);

  beforeAll(async () => {
    // The first child compiles the TypeScript it runs (tsx caches it for the others); compiling
    // raises the peak before the measurement starts and would hide what reading costs.
    await once('typical', 1000);
    typical = await cost('typical', LARGE);
  });

  it.each(Object.keys(WORST_CASES))('%s: time and memory grow with the size, not its square', async (which) => {
    const small = await cost(which, SMALL);
    const large = await cost(which, LARGE);
    // Linear is 4x; the pairwise attribute check was about 16x (and minutes at this size).
    expect(large.cpuMs / Math.max(small.cpuMs, 5)).toBeLessThan(9);
    expect(large.cpuMs / typical.cpuMs).toBeLessThan(15);
    // Memory per input byte: a real answer holds ~12 bytes of tree per byte; empty sibling
    // elements (the densest tree) ~50; 341 MB for 7.5 MB of &amp; was 45 per byte of garbage alone.
    expect((large.peakGrowthKiB * 1024) / large.bytes).toBeLessThan(80);
    expect(large.peakGrowthKiB / typicalPeakKiB()).toBeLessThan(10);
    // A document of one element and nothing but text builds no tree: it must cost less memory
    // than a real answer of the same size (decoding 1 M references with a regex cost 3x more).
    if (TEXT_ONLY.includes(which)) expect(large.peakGrowthKiB / typicalPeakKiB()).toBeLessThan(1.5);
  });
});

