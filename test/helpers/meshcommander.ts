/**
 * MeshCommander's own code, from the `meshcentral` npm package, run unmodified in the test process:
 *  - its IDE-R console: amt/amt-redir-mesh.js (the redirection session manager: start, Digest,
 *    hand-over) and amt/amt-ider-module.js (the IDE-R protocol and the ATAPI drive);
 *  - its WS-Man stack: amt/amt-wsman-comm.js (HTTP Digest), amt/amt-wsman.js (envelopes) and
 *    amt/amt.js (the `amtstack` commander.htm calls).
 *
 * What MeshCentral's server would hand these modules (its database, connectivity table, forge) is
 * given here as the smallest objects that answer the same calls. A missing package fails loudly.
 */
import { createRequire } from 'node:module';

const meshRequire = createRequire(require.resolve('meshcentral/package.json'));

type Js = any;

export interface MeshCommanderIder {
  /** The IDE-R module (amt-ider-module.js): bytesToAmt, bytesFromAmt, iderinfo, ... */
  ider: Js;
  /** The redirection session (amt-redir-mesh.js). */
  redir: Js;
  /** Resolves when MeshCommander stops the session (state 0), for whatever reason. */
  stopped: Promise<void>;
  stop(): void;
}

/**
 * MeshCommander's IDE-R console against a device at host:16994 (the port the code fixes), serving
 * `cdromPath` as its CD. `iderStart`: 0 at the next boot (MeshCommander's default), 1 graceful, 2 now.
 */
export function startMeshCommanderIder(o: { host: string; user: string; pass: string; cdromPath: string; iderStart?: 0 | 1 | 2 }): MeshCommanderIder {
  const common = meshRequire('./common.js');
  const forge = meshRequire('node-forge');
  const { CreateAmtRemoteIder } = meshRequire('./amt/amt-ider-module.js');
  const { CreateAmtRedirect } = meshRequire('./amt/amt-redir-mesh.js');
  const webserver = { common };
  const meshId = 'mesh//interop';
  const nodeId = 'node//interop';
  const node = { _id: nodeId, meshid: meshId, host: o.host, intelamt: { user: o.user, pass: o.pass, tls: 0 } };
  const server = {
    db: { Get: (_id: string, cb: (err: unknown, docs: unknown[]) => void) => cb(null, [node]) },
    GetConnectivityState: () => ({ connectivity: 4 }), // 4: Intel AMT reachable directly
    mpsserver: { GetConnectionToNode: () => null }, // no CIRA
    certificateOperations: { forge },
    debugLevel: null,
  };
  const user = { name: 'interop', links: { [meshId]: { rights: 8 } } }; // 8: remote control
  const ider = CreateAmtRemoteIder(webserver, server);
  const setup = ider.diskSetup(null, o.cdromPath);
  if (setup !== 0) throw new Error(`MeshCommander refused the CD image (diskSetup ${setup})`);
  ider.iderStart = o.iderStart ?? 0;
  const redir = CreateAmtRedirect(ider, null, user, webserver, server);
  let started = false;
  const stopped = new Promise<void>((resolve) => {
    redir.onStateChanged = (_r: unknown, state: number) => {
      if (state !== 0) started = true;
      else if (started) resolve();
    };
  });
  redir.Start(nodeId);
  return { ider, redir, stopped, stop: () => redir.Stop() };
}

/** MeshCentral's `amtstack` over its own WS-Man stack, as commander.htm uses it. */
export function meshCommanderAmtStack(o: { host: string; port: number; user: string; pass: string }): Js {
  const CreateWsmanComm = meshRequire('./amt/amt-wsman-comm.js');
  const WsmanStackCreateService = meshRequire('./amt/amt-wsman.js');
  const AmtStackCreateService = meshRequire('./amt/amt.js');
  const comm = CreateWsmanComm(o.host, o.port, o.user, o.pass, 0, null, null);
  return AmtStackCreateService(WsmanStackCreateService(comm));
}

/** An amtstack call as a promise of [response, status] (the callback's last arguments). */
export function call(fn: (cb: (...args: Js[]) => void) => void): Promise<{ response: Js; status: number }> {
  return new Promise((resolve) => fn((_stack: Js, _name: Js, response: Js, status: number) => resolve({ response, status })));
}
