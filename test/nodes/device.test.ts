import { closeAllAmt } from '../../lib/amt/connect';
import { Fleet, startFleet } from '../../packages/sim/src';
import { adminRequest, deviceNode, getNode, load, nextMessage, powerStateNode, startServer, stopServer } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Dev1ce-P@ss';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, tls: true, user: USER, password: PASSWORD, seed: 'device-node' });
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

function flow(device: Record<string, unknown>) {
  return [
    { id: 'dev', type: 'oob-device', name: 'pc', host: '127.0.0.1', amtPort: fleet.devices[0].port, amtTls: true, timeout: 2, ...device },
    { id: 'f1', type: 'tab' },
    { id: 'power', z: 'f1', type: 'oob-power-state', device: 'dev', action: 'status', wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
  ];
}

describe('oob-device', () => {
  it('reads a device certificate fingerprint for the editor, sending nothing else', async () => {
    await load([deviceNode, powerStateNode], flow({}), { dev: { username: USER, password: PASSWORD } });
    const res = await adminRequest().post('/oobkit/fingerprint').send({ host: '127.0.0.1', port: fleet.devices[0].port }).expect(200);
    expect(res.body).toEqual({ fingerprint: fleet.devices[0].tls!.fingerprint256 });
    const bad = await adminRequest().post('/oobkit/fingerprint').send({ host: 'not a host!', port: 1 }).expect(400);
    expect(bad.body.error).toMatch(/not a host name or IP address/);
  });

  it('trusts the first certificate when asked, warns with its fingerprint and keeps using it', async () => {
    await load([deviceNode, powerStateNode], flow({ tofu: true, fingerprint: '' }), { dev: { username: USER, password: PASSWORD } });
    const warnings: string[] = [];
    getNode('dev').on('call:warn', (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    for (let i = 0; i < 2; i++) {
      const out = nextMessage('out');
      getNode('power').receive({ payload: 'status' });
      expect((await out).payload.state).toBe('on');
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(fleet.devices[0].tls!.fingerprint256);
    expect(getNode('dev').context().get('learnedFingerprint')).toBe(fleet.devices[0].tls!.fingerprint256);
  });

  it('refuses a malformed pinned fingerprint with a clear error', async () => {
    await load([deviceNode, powerStateNode], flow({ fingerprint: 'zz:11' }), { dev: { username: USER, password: PASSWORD } });
    const power = getNode('power');
    const failed = new Promise<string>((resolve) => power.on('call:error', (call: { args: unknown[] }) => resolve(String(call.args[0]))));
    power.receive({ payload: 'status' });
    expect(await failed).toMatch(/not a SHA-256 fingerprint/);
  });

  it('says a device without credentials cannot be reached over AMT', async () => {
    await load([deviceNode, powerStateNode], flow({}), {});
    const power = getNode('power');
    const failed = new Promise<string>((resolve) => power.on('call:error', (call: { args: unknown[] }) => resolve(String(call.args[0]))));
    power.receive({ payload: 'status' });
    expect(await failed).toMatch(/has no AMT or IPMI credentials/);
  });
});
