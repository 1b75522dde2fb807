/**
 * A device that accepts TCP and then never finishes the TLS handshake (or never answers HTTP),
 * polled 1,000 times: every poll fails with a timeout and leaves no socket behind, whether the
 * client lives on or is closed after each poll. File descriptors are counted in /proc/self/fd.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { TimeoutError } from '../../lib/errors';
import { WsmanClient } from '../../lib/wsman/client';
import { connectPinned } from '../../lib/wsman/tls-pin';

const fds = () => fs.readdirSync('/proc/self/fd').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PIN = 'AB'.repeat(32);

describe('polling a stalled device', () => {
  let server: net.Server;
  let port = 0;
  const open = new Set<net.Socket>();

  beforeAll(async () => {
    server = net.createServer((s) => {
      // Reads and discards (the ClientHello or the request) and never answers.
      open.add(s);
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => open.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function settle(baseline: number): Promise<number> {
    for (let i = 0; i < 200 && (open.size > 0 || fds() > baseline); i++) await sleep(25);
    return fds();
  }

  function client(tls: boolean, timeoutMs: number): WsmanClient {
    return new WsmanClient({ host: '127.0.0.1', port, tls, pin: { fingerprint: PIN }, username: 'admin', password: 'P@ssw0rd', timeoutMs });
  }

  it('1,000 polls leave no file descriptor behind', async () => {
    jest.setTimeout(120_000);
    const baseline = fds();
    let timeouts = 0;
    const poll = (c: WsmanClient) =>
      c.get('AMT_GeneralSettings').then(
        () => undefined,
        (e) => {
          if (e instanceof TimeoutError) timeouts++;
          else throw e;
        },
      );
    // 700 polls over TLS by clients that are closed after each poll, 50 at a time.
    for (let b = 0; b < 14; b++) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const c = client(true, 150);
          await poll(c);
          c.close();
        }),
      );
    }
    // 200 polls over TLS by one client that lives on, 100 over plain HTTP.
    const tlsClient = client(true, 60);
    for (let i = 0; i < 200; i++) await poll(tlsClient);
    const plain = client(false, 60);
    for (let i = 0; i < 100; i++) await poll(plain);
    expect(timeouts).toBe(1000);
    tlsClient.close();
    plain.close();
    const after = await settle(baseline);
    expect(open.size).toBe(0);
    expect(after - baseline).toBeLessThanOrEqual(2);
  }, 120_000);

  it('a TLS connect that never completes its handshake is destroyed at its timeout', async () => {
    const baseline = fds();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => connectPinned({ host: '127.0.0.1', port, fingerprint: PIN, timeoutMs: 100 })));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof TimeoutError)).toBe(true);
    const after = await settle(baseline);
    expect(open.size).toBe(0);
    expect(after - baseline).toBeLessThanOrEqual(2);
  });
});
