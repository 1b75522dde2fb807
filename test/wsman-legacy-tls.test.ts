/**
 * Old firmware's TLS: a PC playing AMT 11 (TLS 1.0/1.1 only) refuses our default client, and the
 * error says why and what to turn on; with the device's legacyTls setting the connection works,
 * pinned exactly as otherwise (a wrong pin is still refused). AMT 16.1+ closes port 16992: the
 * simulator refuses to serve it without TLS, and a refused connection there says what to do.
 */
import { openAmt } from '../lib/amt/connect';
import { deviceFromObject } from '../lib/device';
import { SimDevice, startFleet, Fleet } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'P@ssw0rd';
let fleet: Fleet;
let dev: SimDevice;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, tls: true, amtVersion: '11' });
  dev = fleet.devices[0];
});
afterAll(async () => {
  await fleet.stop();
});

function client(legacyTls: boolean, fingerprint = dev.tls?.fingerprint256) {
  const amt = deviceFromObject({ host: '127.0.0.1', port: dev.port, tls: true, username: USER, password: PASSWORD, fingerprint, legacyTls }).amt;
  if (!amt) throw new Error('no AMT endpoint');
  return openAmt({ ...amt, timeoutMs: 5000 });
}

describe('AMT 11 TLS (1.0/1.1 only)', () => {
  it('is refused by default, with the reason and the setting that allows it', async () => {
    const c = client(false);
    try {
      await expect(c.get('AMT_GeneralSettings')).rejects.toThrow(/only TLS 1\.0\/1\.1.*AMT 11 and older.*legacy TLS.*legacyTls/);
    } finally {
      c.close();
    }
  });

  it('connects with legacyTls, certificate pinned', async () => {
    const c = client(true);
    try {
      const gs = await c.get('AMT_GeneralSettings');
      expect(gs.props.DigestRealm).toBe(dev.realm);
    } finally {
      c.close();
    }
  });

  it('still refuses a certificate that is not the pinned one', async () => {
    const c = client(true, 'AB'.repeat(32));
    try {
      await expect(c.get('AMT_GeneralSettings')).rejects.toMatchObject({ code: expect.stringMatching(/PIN/) });
    } finally {
      c.close();
    }
  });
});

describe('AMT 16.1 and later', () => {
  it('a refused plain connection to port 16992 says that newer AMT closes it and TLS is the way', async () => {
    // Nothing listens on 127.0.0.1:16992 in the tests (the demo and CLI tests use other ports).
    const c = openAmt({ host: '127.0.0.1', port: 16992, tls: false, username: USER, password: PASSWORD, timeoutMs: 3000 });
    try {
      await expect(c.get('AMT_GeneralSettings')).rejects.toThrow(/ECONNREFUSED\); Intel AMT 16\.1 and later close port 16992: turn on TLS \(port 16993\)/);
    } finally {
      c.close();
    }
  });

  it('serve WS-Management only over TLS', async () => {
    const plain = new SimDevice({ name: 'g9', uuid: '12345678-1234-4234-8234-123456789abc', mac: '02:00:86:00:00:09', user: USER, password: PASSWORD, amtVersion: '16' });
    await expect(plain.listen(0)).rejects.toThrow(/only over TLS \(port 16992 is closed from AMT 16\.1\)/);
    const f = await startFleet({ devices: 1, port: 0, amtVersion: '16' });
    try {
      expect(f.devices[0].tls).toBeDefined();
      expect(f.devices[0].url).toMatch(/^https:/);
    } finally {
      await f.stop();
    }
  });
});
