/**
 * A trap sender of the alert benchmarks, a process of its own (the devices would be other
 * machines); the same ones send to every receiver compared. It makes trap i of the benchmark's
 * sequence (bench/pet-traps.ts) and, for each command (one JSON line on stdin), sends a range of
 * them over UDP to a port on loopback, each from its sender address, and answers with one line:
 *
 *   {"cmd":"setup","addresses":[...],"ports":[...],"conditions":c}   -> {"ready":true}
 *   {"cmd":"blast","port":p,"start":s,"count":n,"part":[j,k]}        -> {"sent":m,"seconds":x}
 *       as fast as it can, the traps of the range whose index is j modulo k (several senders
 *       share a range: one Node process alone sends about as fast as net-snmp receives);
 *   {"cmd":"paced","port":p,"start":s,"count":n,"perSecond":r}      -> {"sent":n,"seconds":x,"sentAt":[...]}
 *       evenly over time, with the monotonic clock (ns, process.hrtime) of each send, which the
 *       receiving process reads on the same clock.
 */
import * as dgram from 'node:dgram';
import * as readline from 'node:readline';
import { TrapMaker } from './pet-traps';

interface Command {
  cmd: 'setup' | 'blast' | 'paced';
  addresses?: string[];
  ports?: number[];
  port?: number;
  start?: number;
  count?: number;
  perSecond?: number;
  part?: [number, number];
  conditions?: number;
}

let maker: TrapMaker | undefined;
/** One socket per sender address and receiver port, bound and connected once. */
const sockets = new Map<string, dgram.Socket>();

const now = () => Number(process.hrtime.bigint());
const reply = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function setup(c: Command): Promise<void> {
  maker = new TrapMaker(c.addresses!.length, c.conditions ?? Infinity);
  for (const [index, address] of c.addresses!.entries()) {
    for (const port of c.ports!) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, address, () => s.connect(port, '127.0.0.1', () => resolve()));
      });
      sockets.set(`${index}:${port}`, s);
    }
  }
  reply({ ready: true });
}

function socketsFor(port: number): dgram.Socket[] {
  const out: dgram.Socket[] = [];
  for (let i = 0; sockets.has(`${i}:${port}`); i++) out.push(sockets.get(`${i}:${port}`)!);
  return out;
}

function blast(c: Command): void {
  const m = maker!;
  const by = socketsFor(c.port!);
  const end = c.start! + c.count!;
  const [j, k] = c.part ?? [0, 1];
  let first = c.start!;
  while (first % k !== j) first++;
  let sent = 0;
  const t0 = now();
  for (let i = first; i < end; i += k, sent++) by[m.source(i)].send(m.datagram(i));
  reply({ sent, seconds: (now() - t0) / 1e9 });
}

function paced(c: Command): Promise<void> {
  const m = maker!;
  const by = socketsFor(c.port!);
  const sentAt: number[] = [];
  const t0 = now();
  let i = 0;
  return new Promise((resolve) => {
    const step = () => {
      const due = Math.min(c.count!, Math.floor(((now() - t0) / 1e9) * c.perSecond!) + 1);
      for (; i < due; i++) {
        const k = c.start! + i;
        const d = m.datagram(k);
        sentAt.push(now());
        by[m.source(k)].send(d);
      }
      if (i < c.count!) return void setTimeout(step, 1);
      reply({ sent: i, seconds: (now() - t0) / 1e9, sentAt });
      resolve();
    };
    step();
  });
}

async function main(): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const c = JSON.parse(line) as Command;
    if (c.cmd === 'setup') await setup(c);
    else if (c.cmd === 'blast') blast(c);
    else if (c.cmd === 'paced') await paced(c);
  }
  for (const s of sockets.values()) s.close();
}

main().catch((e) => {
  process.stderr.write(`pet-sender: ${(e as Error).stack}\n`);
  process.exit(1);
});
