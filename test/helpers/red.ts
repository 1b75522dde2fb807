/**
 * Loads our nodes into a real Node-RED runtime (node-red-node-test-helper) and gives tests small
 * helpers to send a message and collect what comes out.
 */
const helper = require('node-red-node-test-helper');
import * as path from 'node:path';

helper.init(require.resolve('node-red'));

const core = (f: string) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'common', f));

export const deviceNode = require('../../nodes/oob-device/oob-device');
export const powerStateNode = require('../../nodes/oob-power-state/oob-power-state');
export const wakeNode = require('../../nodes/oob-wake/oob-wake'); // issue 3
export const discoverNode = require('../../nodes/oob-discover/oob-discover'); // issue 3
// --- boot from media (issue 4) ---
export const bootFromMediaNode = require('../../nodes/oob-boot-from-media/oob-boot-from-media');
export const systemDefenseNode = require('../../nodes/oob-system-defense/oob-system-defense');
export const catchNode = core('25-catch.js');
export const helperNode = helper;

// inventory and audit log (issue 9)
export const inventoryNode = require('../../nodes/oob-inventory/oob-inventory');
const coreParser = (f: string) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'parsers', f));
export const csvNode = coreParser('70-CSV.js');

// --- IPMI (issue 8) ---
export const ipmiNode = require('../../nodes/oob-ipmi/oob-ipmi');
/** Runtime settings for the next load (userDir, say); merged with Node-RED's defaults. */
export function runtimeSettings(s: Record<string, unknown>): void {
  helper.settings(s);
}

export interface TestNode {
  id: string;
  receive(msg: Record<string, unknown>): void;
  on(event: string, fn: (...args: any[]) => void): void;
  status(s: unknown): void;
  error: (...args: any[]) => void;
  [k: string]: any;
}

export function startServer(): Promise<void> {
  return new Promise((resolve) => helper.startServer(resolve));
}

export async function stopServer(): Promise<void> {
  await helper.unload();
  await new Promise((resolve) => helper.stopServer(resolve));
}

export function load(nodes: unknown[], flow: unknown[], credentials: Record<string, unknown> = {}): Promise<void> {
  return helper.load(nodes, flow, credentials);
}

export function getNode(id: string): TestNode {
  const n = helper.getNode(id);
  if (!n) throw new Error(`node ${id} not loaded`);
  return n;
}

/** The next message a helper node receives, or a rejection after `ms`. */
export function nextMessage(id: string, ms = 10000): Promise<Record<string, any>> {
  const n = getNode(id);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${id} within ${ms} ms`)), ms);
    n.once('input', (msg: Record<string, any>) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Records every status a node sets. */
export function recordStatuses(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  const n = getNode(id);
  const seen: Array<{ fill?: string; shape?: string; text?: string }> = [];
  const original = n.status.bind(n);
  n.status = (s: any) => {
    seen.push(s);
    return original(s);
  };
  return seen;
}

/** supertest against the runtime's admin HTTP API (routes our nodes add, /flows...). */
export function adminRequest(): any {
  return helper.request();
}

// --- alerts (issue 6) ----------------------------------------------------------------------------
export const alertInNode = require('../../nodes/oob-alert-in/oob-alert-in');
export const alertPolicyNode = require('../../nodes/oob-alert-policy/oob-alert-policy');
