/**
 * MQTT brokers for tests: a real Mosquitto (started on loopback on a free port with a temporary
 * configuration, optionally with a password file), and aedes in this process. Plus a consumer:
 * an mqtt.js client that records everything it receives and waits for what a test expects.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';

export interface TestBroker {
  url: string;
  port: number;
  /** Stop the broker (kill for Mosquitto: connections drop, no goodbye). */
  stop(): Promise<void>;
  /** Mosquitto's log so far. */
  log(): string;
  /** The broker's process id, when it runs in a process of its own. */
  pid?: number;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));

export interface MosquittoOptions {
  /** username -> password; anonymous clients are refused when given. */
  users?: Record<string, string>;
  /** Reuse this port (to restart a broker where clients expect it). */
  port?: number;
  /** Lines of an acl_file (`user ...`, `topic ...`); without it every user may do anything. */
  acl?: string[];
  /** `set_tcp_nodelay true`: each packet sent at once (request/response round trips). */
  noDelay?: boolean;
  /** Serve MQTT over TLS with this certificate and key (PEM); the URL is then mqtts://. */
  tls?: { cert: string; key: string };
}

/** A real Mosquitto on 127.0.0.1 with its own temporary configuration. */
export async function startMosquitto(o: MosquittoOptions = {}): Promise<TestBroker> {
  if (!MOSQUITTO) throw new Error('mosquitto is missing: apt-get install mosquitto (npm test does it via scripts/ensure-peers.js)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-mosquitto-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = o.port ?? (await freePort());
    const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'max_queued_messages 100000', 'log_dest stdout', 'log_type error', 'log_type warning', 'log_type notice'];
    // Run as whoever runs the tests (as root Mosquitto would switch to its own user and lose access to our files).
    lines.push(`user ${os.userInfo().username}`);
    if (o.noDelay) lines.push('set_tcp_nodelay true');
    if (o.tls) {
      fs.writeFileSync(path.join(dir, 'server.crt'), o.tls.cert);
      fs.writeFileSync(path.join(dir, 'server.key'), o.tls.key, { mode: 0o600 });
      lines.push(`certfile ${path.join(dir, 'server.crt')}`, `keyfile ${path.join(dir, 'server.key')}`);
    }
    if (o.users) {
      const pw = path.join(dir, 'passwd');
      fs.writeFileSync(pw, '');
      for (const [u, p] of Object.entries(o.users)) execFileSync('mosquitto_passwd', ['-b', pw, u, p]);
      fs.chmodSync(pw, 0o600);
      lines.push('allow_anonymous false', `password_file ${pw}`);
    } else lines.push('allow_anonymous true');
    if (o.acl) {
      const acl = path.join(dir, 'acl');
      fs.writeFileSync(acl, o.acl.join('\n') + '\n');
      lines.push(`acl_file ${acl}`);
    }
    const conf = path.join(dir, 'mosquitto.conf');
    fs.writeFileSync(conf, lines.join('\n') + '\n');
    const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const up = await waitForPort(port, child, 5000);
    if (!up) {
      child.kill('SIGKILL');
      if (o.port) throw new Error(`mosquitto did not start on port ${port}:\n${out}`);
      continue;
    }
    return {
      url: `${o.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
      port,
      log: () => out,
      pid: child.pid,
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => {
            if (!o.port) fs.rmSync(dir, { recursive: true, force: true });
            resolve();
          });
          child.kill('SIGKILL');
        }),
    };
  }
  throw new Error('mosquitto did not start after 5 attempts');
}

async function waitForPort(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export interface AedesOptions {
  /** Refuse every connection (CONNACK "not authorized"). */
  refuse?: boolean;
  /** Refuse subscriptions to this filter (SUBACK failure 0x80). */
  denySubscription?: string;
  port?: number;
}

// aedes is an ES module (Jest cannot load it), and a broker is another process in real life:
// run it in a child. SIGUSR2 drops every client connection without a goodbye.
const AEDES_SCRIPT = `
import { Aedes } from 'aedes';
import net from 'node:net';
const broker = await Aedes.createBroker();
if (process.env.REFUSE === '1') broker.authenticate = (c, u, p, done) => done(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
if (process.env.DENY_SUB) broker.authorizeSubscribe = (c, sub, done) => done(null, sub.topic === process.env.DENY_SUB ? null : sub);
const sockets = new Set();
const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); broker.handle(s); });
process.on('SIGUSR2', () => { for (const s of sockets) s.destroy(); });
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(server.address().port));
`;

/** aedes (as the demo runs it) in a child process. */
export async function startAedes(o: AedesOptions = {}): Promise<TestBroker & { dropClients(): void }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', AEDES_SCRIPT], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, REFUSE: o.refuse ? '1' : '0', PORT: String(o.port ?? 0), DENY_SUB: o.denySubscription ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`aedes exited with ${code}: ${out}`)));
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    log: () => out,
    dropClients: () => child.kill('SIGUSR2'),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A consumer that records every message on its subscriptions. */
export class Consumer {
  readonly client: MqttClient;
  readonly messages: Received[] = [];
  /** Latest message per topic. */
  readonly latest = new Map<string, Received>();
  private waiters: Array<() => void> = [];

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload: payload.toString('utf8'), retain: packet.retain };
      this.messages.push(m);
      this.latest.set(topic, m);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(url: string, topics: string[], o: mqtt.IClientOptions = {}): Promise<Consumer> {
    const client = mqtt.connect(url, { reconnectPeriod: 200, ...o });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const c = new Consumer(client);
    if (topics.length) await new Promise<void>((resolve, reject) => client.subscribe(topics, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    return c;
  }

  /** Wait until `check` returns something truthy, re-checking after every message. */
  async waitFor<T>(check: () => T | undefined | false | null, ms = 10000, what = 'condition'): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v) return v;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; last topics: ${[...this.latest.keys()].slice(-20).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The latest JSON on a topic that satisfies `check`. */
  waitForJson(topic: string, check: (v: any) => boolean = () => true, ms = 10000): Promise<any> {
    return this.waitFor(
      () => {
        const m = this.latest.get(topic);
        if (!m || !m.payload) return undefined;
        try {
          const v = JSON.parse(m.payload);
          return check(v) ? v : undefined;
        } catch {
          return undefined;
        }
      },
      ms,
      `JSON on ${topic}`,
    );
  }

  waitForPayload(topic: string, payload: string, ms = 10000): Promise<Received> {
    return this.waitFor(() => {
      const m = this.latest.get(topic);
      return m && m.payload === payload ? m : undefined;
    }, ms, `"${payload}" on ${topic}`);
  }

  publish(topic: string, payload: string, o: mqtt.IClientPublishOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => this.client.publish(topic, payload, { qos: 1, ...o }, (e) => (e ? reject(e) : resolve())));
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()));
  }
}
