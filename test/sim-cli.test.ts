/** The oob-sim CLI as a user runs it: JSON lines per device, a working device, clean SIGTERM/SIGINT, clear usage errors. */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { AddressInfo, connect, createServer } from 'node:net';
import { buildGet } from '../lib/wsman/messages';
import { readEnvelope, readInstance } from '../lib/wsman/envelope';
import { SimDevice } from '../packages/sim/src';
import { wsmanCall } from './sim-helpers';
import { TrapReceiver } from '../lib/asf/trap-receiver';
import { petFromTrap } from '../lib/asf/pet-trap';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'packages', 'sim', 'src', 'cli.ts');

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function lines(p: ChildProcess, n: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const got = buf.split('\n').filter(Boolean);
      if (got.length >= n) resolve(got.slice(0, n).map((l) => JSON.parse(l) as Record<string, unknown>));
    });
    p.on('exit', (code) => reject(new Error(`exited ${code} before printing ${n} lines: ${err}`)));
  });
}

function exited(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    let stdout = '';
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.on('exit', (code, signal) => resolve({ code, signal, stderr, stdout }));
  });
}

/** Just enough of a SimDevice for the test Digest client: port and TLS flag. */
function remote(port: number): SimDevice {
  return { port, tls: undefined } as unknown as SimDevice;
}

describe('oob-sim CLI', () => {
  it('starts N devices, prints one JSON line each, serves WS-Man, stops cleanly on SIGTERM', async () => {
    const p = start(['--devices', '3', '--port', '0', '--user', 'ops', '--password', 'S3cret!']);
    const done = exited(p);
    const devs = await lines(p, 3);
    expect(devs.map((d) => d.name)).toEqual(['pc-01', 'pc-02', 'pc-03']);
    for (const d of devs) {
      expect(d.port).toEqual(expect.any(Number));
      expect(d.mac).toMatch(/^02:00:86:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
      expect(d.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(d.tls).toBe(false);
      expect(d.fingerprint256).toBeNull();
    }
    expect(new Set(devs.map((d) => d.port)).size).toBe(3);
    const r = await wsmanCall(remote(devs[1].port as number), buildGet('AMT_GeneralSettings').xml, { user: 'ops', password: 'S3cret!' });
    expect(r.status).toBe(200);
    expect(readInstance(readEnvelope(r.body.toString())).props.HostName).toBe('pc-02');
    const wrong = await wsmanCall(remote(devs[1].port as number), buildGet('AMT_GeneralSettings').xml, { user: 'ops', password: 'nope' });
    expect(wrong.status).toBe(401);
    p.kill('SIGTERM');
    const res = await done;
    expect(res.code).toBe(0);
  });

  it('with --tls prints each certificate fingerprint; SIGINT stops it', async () => {
    const p = start(['--devices', '2', '--port', '0', '--user', 'u', '--password', 'p', '--tls', '--latency', '5']);
    const done = exited(p);
    const devs = await lines(p, 2);
    for (const d of devs) {
      expect(d.tls).toBe(true);
      expect(d.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(d.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/wsman$/);
    }
    expect(devs[0].fingerprint256).not.toBe(devs[1].fingerprint256);
    p.kill('SIGINT');
    expect((await done).code).toBe(0);
  });

  it('--amt-version 18 serves TLS only, with that firmware version in the Server header', async () => {
    const p = start(['--devices', '1', '--port', '0', '--amt-version', '18']);
    const done = exited(p);
    const [d] = await lines(p, 1);
    expect(d).toMatchObject({ tls: true, amtVersion: '18.0.5' });
    expect(d.url).toMatch(/^https:/);
    p.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });

  // boot from media: the redirection port
  it('--redir-port sets the redirection port and prints it; the port speaks the redirection protocol', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const p = start(['--devices', '1', '--port', '0', '--redir-port', String(free)]);
    const done = exited(p);
    const devs = await lines(p, 1);
    expect(devs[0].redirectionPort).toBe(free);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const c = connect(free, '127.0.0.1', () => c.write(Buffer.from([0x10, 0, 0, 0, 0x49, 0x44, 0x45, 0x52])));
      c.once('data', (d: Buffer) => {
        c.destroy();
        resolve(d);
      });
      c.on('error', reject);
    });
    expect([reply[0], reply[1]]).toEqual([0x11, 0]); // StartRedirectionSessionReply, success
    p.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });

  it.each([
    [['--devices', '2', '--port', '0', '--redir-port', '65535'], /--redir-port 65535 with 2 devices runs past port 65535/],
    [['--port', '0'], /--devices is required/],
    [['--devices', '0', '--port', '0'], /--devices must be between 1 and 5000/],
    [['--devices', 'three', '--port', '0'], /--devices must be a whole number/],
    [['--devices', '2', '--port', '65535'], /runs past port 65535/],
    [['--devices', '1', '--port', '0', '--bogus'], /Unknown option '--bogus'/],
    [['--devices', '1', '--port', '0', '--power', 'maybe'], /--power must be on or off/],
    [['--devices', '1', '--port', '0', '--pet', '127.0.0.1'], /--pet must be HOST:PORT/],
    [['--devices', '1', '--port', '0', '--pet', '127.0.0.1:162'], /--pet needs --scenarios/],
    [['--devices', '1', '--port', '0', '--control-mode', 'root'], /--control-mode must be admin or client/],
    [['--devices', '1', '--port', '0', '--amt-version', '9'], /--amt-version must be one of 11, 12, 15, 16, 18, got "9"/],
  ])('refuses %j with a clear message and a non-zero exit', async (args, message) => {
    const res = await exited(start(args));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).toContain('Usage: oob-sim');
  });

  it('--pet with --scenarios sends the PCs\' alert scenarios as PET traps, trigger then clear', async () => {
    const kinds: Array<{ sensorType?: number; deassert?: boolean }> = [];
    const receiver = new TrapReceiver({
      port: 0,
      address: '127.0.0.1',
      onTrap: (t) => {
        const pet = petFromTrap(t);
        kinds.push({ sensorType: pet?.sensorType, deassert: pet?.deassert });
      },
    });
    const port = await receiver.start();
    const p = start(['--devices', '2', '--port', '0', '--pet', `127.0.0.1:${port}`, '--scenarios', '1']);
    try {
      await lines(p, 2);
      for (let i = 0; i < 60 && kinds.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      // The first scenario is "chassis opened": physical security sensor (type 5), then its clear.
      expect(kinds[0]).toEqual({ sensorType: 5, deassert: false });
      expect(kinds).toContainEqual({ sensorType: 5, deassert: true });
    } finally {
      p.kill('SIGTERM');
      await exited(p);
      await receiver.close();
    }
  });

  it('--help prints the usage and exits 0', async () => {
    const res = await exited(start(['--help']));
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('--devices N');
  });
});
