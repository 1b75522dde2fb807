/**
 * oob-remote-gateway in a real Node-RED runtime, with Node-RED's own mqtt-broker node and a real
 * Mosquitto: what a person at the site sees. Its status says it is online, for how many devices and
 * what the centre may do; a command it refuses shows why (status and output); one it runs goes out
 * as a log message. The key pair button answers a fresh pair.
 */
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { generateKeyPairText, KeyPairText, newNonce, parsePrivateKey, parsePublicKey, RemoteCentre, signCommand } from '../../lib/remote';
import { Fleet, startFleet } from '../../packages/sim/src';
import { adminRequest, deviceNode, load, nextMessage, recordStatuses, remoteGatewayNode, startServer, stopServer } from '../helpers/red';
import { Consumer, startMosquitto, TestBroker } from '../helpers/mqtt';

const mqttNodes = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '10-mqtt.js'));
const USER = 'admin';
const PASSWORD = 'Gw-P@ss1';

let broker: TestBroker;
let fleet: Fleet;
let centreKeys: KeyPairText;
let siteKeys: KeyPairText;

beforeAll(async () => {
  broker = await startMosquitto({ noDelay: true });
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'remote-gateway-node' });
  centreKeys = generateKeyPairText();
  siteKeys = generateKeyPairText();
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
  await broker.stop();
});
beforeEach(startServer);
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

function flow() {
  const d = fleet.devices[0];
  return [
    { id: 'dev', type: 'oob-device', name: 'Front Desk', host: '127.0.0.1', site: 'branch', amtPort: d.port, amtTls: false, timeout: 5 },
    { id: 'broker', type: 'mqtt-broker', name: 'msp', broker: '127.0.0.1', port: String(broker.port), usetls: false, protocolVersion: '5', keepalive: '30', cleansession: true, autoConnect: false },
    { id: 'f1', type: 'tab', label: 'site' },
    { id: 'gw', z: 'f1', type: 'oob-remote-gateway', broker: 'broker', site: 'Branch', allowRead: true, allowPower: false, scope: 'site', window: 60, wires: [['log']] },
    { id: 'log', z: 'f1', type: 'helper' },
  ];
}
const creds = () => ({ dev: { username: USER, password: PASSWORD }, gw: { siteKey: siteKeys.privateKey, centreKey: centreKeys.publicKey } });

async function statusText(seen: Array<{ text?: string }>, match: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const hit = seen.map((s) => s.text ?? '').find((t) => match.test(t));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no status like ${match}; saw ${JSON.stringify(seen)}`);
}

describe('oob-remote-gateway in a real Node-RED runtime', () => {
  it("says it is online, serving the site's device, and what the centre may do", async () => {
    await load([deviceNode, remoteGatewayNode, mqttNodes], flow(), creds());
    const seen = recordStatuses('gw');
    expect(await statusText(seen, /^online/)).toBe('online, 1 device, allows read');
    const c = await Consumer.connect(broker.url, ['oobkit/branch/_remote/availability']);
    await c.waitForPayload('oobkit/branch/_remote/availability', 'online');
    await c.end();
  });

  it('runs a read from the centre (a log message) and refuses a forged command, saying why', async () => {
    await load([deviceNode, remoteGatewayNode, mqttNodes], flow(), creds());
    const seen = recordStatuses('gw');
    await statusText(seen, /^online/);
    const centre = new RemoteCentre({ url: broker.url, base: 'oobkit', centre: 'hq', centreKey: parsePrivateKey(centreKeys.privateKey), siteKeys: () => parsePublicKey(siteKeys.publicKey), timeoutMs: 10_000 });
    try {
      await centre.whenReady();
      const ran = nextMessage('log');
      await expect(centre.request('branch', 'front-desk', 'readPower')).resolves.toMatchObject({ state: 'on' });
      expect(await ran).toMatchObject({ topic: 'ran', payload: { action: 'readPower', device: 'front-desk', ok: true } });

      const refused = nextMessage('log');
      const forged = signCommand({ v: 1, site: 'branch', device: 'front-desk', action: 'changePower', args: { action: 'off' }, ts: Date.now(), nonce: newNonce() }, parsePrivateKey(generateKeyPairText().privateKey));
      const admin = await Consumer.connect(broker.url, [], { protocolVersion: 5 });
      await admin.publish('oobkit/branch/_remote/cmd', forged as unknown as string, { properties: { responseTopic: 'oobkit/branch/_remote/reply/x' } });
      await admin.end();
      expect(await refused).toMatchObject({ topic: 'refused', payload: { reason: 'bad-signature' } });
      expect(await statusText(seen, /^refused/)).toBe('refused: bad-signature');
      expect(fleet.devices[0].powerState).toBe(2);
    } finally {
      await centre.close();
    }
  });

  it('hands the editor a fresh key pair', async () => {
    await load([deviceNode, remoteGatewayNode, mqttNodes], flow(), creds());
    const r = await adminRequest().post('/oobkit/remote/keypair').expect(200);
    expect(parsePublicKey(r.body.publicKey)).toBeDefined();
    expect(r.body.privateKey).not.toBe(siteKeys.privateKey);
  });
});
