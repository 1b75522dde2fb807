/**
 * The AMT event listener against a hostile LAN (loopback stands in for it: 127.0.0.1 is the
 * device, other 127/8 addresses are strangers): idle and half-sent connections are dropped,
 * connections are capped in total and per address, strangers are closed at once, and real
 * pushes still get through while all this goes on.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Alert } from '../../lib/alerts/alert';
import { bindAddressFor, EventListener, newRegistration } from '../../lib/amt/event-listener';
import { generateKeyPair, makeCertificate } from '../../packages/sim/src';

const CAPTURE = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'amt', 'CIM_AlertIndication-Event.xml'), 'utf8');
const fds = () => fs.readdirSync('/proc/self/fd').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a TCP connection from `from`; resolves when connected, with a promise of its close. */
function connect(port: number, from: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

function push(port: number, p: string): Promise<number> {
  return fetch(`http://127.0.0.1:${port}${p}`, { method: 'POST', body: CAPTURE, headers: { 'Content-Type': 'application/soap+xml' } }).then((r) => r.status);
}

describe('AMT event listener on a hostile LAN', () => {
  const alerts: Alert[] = [];
  const device = newRegistration({ name: 'pc-01', host: '127.0.0.1' });
  let listener: EventListener;

  beforeEach(async () => {
    alerts.length = 0;
    listener = new EventListener({ port: 0, address: '127.0.0.1', auth: 'none', idleTimeoutMs: 400, headersTimeoutMs: 600, maxConnections: 32, maxConnectionsPerAddress: 4, onAlert: (a) => alerts.push(a) });
    listener.register(device);
    await listener.start();
  });
  afterEach(() => listener.close());

  it('closes 1,000 connections from a stranger at once; file descriptors stay flat; the device still pushes', async () => {
    const before = fds();
    let peak = 0;
    for (let batch = 0; batch < 10; batch++) {
      const conns = await Promise.all(Array.from({ length: 100 }, () => connect(listener.port, '127.0.0.2').catch(() => undefined)));
      await Promise.all(conns.map((c) => c?.closed));
      peak = Math.max(peak, fds());
    }
    expect(listener.counts.rejected['not-allowed']).toBe(1000);
    expect(listener.connections).toBe(0);
    expect(peak - before).toBeLessThan(250);
    expect(await push(listener.port, device.path)).toBe(200);
    expect(alerts).toHaveLength(1);
  });

  it('caps connections per address and drops the idle ones; the device pushes again once they are gone', async () => {
    const idle = await Promise.all(Array.from({ length: 20 }, () => connect(listener.port, '127.0.0.1')));
    await until(() => listener.counts.rejected['too-many-connections'] >= 16);
    expect(listener.connections).toBeLessThanOrEqual(4);
    await Promise.all(idle.map((c) => c.closed));
    await until(() => listener.connections === 0);
    expect(await push(listener.port, device.path)).toBe(200);
  });

  it('drops a connection that trickles its headers one byte at a time', async () => {
    const { socket, closed } = await connect(listener.port, '127.0.0.1');
    const head = `POST ${device.path} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`;
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < head.length && !socket.destroyed) socket.write(head[sent++]);
    }, 100);
    let done = false;
    void closed.then(() => (done = true));
    try {
      await until(() => done, 15_000);
    } finally {
      clearInterval(drip);
    }
    // Dropped while still sending: the idle timer alone (400 ms, reset by every byte) never fires.
    expect(sent).toBeLessThan(head.length);
  });

  it('caps connections in total when devices are known by name (any address may push)', async () => {
    listener.register(newRegistration({ name: 'pc-by-name', host: 'pc-by-name.lan' }));
    const conns = await Promise.all(Array.from({ length: 60 }, (_, i) => connect(listener.port, `127.0.3.${1 + (i % 30)}`)));
    await until(() => listener.counts.rejected['too-many-connections'] >= 28);
    expect(listener.connections).toBeLessThanOrEqual(32);
    await Promise.all(conns.map((c) => c.closed));
    await until(() => listener.connections === 0);
  });

  it('binds only where the public URL points when that address is ours', () => {
    expect(bindAddressFor('http://192.168.1.5:16990/', ['127.0.0.1', '192.168.1.5'])).toBe('192.168.1.5');
    expect(bindAddressFor('http://203.0.113.9:16990/', ['127.0.0.1', '192.168.1.5'])).toBe('0.0.0.0');
    expect(bindAddressFor('http://gateway.lan:16990/', ['127.0.0.1'])).toBe('0.0.0.0');
    expect(bindAddressFor('http://[::1]:16990/', ['::1'])).toBe('::1');
  });
});

describe('AMT event listener over TLS on a hostile LAN', () => {
  it('drops a connection that never starts its TLS handshake, and one that stops halfway', async () => {
    const tls = makeCertificate({ commonName: 'gateway', serial: 1, keyPair: generateKeyPair() });
    const device = newRegistration({ name: 'pc-01', host: '127.0.0.1' });
    const listener = new EventListener({ port: 0, address: '127.0.0.1', auth: 'none', tls: { key: tls.key, cert: tls.cert }, idleTimeoutMs: 300, headersTimeoutMs: 800, onAlert: () => undefined });
    listener.register(device);
    await listener.start();
    try {
      // Silent: the idle timer ends it.
      const silent = await connect(listener.port, '127.0.0.1');
      // Half a ClientHello, then a byte now and then so the idle timer never fires: the handshake timeout ends it.
      const half = await connect(listener.port, '127.0.0.1');
      const hello = Buffer.from('16030100c8010000c40303', 'hex');
      let sent = 0;
      const drip = setInterval(() => {
        if (!half.socket.destroyed) half.socket.write(sent < hello.length ? hello.subarray(sent, sent + 1) : Buffer.from([0]));
        sent++;
      }, 100);
      try {
        await Promise.all([silent.closed, half.closed]);
      } finally {
        clearInterval(drip);
      }
      expect(sent).toBeLessThan(150);
      await until(() => listener.connections === 0);
    } finally {
      await listener.close();
    }
  });
});
