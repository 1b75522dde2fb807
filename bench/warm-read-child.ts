/**
 * One WS-Man client in a process of its own, so that process.cpuUsage() counts the client's work
 * and nothing else (the simulated PC and the parent run elsewhere).
 *
 *   node warm-read-child.js oobkit|meshcentral|socket PORT USER PASSWORD
 *
 * `socket` is the floor every client pays: the same request bytes (Digest header computed per
 * call) written to a kept-alive socket and the answer's bytes read to their end, nothing parsed.
 *
 * Reads commands on stdin, one per line: `run N` does N warm reads one after another (each a Get
 * of CIM_AssociatedPowerManagementService whose answer is read into an object) and prints
 * {"reads":N,"cpuUs":...,"wallMs":...}; `exit` ends. The first line printed is `ready`, after
 * the first contact (Digest challenge) and WARM_UP_READS reads.
 */
import * as net from 'node:net';
import * as readline from 'node:readline';
import { WsmanClient } from '../lib/wsman/client';
import { DigestSession, parseDigestChallenge } from '../lib/wsman/digest';
import { buildGet } from '../lib/wsman/messages';
import { call, meshCommanderAmtStack } from '../test/helpers/meshcommander';

const CLASS = 'CIM_AssociatedPowerManagementService';
/**
 * Reads before `ready`, until V8 has compiled each client's read path (and the simulator's, which
 * takes 2,000-3,000 requests): after 300, the first rounds measured compilation.
 */
const WARM_UP_READS = 3000;
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
  if (kind === 'socket') return socketFloor();
  throw new Error(`unknown client ${kind}`);
}

const END = Buffer.from('0\r\n\r\n');

function socketFloor(): { read: () => Promise<void>; close: () => void } {
  const xml = buildGet(CLASS).xml;
  const digest = new DigestSession(user, pass);
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  let got: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | undefined;
  socket.on('data', (d: Buffer) => {
    got.push(d);
    const tail = d.length >= 5 ? d : Buffer.concat(got);
    if (tail.subarray(tail.length - 5).equals(END) || /^HTTP\/1\.1 401/.test(got[0].toString('latin1', 0, 12))) {
      const all = Buffer.concat(got);
      got = [];
      waiter?.(all);
    }
  });
  const send = (auth?: string) =>
    new Promise<Buffer>((resolve) => {
      waiter = resolve;
      socket.write(`POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n${auth ? `Authorization: ${auth}\r\n` : ''}Content-Length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`);
    });
  let challenged = false;
  return {
    read: async () => {
      if (!challenged) {
        // The simulator closes after a 401: challenge on a separate connection.
        const first = await challenge(xml);
        digest.accept(first);
        challenged = true;
      }
      const answer = await send(digest.authorize('POST', '/wsman', xml)?.header);
      if (answer.toString('latin1', 9, 12) !== '200') throw new Error('socket floor: not 200');
    },
    close: () => socket.destroy(),
  };
}

function challenge(xml: string): Promise<NonNullable<ReturnType<typeof parseDigestChallenge>>> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const c = parseDigestChallenge(/^WWW-Authenticate: (.*)$/im.exec(text)?.[1]);
      if (c) resolve(c);
      else reject(new Error('no Digest challenge'));
    });
    s.write(`POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`);
  });
}

async function main(): Promise<void> {
  const r = reader();
  for (let i = 0; i < WARM_UP_READS; i++) await r.read();
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
