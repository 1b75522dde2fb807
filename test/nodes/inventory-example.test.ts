/**
 * examples/Inventory and audit log.json as a user gets it, run in a real Node-RED runtime with Node-RED's own
 * inject, split, change, CSV, file and template nodes, its two devices pointed at simulated PCs:
 * "inventory now" appends one CSV line per PC to the file, and the audit flow turns records into
 * chat lines.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { ROW_COLUMNS } from '../../lib/amt/inventory';
import { Fleet, startFleet } from '../../packages/sim/src';
import { catchNode, csvNode, deviceNode, getNode, inventoryNode, load, nextMessage, runtimeSettings, startServer, stopServer } from '../helpers/red';

const core = (dir: string, f: string) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', dir, f));
const NODES = [
  deviceNode,
  inventoryNode,
  catchNode,
  csvNode,
  core('common', '20-inject.js'),
  core('common', '90-comment.js'),
  core('sequence', '17-split.js'),
  core('function', '15-change.js'),
  core('function', '80-template.js'),
  core('storage', '10-file.js'),
];

const USER = 'admin';
const PASSWORD = 'Example-P@ss1';
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, tls: true, user: USER, password: PASSWORD, seed: 'inventory-example' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-inv-example-'));
  runtimeSettings({ userDir: dir });
  await startServer();
});
afterAll(async () => {
  closeAllAmt();
  await stopServer();
  await fleet.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

type FlowNode = Record<string, any> & { id: string; type: string };

function exampleFlow(csvFile: string): { nodes: FlowNode[]; credentials: Record<string, unknown> } {
  const nodes = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'Inventory and audit log.json'), 'utf8')) as FlowNode[];
  const credentials: Record<string, unknown> = {};
  let next = 0;
  for (const n of nodes) {
    if (n.type === 'oob-device') {
      const d = fleet.devices[next++];
      Object.assign(n, { host: '127.0.0.1', amtPort: d.port, amtTls: true, fingerprint: d.tls!.fingerprint256, timeout: 5 });
      credentials[n.id] = { username: USER, password: PASSWORD };
    }
    if (n.type === 'file') Object.assign(n, { filename: csvFile, wires: [['written']] });
    // Debug nodes stand for chat and the sidebar: catch what reaches them.
    if (n.type === 'debug') n.type = 'helper';
  }
  nodes.push({ id: 'written', type: 'helper', z: 'ex-inv-tab' });
  return { nodes, credentials };
}

describe('examples/Inventory and audit log.json', () => {
  it('"inventory now" appends one CSV line per PC to the file, with a header', async () => {
    const csvFile = path.join(dir, 'inventory.csv');
    const { nodes, credentials } = exampleFlow(csvFile);
    await load(NODES, nodes, credentials);
    const written: string[] = [];
    const done = new Promise<void>((resolve) => {
      getNode('written').on('input', (m: { payload: string }) => {
        written.push(m.payload);
        if (written.length === 2) resolve();
      });
    });
    getNode('ex-inv-now').receive({});
    await done;
    const lines = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(ROW_COLUMNS.join(','));
    expect(lines).toHaveLength(3);
    const names = lines.slice(1).map((l) => l.split(',')[0]).sort();
    expect(names).toEqual(['accounts-pc', 'reception-pc']);
    for (const d of fleet.devices) expect(lines.some((l) => l.includes(`,${d.hardware.serial},`))).toBe(true);
  });

  it('the audit flow sends one chat line per record, then only new ones', async () => {
    const chat = getNode('ex-inv-chat');
    const lines: string[] = [];
    chat.on('input', (m: { payload: string }) => lines.push(m.payload));
    const wait = async (n: number) => {
      for (let i = 0; i < 100 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 50));
    };
    getNode('ex-inv-audit-tick').receive({});
    await wait(6);
    expect(lines).toHaveLength(6);
    expect(lines[2]).toMatch(/^AMT audit, reception-pc: \d{4}-\d\d-\d\d \d\d:\d\d UTC local: Firmware Update: Firmware updated \(12\.0\.40\.1433 -> 12\.0\.36\.1428\)$/);
    expect(lines[4]).toMatch(/admin from 192\.0\.2\.10: Security Admin: User added \(user helpdesk\)$/);
    const more = nextMessage('ex-inv-audit-split');
    getNode('ex-inv-audit-tick').receive({});
    expect((await more).payload).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(lines).toHaveLength(6);
  });
});
