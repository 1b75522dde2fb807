/**
 * oob-inventory in a real Node-RED runtime against simulated PCs over TLS: the inventory as an
 * object and as a CSV row through Node-RED's own CSV node, the audit log with the position kept
 * across a restart, a power action by oob-power-state showing up in the audit log, and every
 * bad input and fault ending in a clear error or a result marked partial.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { ROW_COLUMNS } from '../../lib/amt/inventory';
import { addAuditRecord, defaultClasses, Fleet, startFleet } from '../../packages/sim/src';
import {
  catchNode,
  csvNode,
  deviceNode,
  getNode,
  inventoryNode,
  load,
  nextMessage,
  powerStateNode,
  recordStatuses,
  runtimeSettings,
  startServer,
  stopServer,
} from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Inv-Node-P@ss1';
const NODES = [deviceNode, inventoryNode, powerStateNode, catchNode, csvNode];

let fleet: Fleet;
let userDir: string;

beforeAll(async () => {
  fleet = await startFleet({ devices: 4, port: 0, tls: true, user: USER, password: PASSWORD, seed: 'inventory-node', timings: { bootTimeMs: 30, offDwellMs: 10 } });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-inv-node-'));
  runtimeSettings({ userDir });
  await startServer();
});
afterEach(async () => {
  closeAllAmt();
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

function deviceConfig(i: number, extra: Record<string, unknown> = {}) {
  const d = fleet.devices[i];
  return { id: 'dev', type: 'oob-device', name: d.name, host: '127.0.0.1', site: 'branch-7', amtPort: d.port, amtTls: true, fingerprint: d.tls!.fingerprint256, timeout: 2, ...extra };
}

function flow(i: number, inv: Record<string, unknown> = {}, deviceExtra: Record<string, unknown> = {}) {
  return [
    deviceConfig(i, deviceExtra),
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'inv', z: 'f1', type: 'oob-inventory', device: 'dev', action: 'inventory', format: 'object', auditMode: 'new', wires: [['out']], ...inv },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const creds = { dev: { username: USER, password: PASSWORD } };

async function send(input: Record<string, unknown>, at = 'inv', out = 'out'): Promise<Record<string, any>> {
  const next = nextMessage(out);
  getNode(at).receive(input);
  return next;
}

describe('oob-inventory: inventory', () => {
  it('sends the inventory as one object, with the device and without credentials', async () => {
    await load(NODES, flow(0), creds);
    const statuses = recordStatuses('inv');
    const msg = await send({ payload: 'inventory' });
    const hw = fleet.devices[0].hardware;
    expect(msg.topic).toBe('pc-01');
    expect(msg.partial).toBe(false);
    expect(msg.missing).toEqual([]);
    expect(msg.payload).toMatchObject({
      device: { name: 'pc-01', host: '127.0.0.1', site: 'branch-7' },
      platform: { manufacturer: hw.manufacturer, model: hw.model, serial: hw.serial, uuid: fleet.devices[0].uuid },
      bios: { version: hw.bios.version },
      amt: { version: '15.0.23', controlMode: 'admin' },
      features: { kvm: 'enabled', sol: 'enabled', ider: 'enabled', systemDefense: 'disabled' },
    });
    expect(msg.payload.storage).toHaveLength(2);
    expect(msg.payload.memory.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(msg)).not.toContain(PASSWORD);
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: hw.model });
  });

  it("feeds Node-RED's CSV node one row with the documented columns", async () => {
    const nodes = flow(1, { format: 'row', wires: [['tocsv']] });
    nodes.push({ id: 'tocsv', z: 'f1', type: 'csv', spec: 'rfc', sep: ',', hdrin: '', hdrout: 'all', multi: 'one', ret: '\\n', temp: '', skip: '0', strings: true, wires: [['out']] } as never);
    await load(NODES, nodes, creds);
    const msg = await send({ payload: 'inventory' });
    const [header, line] = String(msg.payload).trim().split('\n');
    expect(header).toBe(ROW_COLUMNS.join(','));
    const hw = fleet.devices[1].hardware;
    expect(line.startsWith(`pc-02,127.0.0.1,branch-7,`)).toBe(true);
    expect(line).toContain(`,${hw.serial},`);
    expect(line).toContain(hw.cpus[0].model);
    expect(line).toContain(fleet.devices[1].mac);
  });

  it('marks an inventory from older firmware as partial, with what is missing and why', async () => {
    const gone = new Set(['CIM_Chip', 'CIM_PhysicalPackage']);
    const old = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'old-node', configure: (_i, o) => ({ ...o, classes: defaultClasses.filter((c) => !gone.has(c.className)) }) });
    try {
      await load(NODES, flow(0, {}, { amtPort: old.devices[0].port, amtTls: false, fingerprint: '' }), creds);
      const statuses = recordStatuses('inv');
      const msg = await send({ payload: 'inventory' });
      expect(msg.partial).toBe(true);
      expect(msg.payload.partial).toBe(true);
      expect(msg.missing.map((m: { section: string; class: string }) => `${m.section}/${m.class}`)).toEqual(['processors/CIM_Chip', 'storage/CIM_PhysicalPackage']);
      expect(msg.payload.platform.serial).toBe(old.devices[0].hardware.serial);
      expect(statuses.at(-1)).toEqual({ fill: 'yellow', shape: 'ring', text: 'partial: 2 missing' });
    } finally {
      closeAllAmt();
      await old.stop();
    }
  });
});

describe('oob-inventory: audit log', () => {
  it('sends the whole log first, then only what is new, and a power action shows up with who and from where', async () => {
    const nodes = flow(2, { action: 'audit' });
    nodes.push({ id: 'power', z: 'f1', type: 'oob-power-state', device: 'dev', action: 'status', poll: 0, wires: [['powered']] } as never, { id: 'powered', z: 'f1', type: 'helper' } as never);
    await load(NODES, nodes, creds);
    const statuses = recordStatuses('inv');
    const first = await send({ payload: 1700000000000 });
    expect(first.payload.map((r: { action: string }) => r.action)).toEqual(['provisioning-started', 'provisioning-completed', 'firmware-updated', 'time-set', 'user-added', 'kvm-enabled']);
    expect(first.payload[4]).toMatchObject({ device: 'pc-03', who: 'admin', from: '192.0.2.10', event: 'User added' });
    expect(first.audit).toEqual({ device: { name: 'pc-03', host: '127.0.0.1', site: 'branch-7' }, mode: 'new', total: 6 });
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: '6 new' });
    expect((await send({ payload: 'audit' })).payload).toEqual([]);

    await send({ payload: 'reset' }, 'power', 'powered');
    const after = await send({ payload: 'audit' });
    expect(after.payload).toHaveLength(1);
    expect(after.payload[0]).toMatchObject({ app: 'Remote Control', action: 'reset', who: USER, from: '127.0.0.1', index: 7 });
    expect(after.payload[0].summary).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC admin from 127\.0\.0\.1: Remote Control: Reset$/);

    const all = await send({ payload: 'audit-all' });
    expect(all.payload).toHaveLength(7);
    expect(all.audit.mode).toBe('all');
  });

  it('remembers its position across a restart of Node-RED', async () => {
    const d = fleet.devices[3];
    await load(NODES, flow(3, { action: 'audit' }), creds);
    expect((await send({})).payload).toHaveLength(6);
    closeAllAmt();
    await stopServer();
    addAuditRecord(d, { appId: 18, eventId: 8, initiator: { type: 'digest', user: 'helpdesk' }, address: '192.0.2.10' });
    runtimeSettings({ userDir });
    await startServer();
    await load(NODES, flow(3, { action: 'audit' }), creds);
    const msg = await send({});
    expect(msg.payload).toHaveLength(1);
    expect(msg.payload[0]).toMatchObject({ event: 'KVM session started', who: 'helpdesk' });
    const saved = JSON.parse(fs.readFileSync(path.join(userDir, 'oobkit', 'audit-positions.json'), 'utf8'));
    expect(Object.keys(saved.entries)).toEqual([`inv|127.0.0.1:${d.port}`]);
    expect(JSON.stringify(saved)).not.toContain(PASSWORD);
  });

  it('starts afresh, with a warning, when the position file is damaged', async () => {
    fs.mkdirSync(path.join(userDir, 'oobkit'), { recursive: true });
    fs.writeFileSync(path.join(userDir, 'oobkit', 'audit-positions.json'), '{"entries": [not json');
    await load(NODES, flow(0, { action: 'audit', auditMode: 'new' }), creds);
    const warn = getNode('inv').warn as unknown as { args: unknown[][] };
    const msg = await send({});
    expect(msg.payload.length).toBeGreaterThanOrEqual(6);
    expect(warn.args.map((a) => String(a[0])).join('\n')).toMatch(/is not a state file .* moved it to audit-positions\.json\.corrupt/);
    expect(fs.existsSync(path.join(userDir, 'oobkit', 'audit-positions.json.corrupt'))).toBe(true);
    expect((await send({})).payload).toEqual([]);
  });

  it('sends what it read when the PC stops answering halfway, marked partial, and resumes on the next read', async () => {
    const d = fleet.devices[0];
    for (let i = 0; i < 25; i++) addAuditRecord(d, { appId: 17, eventId: 3, initiator: { type: 'digest', user: `tech${i}` }, address: '192.0.2.99' });
    await load(NODES, flow(0, { action: 'audit' }, { timeout: 1 }), creds);
    const statuses = recordStatuses('inv');
    let answered = 0;
    const onRequest = () => {
      // The first ReadRecords pages answer, then the PC goes quiet.
      if (++answered === 2) d.injectFault({ kind: 'hang', count: 100 });
    };
    d.on('request', onRequest);
    try {
      const msg = await send({ payload: 'audit' });
      expect(msg.partial).toBe(true);
      expect(msg.payload).toHaveLength(20);
      expect(msg.missing).toEqual([{ section: 'audit', class: 'AMT_AuditLog', reason: expect.stringMatching(/^stopped after record 20 of \d+: .*did not answer within 1000 ms/) }]);
      expect(statuses.at(-1)).toEqual({ fill: 'yellow', shape: 'ring', text: '20 new, partial' });
    } finally {
      d.off('request', onRequest);
      d.clearFaults();
    }
    closeAllAmt();
    const rest = await send({ payload: 'audit' });
    expect(rest.partial).toBe(false);
    expect(rest.payload[0].index).toBe(21);
    expect(rest.payload.at(-1).who).toBe('tech24');
  });
});

describe('oob-inventory: bad input', () => {
  it.each([
    ['an unknown action', {}, { payload: 'explode' }, /unknown action "explode"; use one of: inventory, audit, audit-new, audit-all/, 'bad input'],
    ['an unknown device name', {}, { payload: 'inventory', device: 'nobody' }, /no device named "nobody"/, 'bad input'],
    ['an inline device without credentials', {}, { payload: 'inventory', device: { host: '127.0.0.1' } }, /127\.0\.0\.1 has no AMT credentials/, 'not supported'],
    ['a changed certificate', { fingerprint: 'AB:'.repeat(31) + 'AB' }, { payload: 'audit' }, /changed: pinned SHA-256 AB:AB/, 'cert changed'],
  ])('gives a clear error and red status for %s', async (_what, deviceExtra, input, message, statusText) => {
    await load(NODES, flow(1, {}, deviceExtra), creds);
    const statuses = recordStatuses('inv');
    const caught = nextMessage('caught');
    getNode('inv').receive({ ...input, marker: 7 });
    const err = await caught;
    expect(err.marker).toBe(7);
    expect(err.error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: statusText });
  });

  it('reports a PC that cannot be reached', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    await load(NODES, flow(1, {}, { amtPort: closed }), creds);
    const statuses = recordStatuses('inv');
    const caught = nextMessage('caught');
    getNode('inv').receive({ payload: 'inventory' });
    expect((await caught).error.message).toMatch(/cannot reach 127\.0\.0\.1:\d+/);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: 'unreachable' });
  });
});
