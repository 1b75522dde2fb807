/**
 * The nodes in a real Node-RED runtime whose `lang` setting is German: statuses and errors come
 * out of the German catalogs, and an error from lib keeps its code with lib's detail appended.
 */
import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, startFleet } from '../../packages/sim/src';
import { catchNode, deviceNode, getNode, load, nextMessage, powerStateNode, recordStatuses, runtimeSettings, startServer, stopServer } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Sim-P@ss1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, tls: true, user: USER, password: PASSWORD });
  runtimeSettings({ lang: 'de' });
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

function flow() {
  const d = fleet.devices[0];
  return [
    { id: 'dev', type: 'oob-device', name: d.name, host: '127.0.0.1', amtPort: d.port, amtTls: true, fingerprint: d.tls!.fingerprint256, timeout: 2 },
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'power', z: 'f1', type: 'oob-power-state', device: 'dev', action: 'status', poll: 0, wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}
const NODES = [deviceNode, powerStateNode, catchNode];

describe('oob nodes with Node-RED set to German (lang: de)', () => {
  it('shows the power state in German', async () => {
    await load(NODES, flow(), { dev: { username: USER, password: PASSWORD } });
    const statuses = recordStatuses('power');
    const out = nextMessage('out');
    getNode('power').receive({ payload: 'status' });
    expect((await out).payload.state).toBe('on');
    expect(statuses).toEqual([
      { fill: 'yellow', shape: 'dot', text: 'lese…' },
      { fill: 'green', shape: 'dot', text: 'an' },
    ]);
  });

  it("gives a node's own error in German", async () => {
    await load(NODES, flow(), { dev: { username: USER, password: PASSWORD } });
    const statuses = recordStatuses('power');
    const caught = nextMessage('caught');
    getNode('power').receive({ payload: 'status', device: 'niemand' });
    const err = (await caught).error;
    expect(err.message).toMatch(/kein Gerät namens "niemand"$/);
    expect(err.code).toBe('BAD_INPUT');
    expect(statuses.at(-1)).toEqual({ fill: 'red', shape: 'ring', text: 'ungültige Eingabe' });
  });

  it("puts lib's error in German words with its detail and code", async () => {
    await load(NODES, flow(), { dev: { username: USER, password: 'falsch' } });
    const statuses = recordStatuses('power');
    const caught = nextMessage('caught');
    getNode('power').receive({ payload: 'status' });
    const err = (await caught).error;
    expect(err.message).toMatch(/^AuthError: Anmeldung fehlgeschlagen: .*rejected the username or password/);
    expect(err.code).toBe('AUTH_FAILED');
    expect(statuses.at(-1)).toEqual({ fill: 'red', shape: 'ring', text: 'Anmeldung fehlgeschlagen' });
  });
});
