/**
 * The HTTP(S) endpoint of one simulated device: POST /wsman only, Digest first, bodies bounded,
 * answers written like AMT writes them: `Server: Intel(R) Active Management Technology x.y.z.b`,
 * `Content-Type: application/soap+xml; charset=UTF-8`, `Transfer-Encoding: chunked` in chunks of
 * 544 then 762 bytes (as in test/fixtures/amt/http) so boundaries fall anywhere, keep-alive. A 401
 * carries `Connection: close` and the socket really closes. Latency and injected faults apply to
 * authenticated requests only (the 401 round trip stays fast, as on real firmware).
 */
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SIM_NS as NS, SIM_WSMAN_PATH as WSMAN_PATH } from './wsman-uris';
import type { SimDevice } from './device';
import { UNAUTHORIZED_HTML } from './digest-server';
import { dispatch, SimAnswer } from './dispatch';
import { tlsServerOptions } from './firmware-profile';
import { writeFault } from './response-writer';
import { SimFault } from './sim-fault';

/** AMT's chunk sizes: the first chunk 544 bytes, then 762 (see AMT_GeneralSettings-Get.http). */
export const CHUNK_SIZES = [544, 762];

const SOAP_TYPE = 'application/soap+xml; charset=UTF-8';

function htmlPage(title: string): string {
  return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" >\n<html><head><title>${title}</title></head><body><h2>${title}</h2></body></html>\n`;
}

/** Split at 544, then every 762 bytes. */
export function chunkBoundaries(length: number): number[] {
  const cuts: number[] = [];
  let at = 0;
  let i = 0;
  while (at < length) {
    at = Math.min(length, at + CHUNK_SIZES[Math.min(i, CHUNK_SIZES.length - 1)]);
    cuts.push(at);
    i++;
  }
  return cuts;
}

/** The Date header's value, made once a second rather than once an answer. */
let dateSecond = -1;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Where an answer is encoded before it is cut into chunks (used and done with inside one call). */
let encoded = Buffer.allocUnsafe(16 * 1024);

/** The body framed in AMT's chunks (see chunkBoundaries), the last chunk included, as one buffer. */
export function chunkedBody(body: string): Buffer {
  const size = Buffer.byteLength(body);
  if (size > encoded.length) encoded = Buffer.allocUnsafe(size);
  encoded.write(body, 0, 'utf8');
  const buf = encoded.subarray(0, size);
  const cuts = chunkBoundaries(buf.length);
  // Each chunk: a size line of at most 8 hex digits and CRLF, the bytes, CRLF; then "0\r\n\r\n".
  const out = Buffer.allocUnsafe(buf.length + cuts.length * 12 + 5);
  let at = 0;
  let from = 0;
  for (const to of cuts) {
    at += out.write(`${chunkSizeLine(to - from)}\r\n`, at, 'latin1');
    at += buf.copy(out, at, from, to);
    at += out.write('\r\n', at, 'latin1');
    from = to;
  }
  at += out.write('0\r\n\r\n', at, 'latin1');
  return out.subarray(0, at);
}

function writeChunked(device: SimDevice, res: ServerResponse, status: number, body: string, contentType = SOAP_TYPE): void {
  firmwareHeaderSet(res);
  res.writeHead(status, {
    Date: httpDate(),
    Server: device.serverHeader,
    'X-Frame-Options': 'DENY',
    'Content-Type': contentType,
    'Transfer-Encoding': 'chunked',
  });
  // The framing is ours: AMT writes each size as four upper-case hex digits ("0220"), Node as "220".
  res.chunkedEncoding = false;
  // One send: Node puts the head in front of a string body; an ASCII body is framed as text, so
  // the answer reaches the socket without being encoded into a buffer of our own first.
  const size = Buffer.byteLength(body);
  if (size === body.length) res.end(chunkedText(body), 'latin1');
  else res.end(chunkedBody(body));
}

const [FIRST_CHUNK, NEXT_CHUNK] = CHUNK_SIZES;
const FIRST_CHUNK_LINE = `${chunkSizeLine(FIRST_CHUNK)}\r\n`;
const NEXT_CHUNK_LINE = `${chunkSizeLine(NEXT_CHUNK)}\r\n`;

/** chunkedBody for a body of ASCII characters only (one byte each), as a string. */
export function chunkedText(body: string): string {
  const n = body.length;
  if (n === 0) return '0\r\n\r\n';
  if (n <= FIRST_CHUNK) return `${chunkSizeLine(n)}\r\n${body}\r\n0\r\n\r\n`;
  let out = `${FIRST_CHUNK_LINE}${body.slice(0, FIRST_CHUNK)}\r\n`;
  let from = FIRST_CHUNK;
  for (; n - from > NEXT_CHUNK; from += NEXT_CHUNK) out += `${NEXT_CHUNK_LINE}${body.slice(from, from + NEXT_CHUNK)}\r\n`;
  return `${out}${chunkSizeLine(n - from)}\r\n${body.slice(from)}\r\n0\r\n\r\n`;
}

/**
 * AMT's 200 carries exactly Date, Server, X-Frame-Options, Content-Type, Transfer-Encoding (the
 * captures in amt/http); on a persistent connection Node would add `Connection: keep-alive` and
 * `Keep-Alive: timeout=...`. HTTP/1.1 is persistent without them: with the Connection header
 * removed before the head is composed, Node writes neither and keeps the connection open. A
 * client that asked to close still gets `Connection: close`.
 */
function firmwareHeaderSet(res: ServerResponse): void {
  if (res.shouldKeepAlive) res.removeHeader('Connection');
}

/** A chunk-size line as AMT writes it: at least four upper-case hex digits. */
export function chunkSizeLine(size: number): string {
  return size.toString(16).toUpperCase().padStart(4, '0');
}

function writeSmall(device: SimDevice, res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  const body = htmlPage(`${status}`);
  res.writeHead(status, {
    Date: httpDate(),
    Server: device.serverHeader,
    'Content-Type': 'text/html',
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(body);
}

function unauthorized(device: SimDevice, res: ServerResponse, stale: boolean): void {
  // Header order and fields as in HTTP-401-Digest.http; no Date header there.
  res.sendDate = false;
  res.writeHead(401, 'Unauthorized', {
    'WWW-Authenticate': device.digest.challenge(stale),
    'Content-Type': 'text/html',
    Server: device.serverHeader,
    'Content-Length': String(Buffer.byteLength(UNAUTHORIZED_HTML)),
    Connection: 'close',
  });
  res.end(UNAUTHORIZED_HTML, () => res.socket?.destroySoon());
}

/**
 * Firmware reads the body whatever the headers say: MeshCentral's stack sends no Content-Type at
 * all, Intel's clients send `application/soap+xml` with or without a charset. Only a body
 * declared as something else is refused.
 */
export function acceptedType(header: string | undefined): boolean {
  if (header === undefined || header === SOAP_TYPE) return true;
  if (header.trim() === '') return true;
  const semicolon = header.indexOf(';');
  const media = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return media === 'application/soap+xml' || media === 'application/xml' || media === 'text/xml';
}

/** Broken XML: the answer cut short with a stray tag and an undeclared entity. */
export function garble(xml: string): string {
  return `${xml.slice(0, Math.floor(xml.length * 0.6))}<a:Bo&bogus;dy><g:`;
}

/** An IPv4 peer as its dotted address rather than IPv4-mapped IPv6. */
function plainAddress(address: string | undefined): string | undefined {
  return address !== undefined && address.startsWith('::ffff:') ? address.slice(7) : address;
}

function handle(device: SimDevice, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > device.maxBodyBytes) {
    writeSmall(device, res, 413, { Connection: 'close' });
    req.resume();
    return;
  }
  const parts: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (c: Buffer) => {
    if (tooBig) return;
    size += c.length;
    if (size > device.maxBodyBytes) {
      tooBig = true;
      parts.length = 0;
      writeSmall(device, res, 413, { Connection: 'close' });
      return;
    }
    parts.push(c);
  });
  req.on('end', () => {
    if (tooBig) return;
    const body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (path !== WSMAN_PATH) return writeSmall(device, res, 404);
    if (req.method !== 'POST') return writeSmall(device, res, 405, { Allow: 'POST' });
    const verdict = device.digest.verify(req.method, req.url ?? '', req.headers.authorization, body);
    if (!verdict.ok) return unauthorized(device, res, verdict.stale);
    const fault = device.takeFault();
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') return; // never answered; closed when the device stops
    let answer: SimAnswer;
    if (fault === 'http500') answer = { status: 500, xml: htmlPage('Internal Server Error') };
    else if (!acceptedType(req.headers['content-type'])) answer = { status: 415, xml: htmlPage('Unsupported Media Type') };
    else {
      try {
        answer = dispatch(device, body.toString('utf8'), { user: verdict.user, address: plainAddress(req.socket.remoteAddress) });
      } catch (e) {
        const f = new SimFault(NS.wsman, 'InternalError', `The service cannot comply with the request due to internal processing errors: ${(e as Error).message}`, 'Receiver', 500);
        answer = { status: 500, xml: writeFault('', device.nextMessageId(), f) };
      }
      if (fault === 'garble') answer = { ...answer, status: 200, xml: garble(answer.xml) };
    }
    const send = (): void => {
      if (res.destroyed || res.writableEnded) return;
      const isXml = answer.status !== 500 || answer.xml.startsWith('<?xml');
      writeChunked(device, res, answer.status, answer.xml, isXml && answer.status !== 415 ? SOAP_TYPE : 'text/html');
      device.emit('request', { action: answer.action, resourceUri: answer.resourceUri, status: answer.status });
    };
    if (device.latencyMs > 0) setTimeout(send, device.latencyMs);
    else send();
  });
}

export async function startWsmanServer(device: SimDevice, port: number, host: string): Promise<{ server: Server | HttpsServer; port: number }> {
  const listener = (req: IncomingMessage, res: ServerResponse): void => handle(device, req, res);
  const server: Server | HttpsServer = device.tls ? createHttpsServer({ key: device.tls.key, cert: device.tls.cert, ...tlsServerOptions(device.profile) }, listener) : createHttpServer(listener);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
