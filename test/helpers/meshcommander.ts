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
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createContext, runInContext } from 'node:vm';

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

/** The text of one `function name(...) {...}` of commander.htm (these helpers hold no braces in strings). */
function functionText(page: string, name: string): string {
  const start = page.indexOf(`function ${name}(`);
  if (start < 0) throw new Error(`commander.htm has no function ${name}`);
  let depth = 0;
  for (let i = page.indexOf('{', start); i < page.length; i++) {
    if (page[i] === '{') depth++;
    else if (page[i] === '}' && --depth === 0) return page.slice(start, i + 1);
  }
  throw new Error(`function ${name} of commander.htm does not end`);
}

/** The page's script text between two markers (the first one included). */
function section(page: string, from: string, to: string): string {
  const a = page.indexOf(from);
  const b = page.indexOf(to, a);
  if (a < 0 || b < 0) throw new Error(`commander.htm has no section from "${from}" to "${to}"`);
  return page.slice(a, b);
}

export interface CommanderPage {
  /** The page's globals: its functions (AddDefenseFilterOk, changeDefaultPolicyOk, ...) and state (xxSystemDefense, ...). */
  g: Js;
  /** What the dialogs' fields hold, by element id, as Q(id).value reads them. */
  fields: Record<string, string | number | boolean>;
  /** Message boxes the page showed (its error reports). */
  messages: string[];
  /** Resolves when the page's amtstack has nothing pending (bounded). */
  settle(): Promise<void>;
}

/**
 * commander.htm's Agent Presence and System Defense code, unmodified, cut from the page in the
 * `meshcentral` package and run in a context of its own over MeshCentral's amtstack. What the
 * page takes from the browser (its dialog fields, HTML building, message boxes) is given as the
 * smallest stand-ins: the requests are the page's own.
 */
export function loadCommanderPage(amtstack: Js): CommanderPage {
  const page = readFileSync(meshRequire.resolve('./public/commander.htm'), 'utf8').replace(/\r/g, '');
  const helpers = ['getItem', 'guidToStr', 'MakeToArray', 'Clone', 'EscapeHtml', 'hex2rstr', 'char2hex', 'rstr2hex', 'format'].map((n) => functionText(page, n));
  const code = [...helpers, section(page, 'var xxWatchdog=null', 'var xxSystemDefense=null'), section(page, 'var xxSystemDefense=null', 'var xxWireless')].join('\n');
  const fields: CommanderPage['fields'] = {};
  const messages: string[] = [];
  const html = () => '';
  const g: Js = createContext({
    amtstack,
    urlvars: { norefresh: 1 }, // no 5 s statistics timer: the test asks for statistics itself
    amtFirstPull: 0,
    xxdialogMode: 0,
    Q: (id: string) => ({ value: fields[id], checked: fields[id] === true }),
    QH: html,
    QV: html,
    QE: html,
    setDialogMode: html,
    messagebox: (title: string, text: string) => messages.push(`${title}: ${text}`),
    TableStart: html,
    TableStart2: html,
    TableEntry: html,
    TableEnd: html,
    AddRefreshButton: html,
    AddButton: html,
    AddButton2: html,
    addLink: html,
    addLinkConditional: html,
    addHtmlValue: html,
    haltEvent: html,
    btoa: (s: string) => Buffer.from(s, 'latin1').toString('base64'),
    atob: (s: string) => Buffer.from(s, 'base64').toString('latin1'),
    setInterval,
    clearInterval,
    console,
  });
  runInContext(code, g, { filename: 'commander.htm' });
  const settle = async () => {
    for (let i = 0; i < 500; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (amtstack.GetPendingActions() === 0) return;
    }
    throw new Error('commander.htm requests still pending after 5 s');
  };
  return { g, fields, messages, settle };
}
