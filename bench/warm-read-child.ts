/**
 * One WS-Man client in a process of its own, so that process.cpuUsage() counts the client's work
 * and nothing else (the simulated PC and the parent run elsewhere).
 *
 *   node warm-read-child.js oobkit|meshcentral PORT USER PASSWORD
 *
 * Reads commands on stdin, one per line: `run N` does N warm reads one after another (each a Get
 * of CIM_AssociatedPowerManagementService whose answer is read into an object) and prints
 * {"reads":N,"cpuUs":...,"wallMs":...}; `exit` ends. The first line printed is `ready`, after
 * the first contact (Digest challenge) and a warm-up.
 */
import * as readline from 'node:readline';
import { WsmanClient } from '../lib/wsman/client';
import { call, meshCommanderAmtStack } from '../test/helpers/meshcommander';

const CLASS = 'CIM_AssociatedPowerManagementService';
const [kind, portText, user, pass] = process.argv.slice(2);
const port = Number(portText);

/** One warm read; throws unless the answer carried the power state. */
function reader(): { read: () => Promise<void>; close: () => void } {
  if (kind === 'oobkit') {
    const client = new WsmanClient({ host: '127.0.0.1', port, username: user, password: pass });
    return {
      read: async () => {
        const r = await client.get(CLASS);
        if (r.props.PowerState === undefined) throw new Error('OOBKit read no PowerState');
      },
      close: () => client.close(),
    };
  }
  if (kind === 'meshcentral') {
    const stack = meshCommanderAmtStack({ host: '127.0.0.1', port, user, pass });
    return {
      read: async () => {
        const { response, status } = await call((cb) => stack.Get(CLASS, cb));
        if (status !== 200 || response?.Body?.PowerState === undefined) throw new Error(`MeshCentral read failed (status ${status})`);
      },
      close: () => stack.wsman.comm.destroy?.(),
    };
  }
  throw new Error(`unknown client ${kind}`);
}

async function main(): Promise<void> {
  const r = reader();
  for (let i = 0; i < 300; i++) await r.read();
  process.stdout.write('ready\n');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const m = /^run (\d+)$/.exec(line.trim());
    if (!m) break;
    const n = Number(m[1]);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await r.read();
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`${JSON.stringify({ reads: n, cpuUs: cpu.user + cpu.system, wallMs })}\n`);
  }
  r.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
