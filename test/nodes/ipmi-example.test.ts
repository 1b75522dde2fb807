/**
 * examples/Servers (IPMI).json as a user gets it, in a real Node-RED runtime with Node-RED's own inject and
 * catch nodes, its server pointed at a simulated BMC: the inject buttons do what they say.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllIpmi } from '../../lib/ipmi';
import { SimBmc } from '../../packages/sim/src/ipmi';
import { catchNode, deviceNode, getNode, ipmiNode, load, nextMessage, powerStateNode, runtimeSettings, startServer, stopServer } from '../helpers/red';

const core = (dir: string, f: string) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', dir, f));
const NODES = [deviceNode, powerStateNode, ipmiNode, catchNode, core('common', '20-inject.js'), core('common', '90-comment.js')];

const USER = 'admin';
const PASSWORD = 'Example-Bmc-1';
let bmc: SimBmc;
let dir: string;

type FlowNode = Record<string, any> & { id: string; type: string };

beforeAll(async () => {
  bmc = await SimBmc.start({ users: [{ name: USER, password: PASSWORD }], cycleMs: 100 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-ipmi-example-'));
  runtimeSettings({ userDir: dir });
  await startServer();
  const nodes = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'Servers (IPMI).json'), 'utf8')) as FlowNode[];
  const credentials: Record<string, unknown> = {};
  for (const n of nodes) {
    if (n.type === 'oob-device') {
      Object.assign(n, { host: '127.0.0.1', ipmiPort: bmc.port, timeout: 3 });
      credentials[n.id] = { ipmiUsername: USER, ipmiPassword: PASSWORD };
    }
    // Debug nodes stand for the sidebar: catch what reaches them.
    if (n.type === 'debug') n.type = 'helper';
  }
  await load(NODES, nodes, credentials);
});
afterAll(async () => {
  await closeAllIpmi();
  await stopServer();
  await bmc.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function press(inject: string, debug: string): Promise<Record<string, any>> {
  const out = nextMessage(debug);
  getNode(inject).receive({});
  return out;
}

describe('examples/Servers (IPMI).json', () => {
  it('has a comment node that says how to use it', () => {
    const nodes = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'Servers (IPMI).json'), 'utf8')) as FlowNode[];
    expect(nodes.find((n) => n.type === 'comment')?.info).toMatch(/IPMI \(server BMC\)/);
  });

  it('status, soft-off and on drive the server through its BMC', async () => {
    expect((await press('ex-ipmi-inject-status', 'ex-ipmi-debug-power')).payload).toMatchObject({ state: 'on', protocol: 'ipmi', device: { name: 'db-server' } });
    await press('ex-ipmi-inject-softoff', 'ex-ipmi-debug-power');
    for (let i = 0; i < 40 && bmc.state.powerOn; i++) await new Promise((r) => setTimeout(r, 50));
    expect(bmc.state.powerOn).toBe(false);
    expect((await press('ex-ipmi-inject-on', 'ex-ipmi-debug-power')).payload).toMatchObject({ previous: 'off', state: 'on' });
  });

  it('sensors, chassis status, event log and identify reach the debug node', async () => {
    bmc.state.addSelEvent({ sensorType: 0x05, sensorNumber: 0x31, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    const sensors = (await press('ex-ipmi-inject-sensors', 'ex-ipmi-debug-server')).payload.sensors;
    expect(sensors.map((s: { name: string }) => s.name)).toEqual(['CPU Temp', 'System Temp', 'FAN1', 'FAN2', '12V', '5V', '3.3V']);
    expect((await press('ex-ipmi-inject-status2', 'ex-ipmi-debug-server')).payload).toMatchObject({ power: 'on', session: { cipherSuite: 17 } });
    expect((await press('ex-ipmi-inject-sel', 'ex-ipmi-debug-server')).payload.alerts[0]).toMatchObject({ kind: 'chassis-intrusion', summary: 'Chassis opened (general chassis intrusion) [Intrusion]', device: { name: 'db-server' } });
    expect((await press('ex-ipmi-inject-identify', 'ex-ipmi-debug-server')).payload).toMatchObject({ identify: 15 });
  });

  it('"PXE boot" sets a one-time network boot and power-cycles the server, which boots from the network', async () => {
    const boots: string[] = [];
    bmc.on('boot', (e: { device: string }) => boots.push(e.device));
    const msg = await press('ex-ipmi-inject-pxe', 'ex-ipmi-debug-power');
    expect(msg.payload).toMatchObject({ action: 'cycle', previous: 'on' });
    for (let i = 0; i < 40 && boots.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(boots).toEqual(['pxe']);
    expect(bmc.state.bootDevice.valid).toBe(false);
  });
});
