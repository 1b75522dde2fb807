import * as net from 'node:net';
import * as tls from 'node:tls';
import { generateKeyPair, makeCertificate } from '../packages/sim/src/cert';
import { connectPinned, fetchFingerprint, normalizeFingerprint } from '../lib/wsman/tls-pin';

const keyPair = generateKeyPair();
const mine = makeCertificate({ commonName: 'device', serial: 1, keyPair });
const other = makeCertificate({ commonName: 'impostor', serial: 2, keyPair });

/** A TLS server that records whatever its clients write. */
async function server(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const s = tls.createServer({ key: mine.key, cert: mine.cert }, (c) => {
    c.on('data', (d) => (bytes += d.length));
    c.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as net.AddressInfo).port, received: () => bytes, close: () => new Promise((r) => s.close(() => r())) };
}

describe('pinned TLS', () => {
  it('accepts exactly the pinned certificate, in any fingerprint spelling', async () => {
    const s = await server();
    try {
      const spelled = mine.fingerprint256.replace(/:/g, '').toLowerCase();
      const { socket, fingerprint, learned } = await connectPinned({ host: '127.0.0.1', port: s.port, fingerprint: spelled });
      expect(fingerprint).toBe(mine.fingerprint256);
      expect(learned).toBe(false);
      socket.destroy();
    } finally {
      await s.close();
    }
  });

  it('refuses another certificate or an unpinned one, and writes nothing to that server', async () => {
    const s = await server();
    try {
      await expect(connectPinned({ host: '127.0.0.1', port: s.port, fingerprint: other.fingerprint256 })).rejects.toMatchObject({ code: 'TLS_PIN_MISMATCH', expected: other.fingerprint256, actual: mine.fingerprint256 });
      await expect(connectPinned({ host: '127.0.0.1', port: s.port })).rejects.toMatchObject({ code: 'TLS_UNPINNED', actual: mine.fingerprint256 });
      await new Promise((r) => setTimeout(r, 50));
      expect(s.received()).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('learns the certificate on first use only when allowed', async () => {
    const s = await server();
    try {
      const { socket, fingerprint, learned } = await connectPinned({ host: '127.0.0.1', port: s.port, trustOnFirstUse: true });
      expect({ fingerprint, learned }).toEqual({ fingerprint: mine.fingerprint256, learned: true });
      socket.destroy();
      expect(await fetchFingerprint('127.0.0.1', s.port, 2000)).toBe(mine.fingerprint256);
    } finally {
      await s.close();
    }
  });

  it('says when nobody listens or the handshake never comes', async () => {
    // Accepts and reads, never answers the TLS hello.
    const silent = net.createServer((c) => c.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      await expect(connectPinned({ host: '127.0.0.1', port, fingerprint: mine.fingerprint256, timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      await new Promise((r) => silent.close(r));
    }
    await expect(connectPinned({ host: '127.0.0.1', port, fingerprint: mine.fingerprint256 })).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(() => normalizeFingerprint('zz')).toThrow(/not a SHA-256 fingerprint/);
  });
});
