/**
 * oob-wake in a real Node-RED runtime against the simulated fleet: wake and confirm through AMT,
 * presence ping or TCP, the AMT power-on fallback, MAC lists, SecureOn from the credential store,
 * and bad input (each a clear error to a Catch node with nothing sent).
 */
import * as net from 'node:net';
import { lastOwnAction } from '../../lib/activity';
import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, PowerEvent, startFleet } from '../../packages/sim/src';
import { catchNode, deviceNode, getNode, load, nextMessage, recordStatuses, startServer, stopServer, wakeNode } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Wake-P@ss1';
const NODES = [deviceNode, wakeNode, catchNode];

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    devices: 4,
    port: 0,
    power: 'off',
    user: USER,
    password: PASSWORD,
    wolPort: 0,
    rmcpPort: 0,
    configure: (i, o) => (i === 3 ? { ...o, wolPassword: 'c0:ff:ee:00:00:01' } : o),
  });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(async () => {
  for (const d of fleet.devices) d.powerOff('test reset');
  await startServer();
});
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

function deviceConfig(i: number, extra: Record<string, unknown> = {}) {
  const d = fleet.devices[i];
  return {
    id: 'dev',
    type: 'oob-device',
    name: d.name,
    host: '127.0.0.1',
    mac: d.mac,
    amtPort: d.port,
    amtTls: false,
    timeout: 2,
    wolAddress: '127.0.0.1',
    wolPort: fleet.wol!.port,
    presencePort: fleet.rmcp![i].port,
    ...extra,
  };
}

function flow(device: Record<string, unknown> | undefined, wake: Record<string, unknown> = {}) {
  return [
    ...(device ? [device] : []),
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'wake', z: 'f1', type: 'oob-wake', device: device ? 'dev' : '', timeout: 10, fallback: true, fallbackAfter: 20, repeat: 2, wires: [['out']], ...wake },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const amtCreds = (extra: Record<string, unknown> = {}) => ({ dev: { username: USER, password: PASSWORD, ...extra } });

describe('oob-wake in a real Node-RED runtime', () => {
  it('wakes the PC and confirms it through AMT, without a word of the credentials', async () => {
    const sim = fleet.devices[0];
    const causes: string[] = [];
    const onPower = (e: PowerEvent) => causes.push(e.cause);
    sim.on('power', onPower);
    await load(NODES, flow(deviceConfig(0)), amtCreds());
    const statuses = recordStatuses('wake');
    const out = nextMessage('out', 15000);
    getNode('wake').receive({ payload: 1234 });
    const msg = await out;
    sim.off('power', onPower);
    expect(msg.payload).toMatchObject({ woke: true, method: 'wol', confirmedBy: 'amt', state: 'on', packets: 2, macs: [sim.mac], device: { name: sim.name, host: '127.0.0.1' } });
    expect(msg.payload.after_ms).toEqual(expect.any(Number));
    expect(msg.topic).toBe(sim.name);
    expect(causes).toEqual(['wol']);
    expect(statuses[0]).toEqual({ fill: 'yellow', shape: 'dot', text: 'waking…' });
    expect(statuses.at(-1)).toMatchObject({ fill: 'green', shape: 'dot', text: expect.stringMatching(/^on after \d+\.\d s$/) });
    expect(JSON.stringify(msg)).not.toContain(PASSWORD);
    expect(lastOwnAction('127.0.0.1', 60_000)).toMatchObject({ kind: 'wake', action: 'wol' });
  });

  it('falls back to an AMT power-on when Wake-on-LAN does not work, and says so', async () => {
    const sim = fleet.devices[1];
    const causes: string[] = [];
    const onPower = (e: PowerEvent) => causes.push(e.cause);
    sim.on('power', onPower);
    // The magic packets go to a port nobody listens on.
    await load(NODES, flow(deviceConfig(1, { wolPort: 9 }), { fallbackAfter: 0.2 }), amtCreds());
    const statuses = recordStatuses('wake');
    const out = nextMessage('out', 15000);
    getNode('wake').receive({});
    const msg = await out;
    sim.off('power', onPower);
    expect(msg.payload).toMatchObject({ woke: true, method: 'amt-power-on', fallback: true, confirmedBy: 'amt', note: expect.stringMatching(/Wake-on-LAN did not wake it; powered on through AMT/) });
    expect(causes).toHaveLength(1);
    expect(causes[0]).not.toBe('wol');
    expect(statuses.map((s) => s.text)).toContain('AMT power-on…');
    expect(statuses.at(-1)).toMatchObject({ fill: 'green', text: expect.stringMatching(/^on after .* \(AMT\)$/) });
    expect(lastOwnAction('127.0.0.1', 60_000)).toMatchObject({ kind: 'wake', action: 'amt-power-on' });
  });

  it('reports "no answer" when the PC does not come up and there is no AMT to fall back on', async () => {
    await load(NODES, flow(deviceConfig(1, { wolPort: 9, confirmPort: await closedPort() }), { confirm: 'tcp', timeout: 1.2 }), {});
    const statuses = recordStatuses('wake');
    const out = nextMessage('out', 15000);
    getNode('wake').receive({});
    const msg = await out;
    expect(msg.payload).toMatchObject({ woke: false, after_ms: null, method: 'wol', note: 'no answer within 1.2 s' });
    expect(statuses.at(-1)).toEqual({ fill: 'red', shape: 'ring', text: 'no answer' });
    expect(fleet.devices[1].powerState).toBe(8);
  });

  it('confirms over TCP when the OS starts listening', async () => {
    const sim = fleet.devices[2];
    const port = await closedPort();
    const os = net.createServer((s) => s.destroy());
    const onPower = (e: PowerEvent) => {
      if (e.to === 2) os.listen(port, '127.0.0.1');
    };
    sim.on('power', onPower);
    try {
      await load(NODES, flow(deviceConfig(2, { confirmPort: port }), { confirm: 'tcp' }), {});
      const out = nextMessage('out', 15000);
      getNode('wake').receive({});
      const msg = await out;
      expect(msg.payload).toMatchObject({ woke: true, method: 'wol', confirmedBy: 'tcp' });
    } finally {
      sim.off('power', onPower);
      os.close();
    }
  });

  it('says a presence pong cannot confirm anything when the engine answered before the wake', async () => {
    await load(NODES, flow(deviceConfig(2), { confirm: 'auto' }), {});
    const statuses = recordStatuses('wake');
    const out = nextMessage('out', 15000);
    getNode('wake').receive({});
    const msg = await out;
    expect(msg.payload).toMatchObject({ woke: null, method: 'wol', note: expect.stringMatching(/answered presence pings before the wake/) });
    expect(statuses.at(-1)).toMatchObject({ fill: 'green', shape: 'dot', text: 'sent 2 packets' });
    expect(fleet.devices[2].powerState).toBe(2);
  });

  it('confirms by presence ping when the engine sleeps with the host', async () => {
    const quiet = await startFleet({ devices: 1, port: 0, power: 'off', wolPort: 0, rmcpPort: 0, rmcpWhileOff: false, seed: 'quiet-engine' });
    try {
      const d = quiet.devices[0];
      const device = { id: 'dev', type: 'oob-device', name: 'quiet', host: '127.0.0.1', mac: d.mac, wolAddress: '127.0.0.1', wolPort: quiet.wol!.port, presencePort: quiet.rmcp![0].port };
      await load(NODES, flow(device), {});
      const out = nextMessage('out', 15000);
      getNode('wake').receive({});
      const msg = await out;
      expect(msg.payload).toMatchObject({ woke: true, method: 'wol', confirmedBy: 'presence' });
    } finally {
      await quiet.stop();
    }
  });

  it('wakes a list of MACs from msg.mac without watching them', async () => {
    await load(NODES, flow(undefined, { address: '127.0.0.1', port: fleet.wol!.port, repeat: 1 }), {});
    const statuses = recordStatuses('wake');
    const out = nextMessage('out');
    getNode('wake').receive({ mac: [fleet.devices[0].mac, fleet.devices[2].mac.toUpperCase().replace(/:/g, '-')] });
    const msg = await out;
    await new Promise((r) => setTimeout(r, 50));
    expect(msg.payload).toMatchObject({ woke: null, packets: 2, macs: [fleet.devices[0].mac, fleet.devices[2].mac], address: '127.0.0.1' });
    expect(msg.payload.device).toBeUndefined();
    expect(fleet.devices.map((d) => d.powerState)).toEqual([2, 8, 2, 8]);
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'sent 2 packets' });
  });

  it('sends the SecureOn password from the device credentials', async () => {
    const sim = fleet.devices[3];
    await load(NODES, flow(deviceConfig(3), { confirm: 'amt' }), amtCreds({ secureOn: 'C0-FF-EE-00-00-01' }));
    const out = nextMessage('out', 15000);
    getNode('wake').receive({});
    const msg = await out;
    expect(msg.payload).toMatchObject({ woke: true, method: 'wol' });
    expect(sim.powerState).toBe(2);
    expect(JSON.stringify(msg)).not.toMatch(/c0.?ff.?ee/i);
  });

  it('sends the node\'s SecureOn password with MACs given in msg.mac', async () => {
    await load(NODES, flow(undefined, { address: '127.0.0.1', port: fleet.wol!.port, repeat: 1 }), { wake: { secureOn: 'c0:ff:ee:00:00:01' } });
    const out = nextMessage('out');
    getNode('wake').receive({ mac: fleet.devices[3].mac });
    await out;
    await new Promise((r) => setTimeout(r, 50));
    expect(fleet.devices[3].powerState).toBe(2);
  });

  it('does not wake a SecureOn PC without its password', async () => {
    await load(NODES, flow(deviceConfig(3), { confirm: 'amt', fallback: false, timeout: 1.2 }), amtCreds());
    const out = nextMessage('out', 15000);
    getNode('wake').receive({});
    const msg = await out;
    expect(msg.payload).toMatchObject({ woke: false, state: 'off', note: 'no answer within 1.2 s (AMT fallback is off)' });
    expect(fleet.devices[3].powerState).toBe(8);
  });

  it.each([
    ['a bad MAC', {}, {}, { mac: 'aa:bb:cc:dd:ee:zz' }, /MAC address "aa:bb:cc:dd:ee:zz" is not a MAC address/],
    ['a MAC of the wrong type', {}, {}, { mac: 42 }, /msg.mac must be a MAC address or a list/],
    ['a bad broadcast address', { wolAddress: '300.1.1.1' }, {}, {}, /broadcast address "300.1.1.1" is not an IPv4 address/],
    ['a SecureOn password of the wrong length', {}, { secureOn: '11:22:33:44:55' }, {}, /SecureOn password is 5 bytes; it must be 4 bytes/],
    ['an unknown interface', { wolInterface: 'nosuch0' }, {}, {}, /unknown network interface "nosuch0"/],
    ['a bad WOL port', { wolPort: 70000 }, {}, {}, /WOL port "70000" is not a port number/],
    ['an unknown device name', {}, {}, { device: 'nobody' }, /no device named "nobody"/],
  ])('gives a clear error for %s, and sends nothing', async (_what, deviceExtra, creds, input, message) => {
    const before = fleet.wol!.stats.received;
    await load(NODES, flow(deviceConfig(0, deviceExtra)), amtCreds(creds));
    const statuses = recordStatuses('wake');
    const caught = nextMessage('caught');
    getNode('wake').receive({ ...input, marker: 7 });
    const err = await caught;
    expect(err.marker).toBe(7);
    expect(err.error.message).toMatch(message);
    expect(err.error.message).not.toContain('11:22:33:44:55');
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: 'bad input' });
    await new Promise((r) => setTimeout(r, 50));
    expect(fleet.wol!.stats.received).toBe(before);
    expect(fleet.devices[0].powerState).toBe(8);
  });
});

/** A TCP port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
