import { createHash } from 'node:crypto';
import { DigestSession, parseAuthParams, parseDigestChallenge } from './digest';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('Digest challenge parsing', () => {
  it('reads the AMT 401 header (no space before stale)', () => {
    const c = parseDigestChallenge('Digest realm="Digest:34BF4B5A0561F95248F58509A406E046", nonce="bQali2IAAAAAAAAAn0xaWCOcxNsRcEHX",stale="false",qop="auth"');
    expect(c).toEqual({ realm: 'Digest:34BF4B5A0561F95248F58509A406E046', nonce: 'bQali2IAAAAAAAAAn0xaWCOcxNsRcEHX', qop: ['auth'], opaque: undefined, stale: false, algorithm: 'MD5' });
  });

  it.each([
    ['qop="auth-int, auth"', ['auth-int', 'auth']],
    ['qop="auth,auth-int"', ['auth', 'auth-int']],
    ['qop="auth auth-int"', ['auth', 'auth-int']],
    ['qop=auth', ['auth']],
  ])('reads %s in either order and separator', (qop, expected) => {
    expect(parseDigestChallenge(`Digest realm="r", nonce="n", ${qop}, stale=TRUE`)).toMatchObject({ qop: expected, stale: true });
  });

  it('picks Digest among several WWW-Authenticate values', () => {
    expect(parseDigestChallenge(['Basic realm="x"', 'Digest realm="y", nonce="z"'])?.realm).toBe('y');
    expect(parseDigestChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseDigestChallenge(undefined)).toBeUndefined();
  });

  it('unescapes quoted-pair characters', () => {
    expect(parseAuthParams('realm="a\\"b", nonce=abc')).toEqual({ realm: 'a"b', nonce: 'abc' });
  });
});

describe('Digest responses', () => {
  it('matches the RFC 2617 section 3.5 example', () => {
    const s = new DigestSession('Mufasa', 'Circle Of Life', () => '0a4f113b');
    s.accept({ realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: ['auth', 'auth-int'], opaque: '5ccc069c403ebaf9f0171e9517f40e41', stale: false, algorithm: 'MD5' });
    const a = s.authorize('GET', '/dir/index.html', '');
    expect(a?.header).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(a?.header).toContain('nc=00000001');
    expect(a?.header).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('increments nc on a reused nonce and restarts it on a new challenge', () => {
    const s = new DigestSession('admin', 'P@ssw0rd', () => 'c');
    s.accept({ realm: 'Digest:AA', nonce: 'n1', qop: ['auth'], stale: false, algorithm: 'MD5' });
    expect(s.authorize('POST', '/wsman', 'x')?.nc).toBe(1);
    expect(s.authorize('POST', '/wsman', 'x')?.header).toContain('nc=00000002');
    s.accept({ realm: 'Digest:AA', nonce: 'n2', qop: ['auth'], stale: true, algorithm: 'MD5' });
    expect(s.authorize('POST', '/wsman', 'x')?.header).toContain('nc=00000001');
  });

  it('hashes the body when only auth-int is offered', () => {
    const s = new DigestSession('u', 'p', () => 'cn');
    s.accept({ realm: 'r', nonce: 'n', qop: ['auth-int'], stale: false, algorithm: 'MD5' });
    const header = s.authorize('POST', '/wsman', '<body/>')?.header ?? '';
    const ha1 = md5('u:r:p');
    const ha2 = md5(`POST:/wsman:${md5('<body/>')}`);
    expect(header).toContain(`response="${md5(`${ha1}:n:00000001:cn:auth-int:${ha2}`)}"`);
    expect(header).toContain('qop=auth-int');
  });

  it('says nothing before a challenge and refuses unknown algorithms', () => {
    const s = new DigestSession('u', 'p');
    expect(s.authorize('POST', '/wsman', '')).toBeUndefined();
    expect(() => s.accept({ realm: 'r', nonce: 'n', qop: [], stale: false, algorithm: 'SHA-512-256' })).toThrow(/not supported/);
  });
});
