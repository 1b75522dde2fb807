/* global window, document, location, history, localStorage, sessionStorage, WebSocket, TextEncoder, fetch, URLSearchParams, clearInterval */
/*
 * The console page in the browser: the PC's screen with noVNC and its serial console with xterm.js,
 * each over a WebSocket to the gateway (next to this page, under Node-RED's admin root), with a
 * status line. The gateway sends its state as JSON text messages and the console's bytes as binary
 * ones; noVNC gets a channel that carries only the binary ones. Bundled by scripts/build-console.js.
 */
import RFB from '@novnc/novnc';
import { Terminal } from '@xterm/xterm';

const base = location.pathname.replace(/\/+$/, '');
const $ = (id) => document.getElementById(id);
const statusEl = $('status');

/** The editor's access token: from the link that opened us, else the one the editor keeps. */
function accessToken() {
  const q = new URLSearchParams(location.search).get('access_token');
  if (q) {
    history.replaceState(null, '', location.pathname + location.hash);
    try {
      sessionStorage.setItem('oob-console-token', q);
    } catch {
      /* private mode */
    }
    return q;
  }
  try {
    const kept = sessionStorage.getItem('oob-console-token');
    if (kept) return kept;
    const t = JSON.parse(localStorage.getItem('auth-tokens') || 'null');
    return t && t.access_token;
  } catch {
    return undefined;
  }
}
const token = accessToken();

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text || state;
}

function wsUrl(kind) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${base}/${kind}${token ? `?access_token=${encodeURIComponent(token)}` : ''}`;
}

const STATES = { connecting: 'connecting', consent: 'waiting for the user consent code', live: 'live' };

/** A WebSocket to the gateway; `onState` gets its JSON states, `onBytes` the console's bytes. */
function connect(kind, onState, onBytes, onClose) {
  const ws = new WebSocket(wsUrl(kind));
  ws.binaryType = 'arraybuffer';
  let last = 'connecting';
  setStatus('connecting', `${kind.toUpperCase()}: connecting`);
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') {
      let s;
      try {
        s = JSON.parse(e.data);
      } catch {
        return;
      }
      last = s.state;
      if (s.state === 'error') setStatus('error', `${kind.toUpperCase()}: ${s.detail}`);
      else if (s.state === 'closed') setStatus('closed', `${kind.toUpperCase()}: closed (${s.detail})`);
      else setStatus(s.state, `${kind.toUpperCase()}: ${STATES[s.state] || s.state}${s.detail ? ` (${s.detail})` : ''}`);
      if (s.state === 'consent') askConsent(ws, s.detail);
      onState(s);
      return;
    }
    onBytes(e.data);
  };
  ws.onclose = (e) => {
    if (last !== 'error' && last !== 'closed') setStatus(e.code === 1006 ? 'error' : 'closed', `${kind.toUpperCase()}: ${e.code === 1006 ? 'not authorized or the gateway refused' : 'closed'}`);
    onClose(e);
  };
  return ws;
}

let current;

/** The six-digit code the PC shows (user consent): asked in the status bar, sent as text. */
function askConsent(ws, detail) {
  const box = $('consent');
  box.hidden = false;
  $('consent-detail').textContent = detail || '';
  const input = $('consent-code');
  input.value = '';
  input.focus();
  $('consent-send').onclick = () => {
    ws.send(JSON.stringify({ consent: input.value.trim() }));
    box.hidden = true;
  };
}

function openKvm() {
  const el = $('kvm');
  let rfb;
  let shim;
  let updates = 0;
  const meter = setInterval(() => {
    if (statusEl.dataset.state === 'live') statusEl.textContent = `KVM: live, ${updates} updates/s`;
    updates = 0;
  }, 1000);
  const ws = connect(
    'kvm',
    (s) => {
      if (s.state !== 'live' || rfb) return;
      shim = {
        binaryType: 'arraybuffer',
        protocol: '',
        readyState: 'open',
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
        send: (d) => ws.send(d),
        close: () => ws.close(),
      };
      rfb = new RFB(el, shim, { shared: true });
      rfb.scaleViewport = $('scale').checked;
      rfb.focusOnClick = true;
      window.oobConsole.rfb = rfb;
    },
    (bytes) => {
      updates++;
      if (shim && shim.onmessage) shim.onmessage({ data: bytes });
    },
    (e) => {
      clearInterval(meter);
      if (shim) shim.readyState = 'closed';
      if (shim && shim.onclose) shim.onclose(e);
    },
  );
  return {
    close: () => ws.close(),
    cad: () => rfb && rfb.sendCtrlAltDel(),
    scale: (on) => {
      if (rfb) rfb.scaleViewport = on;
    },
  };
}

function openSol() {
  const el = $('sol');
  el.textContent = '';
  const term = new Terminal({ cols: 80, rows: 25, scrollback: 500 });
  term.open(el);
  window.oobConsole.term = term;
  const enc = new TextEncoder();
  const ws = connect(
    'sol',
    () => undefined,
    (bytes) => term.write(new Uint8Array(bytes)),
    () => undefined,
  );
  term.onData((d) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d));
  });
  term.focus();
  return { close: () => ws.close(), cad: () => undefined, scale: () => undefined };
}

function show(kind) {
  if (current) current.close();
  $('kvm').hidden = kind !== 'kvm';
  $('sol').hidden = kind !== 'sol';
  $('cad').hidden = kind !== 'kvm';
  location.hash = kind;
  current = kind === 'kvm' ? openKvm() : openSol();
}

window.oobConsole = { show };
$('show-kvm').onclick = () => show('kvm');
$('show-sol').onclick = () => show('sol');
$('cad').onclick = () => current && current.cad();
$('scale').onchange = (e) => current && current.scale(e.target.checked);

fetch(`${base}/info`, { headers: token ? { Authorization: `Bearer ${token}` } : {} })
  .then((r) => {
    if (r.status === 401 || r.status === 403) {
      setStatus('unauthorized', 'not authorized: log in to the Node-RED editor as a user allowed to open consoles');
      return undefined;
    }
    return r.json();
  })
  .then((info) => {
    if (!info) return;
    if (info.error) return setStatus('error', info.error);
    $('title').textContent = info.name;
    document.title = `${info.name} - OOBKit console`;
    show(location.hash === '#sol' ? 'sol' : 'kvm');
  })
  .catch((e) => setStatus('error', String(e)));
