/**
 * oob-console in a real Node-RED runtime: a message comes back with the console page's URL of the
 * configured device (or of the device msg.device names), under the admin root and after the
 * editor URL set in the node; an unknown device and a device without AMT are catchable errors.
 */
import { catchNode, consoleNode, deviceNode, getNode, load, nextMessage, startServer, stopServer } from '../helpers/red';

beforeEach(startServer);
afterEach(stopServer);

const flow = (extra: Record<string, unknown> = {}) => [
  { id: 'dev', type: 'oob-device', name: 'front-desk', host: '192.0.2.10' },
  { id: 'bare', type: 'oob-device', name: 'no-amt', host: '192.0.2.11' },
  { id: 'f1', type: 'tab', label: 'test' },
  { id: 'link', z: 'f1', type: 'oob-console', device: 'dev', wires: [['out']], ...extra },
  { id: 'out', z: 'f1', type: 'helper' },
  { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'f1', type: 'helper' },
];
const creds = { dev: { username: 'admin', password: 'Secret-P@ss1' } };

test('answers with the console URL of the configured device, after the editor URL', async () => {
  await load([deviceNode, consoleNode, catchNode], flow({ baseUrl: 'https://gw.example.com/' }), creds);
  const out = nextMessage('out');
  getNode('link').receive({ payload: 'go' });
  const msg = await out;
  expect(msg.payload).toEqual({
    url: 'https://gw.example.com/oob-console/dev',
    kvm: 'https://gw.example.com/oob-console/dev#kvm',
    sol: 'https://gw.example.com/oob-console/dev#sol',
    device: { name: 'front-desk', host: '192.0.2.10' },
  });
  expect(JSON.stringify(msg)).not.toContain('Secret-P@ss1');
});

test('msg.device picks a device by name; an unknown one and one without AMT are caught errors', async () => {
  await load([deviceNode, consoleNode, catchNode], flow(), creds);
  const out = nextMessage('out');
  getNode('link').receive({ device: 'front-desk' });
  expect((await out).payload.url).toBe('/oob-console/dev');
  let caught = nextMessage('caught');
  getNode('link').receive({ device: 'nobody' });
  expect((await caught).error.message).toMatch(/no device named "nobody"/);
  caught = nextMessage('caught');
  getNode('link').receive({ device: 'no-amt' });
  expect((await caught).error.message).toMatch(/no Intel AMT credentials/);
});
