/* global window, document, location, history, localStorage, sessionStorage, WebSocket, TextEncoder, fetch, URLSearchParams, clearInterval, navigator */
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

/** The most a paste sends to the serial console: a BIOS or getty at 115200 baud takes about 11 KB/s. */
const MAX_PASTE = 4096;

/**
 * Clipboard text for a serial console: line endings become what Enter sends (xterm's paste turns each
 * newline into CR, in bracketed paste mode when the PC's program asked for it), control characters
 * other than tab are dropped (a pasted ESC would be a key press), and at most MAX_PASTE characters go.
 */
function pasteInto(term, text) {
  const clean = String(text || '')
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
  if (!clean) return;
  const sent = clean.slice(0, MAX_PASTE);
  term.paste(sent);
  setStatus('live', `SOL: live, pasted ${sent.length} characters${sent.length < clean.length ? ` of ${clean.length} (at most ${MAX_PASTE} at a time)` : ''}`);
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
  // A paste into the terminal (Ctrl+Shift+V, the browser's menu) goes through pasteInto, not xterm's own.
  el.addEventListener(
    'paste',
    (e) => {
      e.preventDefault();
      e.stopImmediatePropagation();
      pasteInto(term, e.clipboardData && e.clipboardData.getData('text/plain'));
    },
    true,
  );
  term.focus();
  return {
    close: () => ws.close(),
    cad: () => undefined,
    scale: () => undefined,
    paste: (text) => {
      pasteInto(term, text);
      term.focus();
    },
  };
}

function show(kind) {
  if (current) current.close();
  $('kvm').hidden = kind !== 'kvm';
  $('sol').hidden = kind !== 'sol';
  $('cad').hidden = kind !== 'kvm';
  $('paste').hidden = kind !== 'sol';
  location.hash = kind;
  current = kind === 'kvm' ? openKvm() : openSol();
}

window.oobConsole = { show };
$('show-kvm').onclick = () => show('kvm');
$('show-sol').onclick = () => show('sol');
$('cad').onclick = () => current && current.cad();
$('paste').onclick = () => {
  if (!current || !current.paste) return;
  navigator.clipboard.readText().then(current.paste, () =>
    setStatus('live', "SOL: live; the browser did not let the page read the clipboard: paste into the terminal with Ctrl+Shift+V or the browser's menu"),
  );
};
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
