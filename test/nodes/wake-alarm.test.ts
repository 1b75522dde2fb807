/**
 * oob-wake's alarm actions in a real Node-RED runtime against a simulated PC: set a nightly wake-up
 * and a one-off one, list them, see the PC power itself on when the one-off one comes due (no node
 * involved any more), delete one, and bad input (no AMT, a bad time) as a clear error to a Catch.
 */
import { closeAllAmt } from '../../lib/amt/connect';
import { AlarmEvent, Fleet, startFleet } from '../../packages/sim/src';
import { catchNode, deviceNode, getNode, load, nextMessage, recordStatuses, startServer, stopServer, wakeNode } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Wake-P@ss1';
const NODES = [deviceNode, wakeNode, catchNode];
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, power: 'off', user: USER, password: PASSWORD, timings: { bootTimeMs: 20 } });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(startServer);
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

function flow(withAmt = true) {
  const d = fleet.devices[0];
  return [
    { id: 'dev', type: 'oob-device', name: d.name, host: '127.0.0.1', mac: d.mac, ...(withAmt ? { amtPort: d.port } : {}), timeout: 2 },
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'wake', z: 'f1', type: 'oob-wake', device: 'dev', wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

async function ask(msg: Record<string, unknown>) {
  const out = nextMessage('out');
  getNode('wake').receive(msg);
  return (await out).payload;
}

describe('oob-wake alarm clock actions', () => {
  it('sets, lists and deletes firmware wake-ups, and the PC wakes by itself when one is due', async () => {
    const d = fleet.devices[0];
    await load(NODES, flow(), { dev: { username: USER, password: PASSWORD } });
    const statuses = recordStatuses('wake');

    const nightly = await ask({ action: 'alarm-set', alarm: { name: 'nightly', at: '02:00', every: 'daily' } });
    expect(nightly).toMatchObject({ action: 'alarm-set', alarm: { name: 'nightly', everyMinutes: 1440, deleteOnCompletion: false }, device: { name: d.name } });
    expect(new Date(nightly.alarm.start).getHours()).toBe(2);

    const soon = new Date(Date.now() + 1500).toISOString();
    const woke = new Promise<AlarmEvent>((resolve) => d.once('alarm', resolve));
    const once = await ask({ action: 'alarm-set', payload: { name: 'once', at: soon } });
    expect(once.alarms.map((a: { name: string }) => a.name)).toEqual(['nightly', 'once']);
    expect(statuses.at(-1)?.text).toBe('2 alarms set');

    const list = await ask({ action: 'alarm-list' });
    expect(list.alarms).toEqual([
      expect.objectContaining({ name: 'nightly', everyMinutes: 1440 }),
      expect.objectContaining({ name: 'once', deleteOnCompletion: true }),
    ]);

    expect(d.powerState).toBe(8);
    const event = await woke;
    expect(event).toMatchObject({ name: 'once', powered: true });
    expect(d.powerState).toBe(2);
    expect((await ask({ action: 'alarm-list' })).alarms.map((a: { name: string }) => a.name)).toEqual(['nightly']);

    const deleted = await ask({ action: 'alarm-delete', alarm: 'nightly' });
    expect(deleted).toMatchObject({ action: 'alarm-delete', deleted: true, name: 'nightly', alarms: [] });
    expect((await ask({ action: 'alarm-delete', payload: { name: 'nightly' } })).deleted).toBe(false);
  });

  it('bad input and a device without AMT: a clear error to Catch', async () => {
    await load(NODES, flow(), { dev: { username: USER, password: PASSWORD } });
    const bad = nextMessage('caught');
    getNode('wake').receive({ action: 'alarm-set', alarm: { name: 'x', at: 'soon' } });
    expect((await bad).error.message).toMatch(/neither "HH:MM" nor an ISO 8601 date-time/);
    const missing = nextMessage('caught');
    getNode('wake').receive({ action: 'alarm-set', alarm: { name: 'x' } });
    expect((await missing).error.message).toMatch(/alarm-set needs msg.alarm.at/);

    await stopServer();
    await startServer();
    await load(NODES, flow(false), {});
    const noAmt = nextMessage('caught');
    getNode('wake').receive({ action: 'alarm-list' });
    expect((await noAmt).error.message).toMatch(/has no AMT credentials: its alarm clock is reached through AMT/);
  });
});
