/**
 * HTTP Digest, client side, against RFC 7616 (and RFC 2617/2069 where AMT follows them): how a
 * challenge is read (section 3.3 and HTTP's auth-param grammar) and what the Authorization header
 * carries (section 3.4). The expected responses are computed here from the RFC's formulas, and the
 * header is read by a parser written from the RFC's grammar, not by ours.
 */
import { createHash } from 'node:crypto';
import { DigestSession, parseAuthParams, parseDigestChallenge, type DigestChallenge } from '../../lib/wsman/digest';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

/** credentials = "Digest" 1*SP #auth-param; auth-param = token BWS "=" BWS ( token / quoted-string ). */
function readAuthorization(header: string): Record<string, string> {
  const m = /^Digest +(.*)$/s.exec(header);
  if (!m) throw new Error(`not a Digest header: ${header}`);
  const out: Record<string, string> = {};
  let rest = m[1];
  while (rest.length) {
    const p = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))[ \t]*(?:,[ \t]*|$)/.exec(rest);
    if (!p) throw new Error(`bad auth-param at: ${rest}`);
    const key = p[1].toLowerCase();
    if (key in out) throw new Error(`${key} repeated`);
    out[key] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    rest = rest.slice(p[0].length);
  }
  return out;
}

/** Whether the value was sent as a quoted-string (RFC 7616 3.4: username, realm, nonce, uri, response, cnonce, opaque are). */
const quoted = (header: string, key: string) => new RegExp(`(?:^Digest |, )${key}="`).test(header);

const challenge = (over: Partial<DigestChallenge> = {}): DigestChallenge => ({ realm: 'Digest:0123456789ABCDEF0123456789ABCDEF', nonce: 'n0nce', qop: ['auth'], stale: false, algorithm: 'MD5', ...over });

describe('reading a Digest challenge (RFC 7616 3.3)', () => {
  it('reads the RFC 7616 3.9.1 challenge', () => {
    const c = parseDigestChallenge(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    expect(c).toEqual({
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      qop: ['auth', 'auth-int'],
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      stale: false,
      algorithm: 'MD5',
    });
  });

  it('takes the scheme and parameter names case-insensitively', () => {
    const c = parseDigestChallenge('digest Realm="R", NONCE="N", QOP="AUTH", Stale=True, Algorithm=md5-sess, Opaque="O"');
    expect(c).toEqual({ realm: 'R', nonce: 'N', qop: ['auth'], opaque: 'O', stale: true, algorithm: 'MD5-SESS' });
  });

  it('finds the Digest challenge after another scheme in one combined header value', () => {
    // Node joins repeated WWW-Authenticate headers with ", ".
    expect(parseDigestChallenge('Basic realm="basic", Digest realm="digest", nonce="abc"')).toMatchObject({ realm: 'digest', nonce: 'abc' });
    expect(parseDigestChallenge('Basic realm="basic",Digest realm="digest", nonce="abc"')).toMatchObject({ realm: 'digest', nonce: 'abc' });
    expect(parseDigestChallenge('  Digest realm="r", nonce="n"  ')).toMatchObject({ realm: 'r', nonce: 'n' });
    expect(parseDigestChallenge('Digest\trealm="r",\r\n nonce="n"')).toMatchObject({ realm: 'r', nonce: 'n' });
    // "XDigest" is another scheme, and "Digest" without parameters is no challenge.
    expect(parseDigestChallenge('XDigest realm="r", nonce="n"')).toBeUndefined();
    expect(parseDigestChallenge('Digest')).toBeUndefined();
  });

  it('skips a Digest challenge without a nonce and takes the next one', () => {
    expect(parseDigestChallenge(['Digest realm="first"', 'Digest realm="second", nonce="n2"'])).toMatchObject({ realm: 'second', nonce: 'n2' });
    expect(parseDigestChallenge(['Digest realm="only"'])).toBeUndefined();
    expect(parseDigestChallenge([])).toBeUndefined();
    expect(parseDigestChallenge('')).toBeUndefined();
  });

  it('defaults: no realm is empty, no qop is none (RFC 2069), no stale is false, no algorithm is MD5', () => {
    expect(parseDigestChallenge('Digest nonce="n"')).toEqual({ realm: '', nonce: 'n', qop: [], opaque: undefined, stale: false, algorithm: 'MD5' });
    expect(parseDigestChallenge('Digest nonce="n", qop=""')?.qop).toEqual([]);
    expect(parseDigestChallenge('Digest nonce="n", stale=false')?.stale).toBe(false);
    expect(parseDigestChallenge('Digest nonce="n", stale="yes"')?.stale).toBe(false);
  });

  it('reads auth-params: tokens or quoted strings, optional whitespace around "=", commas inside quotes kept', () => {
    expect(parseAuthParams('realm = "a, b" ,nonce=abc,qop=auth')).toEqual({ realm: 'a, b', nonce: 'abc', qop: 'auth' });
    expect(parseAuthParams('A_b-1="x\\\\y"')).toEqual({ 'a_b-1': 'x\\y' });
    expect(parseAuthParams('opaque=""')).toEqual({ opaque: '' });
    expect(parseAuthParams('nonce=abc def=1')).toEqual({ nonce: 'abc', def: '1' });
  });
});

describe('the Authorization header (RFC 7616 3.4)', () => {
  it('answers the RFC 7616 3.9.1 example (MD5) with its published response', () => {
    const s = new DigestSession('Mufasa', 'Circle of Life', () => 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ');
    s.accept(parseDigestChallenge('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"') as DigestChallenge);
    const a = s.authorize('GET', '/dir/index.html', '');
    expect(a?.nc).toBe(1);
    const header = a?.header ?? '';
    expect(readAuthorization(header)).toEqual({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      response: '8ca523f5e9506fed4657c9700eebdbec',
    });
    for (const k of ['username', 'realm', 'nonce', 'uri', 'response', 'cnonce', 'opaque']) expect(quoted(header, k)).toBe(true);
    for (const k of ['qop', 'nc']) expect(quoted(header, k)).toBe(false);
  });

  it('without qop answers as RFC 2069 (its 2.4 example): no qop, nc or cnonce', () => {
    const s = new DigestSession('Mufasa', 'CircleOfLife', () => 'unused');
    s.accept({ realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: [], opaque: '5ccc069c403ebaf9f0171e9517f40e41', stale: false, algorithm: 'MD5' });
    const a = s.authorize('GET', '/dir/index.html', '');
    expect(readAuthorization(a?.header ?? '')).toEqual({
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      response: '1949323746fe6a43ef61f9606e7febea',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
  });

  it('sends no opaque when the challenge had none, and echoes an empty one', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    s.accept(challenge());
    expect(readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '')).not.toHaveProperty('opaque');
    s.accept(challenge({ opaque: '' }));
    expect(readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '').opaque).toBe('');
  });

  it('prefers qop=auth when both are offered, in either order, and hashes the body only for auth-int', () => {
    const body = Buffer.from('<Envelope/>');
    for (const qop of [['auth-int', 'auth'], ['auth', 'auth-int'], ['auth']]) {
      const s = new DigestSession('admin', 'pw', () => 'cn');
      s.accept(challenge({ qop }));
      const h = readAuthorization(s.authorize('POST', '/wsman', body)?.header ?? '');
      expect(h.qop).toBe('auth');
      expect(h.response).toBe(md5(`${md5(`admin:${challenge().realm}:pw`)}:n0nce:00000001:cn:auth:${md5('POST:/wsman')}`));
    }
    const s = new DigestSession('admin', 'pw', () => 'cn');
    s.accept(challenge({ qop: ['auth-int'] }));
    const h = readAuthorization(s.authorize('POST', '/wsman', body)?.header ?? '');
    expect(h.qop).toBe('auth-int');
    expect(h.response).toBe(md5(`${md5(`admin:${challenge().realm}:pw`)}:n0nce:00000001:cn:auth-int:${md5(`POST:/wsman:${md5(body)}`)}`));
    // Another body under the same challenge gets its own hash.
    const h2 = readAuthorization(s.authorize('POST', '/wsman', '<Other/>')?.header ?? '');
    expect(h2.response).toBe(md5(`${md5(`admin:${challenge().realm}:pw`)}:n0nce:00000002:cn:auth-int:${md5(`POST:/wsman:${md5('<Other/>')}`)}`));
  });

  it('ignores qop values it does not know, answering as RFC 2069', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    s.accept(challenge({ qop: ['token'] }));
    const h = readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '');
    expect(h).not.toHaveProperty('qop');
    expect(h.response).toBe(md5(`${md5(`u:${challenge().realm}:p`)}:n0nce:${md5('POST:/wsman')}`));
  });

  it('MD5-sess: HA1 = MD5(MD5(user:realm:password):nonce:cnonce) per request, and says algorithm', () => {
    let n = 0;
    const s = new DigestSession('u', 'p', () => `cn${n++}`);
    s.accept(challenge({ algorithm: 'MD5-SESS' }));
    for (let i = 0; i < 2; i++) {
      const h = readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '');
      const ha1 = md5(`${md5(`u:${challenge().realm}:p`)}:n0nce:cn${i}`);
      expect(h.cnonce).toBe(`cn${i}`);
      expect(h.algorithm.toUpperCase()).toBe('MD5-SESS');
      expect(h.response).toBe(md5(`${ha1}:n0nce:0000000${i + 1}:cn${i}:auth:${md5('POST:/wsman')}`));
    }
    // Plain MD5 is the default and is not named.
    const plain = new DigestSession('u', 'p', () => 'c');
    plain.accept(challenge());
    expect(readAuthorization(plain.authorize('POST', '/wsman', '')?.header ?? '')).not.toHaveProperty('algorithm');
  });

  it('refuses algorithms other than MD5 and MD5-sess and keeps the challenge it had', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    s.accept(challenge());
    for (const algorithm of ['SHA-256', 'SHA-512-256', 'MD5-SESSX', '']) expect(() => s.accept(challenge({ algorithm, nonce: 'other' }))).toThrow(`digest algorithm ${algorithm} is not supported`);
    expect(readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '').nonce).toBe('n0nce');
  });

  it('escapes quotes and backslashes in quoted values', () => {
    const s = new DigestSession('a"b\\c', 'p', () => 'c');
    s.accept(challenge({ realm: 'r"1', nonce: 'n\\2', opaque: 'o"3' }));
    const h = readAuthorization(s.authorize('POST', '/a"b', '')?.header ?? '');
    expect(h).toMatchObject({ username: 'a"b\\c', realm: 'r"1', nonce: 'n\\2', opaque: 'o"3', uri: '/a"b' });
    expect(h.response).toBe(md5(`${md5('a"b\\c:r"1:p')}:n\\2:00000001:c:auth:${md5('POST:/a"b')}`));
  });
});

describe('one session over many requests', () => {
  it('counts nc in 8 lowercase hex digits on one nonce', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    s.accept(challenge());
    const ncs: string[] = [];
    for (let i = 1; i <= 17; i++) {
      const a = s.authorize('POST', '/wsman', '');
      expect(a?.nc).toBe(i);
      const h = readAuthorization(a?.header ?? '');
      ncs.push(h.nc);
      expect(h.response).toBe(md5(`${md5(`u:${challenge().realm}:p`)}:n0nce:${h.nc}:c:auth:${md5('POST:/wsman')}`));
    }
    expect(ncs.slice(8, 17)).toEqual(['00000009', '0000000a', '0000000b', '0000000c', '0000000d', '0000000e', '0000000f', '00000010', '00000011']);
  });

  it('a new challenge restarts nc and uses its own nonce and opaque', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    s.accept(challenge({ opaque: 'o1' }));
    s.authorize('POST', '/wsman', '');
    s.authorize('POST', '/wsman', '');
    s.accept(challenge({ nonce: 'fresh', opaque: 'o2', stale: true }));
    const h = readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '');
    expect(h).toMatchObject({ nonce: 'fresh', opaque: 'o2', nc: '00000001' });
    expect(h.response).toBe(md5(`${md5(`u:${challenge().realm}:p`)}:fresh:00000001:c:auth:${md5('POST:/wsman')}`));
  });

  it('a challenge with another realm changes HA1', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    s.accept(challenge({ realm: 'Digest:AAAA' }));
    s.authorize('POST', '/wsman', '');
    s.accept(challenge({ realm: 'Digest:BBBB' }));
    expect(s.realm).toBe('Digest:BBBB');
    const h = readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '');
    expect(h.realm).toBe('Digest:BBBB');
    expect(h.response).toBe(md5(`${md5('u:Digest:BBBB:p')}:n0nce:00000001:c:auth:${md5('POST:/wsman')}`));
  });

  it('each request names its own method and uri', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    s.accept(challenge());
    const ha1 = md5(`u:${challenge().realm}:p`);
    const calls: Array<[string, string]> = [
      ['POST', '/wsman'],
      ['POST', '/wsman-anon'],
      ['GET', '/wsman-anon'],
      ['POST', '/wsman'],
    ];
    calls.forEach(([method, uri], i) => {
      const h = readAuthorization(s.authorize(method, uri, '')?.header ?? '');
      expect(h.uri).toBe(uri);
      expect(h.response).toBe(md5(`${ha1}:n0nce:0000000${i + 1}:c:auth:${md5(`${method}:${uri}`)}`));
    });
  });

  it('says nothing before a challenge and after forget, and a later challenge starts over', () => {
    const s = new DigestSession('u', 'p', () => 'c');
    expect(s.hasChallenge).toBe(false);
    expect(s.realm).toBeUndefined();
    expect(s.authorize('POST', '/wsman', '')).toBeUndefined();
    s.accept(challenge());
    expect(s.hasChallenge).toBe(true);
    expect(s.realm).toBe(challenge().realm);
    s.authorize('POST', '/wsman', '');
    s.forget();
    expect(s.hasChallenge).toBe(false);
    expect(s.realm).toBeUndefined();
    expect(s.authorize('POST', '/wsman', '')).toBeUndefined();
    s.accept(challenge({ nonce: 'again' }));
    const h = readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '');
    expect(h).toMatchObject({ nonce: 'again', nc: '00000001' });
    expect(h.response).toBe(md5(`${md5(`u:${challenge().realm}:p`)}:again:00000001:c:auth:${md5('POST:/wsman')}`));
  });

  it('makes a new client nonce for every request and every session', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 2; k++) {
      const s = new DigestSession('u', 'p');
      s.accept(challenge());
      for (let i = 0; i < 20; i++) {
        const h = readAuthorization(s.authorize('POST', '/wsman', '')?.header ?? '');
        // RFC 7616 3.4: cnonce is an opaque quoted string; ours carries at least 64 random bits.
        expect(h.cnonce).toMatch(/^[0-9a-f]{24}$/);
        expect(h.response).toBe(md5(`${md5(`u:${challenge().realm}:p`)}:n0nce:${h.nc}:${h.cnonce}:auth:${md5('POST:/wsman')}`));
        seen.add(h.cnonce);
      }
    }
    expect(seen.size).toBe(40);
  });
});
