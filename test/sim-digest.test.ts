/** The simulator's HTTP Digest: AMT's 401, nonce expiry (stale), replayed nc, auth-int. */
import { buildGet } from '../lib/wsman/messages';
import { Fleet, parseDigestHeader, SimDevice, startFleet } from '../packages/sim/src';
import { authorization, parseChallenge, postText, rawExchange, RawReply } from './sim-helpers';

const CREDS = { user: 'admin', password: 'P@ssw0rd' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function challenge(d: SimDevice, body: string): Promise<{ reply: RawReply; ch: Record<string, string> }> {
  const reply = await rawExchange(d.port, postText(d.port, body));
  reply.socket.destroy();
  return { reply, ch: parseChallenge(reply.headers['www-authenticate']) };
}

async function authed(d: SimDevice, body: string, auth: string): Promise<RawReply> {
  const r = await rawExchange(d.port, postText(d.port, body, [`Authorization: ${auth}`]));
  r.socket.destroy();
  return r;
}

describe('Digest on a simulated device', () => {
  let fleet: Fleet;
  let plain: SimDevice;
  let shortNonce: SimDevice;
  let withAuthInt: SimDevice;
  const xml = buildGet('AMT_GeneralSettings').xml;

  beforeAll(async () => {
    fleet = await startFleet({
      devices: 3,
      port: 0,
      configure: (i, o) => (i === 1 ? { ...o, nonceTtlMs: 150 } : i === 2 ? { ...o, authInt: true } : o),
    });
    [plain, shortNonce, withAuthInt] = fleet.devices;
  });

  afterAll(async () => {
    await fleet.stop();
  });

  it('answers 401 like AMT: realm Digest:<32 hex>, no space before stale, Connection: close, HTML, socket closed', async () => {
    const { reply } = await challenge(plain, xml);
    expect(reply.statusLine).toBe('HTTP/1.1 401 Unauthorized');
    expect(reply.headers['www-authenticate']).toMatch(/^Digest realm="Digest:[0-9A-F]{32}", nonce="[A-Za-z0-9+/]{32}",stale="false",qop="auth"$/);
    expect(reply.headerLines.map((l) => l.split(':')[0])).toEqual(['WWW-Authenticate', 'Content-Type', 'Server', 'Content-Length', 'Connection']);
    expect(reply.headers.connection).toBe('close');
    expect(reply.headers['content-type']).toBe('text/html');
    expect(reply.headers.server).toBe('Intel(R) Active Management Technology 15.0.23.1706');
    expect(reply.body.toString()).toContain('<html>');
    expect(await reply.closedByServer()).toBe(true);
    const realm = /realm="([^"]+)"/.exec(reply.headers['www-authenticate'])?.[1];
    expect(realm).toBe(plain.realm);
  });

  it('accepts a correct response and keeps the connection open', async () => {
    const { ch } = await challenge(plain, xml);
    const r = await rawExchange(plain.port, postText(plain.port, xml, [`Authorization: ${authorization(ch, CREDS, 'POST', '/wsman', Buffer.from(xml), 1)}`]));
    expect(r.status).toBe(200);
    expect(await r.closedByServer(200)).toBe(false);
    r.socket.destroy();
  });

  it('answers on a kept connection without Connection or Keep-Alive headers; a client that asks to close gets Connection: close', async () => {
    const { ch } = await challenge(plain, xml);
    const kept = await rawExchange(plain.port, postText(plain.port, xml, [`Authorization: ${authorization(ch, CREDS, 'POST', '/wsman', Buffer.from(xml), 1)}`]));
    expect(kept.status).toBe(200);
    expect(kept.headerLines.map((l) => l.split(':')[0])).toEqual(['Date', 'Server', 'X-Frame-Options', 'Content-Type', 'Transfer-Encoding']);
    expect(await kept.closedByServer(200)).toBe(false);
    kept.socket.destroy();
    const closing = await rawExchange(plain.port, postText(plain.port, xml, [`Authorization: ${authorization(ch, CREDS, 'POST', '/wsman', Buffer.from(xml), 2)}`, 'Connection: close']));
    expect(closing.status).toBe(200);
    expect(closing.headers.connection).toBe('close');
    expect(closing.headerLines.some((l) => /^keep-alive:/i.test(l))).toBe(false);
    expect(await closing.closedByServer()).toBe(true);
  });

  it('refuses a wrong password, another user, a wrong realm or a wrong uri', async () => {
    const { ch } = await challenge(plain, xml);
    const b = Buffer.from(xml);
    expect((await authed(plain, xml, authorization(ch, { ...CREDS, password: 'nope' }, 'POST', '/wsman', b, 1))).status).toBe(401);
    expect((await authed(plain, xml, authorization(ch, { ...CREDS, user: 'other' }, 'POST', '/wsman', b, 2))).status).toBe(401);
    expect((await authed(plain, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 3, 'Digest:00000000000000000000000000000000'))).status).toBe(401);
    expect((await authed(plain, xml, authorization(ch, CREDS, 'POST', '/other', b, 4))).status).toBe(401);
    // The nonce is still good with the right answer.
    expect((await authed(plain, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 5))).status).toBe(200);
  });

  it('accepts a growing nc on one nonce and rejects a replayed one', async () => {
    const { ch } = await challenge(plain, xml);
    const b = Buffer.from(xml);
    expect((await authed(plain, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 1))).status).toBe(200);
    expect((await authed(plain, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 2))).status).toBe(200);
    const replay = await authed(plain, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 2));
    expect(replay.status).toBe(401);
    expect(replay.headers['www-authenticate']).toContain('stale="false"');
    expect((await authed(plain, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 1))).status).toBe(401);
    expect((await authed(plain, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 3))).status).toBe(200);
  });

  it('an expired nonce gets 401 with stale="true" and a new nonce that works', async () => {
    const { ch } = await challenge(shortNonce, xml);
    const b = Buffer.from(xml);
    expect((await authed(shortNonce, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 1))).status).toBe(200);
    await sleep(250);
    const stale = await authed(shortNonce, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 2));
    expect(stale.status).toBe(401);
    expect(stale.headers['www-authenticate']).toContain(',stale="true",');
    const fresh = parseChallenge(stale.headers['www-authenticate']);
    expect(fresh.nonce).not.toBe(ch.nonce);
    expect((await authed(shortNonce, xml, authorization(fresh, CREDS, 'POST', '/wsman', b, 1))).status).toBe(200);
    // A wrong password with an expired nonce is not "stale": the password is wrong.
    await sleep(250);
    const wrong = await authed(shortNonce, xml, authorization(fresh, { ...CREDS, password: 'x' }, 'POST', '/wsman', b, 2));
    expect(wrong.headers['www-authenticate']).toContain('stale="false"');
  });

  it('newer firmware offers qop="auth-int, auth" and checks the body hash', async () => {
    const { reply, ch } = await challenge(withAuthInt, xml);
    expect(reply.headers['www-authenticate']).toMatch(/,stale="false",qop="auth-int, auth"$/);
    const b = Buffer.from(xml);
    const intCreds = { ...CREDS, qop: 'auth-int' as const };
    expect((await authed(withAuthInt, xml, authorization(ch, intCreds, 'POST', '/wsman', b, 1))).status).toBe(200);
    // Hash of another body: refused.
    expect((await authed(withAuthInt, xml, authorization(ch, intCreds, 'POST', '/wsman', Buffer.from('<other/>'), 2))).status).toBe(401);
    // qop=auth is still fine there.
    expect((await authed(withAuthInt, xml, authorization(ch, CREDS, 'POST', '/wsman', b, 3))).status).toBe(200);
    // auth-int is refused where it was not offered.
    const p = await challenge(plain, xml);
    expect((await authed(plain, xml, authorization(p.ch, intCreds, 'POST', '/wsman', b, 1))).status).toBe(401);
  });

  it('parses Digest headers with quoted commas and odd spacing', () => {
    expect(parseDigestHeader('Digest username="a,b", realm="r" ,nonce=abc,qop=auth ,nc=00000001')).toEqual({
      username: 'a,b',
      realm: 'r',
      nonce: 'abc',
      qop: 'auth',
      nc: '00000001',
    });
    expect(parseDigestHeader('Basic abc')).toBeUndefined();
    expect(parseDigestHeader('Digest username="unterminated')).toBeUndefined();
  });

  it('reads quoted-pairs, tabs and a trailing comma; refuses a header that does not follow the grammar', () => {
    expect(parseDigestHeader('\tdigest\tUserName = "ad\\"min\\\\" ,\tURI="/wsman",  ')).toEqual({ username: 'ad"min\\', uri: '/wsman' });
    expect(parseDigestHeader('DIGEST realm="", nc=,qop=auth')).toEqual({ realm: '', nc: '', qop: 'auth' });
    for (const bad of ['Digest', 'Digest realm', 'Digest realm="a" nonce="b"', 'Digest realm="a\\\nb"', 'Digest ,realm=a', 'Digest realm=a,,nonce=b', 'Digest re alm=a', 'Digest realm=a"b', 'Digest realm="a"b']) {
      expect(parseDigestHeader(bad)).toBeUndefined();
    }
  });
});
