/**
 * MeshCentral's Intel AMT stack (amt/amt-wsman-comm.js, amt-wsman.js, amt.js and amt-xml.js of
 * the `meshcentral` npm package), loaded unmodified and wired the way MeshCentral's amtmanager.js
 * and MeshCommander wire it: CreateWsmanComm -> WsmanStackCreateService -> AmtStackCreateService.
 *
 * The package is 137 MB with a web server's dependencies; the AMT stack is four dependency-free
 * files. So unless node_modules holds the package, the first use fetches the pinned tarball with
 * `npm pack` (the registry checks its integrity, and so do we) and keeps only `amt/`, LICENSE
 * and package.json under .peers/meshcentral-<version>/. No network: the test fails saying so.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MESHCENTRAL_VERSION = '1.1.55';
const INTEGRITY = 'sha512-imC+3LRoM+01+Rhcm1vg5WMKFiKUx/eAkM1AUUEVuVZxGuxVFHn9QaxKoI9xXIEJosg3+1391KBoXL7ZWjIf9w==';
const ROOT = join(__dirname, '..', '..');
const FILES = ['amt-wsman-comm.js', 'amt-wsman.js', 'amt.js', 'amt-xml.js'];

function installedDir(): string | undefined {
  try {
    const pkg = require.resolve('meshcentral/package.json', { paths: [ROOT] });
    const dir = join(pkg, '..');
    const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    return version === MESHCENTRAL_VERSION && FILES.every((f) => existsSync(join(dir, 'amt', f))) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function fetchInto(dir: string): void {
  const work = mkdtempSync(join(tmpdir(), 'oobkit-meshcentral-'));
  try {
    execFileSync('npm', ['pack', `meshcentral@${MESHCENTRAL_VERSION}`, '--pack-destination', work, '--silent'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    const tgz = join(work, `meshcentral-${MESHCENTRAL_VERSION}.tgz`);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
    if (digest !== INTEGRITY) throw new Error(`meshcentral tarball integrity ${digest} is not the pinned ${INTEGRITY}`);
    execFileSync('tar', ['xzf', tgz, '-C', work, 'package/amt', 'package/LICENSE', 'package/package.json'], { timeout: 120_000 });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(join(work, 'package'), dir);
  } catch (e) {
    throw new Error(`MeshCentral ${MESHCENTRAL_VERSION}'s AMT stack is needed for this test and could not be fetched from the npm registry: ${(e as Error).message}`, { cause: e });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Directory holding meshcentral's package.json and amt/, fetched on first use. */
export function meshcentralDir(): string {
  const installed = installedDir();
  if (installed) return installed;
  const dir = join(ROOT, '.peers', `meshcentral-${MESHCENTRAL_VERSION}`);
  if (!FILES.every((f) => existsSync(join(dir, 'amt', f)))) fetchInto(dir);
  return dir;
}

/** MeshCentral's AMT stack object (amt.js): BatchEnum, Get, Exec, the class methods, GetAuditLog... */
export type MeshAmtStack = any;

export interface MeshStackOptions {
  host: string;
  port: number;
  user: string;
  pass: string;
  tls?: boolean;
}

type Factory = (...args: unknown[]) => MeshAmtStack;

/** A new stack against one PC, built as amtmanager.js builds it for a direct LAN connection. */
export function createMeshAmtStack(o: MeshStackOptions): MeshAmtStack {
  const amt = join(meshcentralDir(), 'amt');
  const CreateWsmanComm = require(join(amt, 'amt-wsman-comm.js')) as Factory;
  const WsmanStackCreateService = require(join(amt, 'amt-wsman.js')) as Factory;
  const AmtStackCreateService = require(join(amt, 'amt.js')) as Factory;
  const comm = CreateWsmanComm(o.host, o.port, o.user, o.pass, o.tls ? 1 : 0);
  if (o.tls) comm.xtlsFingerprint = 0; // as amtmanager.js: no certificate check
  return AmtStackCreateService(WsmanStackCreateService(comm));
}

/** What a BatchEnum callback gets: per class { response, responses, status }, and the batch status. */
export interface BatchResult {
  status: number;
  responses: Record<string, { response: unknown; responses: unknown; status: number }>;
}

export function batchEnum(stack: MeshAmtStack, names: string[], continueOnError = true): Promise<BatchResult> {
  return new Promise((resolve) => {
    stack.BatchEnum('', names, (_s: unknown, _n: unknown, responses: BatchResult['responses'], status: number) => resolve({ status, responses }), null, continueOnError);
  });
}

/** A method call through one of the stack's `<Class>_<Method>` wrappers: resolves with (response, status). */
export function call(fn: (...args: unknown[]) => void, ...args: unknown[]): Promise<{ response: { Body?: Record<string, unknown>; Header?: Record<string, string> } | null; status: number }> {
  return new Promise((resolve) => fn(...args, (_s: unknown, _n: unknown, response: never, status: number) => resolve({ response, status })));
}

export const meshcentralLicense = (): string => readFileSync(join(meshcentralDir(), 'LICENSE'), 'utf8');
