/**
 * The HTTP transport against small raw servers that behave as devices do at their edges: kept-alive
 * sockets closed while idle, oversized and malformed answers, a close() while a request waits.
 */
import * as net from 'node:net';
import { ConnectionError, HttpStatusError } from '../lib/errors';
import { HttpTransport } from '../lib/wsman/transport';

interface RawServer {
  port: number;
  connections: number;
  /** Every request head and body as received, per connection. */
  received: string[];
  close(): Promise<void>;
}

/** A server answering each request (read up to its Content-Length) with what `answer` returns. */
async function rawServer(answer: (n: number, socket: net.Socket) => string | undefined): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  let served = 0;
  const s: RawServer = { port: 0, connections: 0, received: [], close: async () => undefined };
  const server = net.createServer((socket) => {
    s.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        s.received.push(buf.slice(0, end + 4 + length));
        buf = buf.slice(end + 4 + length);
        const out = answer(served++, socket);
        if (out !== undefined) socket.write(out);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  s.port = (server.address() as net.AddressInfo).port;
  s.close = () =>
    new Promise<void>((r) => {
      for (const x of sockets) x.destroy();
      server.close(() => r());
    });
  return s;
}

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function transport(port: number, maxResponseBytes = 1 << 20): HttpTransport {
  return new HttpTransport({ host: '127.0.0.1', port, tls: false, maxSockets: 1, maxResponseBytes });
}

describe('HTTP transport', () => {
  it('sends head and body as one request with the length of the UTF-8 body, and reuses the socket', async () => {
    const server = await rawServer(() => ok('<a/>'));
    const t = transport(server.port);
    try {
      const body = '<x>Grüße</x>';
      const r1 = await t.post('/wsman', { 'Content-Type': 'application/soap+xml; charset=UTF-8', Authorization: 'Digest a="b"' }, body, 5000);
      const r2 = await t.post('/wsman', {}, body, 5000);
      expect([r1.status, r1.body, r2.body]).toEqual([200, '<a/>', '<a/>']);
      expect(server.connections).toBe(1);
      const first = Buffer.from(server.received[0], 'latin1').toString('utf8');
      expect(first).toBe(
        `POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/soap+xml; charset=UTF-8\r\nAuthorization: Digest a="b"\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    } finally {
      t.close();
      await server.close();
    }
  });

  it('sends each request whole on a kept-alive socket however long or short the one before it was', async () => {
    const server = await rawServer(() => ok('<a/>'));
    const t = transport(server.port);
    try {
      const bodies = ['<long>' + 'ü'.repeat(3000) + '</long>', '<s/>', '<m>' + 'x'.repeat(900) + '</m>', '<t/>', '<big>' + 'y'.repeat(40000) + '</big>', '<u>ä</u>'];
      for (const b of bodies) await t.post('/wsman', { Authorization: `Digest n="${b.length}"` }, b, 5000);
      expect(server.connections).toBe(1);
      expect(server.received.map((r) => Buffer.from(r, 'latin1').toString('utf8'))).toEqual(
        bodies.map((b) => `POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Digest n="${b.length}"\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`),
      );
    } finally {
      t.close();
      await server.close();
    }
  });

  it('sends the request again on a new socket when the device closed the kept-alive one while idle', async () => {
    const server = await rawServer((n, socket) => {
      if (n === 0) {
        socket.end(ok('<first/>'));
        return undefined;
      }
      return ok('<second/>');
    });
    const t = transport(server.port);
    try {
      expect((await t.post('/wsman', {}, '<q/>', 5000)).body).toBe('<first/>');
      await new Promise((r) => setTimeout(r, 50));
      expect((await t.post('/wsman', {}, '<q/>', 5000)).body).toBe('<second/>');
      expect(server.connections).toBe(2);
    } finally {
      t.close();
      await server.close();
    }
  });

  it('refuses an answer over the size cap or malformed, and serves the next request on a fresh socket', async () => {
    const server = await rawServer((n) => (n === 0 ? ok('x'.repeat(2000)) : n === 1 ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n' : ok('<fine/>')));
    const t = transport(server.port, 1000);
    try {
      await expect(t.post('/wsman', {}, '<q/>', 5000)).rejects.toThrow(HttpStatusError);
      await expect(t.post('/wsman', {}, '<q/>', 5000)).rejects.toThrow(/malformed HTTP reply/);
      expect((await t.post('/wsman', {}, '<q/>', 5000)).body).toBe('<fine/>');
      expect(server.connections).toBe(3);
    } finally {
      t.close();
      await server.close();
    }
  });

  it('refuses header values that would break the request framing, before connecting', async () => {
    const server = await rawServer(() => ok('<a/>'));
    const t = transport(server.port);
    try {
      await expect(t.post('/wsman', { Authorization: 'x\r\nX-Injected: 1' }, '<q/>', 5000)).rejects.toThrow(ConnectionError);
      await expect(t.post('/wsman\r\n', {}, '<q/>', 5000)).rejects.toThrow(ConnectionError);
      expect(server.connections).toBe(0);
    } finally {
      t.close();
      await server.close();
    }
  });

  it('fails requests in flight and waiting with a clear error on close()', async () => {
    const server = await rawServer(() => undefined); // never answers
    const t = transport(server.port);
    try {
      const inFlight = t.post('/wsman', {}, '<q/>', 5000);
      const waiting = t.post('/wsman', {}, '<q/>', 5000);
      await new Promise((r) => setTimeout(r, 100));
      t.close();
      await expect(inFlight).rejects.toThrow(/closed/);
      await expect(waiting).rejects.toThrow(/closed/);
      await expect(t.post('/wsman', {}, '<q/>', 5000)).rejects.toThrow(/closed/);
    } finally {
      await server.close();
    }
  });
});
