/**
 * Remote console (KVM): a viewer typing at the simulated PC's login prompt, each key answered by a
 * screen update, measured two ways in the same run, alternating rounds:
 *  - direct: the viewer's RFB goes straight into a KVM session on the PC's redirection port;
 *  - gateway: the viewer speaks RFB over a WebSocket to a gateway (ws, as the console page does),
 *    which carries it through lib's console layer (enable, encoding filter, session) to the PC.
 * Reported: updates per second of that key-driven changing screen, and key-to-update latency p50
 * and p99, with the gateway/direct ratio.
 */
import * as net from 'node:net';
import WebSocket from 'ws';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import { openConsole } from '../lib/amt/console';
import { openKvm } from '../lib/amt/redirection/kvm-session';
import { kvmSessionOf, SimDevice } from '../packages/sim/src';
import type { Bench } from './types';

const USER = 'admin';
const PASSWORD = 'Bench-P@ss1';
const ROUND_MS = 1500;
const ROUNDS = 3;

/** A byte pipe to the PC's RFB server, whichever way it goes. */
interface Pipe {
  write(b: Buffer): void;
  onData(f: (b: Buffer) => void): void;
  close(): Promise<void>;
}

/** The smallest RFB viewer that counts updates: 3.8, None, 32-bit pixels, Raw and CopyRect. */
async function viewer(pipe: Pipe) {
  let buf: Buffer = Buffer.alloc(0);
  let stage: 'version' | 'security' | 'result' | 'init' | 'updates' = 'version';
  let waiter: (() => void) | undefined;
  let updates = 0;
  let ready: () => void;
  const initialised = new Promise<void>((r) => (ready = r));
  const bpp = 4;
  pipe.onData((d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    for (;;) {
      if (stage === 'version' && buf.length >= 12) {
        buf = buf.subarray(12);
        stage = 'security';
        pipe.write(Buffer.from('RFB 003.008\n'));
      } else if (stage === 'security' && buf.length >= 1 && buf.length >= 1 + buf[0]) {
        buf = buf.subarray(1 + buf[0]);
        stage = 'result';
        pipe.write(Buffer.from([1]));
      } else if (stage === 'result' && buf.length >= 4) {
        buf = buf.subarray(4);
        stage = 'init';
        pipe.write(Buffer.from([1]));
      } else if (stage === 'init' && buf.length >= 24 && buf.length >= 24 + buf.readUInt32BE(20)) {
        buf = buf.subarray(24 + buf.readUInt32BE(20));
        stage = 'updates';
        const pf = Buffer.from([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
        const enc = Buffer.alloc(12);
        enc[0] = 2;
        enc.writeUInt16BE(2, 2);
        enc.writeInt32BE(1, 4);
        enc.writeInt32BE(0, 8);
        pipe.write(Buffer.concat([pf, enc, request(false)]));
      } else if (stage === 'updates' && buf.length >= 4) {
        // FramebufferUpdate: count rectangles' sizes to know where it ends.
        const n = buf.readUInt16BE(2);
        let at = 4;
        let complete = true;
        for (let i = 0; i < n; i++) {
          if (buf.length < at + 12) {
            complete = false;
            break;
          }
          const w = buf.readUInt16BE(at + 4);
          const h = buf.readUInt16BE(at + 6);
          const e = buf.readInt32BE(at + 8);
          at += 12 + (e === 1 ? 4 : w * h * bpp);
          if (buf.length < at) {
            complete = false;
            break;
          }
        }
        if (!complete) break;
        buf = buf.subarray(at);
        updates++;
        if (updates === 1) ready();
        const w = waiter;
        waiter = undefined;
        w?.();
      } else break;
    }
  });
  await initialised;
  return {
    /** Presses a key (with the request for the update it causes); resolves when the update came. */
    key(sym: number): Promise<void> {
      const k = Buffer.alloc(8);
      k[0] = 4;
      k[1] = 1;
      k.writeUInt32BE(sym, 4);
      const up = Buffer.from(k);
      up[1] = 0;
      return new Promise<void>((resolve) => {
        waiter = resolve;
        pipe.write(Buffer.concat([request(true), k, up]));
      });
    },
  };
}

function request(incremental: boolean): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 3;
  b[1] = incremental ? 1 : 0;
  b.writeUInt16BE(640, 6);
  b.writeUInt16BE(400, 8);
  return b;
}

async function directPipe(pc: SimDevice): Promise<Pipe> {
  const s = await openKvm({ host: '127.0.0.1', port: pc.redirectionPort, username: USER, password: PASSWORD });
  return { write: (b) => void s.write(b), onData: (f) => s.on('data', f), close: () => s.close() };
}

/** The gateway: a WebSocket server bridging to lib's console, as the console page's bridge does. */
async function gateway(pc: SimDevice) {
  const lease = acquireAmt({ host: '127.0.0.1', port: pc.port, username: USER, password: PASSWORD });
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', async (ws) => {
    let c: Awaited<ReturnType<typeof openConsole>>;
    try {
      c = await openConsole('kvm', { key: 'bench-pc', client: lease.client, redirection: { host: '127.0.0.1', port: pc.redirectionPort, username: USER, password: PASSWORD } });
    } catch (e) {
      console.error(`console-kvm: the gateway could not open KVM: ${(e as Error).message}`);
      ws.close();
      return;
    }
    ws.on('message', (m: Buffer) => c.write(m));
    ws.once('close', () => void c.close());
    c.on('data', (b: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(b));
  });
  const port = (wss.address() as net.AddressInfo).port;
  return {
    async pipe(): Promise<Pipe> {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
      await new Promise((r) => ws.once('open', r));
      return {
        write: (b) => ws.send(b),
        onData: (f) => ws.on('message', (m: Buffer) => f(m)),
        close: () =>
          new Promise<void>((r) => {
            ws.once('close', () => r());
            ws.close();
          }),
      };
    },
    close: async () => {
      await new Promise((r) => wss.close(r));
      lease.release();
    },
  };
}

/** Types at the login prompt for `ms`: updates per second and each key's latency (ms). */
async function round(pipe: Pipe, ms: number): Promise<{ perSecond: number; latencies: number[] }> {
  const v = await viewer(pipe);
  const latencies: number[] = [];
  const end = Date.now() + ms;
  const start = process.hrtime.bigint();
  let n = 0;
  while (Date.now() < end) {
    const t = process.hrtime.bigint();
    // Letters, and Enter every 30 (a new line: the text scrolls, as a console does).
    // Enter first and every 30 keys (a new line, the text scrolls), so that every key changes
    // the screen whatever the last round left typed (the prompt takes 40 characters).
    await v.key(n++ % 30 === 0 ? 0xff0d : 0x61 + (n % 26));
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await pipe.close();
  return { perSecond: latencies.length / seconds, latencies };
}

/** One KVM session per PC: the next round waits until the last one has ended on the PC's side. */
async function noSession(pc: SimDevice): Promise<void> {
  for (let i = 0; i < 200 && kvmSessionOf(pc); i++) await new Promise((r) => setTimeout(r, 10));
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const r2 = (x: number) => Math.round(x * 100) / 100;

export const consoleKvm: Bench = {
  name: 'console-kvm',
  description: 'KVM through the gateway (WebSocket + console layer) vs straight to the simulated PC: key-driven updates/s and key-to-update latency',
  async run() {
    const pc = new SimDevice({ name: 'bench-pc', uuid: '4c4c4544-0000-1000-8000-00000000be0c', mac: '00:16:3e:00:be:0c', user: USER, password: PASSWORD });
    await pc.listen(0);
    await pc.listenRedirection(0);
    const gw = await gateway(pc);
    const direct = { perSecond: [] as number[], latencies: [] as number[] };
    const through = { perSecond: [] as number[], latencies: [] as number[] };
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const d = await round(await directPipe(pc), ROUND_MS);
        await noSession(pc);
        direct.perSecond.push(d.perSecond);
        direct.latencies.push(...d.latencies);
        const g = await round(await gw.pipe(), ROUND_MS);
        await noSession(pc);
        through.perSecond.push(g.perSecond);
        through.latencies.push(...g.latencies);
      }
    } finally {
      await gw.close();
      closeAllAmt();
      await pc.close();
    }
    const median = (xs: number[]) => pct(xs, 50);
    const directFps = median(direct.perSecond);
    const gatewayFps = median(through.perSecond);
    return {
      directUpdatesPerSecond: r2(directFps),
      gatewayUpdatesPerSecond: r2(gatewayFps),
      gatewayToDirect: r2(gatewayFps / directFps),
      directKeyLatencyP50Ms: r2(pct(direct.latencies, 50)),
      directKeyLatencyP99Ms: r2(pct(direct.latencies, 99)),
      gatewayKeyLatencyP50Ms: r2(pct(through.latencies, 50)),
      gatewayKeyLatencyP99Ms: r2(pct(through.latencies, 99)),
      gatewayP99OverDirectMs: r2(pct(through.latencies, 99) - pct(direct.latencies, 99)),
      keys: { direct: direct.latencies.length, gateway: through.latencies.length },
    };
  },
};
