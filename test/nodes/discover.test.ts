/**
 * oob-discover in a real Node-RED runtime: a sweep of a loopback block where simulated AMT PCs
 * answer presence pings (on their own 127.x.y.z addresses), targets from msg.payload, bad targets.
 */
import { Fleet, startFleet } from '../../packages/sim/src';
import { catchNode, discoverNode, getNode, load, nextMessage, recordStatuses, startServer, stopServer } from '../helpers/red';

// Our own 127.x.y.0/24 per run, so parallel runs do not collide.
const NET = `127.${150 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}`;
let fleet: Fleet;

beforeAll(async () => {
  for (let attempt = 0; ; attempt++) {
    try {
      fleet = await startFleet({ devices: 3, port: 0, rmcpPort: 20000 + Math.floor(Math.random() * 40000), rmcpHosts: `${NET}.10`, configure: (i, o) => ({ ...o, power: i === 1 ? 'off' : 'on' }) });
      return;
    } catch (e) {
      if (attempt > 4) throw e;
    }
  }
});
afterAll(() => fleet.stop());
beforeEach(startServer);
afterEach(stopServer);

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'discover', z: 'f1', type: 'oob-discover', targets: `${NET}.0/28`, port: fleet.rmcp![0].port, rate: 500, concurrency: 8, timeout: 0.2, retries: 0, wires: [['out']], ...extra },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

describe('oob-discover in a real Node-RED runtime', () => {
  it('finds the simulated AMT PCs of a block, switched-off ones too', async () => {
    await load([discoverNode, catchNode], flow());
    const statuses = recordStatuses('discover');
    const out = nextMessage('out');
    getNode('discover').receive({ payload: Date.now() });
    const msg = await out;
    expect(msg.topic).toBe('discovery');
    expect(msg.payload.scanned).toBe(14);
    expect(msg.payload.found.map((f: { address: string }) => f.address)).toEqual([`${NET}.10`, `${NET}.11`, `${NET}.12`]);
    for (const f of msg.payload.found) {
      expect(f.pong).toMatchObject({ vendor: 'intel-amt', supports: ['asf', 'dash'], amt: { port: 16992, version: '15.0', provisioning: 'post' } });
    }
    expect(statuses[0]).toEqual({ fill: 'yellow', shape: 'dot', text: 'sweeping…' });
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'found 3 of 14' });
  });

  it('sweeps the targets given in msg.payload', async () => {
    await load([discoverNode, catchNode], flow());
    const out = nextMessage('out');
    getNode('discover').receive({ payload: [`${NET}.11`, `${NET}.12-13`] });
    const msg = await out;
    expect(msg.payload.scanned).toBe(3);
    expect(msg.payload.found.map((f: { address: string }) => f.address)).toEqual([`${NET}.11`, `${NET}.12`]);
  });

  it.each([
    [{ payload: '10.0.0.0/8' }, /covers 16777214 addresses, more than the limit/],
    [{ payload: '10.0.0.300' }, /"10.0.0.300" is not an IPv4 address/],
    [{ payload: [42] }, /msg.payload must be text or a list of text/],
  ])('refuses %p with a clear error', async (input, message) => {
    await load([discoverNode, catchNode], flow());
    const statuses = recordStatuses('discover');
    const caught = nextMessage('caught');
    getNode('discover').receive(input);
    expect((await caught).error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: 'bad input' });
  });

  it('asks for targets when it has none', async () => {
    await load([discoverNode, catchNode], flow({ targets: '' }));
    const caught = nextMessage('caught');
    getNode('discover').receive({ payload: 1 });
    expect((await caught).error.message).toMatch(/nothing to discover: set targets in the node or send them in msg.payload/);
  });
});
