/**
 * Alerts that become real tickets: a real Request Tracker 5 (SQLite, RT's standalone server), a
 * Node-RED runtime in its own process running alert-in → RT ticket, and simulated PCs sending PET
 * traps: chassis opened, a fan failure with repeats, a flood, Node-RED killed and restarted in the
 * middle, RT away for a while. Read back through RT's REST API: exactly one ticket per incident,
 * in the right state, with the right history; nothing lost, nothing doubled.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearScenario, Fleet, runScenario, startFleet } from '../../packages/sim/src';
import { freeUdpPort } from '../helpers/peers';
import { RtTicket, RT_PASSWORD, RT_USER, TestRequestTracker } from '../helpers/request-tracker';

jest.setTimeout(300_000);

let rt: TestRequestTracker;
let fleet: Fleet;
let userDir: string;
let petPort: number;
let red: ChildProcess | undefined;
let redLog = '';

const CHILD = path.join(__dirname, '..', 'helpers', 'node-red-child.js');

function flows(): { flows: unknown[]; credentials: Record<string, unknown> } {
  return {
    flows: [
      { id: 'rt-tab', type: 'tab', label: 'tickets' },
      {
        id: 'rt-alerts',
        type: 'oob-alert-in',
        z: 'rt-tab',
        name: 'hardware alerts',
        devices: '',
        site: '',
        pet: true,
        petPort,
        petAddress: '127.0.0.1',
        communities: 'public',
        allow: '127.0.0.1',
        allowAny: false,
        wsevent: false,
        eventlog: false,
        heartbeat: false,
        shape: 'alert',
        policy: '',
        outputNames: 'Hardware',
        rules: '[]',
        defaultOutput: 1,
        dedupSeconds: 2,
        rateKeyCount: 1000,
        rateKeySeconds: 60,
        rateGlobalCount: 5000,
        rateGlobalSeconds: 60,
        escalateMinutes: 0,
        maintenance: '[]',
        ownActionSeconds: 180,
        outputs: 1,
        wires: [['rt-ticket']],
      },
      { id: 'rt-ticket', type: 'oob-rt-ticket', z: 'rt-tab', name: '', url: rt.url, queue: 'General', queueFromRoute: true, incidentField: 'OOBKit Incident', timeout: 5, wires: [[]] },
    ],
    credentials: { 'rt-ticket': { username: RT_USER, password: RT_PASSWORD } },
  };
}

async function startRed(): Promise<void> {
  const file = path.join(userDir, '..', 'flows-input.json');
  fs.writeFileSync(file, JSON.stringify(flows()));
  redLog = '';
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, FLOWS_FILE: file, USER_DIR: userDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b) => (redLog += b));
  child.stderr!.on('data', (b) => (redLog += b));
  red = child;
  const started = Date.now();
  while (!redLog.includes('ready')) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited:\n${redLog}`);
    if (Date.now() - started > 60_000) throw new Error(`Node-RED did not start:\n${redLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // alert-in binds its PET socket once the flows run.
  await new Promise((r) => setTimeout(r, 500));
}

async function killRed(): Promise<void> {
  const c = red;
  red = undefined;
  if (!c || c.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}\nNode-RED:\n${redLog}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const pet = () => ({ pet: { host: '127.0.0.1', port: petPort } });
/** Tickets by the incident key they carry. */
const byIncident = (tickets: RtTicket[]) => new Map(tickets.map((t) => [t.incident, t]));

beforeAll(async () => {
  rt = await TestRequestTracker.create();
  fleet = await startFleet({ devices: 4, port: 0 });
  userDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-rt-red-')), 'user');
  fs.mkdirSync(userDir);
  petPort = await freeUdpPort();
  await startRed();
});

afterAll(async () => {
  await killRed();
  await fleet?.stop();
  await rt?.close();
  if (userDir) fs.rmSync(path.dirname(userDir), { recursive: true, force: true });
});

describe('alert-in → RT ticket → Request Tracker', () => {
  it('keeps one ticket per incident through repeats, a flood, a crash of Node-RED and an RT outage', async () => {
    const [chassisPc, fanPc, floodPc, bootPc] = fleet.devices;

    // Chassis opened; a fan failure reported six times; an overheating flood of 100 traps.
    await runScenario(chassisPc, 'chassis-opened', pet());
    for (let i = 0; i < 6; i++) await runScenario(fanPc, 'fan-failure', pet());
    await Promise.all(Array.from({ length: 100 }, () => runScenario(floodPc, 'overheating', pet())));

    const opened = await until('three tickets, the fan one commented on its repeats', async () => {
      const t = await rt.tickets('Hardware');
      if (t.length < 3) return undefined;
      const histories = await Promise.all(t.map((x) => rt.history(x.id)));
      return histories.every((h) => h.includes('Comment')) || histories.filter((h) => h.includes('Comment')).length >= 2 ? t : undefined;
    });
    expect(opened).toHaveLength(3);
    expect(new Set(opened.map((t) => t.incident)).size).toBe(3);
    expect(opened.map((t) => t.Subject).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/chassis|intrusion/i), expect.stringMatching(/fan/i), expect.stringMatching(/temperature|heat/i)]));
    const chassisTicket = opened.find((t) => /chassis|intrusion/i.test(t.Subject))!;
    expect(chassisTicket.Priority).toBeGreaterThan(0);

    // Node-RED dies (kill -9) and comes back; the chassis is closed again: its ticket is resolved.
    await killRed();
    await startRed();
    await clearScenario(chassisPc, 'chassis-opened', pet());
    await until('the chassis ticket resolved', async () => (await rt.tickets('Hardware')).find((t) => t.id === chassisTicket.id && t.Status === 'resolved'));

    // RT goes away. Meanwhile a boot failure is reported and the fan recovers, and Node-RED is
    // killed and restarted while both wait in the outbox. RT comes back: both arrive, once.
    await rt.stop();
    await runScenario(bootPc, 'boot-failure', pet());
    await clearScenario(fanPc, 'fan-failure', pet());
    // Both in the outbox (a crash before the second is taken would lose a trap, not test the outbox).
    const waiting = (): number =>
      fs
        .readdirSync(path.join(userDir, 'oobkit'))
        .filter((f) => f.startsWith('rt-ticket-') && f.endsWith('.json'))
        .reduce((n, f) => n + (fs.readFileSync(path.join(userDir, 'oobkit', f), 'utf8').match(/"p:\d+"/g)?.length ?? 0), 0);
    await until('both alerts waiting in the outbox', async () => waiting() >= 2, 30_000);
    await killRed();
    await startRed();
    await rt.start();
    const fanTicket = opened.find((t) => /fan/i.test(t.Subject))!;
    const final = await until('four tickets, the fan one resolved', async () => {
      const t = await rt.tickets('Hardware');
      return t.length >= 4 && t.find((x) => x.id === fanTicket.id)?.Status === 'resolved' ? t : undefined;
    });
    // Let anything still in flight land before counting.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await rt.tickets('Hardware');
    expect(after).toHaveLength(4);
    expect(new Set(after.map((t) => t.incident)).size).toBe(4);
    expect(final.map((t) => t.id).sort()).toEqual(after.map((t) => t.id).sort());
    const tickets = byIncident(after);
    for (const t of after) expect(t.incident).toMatch(/^oobkit-[0-9a-f]{24}$/);
    expect(tickets.size).toBe(4);

    const status = Object.fromEntries(after.map((t) => [t.Subject.match(/chassis|intrusion/i) ? 'chassis' : t.Subject.match(/fan/i) ? 'fan' : t.Subject.match(/temperature|heat/i) ? 'heat' : 'boot', t.Status]));
    expect(status).toEqual({ chassis: 'resolved', fan: 'resolved', heat: 'new', boot: 'new' });

    // Histories: the fan ticket was created, commented on for its repeats and resolved once.
    const fanHistory = await rt.history(fanTicket.id);
    expect(fanHistory[0]).toBe('Create');
    expect(fanHistory.filter((h) => h === 'Comment').length).toBeGreaterThanOrEqual(2);
    expect(fanHistory.filter((h) => h.startsWith('Status')).length).toBe(1);
    const chassisHistory = await rt.history(chassisTicket.id);
    expect(chassisHistory.filter((h) => h === 'Create')).toHaveLength(1);
    expect(chassisHistory.filter((h) => h.startsWith('Status'))).toHaveLength(1);
  });
});
