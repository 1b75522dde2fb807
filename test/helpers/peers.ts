/**
 * Helpers for tests against real peers: fail loudly when a peer command is missing, run things in
 * a network namespace the test creates (for fixed or privileged ports, and for broadcasts that must
 * not leave this machine), and capture packets with tshark as PDML.
 */
import { ChildProcess, execFile, execFileSync, spawn, SpawnOptions } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const runAsync = promisify(execFile);
export const ROOT = join(__dirname, '..', '..');

/** The path of a peer command; throws (the test fails) when it is not installed. */
export function requirePeer(cmd: string, _debianPackage?: string): string {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
  for (const d of dirs) {
    const p = join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  throw new Error(`peer "${cmd}" is not installed: run npm run ensure-peers (see scripts/ensure-peers.js)`);
}

let nsCounter = 0;

export interface Namespace {
  name: string;
  /** Run a command inside; rejects on a non-zero exit. */
  exec(cmd: string, args: string[], o?: { timeoutMs?: number }): Promise<{ stdout: string; stderr: string }>;
  /** Start a long-running command inside; it is killed when the namespace is removed. */
  spawn(cmd: string, args: string[], o?: SpawnOptions): ChildProcess;
  /** A TypeScript file of ours run with tsx inside the namespace. */
  spawnTs(file: string, args: string[]): ChildProcess;
  remove(): Promise<void>;
}

/** A fresh network namespace with loopback up, named oob-<tag>-<pid>-<n>. */
export async function createNamespace(tag: string): Promise<Namespace> {
  const ip = requirePeer('ip');
  const name = `oob-${tag}-${process.pid}-${nsCounter++}`;
  await runAsync(ip, ['netns', 'add', name]);
  await runAsync(ip, ['-n', name, 'link', 'set', 'lo', 'up']);
  const children = new Set<ChildProcess>();
  const ns: Namespace = {
    name,
    exec: async (cmd, args, o = {}) => runAsync(ip, ['netns', 'exec', name, cmd, ...args], { timeout: o.timeoutMs ?? 20_000 }),
    spawn: (cmd, args, o = {}) => {
      const c = spawn(ip, ['netns', 'exec', name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, ...o });
      children.add(c);
      c.on('exit', () => children.delete(c));
      return c;
    },
    spawnTs: (file, args) => ns.spawn(process.execPath, ['--import', 'tsx', file, ...args]),
    remove: async () => {
      await Promise.all(
        [...children].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
      await runAsync(ip, ['netns', 'del', name]).catch(() => undefined);
    },
  };
  return ns;
}

/** Lines a child prints on stdout, parsed as JSON, as they come. */
export function jsonLines(c: ChildProcess, n: number, timeoutMs = 20_000): Promise<Record<string, any>[]> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no ${n} JSON lines within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    c.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n').filter((l) => l.trim().startsWith('{'));
      if (lines.length >= n) {
        clearTimeout(timer);
        resolve(lines.slice(0, n).map((l) => JSON.parse(l)));
      }
    });
    c.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before printing ${n} JSON lines: ${err}`));
    });
  });
}

export interface CapturedField {
  name: string;
  show: string;
  showname: string;
  value?: string;
}

/** One captured packet as tshark dissected it. */
export interface CapturedPacket {
  protocols: string;
  fields: CapturedField[];
  /** tshark flagged it malformed, or raised an expert warning or error. */
  malformed: boolean;
  expertErrors: string[];
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
  return m?.[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function parsePdml(xml: string): CapturedPacket[] {
  return xml
    .split('<packet>')
    .slice(1)
    .map((p) => {
      const fields: CapturedField[] = [...p.matchAll(/<field [^>]*>/g)].map((m) => ({
        name: attr(m[0], 'name') ?? '',
        show: attr(m[0], 'show') ?? '',
        showname: attr(m[0], 'showname') ?? '',
        value: attr(m[0], 'value'),
      }));
      const protocols = fields.find((f) => f.name === 'frame.protocols')?.show ?? '';
      const expert = fields.filter((f) => f.name === '_ws.expert.severity' && /error|warn/i.test(f.showname));
      return {
        protocols,
        fields,
        malformed: /<proto name="_ws\.malformed"/.test(p) || fields.some((f) => f.name.startsWith('_ws.malformed')),
        expertErrors: expert.map((f) => f.showname),
      };
    });
}

/**
 * Start tshark on an interface with a capture filter, wait until it captures, and resolve with
 * the dissected packets once `count` arrived (or after `timeoutMs`).
 */
export async function startCapture(o: {
  iface: string;
  filter: string;
  count: number;
  ns?: Namespace;
  timeoutMs?: number;
  /** tshark -d rules, e.g. "udp.port==40000,rmcp" for a protocol on a port it does not expect. */
  decodeAs?: string[];
  /**
   * Let UDP's heuristic dissectors (Wake-on-LAN is one) look before the port table: otherwise a
   * packet whose ephemeral source port is some protocol's port (34962-34964 is PROFINET RT) is
   * read as that protocol.
   */
  heuristicsFirst?: boolean;
}): Promise<{ packets: Promise<CapturedPacket[]> }> {
  const tshark = requirePeer('tshark');
  const args = [...(o.decodeAs ?? []).flatMap((d) => ['-d', d]), ...(o.heuristicsFirst ? ['-o', 'udp.try_heuristic_first:TRUE'] : []), '-i', o.iface, '-f', o.filter, '-c', String(o.count), '-a', `duration:${Math.ceil((o.timeoutMs ?? 20_000) / 1000)}`, '-T', 'pdml'];
  const c = o.ns ? o.ns.spawn(tshark, args) : spawn(tshark, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const finished = new Promise<CapturedPacket[]>((resolve, reject) => {
    c.on('exit', (code) => (code === 0 ? resolve(parsePdml(out)) : reject(new Error(`tshark exited ${code}: ${err}`))));
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tshark did not start capturing: ${err}`)), 15_000);
    c.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/Capturing on/.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
    c.once('exit', (code) => reject(new Error(`tshark exited ${code} before capturing: ${err}`)));
  });
  finished.catch(() => undefined);
  // (Wrapped: an async function returning the promise itself would wait for the capture to end.)
  return { packets: finished };
}

/** A free UDP port on loopback (bound and released). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** A classic pcap (Ethernet) of UDP datagrams from 127.0.0.1:srcPort to 127.0.0.1:dstPort. */
export function writeUdpPcap(file: string, payloads: Buffer[], srcPort: number, dstPort: number): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const parts = [head];
  payloads.forEach((p, i) => {
    const eth = Buffer.from('000000000000' + '000000000000' + '0800', 'hex');
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + p.length, 2);
    ip.writeUInt16BE(i + 1, 4);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from([127, 0, 0, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    ip.writeUInt16BE(ipChecksum(ip), 10);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(srcPort, 0);
    udp.writeUInt16BE(dstPort, 2);
    udp.writeUInt16BE(8 + p.length, 4);
    const frame = Buffer.concat([eth, ip, udp, p]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  });
  fs.writeFileSync(file, Buffer.concat(parts));
}

/** Run a command and return its stdout; throws on a non-zero exit. */
export function run(cmd: string, args: string[], timeoutMs = 20_000): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}
