/**
 * A password given inline in msg.device (and a SecureOn password, an IPMI password) never comes
 * out of a node: not in the message sent on, not in the message a Catch node gets, not in an
 * error text. Through a real Node-RED runtime, with the secrets really used.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAmt } from '../../lib/amt/connect';
import { alertInNode, catchNode, deviceNode, getNode, helperNode, load, nextMessage, powerStateNode, startServer, stopServer, wakeNode } from '../helpers/red';

const PASSWORD = 'Inline-S3cret-pw';
const SECURE_ON = 'c0:ff:ee:12:34:56';
const IPMI_PASSWORD = 'Ipmi-S3cret';
const NODES = [deviceNode, wakeNode, powerStateNode, alertInNode, catchNode];

/** Every secret, in every spelling a message or text could carry it. */
function leaks(x: unknown): string[] {
  const text = typeof x === 'string' ? x : JSON.stringify(x);
  return [PASSWORD, SECURE_ON, SECURE_ON.replace(/:/g, ''), IPMI_PASSWORD].filter((s) => text.toLowerCase().includes(s.toLowerCase()));
}

let userDir: string;
let refusing: http.Server;
let refusingPort = 0;
let authTries = 0;

beforeAll(async () => {
  // A device that wants Digest and rejects every answer.
  refusing = http.createServer((req, res) => {
    if (req.headers.authorization) authTries++;
    req.resume();
    res.writeHead(401, { 'WWW-Authenticate': 'Digest realm="Digest:0000", nonce="abc", qop="auth"', 'Content-Length': '0' });
    res.end();
  });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
  refusingPort = (refusing.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => refusing.close(() => r())));
beforeEach(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-secrets-'));
  helperNode.settings({ userDir });
  await startServer();
});
afterEach(async () => {
  closeAllAmt();
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

const flow = () => [
  { id: 'f1', type: 'tab', label: 'secrets' },
  { id: 'wake', z: 'f1', type: 'oob-wake', device: '', confirm: 'none', repeat: 1, timeout: 5, fallback: false, wires: [['out']] },
  { id: 'power', z: 'f1', type: 'oob-power-state', device: '', action: 'status', poll: 0, wires: [['out']] },
  { id: 'alerts', z: 'f1', type: 'oob-alert-in', devices: '', pet: false, wsevent: false, eventlog: false, heartbeat: false, outputs: 1, wires: [['out']] },
  { id: 'out', z: 'f1', type: 'helper' },
  { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'f1', type: 'helper' },
];

function inlineDevice(extra: Record<string, unknown> = {}) {
  return { name: 'pc-inline', host: '127.0.0.1', mac: '00:16:3e:00:00:01', username: 'admin', password: PASSWORD, ipmi: { username: 'root', password: IPMI_PASSWORD }, ...extra };
}

describe('inline secrets in msg.device never come out', () => {
  it('wake: the SecureOn password is sent in the packet, not in the message', async () => {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const got: Buffer[] = [];
    udp.on('message', (m) => got.push(m));
    try {
      await load(NODES, flow());
      const out = nextMessage('out');
      getNode('wake').receive({ device: inlineDevice({ wake: { address: '127.0.0.1', port: udp.address().port, secureOn: SECURE_ON } }), marker: 1 });
      const msg = await out;
      expect(msg.marker).toBe(1);
      expect(msg.device).toMatchObject({ name: 'pc-inline', host: '127.0.0.1', username: 'admin', wake: { port: udp.address().port } });
      expect(leaks(msg)).toEqual([]);
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got[0].subarray(102).toString('hex')).toBe(SECURE_ON.replace(/:/g, ''));
    } finally {
      udp.close();
    }
  });

  it('power state: a device that rejects the password; the error and the caught message hold no secret', async () => {
    await load(NODES, flow());
    const caught = nextMessage('caught');
    getNode('power').receive({ device: inlineDevice({ port: refusingPort, timeout: 3 }), payload: 'status' });
    const msg = await caught;
    expect(authTries).toBeGreaterThan(0);
    expect(msg.error.message).toMatch(/rejected the username or password/);
    expect(leaks(msg)).toEqual([]);
    expect(leaks(msg.error.message)).toEqual([]);
  });

  it('power state: an input error before the device is even read still hides the secrets', async () => {
    await load(NODES, flow());
    const caught = nextMessage('caught');
    getNode('power').receive({ device: inlineDevice(), payload: 'explode' });
    const msg = await caught;
    expect(msg.error.message).toMatch(/explode/);
    expect(leaks(msg)).toEqual([]);
  });

  it('power state: a bad inline device is refused without repeating its secrets', async () => {
    await load(NODES, flow());
    const caught = nextMessage('caught');
    getNode('power').receive({ device: inlineDevice({ host: `${PASSWORD}:16992` }), payload: 'status' });
    const msg = await caught;
    expect(msg.error.message).toMatch(/is not a host name or IP address/);
    // The host text is the user's own choice of field; the password field itself is gone.
    expect(msg.device.password).toBeUndefined();
    expect(msg.device.ipmi.password).toBeUndefined();
  });

  it('alert in: an alert about an inline device carries no secret', async () => {
    await load(NODES, flow());
    const out = nextMessage('out');
    getNode('alerts').receive({ device: inlineDevice(), alert: { kind: 'fan-failure', severity: 'critical', summary: 'Fan 2 failed', device: inlineDevice() } });
    const msg = await out;
    expect(JSON.stringify(msg)).toContain('Fan 2 failed');
    expect(leaks(msg)).toEqual([]);
  });
});
