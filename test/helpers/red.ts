/**
 * Loads our nodes into a real Node-RED runtime (node-red-node-test-helper) and gives tests small
 * helpers to send a message and collect what comes out.
 */
const helper = require('node-red-node-test-helper');
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeCatalogs } from '../../scripts/catalogs';

helper.init(require.resolve('node-red'));

// --- message catalogs ----------------------------------------------------------------------------
// The test helper gives nodes a RED._ that returns the key. Node-RED's runtime gives each node set
// its own namespace (`<module>/<set>`) in its i18n, with the catalog from locales/<lang>/<set>.json.
// Do the same here with Node-RED's own i18n and our merged catalogs, in the language of the
// runtime's `lang` setting (en-US when unset, whatever the machine's locale).
const { i18n } = require(require.resolve('@node-red/util', { paths: [path.dirname(require.resolve('node-red'))] }));
const MODULE = require('../../package.json').name as string;
const catalogDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-catalogs-'));
const registered = new Map<string, Promise<void>>();

function registerCatalog(type: string): Promise<void> {
  let p = registered.get(type);
  if (!p) {
    writeCatalogs(type, path.join(catalogDir, type));
    p = i18n.registerMessageCatalog(`${MODULE}/${type}`, path.join(catalogDir, type), `${type}.json`) as Promise<void>;
    registered.set(type, p);
  }
  return p;
}

/** A node module whose RED._ looks up `type`'s catalog, as in Node-RED. */
function catalogued(type: string, mod: (red: any) => unknown): (red: any) => unknown {
  const ns = `${MODULE}/${type}`;
  const wrapped = (red: any) => {
    const _ = (key: string, vars?: Record<string, unknown>) => i18n._(key.includes(':') ? key : `${ns}:${key}`, vars);
    return mod(new Proxy(red, { get: (target, prop) => (prop === '_' ? _ : target[prop]) }));
  };
  (wrapped as { catalogType?: string }).catalogType = type;
  return wrapped;
}

async function prepareCatalogs(nodes: unknown[]): Promise<void> {
  i18n.init({ lang: 'en-US' });
  const lang = (helper.settings() as { lang?: string } | undefined)?.lang ?? 'en-US';
  await Promise.all(nodes.map((n) => (n as { catalogType?: string }).catalogType).filter((t): t is string => Boolean(t)).map(registerCatalog));
  if (i18n.i.language !== lang) await i18n.i.changeLanguage(lang);
}

const core = (f: string) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'common', f));

export const deviceNode = catalogued('oob-device', require('../../nodes/oob-device/oob-device'));
export const powerStateNode = catalogued('oob-power-state', require('../../nodes/oob-power-state/oob-power-state'));
export const wakeNode = catalogued('oob-wake', require('../../nodes/oob-wake/oob-wake'));
export const discoverNode = catalogued('oob-discover', require('../../nodes/oob-discover/oob-discover'));
export const bootFromMediaNode = catalogued('oob-boot-from-media', require('../../nodes/oob-boot-from-media/oob-boot-from-media'));
export const systemDefenseNode = catalogued('oob-system-defense', require('../../nodes/oob-system-defense/oob-system-defense'));
export const catchNode = core('25-catch.js');
export const helperNode = helper;

export const inventoryNode = catalogued('oob-inventory', require('../../nodes/oob-inventory/oob-inventory'));
const coreParser = (f: string) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'parsers', f));
export const csvNode = coreParser('70-CSV.js');

export const ipmiNode = catalogued('oob-ipmi', require('../../nodes/oob-ipmi/oob-ipmi'));
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

export async function load(nodes: unknown[], flow: unknown[], credentials: Record<string, unknown> = {}): Promise<void> {
  await prepareCatalogs(nodes);
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

export const haNode = catalogued('oob-ha', require('../../nodes/oob-ha/oob-ha'));

export const alertInNode = catalogued('oob-alert-in', require('../../nodes/oob-alert-in/oob-alert-in'));
export const alertPolicyNode = catalogued('oob-alert-policy', require('../../nodes/oob-alert-policy/oob-alert-policy'));
// --- remote console ---
export const consoleNode = catalogued('oob-console', require('../../nodes/oob-console/oob-console'));

// --- devices at other sites, through the MSP's broker ---
export const remoteCentreNode = catalogued('oob-remote-centre', require('../../nodes/oob-remote-centre/oob-remote-centre'));
export const remoteGatewayNode = catalogued('oob-remote-gateway', require('../../nodes/oob-remote-gateway/oob-remote-gateway'));
