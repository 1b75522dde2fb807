/**
 * alert-in's hub in a process of its own, for the crash tests: it listens for PET on a UDP port
 * on loopback (device pc-01 at 127.0.0.1), keeps its state in a directory, and writes one JSON
 * line per emitted alert on stdout (synchronous on a pipe, so a line written is a line read, even
 * if the process is killed right after). Other lines: {"ready":port}, {"flushed":true} (after
 * "flush" on stdin, once the state is on disk) and {"open":n} (after "open": conditions held open).
 *
 *   node --import tsx alert-hub-child.ts <stateDir>
 */
import * as readline from 'node:readline';
import { AlertHub } from '../../lib/alerts/hub';
import { Policy } from '../../lib/alerts/policy';

const [stateDir] = process.argv.slice(2);
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

const hub = new AlertHub({
  id: 'crash',
  stateDir,
  devices: [{ name: 'pc-01', host: '127.0.0.1' }],
  policy: new Policy({ dedupSeconds: 3600, rateLimitPerKey: undefined, rateLimitGlobal: undefined }),
  pet: { port: 0, address: '127.0.0.1', communities: ['public'], allow: [], perSenderPerSecond: 1_000_000, globalPerSecond: 1_000_000 },
  emit: (e) => out({ key: e.alert.dedupKey, seq: e.alert.details.sequence }),
  onProblem: (what, e) => process.stderr.write(`${what}${e ? `: ${e.message}` : ''}\n`),
});

void hub.start().then(() => out({ ready: hub.pet!.port }));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'flush') void hub.saveState().then(() => out({ flushed: true }));
  if (line === 'open') out({ open: hub.engine.openKeys });
});
