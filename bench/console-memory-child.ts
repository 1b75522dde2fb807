/**
 * The gateway side of the console memory benchmark, alone in its process (run with --expose-gc):
 * a WebSocket server where /console/<i> opens a KVM console on PC i through lib's console layer
 * (WS-Man enable, encoding filter, redirection session), as the console page's bridge does, and
 * /bare/<i> only relays the redirection session (the least any bridge holds: the peer). The PCs
 * come as JSON on stdin; prints {"port"} when listening; answers the IPC message "memory" with its
 * memory use after a full collection.
 */
import type * as http from 'node:http';
import type * as net from 'node:net';
import WebSocket from 'ws';
import { acquireAmt } from '../lib/amt/connect';
import { openConsole } from '../lib/amt/console';
import { openKvm } from '../lib/amt/redirection/kvm-session';

interface Pc {
  port: number;
  redirectionPort: number;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const { pcs, user, password } = JSON.parse(Buffer.concat(chunks).toString()) as { pcs: Pc[]; user: string; password: string };
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 256 * 1024 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', async (ws, req: http.IncomingMessage) => {
    const m = /^\/(console|bare)\/(\d+)$/.exec(req.url ?? '');
    const pc = m ? pcs[Number(m[2])] : undefined;
    if (!m || !pc) return ws.close();
    const redirection = { host: '127.0.0.1', port: pc.redirectionPort, username: user, password };
    try {
      let write: (b: Buffer) => void;
      let close: () => Promise<void>;
      if (m[1] === 'bare') {
        const s = await openKvm(redirection);
        s.on('data', (b: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(b));
        s.once('close', () => ws.close());
        write = (b) => void s.write(b);
        close = () => s.close();
      } else {
        const lease = acquireAmt({ host: '127.0.0.1', port: pc.port, username: user, password });
        const c = await openConsole('kvm', { key: `pc-${m[2]}`, client: lease.client, redirection }).catch((e: Error) => {
          lease.release();
          throw e;
        });
        void c.done.then(() => lease.release());
        c.on('data', (b: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(b));
        c.once('close', () => ws.close());
        write = (b) => c.write(b);
        close = async () => {
          await c.close();
        };
      }
      ws.on('message', (b: Buffer) => write(b));
      ws.once('close', () => void close());
    } catch (e) {
      process.stderr.write(`console-memory: ${(e as Error).message}\n`);
      ws.close();
    }
  });
  process.on('message', (msg) => {
    if (msg !== 'memory') return;
    const gc = (global as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc');
    gc();
    gc();
    process.send!(process.memoryUsage());
  });
  process.stdout.write(`${JSON.stringify({ port: (wss.address() as net.AddressInfo).port })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
