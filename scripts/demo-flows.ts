/**
 * The flows `npm start` deploys: every example in examples/, with its oob-device config nodes
 * pointed at simulated PCs (credentials given separately, for Node-RED's credential store), plus
 * a "Fleet" tab that watches every simulated PC and serves their states at GET /api/fleet.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateKeyPairText } from '../lib/remote/keys';

export interface SimTarget {
  name: string;
  port: number;
  fingerprint?: string;
  mac: string;
  /** The fleet's shared magic-packet port and this PC's RMCP presence port. */
  wolPort?: number;
  rmcpPort?: number;
  /** Redirection (IDE-R) port of the simulated PC (boot from media). */
  redirectionPort?: number;
}

export interface DemoSettings {
  devices: SimTarget[];
  username: string;
  password: string;
  /** mqtt://host:port of the demo's broker, for example flows that use one. */
  mqttUrl?: string;
  /** The demo's broker speaks MQTT 3.1.1 only (the embedded one): Node-RED's MQTT nodes must too. */
  mqtt311?: boolean;
  /** Folder with the demo's boot images, for boot-from-media example nodes. */
  bootImageDir?: string;
  /** Free loopback ports for each alert-in node in turn: PET traps (UDP) and event pushes (TCP). */
  alertPorts?: Array<{ pet: number; event: number }>;
  /** Simulated server BMCs, for example devices that are servers (they have IPMI settings). */
  servers?: Array<{ name: string; port: number }>;
}

type FlowNode = Record<string, unknown> & { id: string; type: string };

export function readExamples(dir: string): Array<{ file: string; nodes: FlowNode[] }> {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, nodes: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as FlowNode[] }));
}

/** The AMT PCs the examples name (servers excluded), in order of first appearance. */
export function exampleDeviceNames(examples: Array<{ nodes: FlowNode[] }>): string[] {
  const names: string[] = [];
  for (const { nodes } of examples) {
    for (const n of nodes) {
      if (n.type !== 'oob-device' || isServer(n) || n.via) continue;
      const name = String(n.name || n.id);
      if (!names.includes(name)) names.push(name);
    }
  }
  return names;
}

/** Replace every property equal to `from` (or array element) with `to`, on every node. */
function renameReferences(nodes: FlowNode[], from: string, to: string): void {
  for (const n of nodes) {
    for (const [k, v] of Object.entries(n)) {
      if (k === 'id') continue;
      if (v === from) n[k] = to;
      else if (Array.isArray(v)) n[k] = v.map((x) => (x === from ? to : Array.isArray(x) ? x.map((y) => (y === from ? to : y)) : x));
    }
  }
}

function deviceNode(id: string, name: string, target: SimTarget, site: string | undefined): FlowNode {
  return {
    id,
    type: 'oob-device',
    name,
    host: '127.0.0.1',
    mac: target.mac,
    site: site ?? 'demo',
    amtPort: target.port,
    amtTls: Boolean(target.fingerprint),
    fingerprint: target.fingerprint ?? '',
    tofu: false,
    timeout: 10,
    // Wake-on-LAN: magic packets to the simulator on loopback, never a real broadcast.
    wolAddress: '127.0.0.1',
    wolPort: target.wolPort ?? '',
    wolInterface: '',
    presencePort: target.rmcpPort ?? '',
    redirPort: target.redirectionPort ?? '',
  };
}

/**
 * Wake and discover nodes in examples address real networks (broadcasts, a /24): point them at the
 * simulator instead, so the demo sends nothing off this machine.
 */
function keepWakeOnLoopback(n: FlowNode, s: DemoSettings): void {
  if (n.type === 'oob-wake') Object.assign(n, { address: '127.0.0.1', port: s.devices[0]?.wolPort ?? '', interface: '' });
  if (n.type === 'oob-discover') {
    const targets = s.devices.filter((d) => d.rmcpPort).map((d) => `127.0.0.1:${d.rmcpPort}`);
    Object.assign(n, { targets: targets.join(' ') || '127.0.0.1' });
  }
}

/** An example device is a server when it carries IPMI settings. */
function isServer(n: FlowNode): boolean {
  return ['ipmiHost', 'ipmiPort', 'ipmiCipher', 'ipmiPrivilege'].some((k) => n[k] !== undefined);
}

function serverNode(id: string, name: string, port: number, site: string | undefined): FlowNode {
  return { id, type: 'oob-device', name, host: '127.0.0.1', mac: '', site: site ?? 'demo', ipmiHost: '', ipmiPort: port, ipmiCipher: 'auto', ipmiPrivilege: 'admin', timeout: 10 };
}

/** Nodes and credentials for the whole demo. */
export function demoFlows(
  examples: Array<{ file: string; nodes: FlowNode[] }>,
  s: DemoSettings,
): { nodes: FlowNode[]; credentials: Record<string, unknown>; petPorts: number[] } {
  const nodes: FlowNode[] = [];
  const petPorts: number[] = [];
  let nextAlertPorts = 0;
  const credentials: Record<string, unknown> = {};
  const ids = new Set<string>();
  const deviceByName = new Map<string, string>();
  let nextDevice = 0;
  let nextServer = 0;

  for (const { file, nodes: exampleNodes } of examples) {
    for (const n of exampleNodes) {
      if (ids.has(n.id)) throw new Error(`examples/${file}: node id ${n.id} is used by another example; ids must be unique across examples`);
    }
    for (const n of exampleNodes) {
      // A device at another site is reached through its site's gateway, not a simulated PC here.
      if (n.type !== 'oob-device' || n.via) continue;
      const name = String(n.name || n.id);
      const existing = deviceByName.get(name);
      if (existing) {
        // The same device in several examples: one config node in the demo.
        renameReferences(exampleNodes, n.id, existing);
        n.type = '__drop__';
        continue;
      }
      // IPMI: a server (a device with IPMI settings) gets a simulated BMC
      if (isServer(n) && s.servers?.length) {
        const bmc = s.servers[nextServer++ % s.servers.length];
        Object.assign(n, serverNode(n.id, name, bmc.port, n.site as string | undefined));
        credentials[n.id] = { ipmiUsername: s.username, ipmiPassword: s.password };
        deviceByName.set(name, n.id);
        continue;
      }
      const target = s.devices.find((d) => d.name === name) ?? s.devices[nextDevice++ % s.devices.length];
      Object.assign(n, deviceNode(n.id, name, target, n.site as string | undefined));
      credentials[n.id] = { username: s.username, password: s.password };
      deviceByName.set(name, n.id);
    }
    for (const n of exampleNodes) {
      if (n.type === '__drop__') continue;
      keepWakeOnLoopback(n, s);
      if (n.type === 'mqtt-broker' && s.mqttUrl) {
        const u = new URL(s.mqttUrl);
        Object.assign(n, { broker: u.hostname, port: u.port, usetls: false, tls: '' });
        if (s.mqtt311) n.protocolVersion = '4';
      }
      // boot from media: images from the demo's folder
      if (n.type === 'oob-boot-from-media' && s.bootImageDir) n.imageDir = s.bootImageDir;
      // The demo has no Request Tracker to talk to: the ticket example is there to look at, disabled.
      if (n.type === 'oob-rt-ticket') n.d = true;
      // Alert listeners on free loopback ports (162 needs root, and two nodes cannot share one).
      if (n.type === 'oob-alert-in' && s.alertPorts?.[nextAlertPorts]) {
        const ports = s.alertPorts[nextAlertPorts++];
        Object.assign(n, { petPort: ports.pet, petAddress: '127.0.0.1', eventPort: ports.event, eventAddress: '127.0.0.1' });
        if (n.pet) petPorts.push(ports.pet);
      }
      ids.add(n.id);
      nodes.push(n);
    }
  }
  pairRemoteKeys(nodes, credentials);
  nodes.push(...fleetTab(s, credentials, deviceByName));
  return { nodes, credentials, petPorts };
}

/**
 * The central console works in the demo as it would across the internet, through the embedded
 * broker: each site gateway and the centre get a fresh key pair (in the credential store, as the
 * dialogs' "new key pair" button would do), and each pins the other's public key.
 */
function pairRemoteKeys(nodes: FlowNode[], credentials: Record<string, unknown>): void {
  const centres = nodes.filter((n) => n.type === 'oob-remote-centre');
  const gateways = nodes.filter((n) => n.type === 'oob-remote-gateway');
  for (const c of centres) {
    const centre = generateKeyPairText();
    credentials[c.id] = { privateKey: centre.privateKey };
    c.publicKey = centre.publicKey;
    const pins: string[] = [];
    for (const g of gateways.filter((x) => x.broker === c.broker)) {
      const site = generateKeyPairText();
      credentials[g.id] = { siteKey: site.privateKey, centreKey: centre.publicKey };
      g.publicKey = site.publicKey;
      pins.push(`${String(g.site)} ${site.publicKey}`);
    }
    c.sites = pins.join('\n');
  }
}

/** One watcher per simulated PC, the latest states in flow context, GET /api/fleet to read them. */
function fleetTab(s: DemoSettings, credentials: Record<string, unknown>, deviceByName: Map<string, string>): FlowNode[] {
  const tab = 'demo-fleet-tab';
  const out: FlowNode[] = [
    { id: tab, type: 'tab', label: 'Fleet', info: 'Every simulated PC, watched every 5 s. GET /api/fleet returns their latest states.' },
    {
      id: 'demo-fleet-comment',
      type: 'comment',
      z: tab,
      name: 'The simulated fleet: one power-state watcher per PC',
      info: 'Each watcher polls its PC every 5 seconds and sends only changes. Try the inject nodes on the other tabs, or `npx oob-sim` for your own fleet.',
      x: 240,
      y: 40,
      wires: [],
    },
    {
      id: 'demo-fleet-record',
      type: 'function',
      z: tab,
      name: 'remember state',
      func: "const fleet = flow.get('fleet') || {};\nfleet[msg.topic] = { state: msg.payload.state, previous: msg.payload.previous || null, at: new Date().toISOString() };\nflow.set('fleet', fleet);\nreturn msg;",
      outputs: 1,
      x: 470,
      y: 160,
      wires: [['demo-fleet-debug']],
    },
    { id: 'demo-fleet-debug', type: 'debug', z: tab, name: 'fleet changes', active: true, tosidebar: true, console: false, complete: 'payload', targetType: 'msg', x: 680, y: 160, wires: [] },
    { id: 'demo-fleet-http', type: 'http in', z: tab, name: '', url: '/fleet', method: 'get', upload: false, x: 170, y: 420, wires: [['demo-fleet-read']] },
    { id: 'demo-fleet-read', type: 'function', z: tab, name: 'fleet states', func: "msg.payload = flow.get('fleet') || {};\nreturn msg;", outputs: 1, x: 360, y: 420, wires: [['demo-fleet-response']] },
    { id: 'demo-fleet-response', type: 'http response', z: tab, name: '', statusCode: '', headers: {}, x: 550, y: 420, wires: [] },
  ];
  s.devices.forEach((d, i) => {
    // A PC the examples already configure is watched through that config node: a second node
    // for the same PC would be a second device with the same MAC (Home Assistant refuses it).
    let dev = deviceByName.get(d.name);
    if (!dev) {
      dev = `demo-fleet-device-${i}`;
      out.push(deviceNode(dev, d.name, d, 'demo'));
      credentials[dev] = { username: s.username, password: s.password };
    }
    out.push({ id: `demo-fleet-watch-${i}`, type: 'oob-power-state', z: tab, name: `watch ${d.name}`, device: dev, action: 'status', poll: 5, x: 220, y: 100 + i * 60, wires: [['demo-fleet-record']] });
  });
  return out;
}
