/**
 * Sorts the samples of a CPU profile of bench/pet-profile.ts into the parts of alert-in's PET
 * path: each sample goes to the innermost frame on its stack that belongs to a part (a GC or a
 * syscall sample counts where it happened). Prints a Markdown table: share of the busy time, and
 * µs per trap (inflated by the profiler itself, by about a fifth).
 *
 *   node dist/bench/pet-profile-summary.js <file.cpuprofile> <traps>
 */
import * as fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PARTS: Array<[string, (f: CallFrame) => boolean]> = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['state: write(2), fdatasync (syscalls on the event loop)', (f) => !f.url && /^(writeBuffer|writeString|fdatasync|fsync|open|close|rename)$/.test(f.functionName)],
  ['state: compaction (snapshot encoding)', (f) => /json-pieces|atomic-file/.test(f.url) || (/snapshot-log/.test(f.url) && /compact/i.test(f.functionName)) || (/alerts\/engine/.test(f.url) && f.functionName === 'snapshot')],
  ['state: log records (JSON, CRC, framing)', (f) => /record-log|snapshot-log/.test(f.url) || (/open-keys/.test(f.url) && f.functionName === 'take') || (/alerts\/hub/.test(f.url) && f.functionName === 'takeChanges')],
  ['profiling harness', (f) => /dist\/bench\//.test(f.url)],
  ['emit (hold, deliver)', (f) => /alerts\/hub/.test(f.url) && /^(hold|written|deliver)$/.test(f.functionName)],
  ['Alert building (details, id hash, raw hex, time)', (f) => (/asf\/pet\.js/.test(f.url) && /^(build|detailsOf)$/.test(f.functionName)) || (/alerts\/alert\.js/.test(f.url) && /stableId|sha256/.test(f.functionName)) || /iso-time/.test(f.url)],
  ['rules (policy.decide, 20 rules)', (f) => /alerts\/policy/.test(f.url)],
  ['dedup keys, rate limits (engine)', (f) => /alerts\/(engine|open-keys|rate-limit|maintenance)|lib\/activity/.test(f.url)],
  ['PET decode, draft, dedup key text', (f) => /asf\/pet|alerts\/alert\.js|lib\/events\//.test(f.url) || (/alerts\/hub/.test(f.url) && /onTrap|deviceFor|petDevice/.test(f.functionName))],
  ['SNMP parse (our trap reader, net-snmp) + receiver checks', (f) => /net-snmp|asn1-ber|trap-receiver|trap-parse|token-bucket/.test(f.url)],
  ['socket, event loop', (f) => /dgram|timers|task_queues|node:events/.test(f.url)],
];

function main(): void {
  const [file, count] = process.argv.slice(2);
  const traps = Number(count) || 1;
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    let part = 'other';
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) {
      const hit = PARTS.find(([, test]) => test(byId.get(id!)!.callFrame));
      if (hit) {
        part = hit[0];
        break;
      }
    }
    total.set(part, (total.get(part) ?? 0) + p.timeDeltas[i]);
  }
  const idle = total.get('idle') ?? 0;
  total.delete('idle');
  const busy = [...total.values()].reduce((a, b) => a + b, 0);
  process.stdout.write('| share of busy CPU | µs per trap | what |\n|---|---|---|\n');
  for (const [part, us] of [...total].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`| ${Math.round((us / busy) * 100)}% | ${(us / traps).toFixed(2)} | ${part} |\n`);
  }
  process.stdout.write(`\nbusy ${Math.round(busy / 1000)} ms, idle ${Math.round(idle / 1000)} ms\n`);
}

main();
