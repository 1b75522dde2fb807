/**
 * The demo's MQTT broker: Mosquitto when it is installed (Debian: mosquitto), as an MSP would run,
 * else the embedded Aedes (MQTT 3.1.1), which carries everything too, the central console included.
 * DEMO_BROKER=embedded takes Aedes even where Mosquitto is installed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Aedes } from 'aedes';

export interface DemoBroker {
  port: number;
  kind: 'mosquitto' | 'aedes';
  close(): Promise<void>;
}

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto'].find((p) => fs.existsSync(p));

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function answers(port: number, host: string, child: ChildProcess, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && child.exitCode === null) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host === '0.0.0.0' ? '127.0.0.1' : host);
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function startMosquitto(bin: string, port: number, host: string, dir: string): Promise<DemoBroker | undefined> {
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} ${host}`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest none'];
  // As root Mosquitto would switch to its own user; stay who we are.
  lines.push(`user ${os.userInfo().username}`);
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  const child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  if (!(await answers(port, host, child, 5000))) {
    child.kill('SIGKILL');
    return undefined;
  }
  return {
    port,
    kind: 'mosquitto',
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Mosquitto if installed, else Aedes; on `port`, or on a free one when it is taken and may change. */
export async function startDemoBroker(o: { port: number; fixed: boolean; host: string; dir: string; embedded?: boolean; log: (line: string) => void }): Promise<DemoBroker> {
  let port = o.port;
  if (port !== 0 && !(await portFree(port, o.host))) {
    if (o.fixed) throw new Error(`MQTT port ${port} is busy`);
    o.log(`port ${port} is busy; using a free one`);
    port = 0;
  }
  if (port === 0) port = await freePort(o.host);
  if (MOSQUITTO && !o.embedded) {
    const m = await startMosquitto(MOSQUITTO, port, o.host, o.dir);
    if (m) return m;
    o.log('mosquitto did not start; using the embedded broker (MQTT 3.1.1)');
  }
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, o.host, () => resolve());
  });
  return {
    port,
    kind: 'aedes',
    close: async () => {
      await new Promise((r) => server.close(r));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}
