/**
 * MeshCentral's Intel AMT stack (amt/amt-wsman-comm.js, amt-wsman.js, amt.js and amt-xml.js of
 * the `meshcentral` dev dependency), loaded unmodified and wired the way MeshCentral's
 * amtmanager.js wires it for a PC on the LAN: CreateWsmanComm -> WsmanStackCreateService ->
 * AmtStackCreateService, over HTTP or TLS. Without the package the test fails saying so.
 * (test/helpers/meshcommander.ts loads MeshCommander's page code and IDE-R console.)
 */
import { createRequire } from 'node:module';

function meshRequire(): NodeJS.Require {
  try {
    return createRequire(require.resolve('meshcentral/package.json'));
  } catch (e) {
    throw new Error('the meshcentral dev dependency is not installed (npm install): its AMT stack is the peer of this test', { cause: e });
  }
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
  const req = meshRequire();
  const CreateWsmanComm = req('./amt/amt-wsman-comm.js') as Factory;
  const WsmanStackCreateService = req('./amt/amt-wsman.js') as Factory;
  const AmtStackCreateService = req('./amt/amt.js') as Factory;
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
