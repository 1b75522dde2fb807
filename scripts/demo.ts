/**
 * npm start: a real Node-RED runtime with OOBKit and its example flows, a simulated fleet of AMT
 * PCs and an MQTT broker (Mosquitto if installed, else embedded), all on loopback. Prints the editor URL; Ctrl-C stops it all.
 *
 * Environment: PORT (editor, default 1880), MQTT_PORT (default 1883), DEMO_PORT_BASE (every port
 * the demo opens, from one base: see demoPorts below), DEMO_DEVICES (default: one per device the
 * examples name, at least 5), HOST (listen address, default 127.0.0.1), OOBKIT_DEMO_DIR (Node-RED user directory, default
 * .demo/), DEMO_BROKER (embedded: the embedded broker even where Mosquitto is installed),
 * DEMO_ALERT_SECONDS (a simulated PC plays an alert scenario this often; 0 = never). Without
 * DEMO_PORT_BASE the simulated devices take free ports; a busy editor or broker port falls back to a
 * free one.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import express from 'express';
import * as dgram from 'node:dgram';
import { ConsentEvent, describeDevice, playScenarios, SimDevice, startBackgroundTraffic, startFleet, writeDemoIso } from '../packages/sim/src';
import { SimBmc } from '../packages/sim/src/ipmi';
import { startDemoBroker } from './demo-broker';
import { demoFlows, exampleDeviceNames, readExamples } from './demo-flows';
import { demoPorts } from './demo-ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RED = require('node-red');

const root = path.resolve(__dirname, '..', '..');
const userDir = process.env.OOBKIT_DEMO_DIR ? path.resolve(process.env.OOBKIT_DEMO_DIR) : path.join(root, '.demo');
const HOST = process.env.HOST || '127.0.0.1';
const USERNAME = 'admin';
const PASSWORD = 'Demo-P@ssw0rd';
const CREDENTIAL_SECRET = 'oobkit-demo-only';
const DASHBOARD = '@flowfuse/node-red-dashboard';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Listen on the wanted port, or on a free one if it is taken and may change. */
function listen(server: net.Server, port: number, fixed: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE' && port !== 0 && !fixed) {
        log(`port ${port} is busy; using a free one`);
        server.listen(0, HOST);
      } else reject(e);
    };
    server.on('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
    server.listen(port, HOST);
  });
}

/** Make this checkout a Node-RED module of the demo's user directory. */
function linkPackage(): void {
  const modules = path.join(userDir, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  const name = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string }).name;
  const link = path.join(modules, name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  try {
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    /* nothing there */
  }
  fs.symlinkSync(root, link, 'dir');
  linkDashboard(modules);
  const pkg = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, JSON.stringify({ name: 'oobkit-demo', private: true, dependencies: { [name]: 'file:..' } }, null, 2));
}

/**
 * Node-RED Dashboard 2 (a dev dependency) for the fleet dashboard example: Node-RED finds node
 * modules in its user directory, so it is linked there beside this package.
 */
function linkDashboard(modules: string): void {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${DASHBOARD}/package.json`, { paths: [root] }));
  } catch {
    log(`${DASHBOARD} is not installed (npm ci installs it): the fleet dashboard example will not load`);
    return;
  }
  const link = path.join(modules, DASHBOARD);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(dir, link, 'dir');
}

/**
 * The demo's flows are written before Node-RED starts, so last run's flows never start against
 * this run's ports. The credentials go in Node-RED's encrypted form (key: SHA-256 of the
 * credential secret, AES-256-CTR, hex IV then base64), as Node-RED itself would save them.
 */
function writeFlowFiles(nodes: unknown[], credentials: Record<string, unknown>, secret: string): void {
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(nodes, null, 2));
  const key = crypto.createHash('sha256').update(secret).digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  const sealed = iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64');
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ $: sealed }));
}

function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  return new Promise((resolve, reject) => {
    if (kind === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    } else {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    }
  });
}

async function main(): Promise<void> {
  const examples = readExamples(path.join(root, 'examples'));
  // The simulated PCs carry the names the examples give them: one PC, one name, one config node.
  const names = exampleDeviceNames(examples);
  const deviceCount = Number(process.env.DEMO_DEVICES || Math.max(5, names.length));
  const ports = demoPorts(process.env.DEMO_PORT_BASE, deviceCount);
  const fleet = await startFleet({
    devices: deviceCount,
    port: ports.amt,
    redirectionPort: ports.redirection,
    tls: true,
    user: USERNAME,
    password: PASSWORD,
    timings: { bootTimeMs: 4000, offDwellMs: 1500, osShutdownMs: 3000 },
    // The accounts PC is in client control mode: it asks its user for consent (the boot-consent example).
    configure: (i, o) => ({ ...o, name: names[i] ?? o.name, power: i % 3 === 2 ? 'off' : 'on', ...(names[i] === 'accounts-pc' ? { controlMode: 'client' as const } : {}) }),
    // Wake-on-LAN and RMCP presence on loopback ports.
    wolPort: ports.wol,
    rmcpPort: ports.rmcp,
  });

  // System Defense: made-up traffic through each simulated PC, so filter counters move.
  const traffic = startBackgroundTraffic(fleet.devices);
  // IPMI: two simulated servers with BMCs, one on, one off
  const servers = await Promise.all(
    ['srv-01', 'srv-02'].map((name, i) => SimBmc.start({ port: ports.bmc ? ports.bmc + i : 0, users: [{ name: USERNAME, password: PASSWORD }], power: i === 0 ? 'on' : 'off', cycleMs: 3000, softOffMs: 3000 }).then((bmc) => ({ name, bmc }))),
  );
  // Something for the event log to show: the lid of srv-01 was opened, and a fan ran slow.
  servers[0].bmc.state.addSelEvent({ sensorType: 0x05, sensorNumber: 0x31, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
  servers[0].bmc.state.addSelEvent({ sensorType: 0x04, sensorNumber: 0x10, eventDirType: 0x01, data: [0x50, 9, 10] });

  const broker = await startDemoBroker({ port: ports.mqtt, fixed: ports.fixed, host: HOST, dir: path.join(userDir, 'broker'), embedded: process.env.DEMO_BROKER === 'embedded', log });
  const mqttPort = broker.port;

  linkPackage();
  // boot from media: a bootable image the example serves to the simulated PCs
  const bootImageDir = path.join(userDir, 'boot-images');
  fs.mkdirSync(bootImageDir, { recursive: true });
  writeDemoIso(path.join(bootImageDir, 'rescue.iso'));

  const alertNodes = examples.flatMap((e) => e.nodes).filter((n) => n.type === 'oob-alert-in').length;
  const alertPorts: Array<{ pet: number; event: number }> = [];
  for (let i = 0; i < alertNodes; i++) alertPorts.push(ports.alerts ? { pet: ports.alerts + 2 * i, event: ports.alerts + 2 * i + 1 } : { pet: await freePort('udp'), event: await freePort('tcp') });
  const { nodes, credentials, petPorts } = demoFlows(examples, {
    alertPorts,
    devices: fleet.devices.map((d, i) => ({ name: d.name, port: d.port, fingerprint: d.tls?.fingerprint256, mac: d.mac, redirectionPort: d.redirectionPort, wolPort: fleet.wol?.port, rmcpPort: fleet.rmcp?.[i].port })),
    bootImageDir,
    username: USERNAME,
    password: PASSWORD,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    mqtt311: broker.kind === 'aedes',
    servers: servers.map((x) => ({ name: x.name, port: x.bmc.port })),
  });
  writeFlowFiles(nodes, credentials, CREDENTIAL_SECRET);
  const app = express();
  const server = http.createServer(app);
  const settings = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: CREDENTIAL_SECRET,
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    uiHost: HOST,
    functionGlobalContext: {},
    contextStorage: { default: { module: 'localfilesystem' } },
    // Self-contained: no palette catalogue download, so the demo sends nothing off this machine.
    editorTheme: { tours: false, palette: { catalogues: [] } },
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: process.env.LOG_LEVEL || 'warn', metrics: false, audit: false } },
  };
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  const editorPort = await listen(server, ports.editor, ports.fixed);
  // RED.start() resolves before the flows run: the banner waits for them, so whoever reads it
  // (a person, a test) finds the editor's flows and the fleet's nodes there.
  const flowsStarted = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    RED.events.once('flows:started', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  await RED.start();
  if (!(await flowsStarted)) log('warning: the flows did not start within 60 s (see the log above)');

  showPcScreens(fleet.devices);
  const alertEveryMs = Number(process.env.DEMO_ALERT_SECONDS || 60) * 1000;
  // Every alert-in that takes PET traps gets the scenarios (the chat example, each site of the fleet dashboard).
  const scenarioStops = alertEveryMs > 0 ? petPorts.map((port) => playScenarios(fleet.devices, { pet: { host: '127.0.0.1', port } }, alertEveryMs)) : [];
  const stopScenarios = () => scenarioStops.forEach((s) => s());

  // Handlers before the banner: whoever reads it may press Ctrl-C at once.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), 10000);
    force.unref();
    try {
      await RED.stop();
    } catch {
      /* already stopped */
    }
    await new Promise((r) => server.close(r));
    server.closeAllConnections?.();
    await broker.close();
    traffic.stop();
    stopScenarios();
    await fleet.stop();
    await Promise.all(servers.map((x) => x.bmc.stop()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  log('');
  log('OOBKit demo');
  log(`  Node-RED editor:  http://${HOST}:${editorPort}/`);
  log(`  fleet states:     http://${HOST}:${editorPort}/api/fleet`);
  log(`  fleet dashboard:  http://${HOST}:${editorPort}/api/dashboard/fleet`);
  log(`  MQTT broker:      mqtt://${HOST}:${mqttPort} (${broker.kind === 'mosquitto' ? 'Mosquitto' : 'embedded, MQTT 3.1.1'})`);
  log(`  simulated PCs (AMT user ${USERNAME}, password ${PASSWORD}):`);
  for (const d of fleet.devices) {
    const x = describeDevice(d);
    log(`    ${x.name}  127.0.0.1:${x.port}  ${x.mac}  ${d.powerState === 2 ? 'on' : 'off'}`);
  }
  log(`  simulated servers (IPMI v2.0 over UDP, user ${USERNAME}, same password):`);
  for (const x of servers) log(`    ${x.name}  127.0.0.1:${x.bmc.port}  ${x.bmc.state.powerOn ? 'on' : 'off'}`);
  log('Press Ctrl-C to stop.');

}

/**
 * What a simulated PC's screen shows that a person would read out (the user consent code), as a
 * line in the editor's debug sidebar, as a debug node would send it.
 */
function showPcScreens(devices: SimDevice[]): void {
  for (const d of devices) {
    d.on('consent', (e: ConsentEvent) => {
      if (e.state !== 'displayed' || !e.code) return;
      const text = `${d.name} screen: user consent code ${e.code.slice(0, 3)} ${e.code.slice(3)} (valid until ${e.expiresAt ?? '?'})`;
      RED.events.emit('comms', { topic: 'debug', data: { id: 'oobkit-demo-pc-screen', name: 'PC screen (simulated)', topic: d.name, msg: text, format: `string[${text.length}]`, path: '' } });
      log(text);
    });
  }
}

main().catch((e) => {
  console.error(`demo failed to start: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
