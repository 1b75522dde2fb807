/**
 * Test helpers for the simulator: a raw HTTP/1.1 exchange over a socket (so tests see chunk sizes,
 * header order and whether the server closed the connection) and a minimal Digest client written
 * from RFC 2617, independent of lib/wsman's client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SimDevice } from '../packages/sim/src';

export interface RawReply {
  status: number;
  statusLine: string;
  /** Header lines as sent, in order. */
  headerLines: string[];
  headers: Record<string, string>;
  body: Buffer;
  chunkSizes: number[];
  /** The chunk-size lines as written (e.g. "0220"), the final "0" included. */
  chunkLines: string[];
  /** Resolves when the server closes the socket (or after `waitMs`, to false). */
  closedByServer: (waitMs?: number) => Promise<boolean>;
  socket: Socket;
}

function tryParse(buf: Buffer): Omit<RawReply, 'closedByServer' | 'socket'> | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusLine = head[0];
  const headerLines = head.slice(1);
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const status = Number(statusLine.split(' ')[1]);
  let rest = buf.subarray(headEnd + 4);
  if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    const sizes: number[] = [];
    const lines: string[] = [];
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd < 0) return undefined;
      const line = rest.subarray(0, lineEnd).toString('latin1');
      const size = parseInt(line, 16);
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      lines.push(line);
      if (size === 0) return { status, statusLine, headerLines, headers, body: Buffer.concat(parts), chunkSizes: sizes, chunkLines: lines };
      sizes.push(size);
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
  }
  const len = Number(headers['content-length'] ?? 0);
  if (rest.length < len) return undefined;
  return { status, statusLine, headerLines, headers, body: rest.subarray(0, len), chunkSizes: [], chunkLines: [] };
}

/** Send `request` on a new connection and read one response. Rejects if the server closes first. */
export function rawExchange(port: number, request: string | Buffer, o: { tls?: boolean; timeoutMs?: number } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket: Socket = o.tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    let done = false;
    let closed = false;
    const closeWaiters: Array<(v: boolean) => void> = [];
    const timer = setTimeout(() => fail(new Error('timeout waiting for a response')), o.timeoutMs ?? 5000);
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.on(o.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (done) return;
      const r = tryParse(buf);
      if (!r) return;
      done = true;
      clearTimeout(timer);
      resolve({
        ...r,
        socket,
        closedByServer: (waitMs = 1000) =>
          new Promise<boolean>((res) => {
            if (closed) return res(true);
            const t = setTimeout(() => res(false), waitMs);
            closeWaiters.push((v) => {
              clearTimeout(t);
              res(v);
            });
          }),
      });
    });
    socket.on('error', (e) => fail(e));
    socket.on('close', () => {
      closed = true;
      closeWaiters.forEach((w) => w(true));
      fail(new Error('connection closed before a complete response'));
    });
  });
}

export function md5(s: string | Buffer): string {
  return createHash('md5').update(s).digest('hex');
}

export function parseChallenge(h: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of h.replace(/^Digest\s+/i, '').matchAll(/([a-zA-Z-]+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

export interface DigestCreds {
  user: string;
  password: string;
  qop?: 'auth' | 'auth-int';
}

/** An RFC 2617 Authorization header for one request. */
export function authorization(ch: Record<string, string>, c: DigestCreds, method: string, uri: string, body: Buffer, nc: number, realm = ch.realm): string {
  const qop = c.qop ?? 'auth';
  const cnonce = randomBytes(8).toString('hex');
  const ncHex = nc.toString(16).padStart(8, '0');
  const ha1 = md5(`${c.user}:${realm}:${c.password}`);
  const ha2 = qop === 'auth-int' ? md5(`${method}:${uri}:${md5(body)}`) : md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${ch.nonce}:${ncHex}:${cnonce}:${qop}:${ha2}`);
  return `Digest username="${c.user}", realm="${realm}", nonce="${ch.nonce}", uri="${uri}", qop=${qop}, nc=${ncHex}, cnonce="${cnonce}", response="${response}"`;
}

/**
 * A POST /wsman. `contentType` null sends no Content-Type (as MeshCentral's stack does);
 * `chunked` sends the body in chunks of 100 bytes instead of with a Content-Length.
 */
export function postText(port: number, body: string | Buffer, extraHeaders: string[] = [], contentType: string | null = 'application/soap+xml;charset=UTF-8', chunked = false): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const type = contentType === null ? [] : [`Content-Type: ${contentType}`];
  const length = chunked ? ['Transfer-Encoding: chunked'] : [`Content-Length: ${b.length}`];
  const head = [`POST /wsman HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...type, ...length, ...extraHeaders, '', ''].join('\r\n');
  if (!chunked) return Buffer.concat([Buffer.from(head, 'latin1'), b]);
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  for (let at = 0; at < b.length; at += 100) {
    const piece = b.subarray(at, at + 100);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/** Challenge, then the authenticated request: the reply to the second. */
export async function wsmanCall(device: SimDevice, xml: string, c: Partial<DigestCreds> = {}, o: { contentType?: string | null; chunked?: boolean } = {}): Promise<RawReply> {
  const creds: DigestCreds = { user: 'admin', password: 'P@ssw0rd', ...c };
  const tls = Boolean(device.tls);
  const first = await rawExchange(device.port, postText(device.port, xml, [], o.contentType, o.chunked), { tls });
  first.socket.destroy();
  if (first.status !== 401) return first;
  const ch = parseChallenge(first.headers['www-authenticate']);
  const body = Buffer.from(xml, 'utf8');
  const auth = authorization(ch, creds, 'POST', '/wsman', body, 1);
  const reply = await rawExchange(device.port, postText(device.port, body, [`Authorization: ${auth}`], o.contentType, o.chunked), { tls });
  reply.socket.destroy();
  return reply;
}
