/**
 * Remote console (KVM): a viewer typing at the simulated PC's login prompt, each key answered by a
 * screen update, measured two ways in the same run, alternating rounds:
 *  - direct: the viewer's RFB goes straight into a KVM session on the PC's redirection port;
 *  - gateway: the viewer speaks RFB over a WebSocket to a gateway (ws, as the console page does),
 *    which carries it through lib's console layer (enable, encoding filter, session) to the PC.
 * Reported: updates per second of that key-driven changing screen, and key-to-update latency p50
 * and p99, with the gateway/direct ratio.
 *
 * Serial console (SOL): the same typing at the login prompt, each key's echo (the PC's repainted
 * screen) awaited, straight to the PC's SOL and through the gateway, alternating rounds: echo
 * latency p50/p99 (goal: gateway p99 <= direct p99 + 5 ms).
 *
 * Memory per open console: the gateway alone in a child process, N KVM consoles open at once (each
 * viewer has had its full screen), growth of RSS and of the JS heap (heap, external, buffers) per
 * console, against a bare relay of the same redirection sessions measured in the same process.
 */
import { fork } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import WebSocket from 'ws';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import { openConsole } from '../lib/amt/console';
import { openKvm } from '../lib/amt/redirection/kvm-session';
import { openSol } from '../lib/amt/redirection/sol-session';
import { kvmSessionOf, kvmState, SimDevice, solSessionOf } from '../packages/sim/src';
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
async function gateway(pc: SimDevice, kind: 'kvm' | 'sol' = 'kvm') {
  const lease = acquireAmt({ host: '127.0.0.1', port: pc.port, username: USER, password: PASSWORD });
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', async (ws) => {
    let c: Awaited<ReturnType<typeof openConsole>>;
    try {
      c = await openConsole(kind, { key: 'bench-pc', client: lease.client, redirection: { host: '127.0.0.1', port: pc.redirectionPort, username: USER, password: PASSWORD } });
    } catch (e) {
      console.error(`console-${kind}: the gateway could not open ${kind.toUpperCase()}: ${(e as Error).message}`);
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

/** SOL straight to the PC's redirection port (lib's SOL session, no gateway). */
async function directSol(pc: SimDevice): Promise<Pipe> {
  const s = await openSol({ host: '127.0.0.1', port: pc.redirectionPort, username: USER, password: PASSWORD });
  return { write: (b) => s.write(b), onData: (f) => s.on('data', f), close: () => s.close() };
}

/** Types at the login prompt over SOL for `ms`, each key's echo awaited: latencies (ms). */
async function solRound(pipe: Pipe, ms: number): Promise<number[]> {
  let text = '';
  let want: { check: () => boolean; done: () => void } | undefined;
  pipe.onData((b) => {
    text = (text + b.toString('latin1')).slice(-32 * 1024);
    if (want?.check()) {
      const w = want;
      want = undefined;
      w.done();
    }
  });
  const echo = (check: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`console-sol: no echo in 5 s; last text ${JSON.stringify(text.slice(-80))}`)), 5000);
      want = {
        check,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      if (check()) want.done();
    });
  await echo(() => /login:\s*\S*$/.test(text));
  const latencies: number[] = [];
  const end = Date.now() + ms;
  let typed = '';
  let n = 0;
  while (Date.now() < end) {
    // Enter first and every 30 keys, so that every key changes the line (the prompt takes 40).
    const enter = n++ % 30 === 0;
    typed = enter ? '' : typed + String.fromCharCode(0x61 + (n % 26));
    const expected = enter ? 'login:' : `login: ${typed}`;
    text = '';
    const t = process.hrtime.bigint();
    pipe.write(Buffer.from(enter ? '\r' : typed.slice(-1), 'latin1'));
    await echo(() => text.endsWith(expected));
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await pipe.close();
  return latencies;
}

export const consoleSol: Bench = {
  name: 'console-sol',
  description: 'SOL echo latency through the gateway (WebSocket + console layer) vs straight to the simulated PC: goal gateway p99 <= direct p99 + 5 ms',
  async run() {
    const pc = new SimDevice({ name: 'bench-sol', uuid: '4c4c4544-0000-1000-8000-00000000be0d', mac: '00:16:3e:00:be:0d', user: USER, password: PASSWORD });
    await pc.listen(0);
    await pc.listenRedirection(0);
    const gw = await gateway(pc, 'sol');
    const direct: number[] = [];
    const through: number[] = [];
    const noSol = async () => {
      for (let i = 0; i < 200 && solSessionOf(pc); i++) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      for (let i = 0; i < ROUNDS; i++) {
        direct.push(...(await solRound(await directSol(pc), ROUND_MS)));
        await noSol();
        through.push(...(await solRound(await gw.pipe(), ROUND_MS)));
        await noSol();
      }
    } finally {
      await gw.close();
      closeAllAmt();
      await pc.close();
    }
    const directP99 = pct(direct, 99);
    const gatewayP99 = pct(through, 99);
    return {
      directEchoP50Ms: r2(pct(direct, 50)),
      directEchoP99Ms: r2(directP99),
      gatewayEchoP50Ms: r2(pct(through, 50)),
      gatewayEchoP99Ms: r2(gatewayP99),
      gatewayP99OverDirectMs: r2(gatewayP99 - directP99),
      goal: 'gateway p99 <= direct p99 + 5 ms',
      goalMet: gatewayP99 <= directP99 + 5,
      keys: { direct: direct.length, gateway: through.length },
    };
  },
};

const CONSOLES = 20;
/** Goal: an open KVM console costs the gateway at most this much resident memory (a Pi runs 20 in 20 MiB). */
const GOAL_KIB_PER_CONSOLE = 1024;

export const consoleMemory: Bench = {
  name: 'console-memory',
  description: `memory of the gateway per open KVM console at ${CONSOLES} consoles (goal <= ${GOAL_KIB_PER_CONSOLE} KiB RSS each), against a bare relay of the same sessions`,
  async run() {
    // PCs with KVM (a fleet mixes in models without it), enabled and waiting for a viewer.
    const pcs: SimDevice[] = [];
    for (let i = 0; i < CONSOLES; i++) {
      const hex = (0xc00 + i).toString(16);
      const d = new SimDevice({ name: `bench-kvm-${i}`, uuid: `4c4c4544-0000-1000-8000-000000000${hex}`, mac: `00:16:3e:00:0${hex[0]}:${hex.slice(1)}`, user: USER, password: PASSWORD });
      await d.listen(0);
      await d.listenRedirection(0);
      kvmState(d).enabledState = 6;
      pcs.push(d);
    }
    const fleet = { devices: pcs, stop: () => Promise.all(pcs.map((d) => d.close())) };
    try {
      // Each kind in a fresh gateway process of its own, so that neither inherits the other's heap.
      const bare = await measureGateway(pcs, 'bare');
      const consoles = await measureGateway(pcs, 'console');
      return {
        consoles: CONSOLES,
        rssKiBPerConsole: Math.round(consoles.rssKiB),
        jsHeapKiBPerConsole: Math.round(consoles.jsKiB),
        bareRelayRssKiBPerConsole: Math.round(bare.rssKiB),
        bareRelayJsHeapKiBPerConsole: Math.round(bare.jsKiB),
        rssToBareRelay: r2(consoles.rssKiB / Math.max(1, bare.rssKiB)),
        jsHeapToBareRelay: r2(consoles.jsKiB / Math.max(1, bare.jsKiB)),
        goal: `<= ${GOAL_KIB_PER_CONSOLE} KiB RSS per open console`,
        goalMet: consoles.rssKiB <= GOAL_KIB_PER_CONSOLE,
      };
    } finally {
      closeAllAmt();
      await fleet.stop();
    }
  },
};

/** Growth of a fresh gateway process's memory per viewer with CONSOLES viewers of `kind` open. */
async function measureGateway(pcs: SimDevice[], kind: 'console' | 'bare'): Promise<{ rssKiB: number; jsKiB: number }> {
  const child = fork(path.join(__dirname, 'console-memory-child.js'), [], { execArgv: ['--expose-gc'], stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
  const viewers: Pipe[] = [];
  try {
    child.stdin!.end(JSON.stringify({ pcs: pcs.map((d) => ({ port: d.port, redirectionPort: d.redirectionPort })), user: USER, password: PASSWORD }));
    const port = await new Promise<number>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve((JSON.parse(l) as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)));
    });
    const memory = () =>
      new Promise<NodeJS.MemoryUsage>((resolve) => {
        child.once('message', (m) => resolve(m as NodeJS.MemoryUsage));
        child.send('memory');
      });
    /** Opens a viewer on PC i and waits for its first full screen. */
    const open = async (i: number) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/${kind}/${i}`, { perMessageDeflate: false });
      await new Promise((r, j) => {
        ws.once('open', r);
        ws.once('error', j);
      });
      const pipe: Pipe = {
        write: (b) => ws.send(b),
        onData: (f) => ws.on('message', (m: Buffer) => f(m)),
        close: () =>
          new Promise<void>((r) => {
            if (ws.readyState === WebSocket.CLOSED) return r();
            ws.once('close', () => r());
            ws.close();
          }),
      };
      viewers.push(pipe);
      await viewer(pipe);
    };
    const closeAll = async () => {
      await Promise.all(viewers.splice(0).map((v) => v.close()));
      for (let i = 0; i < 500 && pcs.some((d) => kvmSessionOf(d)); i++) await new Promise((r) => setTimeout(r, 10));
      // What the console layer turns off again is done after the session ends.
      await new Promise((r) => setTimeout(r, 300));
    };
    // Warm up: the code paths run once before anything is measured.
    await open(0);
    await closeAll();
    const before = await memory();
    for (let i = 0; i < CONSOLES; i++) await open(i);
    const after = await memory();
    await closeAll();
    const js = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external;
    return { rssKiB: (after.rss - before.rss) / 1024 / CONSOLES, jsKiB: (js(after) - js(before)) / 1024 / CONSOLES };
  } finally {
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    child.kill('SIGTERM');
  }
}
