/**
 * npm run bench [name...]: runs the benchmarks (all, or those named) and writes
 * bench/results.json. Every entry compares us with a peer or a physical limit measured in the
 * same run, so the ratios mean something on a shared, noisy machine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BENCHES } from './index';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const out = path.join(__dirname, '..', '..', 'bench', 'results.json');
  const previous = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : {};
  const results: Record<string, unknown> = only.length ? { ...(previous.results ?? {}) } : {};
  for (const b of BENCHES) {
    if (only.length && !only.includes(b.name)) continue;
    process.stdout.write(`${b.name}: ${b.description}\n`);
    const started = Date.now();
    const r = await b.run();
    results[b.name] = { ...r, durationMs: Date.now() - started, at: new Date().toISOString() };
    process.stdout.write(`  ${JSON.stringify(r)}\n`);
  }
  const doc = {
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.arch()}` },
    results,
  };
  fs.writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
