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
import * as net from 'node:net';
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

/** The picture MeshCommander's desktop client drew: its canvas as RGBA. */
export interface MeshCommanderScreen {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export interface MeshCommanderDesktop {
  /** The desktop module (amt-desktop-0.0.2.js): sendkey, width, height, state, ... */
  desktop: Js;
  /** The redirection transport (amt-redir-ws-0.1.0.js); State 3 once connected. */
  redir: Js;
  screen: MeshCommanderScreen;
  /** Bytes that came from the PC. */
  bytesIn(): number;
  stop(): void;
}

/** The smallest 2D canvas that answers the calls amt-desktop makes: image data, put, fill. */
function fakeCanvas(screen: MeshCommanderScreen) {
  const canvas = {
    get width() {
      return screen.width;
    },
    set width(w: number) {
      screen.width = w;
      screen.rgba = new Uint8ClampedArray(screen.width * screen.height * 4);
    },
    get height() {
      return screen.height;
    },
    set height(h: number) {
      screen.height = h;
      screen.rgba = new Uint8ClampedArray(screen.width * screen.height * 4);
    },
  };
  const ctx = {
    canvas,
    fillStyle: '#000000',
    createImageData: (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) }),
    putImageData(img: { width: number; height: number; data: Uint8ClampedArray }, x: number, y: number) {
      for (let r = 0; r < img.height && y + r < screen.height; r++) {
        const w = Math.min(img.width, screen.width - x);
        screen.rgba.set(img.data.subarray(r * img.width * 4, (r * img.width + w) * 4), ((y + r) * screen.width + x) * 4);
      }
    },
    fillRect(x: number, y: number, w: number, h: number) {
      const s = String(this.fillStyle);
      const m = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(s.replace(/\s/g, ''));
      const hex = /^#([0-9a-f]{6})$/i.exec(s);
      const c = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : hex ? [0, 2, 4].map((i) => parseInt(hex[1].slice(i, i + 2), 16)) : [0, 0, 0];
      for (let r = y; r < Math.min(y + h, screen.height); r++) {
        for (let col = x; col < Math.min(x + w, screen.width); col++) screen.rgba.set([c[0], c[1], c[2], 255], (r * screen.width + col) * 4);
      }
    },
  };
  return { getContext: () => ctx, style: {} };
}

/**
 * MeshCommander's KVM viewer as it runs in the browser, unmodified: public/scripts/amt-redir-ws-0.1.0.js
 * (the redirection session: start, Digest, the KVM data channel) and amt-desktop-0.0.2.js (its RFB
 * client with Intel's run-length tiles), with common-0.0.1.js, amt-0.2.0.js (MD5) and zlib-inflate.js.
 * What the browser would give them is the smallest stand-in: the WebSocket to MeshCentral's relay is
 * a TCP connection straight to the PC's redirection port (the relay passes bytes unchanged), the
 * canvas an RGBA array.
 */
export function startMeshCommanderDesktop(o: { host: string; port: number; user: string; pass: string }): MeshCommanderDesktop {
  const screen: MeshCommanderScreen = { width: 0, height: 0, rgba: new Uint8ClampedArray(0) };
  const element = fakeCanvas(screen);
  let bytesIn = 0;
  const sockets: net.Socket[] = [];
  class RelaySocket {
    static OPEN = 1;
    readyState = 0;
    binaryType = 'arraybuffer';
    onopen: (() => void) | null = null;
    onmessage: ((e: { data: ArrayBuffer }) => void) | null = null;
    onclose: (() => void) | null = null;
    private readonly s = net.connect(o.port, o.host);
    constructor() {
      sockets.push(this.s);
      this.s.on('connect', () => {
        this.readyState = 1;
        this.onopen?.();
      });
      this.s.on('data', (b: Buffer) => {
        bytesIn += b.length;
        this.onmessage?.({ data: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer });
      });
      this.s.on('error', () => undefined);
      this.s.on('close', () => {
        this.readyState = 3;
        this.onclose?.();
      });
    }
    send(data: ArrayBuffer) {
      if (this.readyState === 1) this.s.write(Buffer.from(new Uint8Array(data)));
    }
    close() {
      this.readyState = 3;
      this.s.destroy();
    }
  }
  const g: Js = createContext({
    window: { location: { protocol: 'http:', host: 'meshcommander.invalid', pathname: '/commander.htm' } },
    navigator: { userAgent: 'node' },
    document: { getElementById: () => element },
    WebSocket: RelaySocket,
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
  });
  for (const f of ['common-0.0.1.js', 'amt-0.2.0.js', 'zlib.js', 'zlib-inflate.js', 'amt-redir-ws-0.1.0.js', 'amt-desktop-0.0.2.js']) {
    const file = meshRequire.resolve(`./public/scripts/${f}`);
    runInContext(readFileSync(file, 'utf8'), g, { filename: file });
  }
  const desktop = g.CreateAmtRemoteDesktop('canvas');
  const redir = g.CreateAmtRedirect(desktop);
  redir.Start(o.host, o.port, o.user, o.pass, 0);
  return {
    desktop,
    redir,
    screen,
    bytesIn: () => bytesIn,
    stop: () => {
      redir.Stop();
      for (const s of sockets) s.destroy();
    },
  };
}
