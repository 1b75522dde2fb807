import * as net from 'node:net';
import { closeAllAmt } from '../../lib/amt/connect';
import { defaultClasses, Fleet, startFleet } from '../../packages/sim/src';
import { catchNode, deviceNode, getNode, load, nextMessage, powerStateNode, recordStatuses, startServer, stopServer } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Sim-P@ss1';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 3, port: 0, tls: true, user: USER, password: PASSWORD, timings: { bootTimeMs: 50, offDwellMs: 20 } });
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

function deviceConfig(id: string, i: number, extra: Record<string, unknown> = {}) {
  const d = fleet.devices[i];
  return { id, type: 'oob-device', name: d.name, host: '127.0.0.1', amtPort: d.port, amtTls: true, fingerprint: d.tls!.fingerprint256, timeout: 2, ...extra };
}

function flow(deviceExtra: Record<string, unknown> = {}, i = 0, powerExtra: Record<string, unknown> = {}) {
  return [
    deviceConfig('dev', i, deviceExtra),
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'power', z: 'f1', type: 'oob-power-state', device: 'dev', action: 'status', poll: 0, wires: [['out']], ...powerExtra },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const creds = (password = PASSWORD) => ({ dev: { username: USER, password } });
const NODES = [deviceNode, powerStateNode, catchNode];

describe('oob-power-state in a real Node-RED runtime', () => {
  it('reads the state and says nothing of the credentials', async () => {
    await load(NODES, flow(), creds());
    const statuses = recordStatuses('power');
    const out = nextMessage('out');
    getNode('power').receive({ payload: 'status' });
    const msg = await out;
    expect(msg.payload).toMatchObject({ state: 'on', code: 2, osPowerSaving: 'full-power', device: { name: 'pc-01', host: '127.0.0.1' } });
    expect(msg.payload.available).toEqual(expect.arrayContaining(['off', 'reset', 'soft-off']));
    expect(msg.topic).toBe('pc-01');
    expect(JSON.stringify(msg)).not.toContain(PASSWORD);
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'on' });
  });

  it("names the device in the topic when an Inject sends an empty topic", async () => {
    await load(NODES, flow(), creds());
    const out = nextMessage('out');
    getNode('power').receive({ topic: '', payload: 'status' });
    expect((await out).topic).toBe('pc-01');
    const kept = nextMessage('out');
    getNode('power').receive({ topic: 'mine', payload: 'status' });
    expect((await kept).topic).toBe('mine');
  });

  it('powers off and on, reporting the previous state, and the simulated PC follows', async () => {
    await load(NODES, flow({}, 1), creds());
    const sim = fleet.devices[1];
    let out = nextMessage('out');
    getNode('power').receive({ payload: 'off' });
    let msg = await out;
    expect(msg.payload).toMatchObject({ action: 'off', previous: 'on', state: 'off' });
    expect(sim.power.state).toBe(8);

    out = nextMessage('out');
    getNode('power').receive({ action: 'power-on', payload: 1234 });
    msg = await out;
    expect(msg.payload).toMatchObject({ action: 'on', previous: 'off' });
    expect(sim.power.state).toBe(2);
  });

  it('refuses an action the device does not offer now, through done(err) to a Catch node', async () => {
    await load(NODES, flow({}, 2), creds());
    const sim = fleet.devices[2];
    sim.powerOff('test');
    const caught = nextMessage('caught');
    getNode('power').receive({ payload: 'soft-off', marker: 42 });
    const err = await caught;
    expect(err.marker).toBe(42);
    expect(err.error.message).toMatch(/does not offer "soft-off" while off \(it offers: on\)/);
    expect(sim.power.state).toBe(8);
  });

  it.each([
    ['an unknown action', {}, { payload: 'explode' }, /unknown power action "explode"/, 'bad input'],
    ['a wrong password', { password: 'nope' }, { payload: 'status' }, /rejected the username or password/, 'auth failed'],
    ['a changed certificate', { fingerprint: 'AB:'.repeat(31) + 'AB' }, { payload: 'status' }, /changed: pinned SHA-256 AB:AB/, 'cert changed'],
    ['an unknown device name', {}, { payload: 'status', device: 'nobody' }, /no device named "nobody"/, 'bad input'],
    ['an inline device without a host', {}, { payload: 'status', device: { name: 'x' } }, /device.host "undefined"/, 'bad input'],
  ])('gives a clear error and red status for %s', async (_what, change, input, message, statusText) => {
    const { password, ...deviceExtra } = change as { password?: string };
    await load(NODES, flow(deviceExtra), creds(password));
    const statuses = recordStatuses('power');
    const caught = nextMessage('caught');
    getNode('power').receive(input);
    const err = await caught;
    expect(err.error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: statusText });
  });

  it('reports an unreachable host', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    await load(NODES, flow({ amtPort: closed }), creds());
    const statuses = recordStatuses('power');
    const caught = nextMessage('caught');
    getNode('power').receive({ payload: 'status' });
    expect((await caught).error.message).toMatch(/cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: 'unreachable' });
  });

  it.each([
    ['garbage XML', 'garble', /unreadable reply/, 'bad reply'],
    ['an HTTP 500', 'http500', /answered HTTP 500/, 'HTTP 500'],
    ['a device that hangs', 'hang', /did not answer within 2000 ms/, 'timeout'],
    ['a dropped connection', 'drop', /127\.0\.0\.1:\d+/, 'unreachable'],
  ])('survives %s and works again afterwards', async (_what, kind, message, statusText) => {
    await load(NODES, flow(), creds());
    const statuses = recordStatuses('power');
    // Warm the session first so the fault hits a real request, not the Digest challenge.
    let out = nextMessage('out');
    getNode('power').receive({ payload: 'status' });
    await out;
    fleet.devices[0].injectFault({ kind: kind as never, count: 2 });
    const caught = nextMessage('caught');
    getNode('power').receive({ payload: 'status' });
    expect((await caught).error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: statusText });
    fleet.devices[0].clearFaults();
    out = nextMessage('out');
    getNode('power').receive({ payload: 'status' });
    expect((await out).payload.state).toBe('on');
  });

  it('turns a SOAP fault into an error naming the subcode', async () => {
    const broken = await startFleet({
      devices: 1,
      port: 0,
      user: USER,
      password: PASSWORD,
      seed: 'no-power-class',
      configure: (_i, o) => ({ ...o, classes: (o.classes ?? defaultClasses).filter((c: { className: string }) => c.className !== 'CIM_AssociatedPowerManagementService') }),
    });
    try {
      await load(NODES, [{ id: 'dev', type: 'oob-device', name: 'old', host: '127.0.0.1', amtPort: broken.devices[0].port, amtTls: false, timeout: 2 }, ...flow().slice(1)], creds());
      const statuses = recordStatuses('power');
      const caught = nextMessage('caught');
      getNode('power').receive({ payload: 'status' });
      expect((await caught).error.message).toMatch(/device answered DestinationUnreachable/);
      expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: 'DestinationUnreachable' });
    } finally {
      closeAllAmt();
      await broken.stop();
    }
  });

  it('polls and sends only when the state changes', async () => {
    await load(NODES, flow({}, 0, { poll: 0.2 }), creds());
    const sim = fleet.devices[0];
    const seen: Array<Record<string, any>> = [];
    getNode('out').on('input', (m: Record<string, any>) => seen.push(m.payload));
    await new Promise((r) => setTimeout(r, 900));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ state: 'on' });
    sim.powerOff('test');
    await new Promise((r) => setTimeout(r, 900));
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ state: 'off', previous: 'on' });
    sim.powerOn('test');
    await new Promise((r) => setTimeout(r, 900));
    expect(seen.at(-1)).toMatchObject({ state: 'on', previous: 'off' });
  });
});

// The same node against each firmware generation the simulator plays: AMT 11 needs the device's
// legacy TLS setting (TLS 1.0/1.1), 16 and 18 serve only TLS.
describe.each(['11', '12', '16', '18'])('oob-power-state against AMT %s', (amtVersion) => {
  let gen: Fleet;
  beforeAll(async () => {
    gen = await startFleet({ devices: 1, port: 0, tls: true, amtVersion, user: USER, password: PASSWORD, seed: `gen-${amtVersion}`, timings: { bootTimeMs: 50, offDwellMs: 20 } });
  });
  afterAll(async () => {
    closeAllAmt();
    await gen.stop();
  });

  it('reads the state, powers off and on, and the simulated PC follows', async () => {
    const d = gen.devices[0];
    const dev = { id: 'dev', type: 'oob-device', name: d.name, host: '127.0.0.1', amtPort: d.port, amtTls: true, fingerprint: d.tls!.fingerprint256, timeout: 2, legacyTls: amtVersion === '11' };
    await load(NODES, [dev, ...flow().slice(1)], creds());
    let out = nextMessage('out');
    getNode('power').receive({ payload: 'status' });
    expect((await out).payload).toMatchObject({ state: 'on', code: 2 });
    out = nextMessage('out');
    getNode('power').receive({ payload: 'off' });
    expect((await out).payload).toMatchObject({ action: 'off', previous: 'on', state: 'off' });
    expect(d.power.state).toBe(8);
    out = nextMessage('out');
    getNode('power').receive({ payload: 'on' });
    expect((await out).payload).toMatchObject({ action: 'on', previous: 'off' });
    expect(d.power.state).toBe(2);
  });

  if (amtVersion === '11') {
    it('without legacy TLS: a red status and an error that names the setting', async () => {
      const d = gen.devices[0];
      const dev = { id: 'dev', type: 'oob-device', name: d.name, host: '127.0.0.1', amtPort: d.port, amtTls: true, fingerprint: d.tls!.fingerprint256, timeout: 2 };
      await load(NODES, [dev, ...flow().slice(1)], creds());
      const statuses = recordStatuses('power');
      const caught = nextMessage('caught');
      getNode('power').receive({ payload: 'status' });
      expect((await caught).error.message).toMatch(/only TLS 1\.0\/1\.1.*legacy TLS/);
      expect(statuses.at(-1)).toMatchObject({ fill: 'red' });
    });
  }
});
