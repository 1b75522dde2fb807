// A real Node-RED runtime in its own process, with this package installed in a temporary user
// directory and the flows (with credentials) given in the JSON file named by FLOWS_FILE. Prints
// "ready" once the flows are started; SIGTERM stops it. Used where one test needs several
// independent runtimes (the two-gateway test).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const RED = require('node-red');

const root = path.join(__dirname, '..', '..');
// USER_DIR: a user directory that outlives this process (a test that restarts Node-RED on it).
const keepUserDir = Boolean(process.env.USER_DIR);
const userDir = process.env.USER_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-red-'));
const name = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name;
const link = path.join(userDir, 'node_modules', name);
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.rmSync(link, { force: true });
// BARE_NODE_RED=1: Node-RED without this package, the baseline a benchmark compares with.
if (!process.env.BARE_NODE_RED) fs.symlinkSync(root, link, 'dir');
fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'oobkit-child', private: true, dependencies: { [name]: 'file:..' } }));

// The flows and their credentials as files in the user directory, loaded at start (credentials
// unencrypted: a throwaway test directory).
const { flows, credentials } = JSON.parse(fs.readFileSync(process.env.FLOWS_FILE, 'utf8'));
fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
const server = http.createServer();
// With HTTP_ADMIN_ROOT the editor is served (on an ephemeral port, printed after "ready"), with
// ADMIN_AUTH (JSON) as its adminAuth.
const adminRoot = process.env.HTTP_ADMIN_ROOT || false;
RED.init(server, {
  userDir,
  flowFile: 'flows.json',
  credentialSecret: false,
  httpAdminRoot: adminRoot,
  adminAuth: process.env.ADMIN_AUTH ? JSON.parse(process.env.ADMIN_AUTH) : undefined,
  httpNodeRoot: false,
  editorTheme: { projects: { enabled: false }, palette: { catalogues: [] } },
  telemetry: { enabled: false, updateNotification: false },
  logging: { console: { level: process.env.LOG_LEVEL || 'warn', metrics: false, audit: false } },
});

async function main() {
  if (adminRoot) {
    const app = require('express')();
    app.use(adminRoot, RED.httpAdmin);
    server.on('request', app);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  // RED.start() resolves before the flows run; "ready" means they run.
  const flowsStarted = new Promise((resolve) => RED.events.once('flows:started', resolve));
  await RED.start();
  await flowsStarted;
  // Without flows nothing else would keep the process alive (no editor server listens).
  setInterval(() => undefined, 1 << 30);
  process.stdout.write(adminRoot ? `ready ${server.address().port}\n` : 'ready\n');
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await RED.stop();
  } finally {
    if (!keepUserDir) fs.rmSync(userDir, { recursive: true, force: true });
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
