/**
 * The MSP topology: two gateways (two Node-RED runtimes in their own processes, each with its own
 * simulated PCs, as at two customer sites) connect out to one central Mosquitto under their site
 * names. A consumer at the MSP sees both sites' devices and commands each.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Fleet, startFleet } from '../../packages/sim/src';
import { Consumer, startMosquitto, TestBroker } from '../helpers/mqtt';

const USER = 'admin';
const PASSWORD = 'Site-P@ss1';
let broker: TestBroker;
const fleets: Fleet[] = [];
const children: ChildProcess[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-sites-'));

function gatewayFlows(site: string, fleet: Fleet) {
  const devices = fleet.devices.map((d, i) => ({ id: `${site}-dev${i}`, type: 'oob-device', name: d.name, host: '127.0.0.1', mac: d.mac, site, amtPort: d.port, amtTls: false, timeout: 3 }));
  const flows = [
    ...devices,
    { id: `${site}-broker`, type: 'mqtt-broker', name: 'msp', broker: '127.0.0.1', port: String(broker.port), usetls: false, protocolVersion: '4', keepalive: '30', cleansession: true, autoConnect: true },
    { id: `${site}-tab`, type: 'tab', label: site },
    { id: `${site}-ha`, z: `${site}-tab`, type: 'oob-ha', broker: `${site}-broker`, site, scope: 'site', poll: 2, wires: [[], []] },
  ];
  const credentials = Object.fromEntries(devices.map((d) => [d.id, { username: USER, password: PASSWORD }]));
  return { flows, credentials };
}

function startGateway(site: string, fleet: Fleet): Promise<ChildProcess> {
  const file = path.join(tmp, `${site}.json`);
  fs.writeFileSync(file, JSON.stringify(gatewayFlows(site, fleet)));
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'node-red-child.js')], { env: { ...process.env, FLOWS_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway ${site} not ready in 60 s: ${out}`)), 60000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway ${site} exited with ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  broker = await startMosquitto();
  // Different seeds: different MACs and UUIDs at each site, like real customers' PCs.
  fleets.push(await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, seed: 'site-a' }));
  fleets.push(await startFleet({ devices: 3, port: 0, user: USER, password: PASSWORD, seed: 'site-b' }));
  await Promise.all([startGateway('customer-a', fleets[0]), startGateway('customer-b', fleets[1])]);
}, 120000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  for (const f of fleets) await f.stop();
  await broker.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('two gateways on one central broker', () => {
  it('shows both sites to one consumer and carries commands to each site', async () => {
    const msp = await Consumer.connect(broker.url, ['oobkit/+/+/state', 'oobkit/+/_gateway/availability', 'homeassistant/#']);
    try {
      await msp.waitForPayload('oobkit/customer-a/_gateway/availability', 'online', 20000);
      await msp.waitForPayload('oobkit/customer-b/_gateway/availability', 'online', 20000);
      await msp.waitForJson('oobkit/customer-a/pc-02/state', (s) => s.power === 'on', 20000);
      await msp.waitForJson('oobkit/customer-b/pc-03/state', (s) => s.power === 'on', 20000);
      const sites = new Set([...msp.latest.keys()].filter((t) => t.endsWith('/state')).map((t) => t.split('/')[1]));
      expect([...sites].sort()).toEqual(['customer-a', 'customer-b']);
      // Both sites' PCs as HA devices, each under its own gateway.
      const configs = await msp.waitFor(() => {
        const c = [...msp.latest.entries()].filter(([t, m]) => t.endsWith('_power/config') && m.payload).map(([, m]) => JSON.parse(m.payload));
        return c.length === 5 ? c : undefined;
      }, 20000, 'five power switches');
      expect(configs.filter((c) => c.device.via_device === 'oobkit_customer_a_gateway')).toHaveLength(2);
      expect(configs.filter((c) => c.device.via_device === 'oobkit_customer_b_gateway')).toHaveLength(3);

      // pc-01 exists at both sites: the command reaches only the one addressed.
      await msp.publish('oobkit/customer-a/pc-01/cmd/power', 'OFF');
      await msp.waitForJson('oobkit/customer-a/pc-01/state', (s) => s.power === 'off', 20000);
      expect(fleets[0].devices[0].powerState).toBe(8);
      expect(fleets[1].devices[0].powerState).toBe(2);
      await msp.publish('oobkit/customer-b/pc-02/cmd/reset', 'PRESS');
      await msp.publish('oobkit/customer-b/pc-01/cmd/power', 'OFF');
      await msp.waitForJson('oobkit/customer-b/pc-01/state', (s) => s.power === 'off', 20000);
      expect(fleets[1].devices[0].powerState).toBe(8);
      expect(fleets[0].devices[1].powerState).toBe(2);

      // One site's gateway going away marks only that site offline.
      children[0].kill('SIGKILL');
      await msp.waitForPayload('oobkit/customer-a/_gateway/availability', 'offline', 20000);
      expect(msp.latest.get('oobkit/customer-b/_gateway/availability')!.payload).toBe('online');
    } finally {
      await msp.end();
    }
  });
});
