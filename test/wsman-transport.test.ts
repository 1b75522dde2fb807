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
      await expect(t.post('/wsman', {}, '<q/>', 5000, 'x\r\nX-Injected: 1')).rejects.toThrow(ConnectionError);
      await expect(t.post('/wsman', {}, '<q/>', 5000, 'x\u0000')).rejects.toThrow(ConnectionError);
      await expect(t.post('/wsman\r\n', {}, '<q/>', 5000)).rejects.toThrow(ConnectionError);
      expect(server.connections).toBe(0);
    } finally {
      t.close();
      await server.close();
    }
  });

  it('sends a header value outside ASCII as its latin1 byte, and the body as UTF-8', async () => {
    const server = await rawServer(() => ok('<a/>'));
    const t = transport(server.port);
    try {
      await t.post('/wsman', { 'X-Name': 'caf\u00e9' }, '<x>caf\u00e9</x>', 5000);
      const raw = Buffer.from(server.received[0], 'latin1');
      const head = raw.subarray(0, raw.indexOf('\r\n\r\n') + 4);
      expect(head.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]))).toBe(true);
      expect(raw.subarray(head.length).toString('utf8')).toBe('<x>caf\u00e9</x>');
      expect(head.toString('latin1')).toContain(`Content-Length: ${Buffer.byteLength('<x>caf\u00e9</x>')}\r\n`);
    } finally {
      t.close();
      await server.close();
    }
  });

  it('times out a request on a kept-alive socket that gets no answer, and sends the next on a fresh socket', async () => {
    const server = await rawServer((n) => (n === 1 ? undefined : ok(`<r${n}/>`)));
    const t = transport(server.port);
    try {
      expect((await t.post('/wsman', {}, '<q/>', 300)).body).toBe('<r0/>');
      const t0 = Date.now();
      await expect(t.post('/wsman', {}, '<q/>', 300)).rejects.toThrow(/did not answer within 300 ms/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect((await t.post('/wsman', {}, '<q/>', 300)).body).toBe('<r2/>');
      expect(server.connections).toBe(2);
    } finally {
      t.close();
      await server.close();
    }
  });

  it('gives each request on a kept-alive socket its own whole timeout, not what is left of an earlier one', async () => {
    // The second answer comes 400 ms after the request: past the first request's 300 ms deadline
    // counted from the first request, within the second request's own 1,000 ms.
    const server = await rawServer((n, socket) => {
      if (n === 0) return ok('<first/>');
      setTimeout(() => socket.write(ok(`<r${n}/>`)), 400);
      return undefined;
    });
    const t = transport(server.port);
    try {
      expect((await t.post('/wsman', {}, '<q/>', 300)).body).toBe('<first/>');
      expect((await t.post('/wsman', {}, '<q/>', 1000)).body).toBe('<r1/>');
      // The same timeout as the request before: the socket's deadline starts again from this request.
      await new Promise((r) => setTimeout(r, 200));
      expect((await t.post('/wsman', {}, '<q/>', 1000)).body).toBe('<r2/>');
      expect(server.connections).toBe(1);
    } finally {
      t.close();
      await server.close();
    }
  });

  it('does not let a kept-alive socket carry an earlier deadline into a request that waited for it', async () => {
    // maxSockets 1: the second request waits for the socket the first one holds. The first request
    // was sent on a kept-alive socket with a 300 ms deadline; the second (timeout 2,000 ms) is
    // answered 500 ms after the first started.
    const server = await rawServer((n, socket) => {
      if (n === 0) return ok('<warm-up/>');
      setTimeout(() => socket.write(ok(`<r${n}/>`)), n === 1 ? 100 : 400);
      return undefined;
    });
    const t = transport(server.port);
    try {
      await t.post('/wsman', {}, '<q/>', 300);
      const first = t.post('/wsman', {}, '<q/>', 300);
      const second = t.post('/wsman', {}, '<q/>', 2000);
      expect((await first).body).toBe('<r1/>');
      expect((await second).body).toBe('<r2/>');
      expect(server.connections).toBe(1);
    } finally {
      t.close();
      await server.close();
    }
  });

  it("keeps each device's reply whole when the replies of many devices arrive interleaved, piece by piece, round after round", async () => {
    // The answers wait until every device has its request, then go out a piece of each device at a
    // time: every reply is in progress at once, and their bodies share what the transports lend
    // them. Half the devices keep their sockets; the other half join after the first round, on new
    // sockets each round.
    const devices = 12;
    const bodyOf = (d: number, round: number) => `<r d="${d}" n="${round}">${String.fromCharCode(97 + d).repeat(3000 + (devices - d) * 700)}</r>`;
    let pending: Array<{ socket: net.Socket; whole: Buffer }> = [];
    let expected = 0;
    const sendInterleaved = async () => {
      const answers = pending;
      pending = [];
      const cuts = [0, 40, 900, 2100, 5000, Infinity];
      for (let i = 1; i < cuts.length; i++) {
        for (const a of answers) a.socket.write(a.whole.subarray(cuts[i - 1], cuts[i]));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const servers = await Promise.all(
      Array.from({ length: devices }, (_, d) =>
        rawServer((n, socket) => {
          pending.push({ socket, whole: Buffer.from(ok(bodyOf(d, n))) });
          if (pending.length === expected) void sendInterleaved();
          return undefined;
        }),
      ),
    );
    const kept = servers.slice(0, devices / 2).map((x) => transport(x.port));
    try {
      for (let round = 0; round < 3; round++) {
        const fresh = round === 0 ? [] : servers.slice(devices / 2).map((x) => transport(x.port));
        expected = kept.length + fresh.length;
        const bodies = await Promise.all([...kept, ...fresh].map((t) => t.post('/wsman', {}, '<x/>', 5000).then((r) => r.body)));
        fresh.forEach((t) => t.close());
        expect(bodies).toEqual(servers.slice(0, expected).map((_, d) => bodyOf(d, d < devices / 2 ? round : round - 1)));
      }
    } finally {
      kept.forEach((t) => t.close());
      await Promise.all(servers.map((x) => x.close()));
    }
  });

  it('does not lend a body buffer still in use: a reply in progress keeps its text while another socket reads a whole reply', async () => {
    // Held answers, sent piece by piece by the test itself.
    const held: net.Socket[] = [];
    const server = await rawServer((_n, socket) => {
      held.push(socket);
      return undefined;
    });
    const kept = new HttpTransport({ host: '127.0.0.1', port: server.port, tls: false, maxSockets: 1, maxResponseBytes: 1 << 20 });
    const other = new HttpTransport({ host: '127.0.0.1', port: server.port, tls: false, maxSockets: 1, maxResponseBytes: 1 << 20 });
    const settle = () => new Promise((r) => setTimeout(r, 30));
    // The server's socket of the next request, once that request has arrived (5 s at most).
    const nextHeld = async (): Promise<net.Socket> => {
      for (let i = 0; i < 500 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const socket = held.shift();
      if (!socket) throw new Error('the request did not reach the server in 5 s');
      return socket;
    };
    const answer = (letter: string) => Buffer.from(ok(`<r>${letter.repeat(3000)}</r>`));
    try {
      // A first reply on the kept socket: its body buffer goes back to be lent again.
      const first = kept.post('/wsman', {}, '<x/>', 5000);
      (await nextHeld()).write(answer('a'));
      expect((await first).body).toBe(`<r>${'a'.repeat(3000)}</r>`);
      // The kept socket's next reply is half read when another socket reads a whole reply.
      const second = kept.post('/wsman', {}, '<x/>', 5000);
      const keptSocket = await nextHeld();
      const b = answer('b');
      keptSocket.write(b.subarray(0, 1500));
      await settle();
      const third = other.post('/wsman', {}, '<x/>', 5000);
      (await nextHeld()).write(answer('c'));
      expect((await third).body).toBe(`<r>${'c'.repeat(3000)}</r>`);
      keptSocket.write(b.subarray(1500));
      expect((await second).body).toBe(`<r>${'b'.repeat(3000)}</r>`);
    } finally {
      kept.close();
      other.close();
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
