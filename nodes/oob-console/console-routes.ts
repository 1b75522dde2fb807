/**
 * The remote console in the browser, served by Node-RED under its admin root (so it works behind a
 * reverse proxy with a path prefix):
 *
 *   GET  <admin>/oob-console/<device id>            the page (no data in it: a shell that loads the rest)
 *   GET  <admin>/oob-console/assets/console.js|css  noVNC and xterm.js, bundled at build time
 *   GET  <admin>/oob-console/<device id>/info       the PC's name and which consoles it has  [permission]
 *   WS   <admin>/oob-console/<device id>/kvm|sol     RFB or SOL text, bridged to the PC       [permission]
 *
 * [permission]: Node-RED's admin authentication with the permission `oob-console.write` (a
 * read-only user does not get it). The WebSocket takes the editor's access token as the
 * `access_token` query parameter, checked by Node-RED's own middleware.
 */
import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type { NodeAPI } from 'node-red';
import WebSocket from 'ws';
import { acquireAmt } from '../../lib/amt/connect';
import { ConsoleKind, openConsole, openConsoleKind } from '../../lib/amt/console';
import { obtainConsent } from '../../lib/amt/opt-in';
import type { OobDeviceNode } from '../shared/types';

export const CONSOLE_PERMISSION = 'oob-console.write';
const ASSETS = path.join(__dirname, 'assets');
/** Browser to PC: the largest WebSocket message taken (RFB client messages are small). */
const MAX_MESSAGE = 256 * 1024;

type Middleware = (req: any, res: any, next: () => void) => void;

function adminRoot(RED: NodeAPI): string | undefined {
  const root = (RED.settings as unknown as { httpAdminRoot?: string | false }).httpAdminRoot;
  if (root === false) return undefined;
  const r = root || '/';
  return r.endsWith('/') ? r : `${r}/`;
}

/** Runs Node-RED's permission middleware on a request that is not going through express. */
function permitted(check: Middleware, req: IncomingMessage, url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const r = req as IncomingMessage & { query?: Record<string, string> };
    r.query = Object.fromEntries(url.searchParams);
    const res = {
      statusCode: 200,
      status(code: number) {
        this.statusCode = code;
        return this;
      },
      setHeader: () => undefined,
      getHeader: () => undefined,
      json: () => resolve(false),
      send: () => resolve(false),
      end: () => resolve(false),
    };
    try {
      check(r, res, () => resolve(true));
    } catch {
      resolve(false);
    }
  });
}

function page(): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>OOBKit console</title><link rel="stylesheet" href="assets/console.css"></head>
<body><div id="bar"><b id="title">console</b> <button id="show-kvm">Screen</button> <button id="show-sol">Serial</button>
<button id="cad" title="Ctrl-Alt-Del">Ctrl-Alt-Del</button> <button id="paste" title="Type the clipboard's text into the serial console" hidden>Paste</button> <label><input type="checkbox" id="scale" checked> scale</label>
<span id="consent" hidden>consent code from the PC's screen: <input id="consent-code" size="8" inputmode="numeric" autocomplete="off"> <button id="consent-send">Send</button> <small id="consent-detail"></small></span>
<span id="status" data-state="connecting">connecting</span></div>
<div id="kvm"></div><div id="sol" hidden></div>
<script type="module" src="assets/console.js"></script></body></html>`;
}

function send(ws: WebSocket, data: Buffer | string): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(data);
}

/** The console page of a device under the admin root, or undefined when the editor is disabled. */
export function consolePath(RED: NodeAPI, deviceId: string): string | undefined {
  const root = adminRoot(RED);
  return root === undefined ? undefined : `${root}oob-console/${encodeURIComponent(deviceId)}`;
}

/** Admin apps that have the routes: every node module gets its own RED object, but they share the app. */
const registered = new WeakSet<object>();

export function registerConsoleRoutes(RED: NodeAPI): void {
  if (!RED.httpAdmin || registered.has(RED.httpAdmin)) return;
  registered.add(RED.httpAdmin);
  const root = adminRoot(RED);
  if (root === undefined) return;
  const check = RED.auth.needsPermission(CONSOLE_PERMISSION) as unknown as Middleware;

  RED.httpAdmin.get('/oob-console/assets/:file', (req, res) => {
    const file = req.params.file;
    if (file !== 'console.js' && file !== 'console.css') return void res.status(404).end();
    res.type(file.endsWith('.js') ? 'application/javascript' : 'text/css');
    res.set('Cache-Control', 'no-cache');
    fs.createReadStream(path.join(ASSETS, file))
      .on('error', () => res.status(404).end())
      .pipe(res);
  });
  RED.httpAdmin.get('/oob-console/:id', (_req, res) => {
    res.set('Content-Security-Policy', "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'");
    res.type('text/html').send(page());
  });
  RED.httpAdmin.get('/oob-console/:id/info', check as never, (req, res) => {
    const dev = RED.nodes.getNode(req.params.id) as OobDeviceNode | null;
    if (!dev || typeof dev.device !== 'function') return void res.status(404).json({ error: 'no such device' });
    try {
      const d = dev.device();
      res.json({ name: d.name ?? d.host, host: d.host, kvm: !!d.amt, sol: !!d.amt, busy: openConsoleKind(d.host) ?? null });
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
    }
  });

  const wss = new WebSocket.Server({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: false });
  const pattern = new RegExp(`^${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}oob-console/([^/]+)/(kvm|sol)$`);
  const server = (RED as unknown as { server?: import('node:http').Server }).server;
  server?.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const m = pattern.exec(url.pathname);
    if (!m) return;
    const refuse = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    void permitted(check, req, url).then((ok) => {
      if (!ok) return refuse(401, 'Unauthorized');
      const dev = RED.nodes.getNode(decodeURIComponent(m[1])) as OobDeviceNode | null;
      if (!dev || typeof dev.device !== 'function') return refuse(404, 'Not Found');
      wss.handleUpgrade(req, socket as import('node:net').Socket, head, (ws) => bridge(RED, ws, dev, m[2] as ConsoleKind));
    });
  });
}

/** One viewer: status messages as JSON text, the console's bytes as binary, both ways. */
async function bridge(RED: NodeAPI, ws: WebSocket, dev: OobDeviceNode, kind: ConsoleKind): Promise<void> {
  const status = (state: string, detail?: string) => send(ws, JSON.stringify({ state, detail }));
  let gone = false;
  const early: Buffer[] = [];
  // Before the session: text messages are the viewer's consent codes, binary ones are held.
  let codeWanted: ((code: string) => void) | undefined;
  ws.on('message', (m: Buffer | string, isBinary?: boolean) => {
    if (typeof m === 'string' || isBinary === false) {
      try {
        const code = (JSON.parse(m.toString()) as { consent?: unknown }).consent;
        if (typeof code === 'string' && codeWanted) codeWanted(code);
      } catch {
        /* not JSON: ignored */
      }
      return;
    }
    if (early.length < 64) early.push(Buffer.from(m));
  });
  ws.once('close', () => (gone = true));
  let lease: ReturnType<typeof acquireAmt> | undefined;
  try {
    const d = dev.device();
    if (!d.amt) throw new Error(`${d.name ?? d.host} has no Intel AMT credentials: a console needs AMT`);
    const amt = d.amt;
    lease = acquireAmt(amt);
    const client = lease.client;
    status('connecting');
    const c = await openConsole(kind, {
      key: d.host,
      client: lease.client,
      redirection: {
        host: amt.host,
        port: amt.redirectionPort,
        tls: amt.tls,
        username: amt.username,
        password: amt.password,
        fingerprint: amt.fingerprint || lease.client.fingerprint,
        trustOnFirstUse: amt.trustOnFirstUse,
        onFingerprintTrusted: amt.onFingerprintTrusted,
      },
      // The code the PC shows is typed into the console page.
      waitForUserConsent: async (k) => {
        await obtainConsent(client, {
          scope: k === 'kvm' ? 'kvm' : 'redirection',
          attempts: 3,
          askCode: (prompt) =>
            new Promise<unknown>((resolve, reject) => {
              if (gone) return reject(new Error('the viewer went away'));
              status('consent', `code ${prompt.attempt} of 3, valid ${prompt.codeTimeoutSeconds} s`);
              codeWanted = (code) => {
                codeWanted = undefined;
                resolve(code);
              };
              ws.once('close', () => reject(new Error('the viewer went away')));
            }),
        });
      },
    });
    const held = lease;
    void c.done.then((problem) => {
      held.release();
      if (problem) RED.log.warn(`oob-console: ${problem.message}`);
    });
    lease = undefined;
    if (gone) {
      await c.close();
      return;
    }
    status('live');
    ws.removeAllListeners('message');
    for (const m of early.splice(0)) c.write(m);
    // Binary messages are the console's bytes; text ones (a late consent code) are not for the PC.
    ws.on('message', (m: Buffer | string) => {
      if (typeof m !== 'string') c.write(m);
    });
    ws.once('close', () => void c.close());
    c.on('data', (b: Buffer) => send(ws, b));
    c.once('close', (e?: Error) => {
      status('closed', e?.message ?? 'the session ended');
      ws.close(1000);
    });
  } catch (e) {
    lease?.release();
    status('error', (e as Error).message);
    ws.close(1011);
  }
}
