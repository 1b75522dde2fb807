import * as net from 'node:net';
import { openRedirection } from './connection';

describe('StartRedirectionSession refused', () => {
  it('reports a 4-byte refusal at once, while the device keeps the connection open', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.once('data', () => s.write(Buffer.from([0x11, 0x01, 0x00, 0x00])));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      // A handshake limit far beyond the test's own: only an answer at once passes.
      const opening = openRedirection({ host: '127.0.0.1', port, username: 'admin', password: 'x', timeoutMs: 60_000 });
      await expect(opening).rejects.toMatchObject({ code: 'DEVICE_REFUSED', message: expect.stringMatching(/refused a IDER redirection session \(status 1\)/) });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
