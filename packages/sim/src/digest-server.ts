/**
 * HTTP Digest (RFC 2617 with MD5, RFC 7616's header grammar) as a simulated AMT device does it,
 * written for the simulator alone so the client's Digest code is tested against another
 * implementation:
 *  - the device side: a challenge shaped like the firmware's (test/fixtures/amt/http/
 *    HTTP-401-Digest.http: `Digest realm="Digest:<32 hex>", nonce="<32 chars>",stale="false",qop="auth"`,
 *    no space before stale; newer firmware offers qop="auth-int, auth"), and the check of an
 *    Authorization header: user, realm, URI, qop, a nonce it issued and still remembers, a nonce
 *    count that only grows, then the response. A right answer on an expired nonce gets stale="true".
 *  - the pushing side: the Authorization header an event push sends after the subscriber's 401.
 *  - the 401 page AMT sends.
 */
import { createHash, hash, randomBytes } from 'node:crypto';

export interface DigestOptions {
  realm: string;
  user: string;
  password: string;
  /** Offer qop="auth-int, auth" like newer firmware (default qop="auth"). */
  authInt?: boolean;
  /** How long a nonce is good for; default 5 minutes. */
  nonceTtlMs?: number;
  /** How many nonces are remembered (the oldest is forgotten first); default 32. */
  maxNonces?: number;
}

export type DigestVerdict = { ok: true; user: string } | { ok: false; stale: boolean; reason: string };

/** One-shot hashing where Node has it (20.12 and later): no Hash object per call. */
export const md5: (data: string | Buffer) => string =
  typeof hash === 'function' ? (data) => hash('md5', data, 'hex') : (data) => createHash('md5').update(data).digest('hex');

/** JavaScript's `\s`: the characters a header's white space may be made of here. */
function isSpace(c: number): boolean {
  if (c === 32 || (c >= 9 && c <= 13)) return true;
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** `[\w-]`: a parameter name's characters. */
function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
}

/** A line terminator, which a quoted-pair may not escape. */
function isLineEnd(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

/**
 * The parameters of a `Digest` header (challenge or credentials), names lower-cased; undefined for
 * another scheme or a header that does not parse. Quoted values may hold commas and escapes. Read
 * by hand, once per request: `name = "quoted" | token`, white space around both and around the
 * commas between parameters.
 */
export function parseDigestHeader(header: string | undefined): Record<string, string> | undefined {
  if (header === undefined) return undefined;
  const scheme = /^\s*digest\s+/i.exec(header);
  if (!scheme) return undefined;
  const params: Record<string, string> = {};
  const n = header.length;
  let i = scheme[0].length;
  for (;;) {
    while (i < n && isSpace(header.charCodeAt(i))) i++;
    if (i === n) break;
    const nameFrom = i;
    while (i < n && isNameChar(header.charCodeAt(i))) i++;
    if (i === nameFrom) return undefined;
    const name = header.slice(nameFrom, i);
    while (i < n && isSpace(header.charCodeAt(i))) i++;
    if (header.charCodeAt(i) !== 61) return undefined; // =
    i++;
    while (i < n && isSpace(header.charCodeAt(i))) i++;
    let value: string;
    if (header.charCodeAt(i) === 34) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        if (j >= n) return undefined;
        const c = header.charCodeAt(j);
        if (c === 34) break;
        if (c === 92) {
          if (j + 1 >= n || isLineEnd(header.charCodeAt(j + 1))) return undefined;
          escaped = true;
          j += 2;
        } else j++;
      }
      value = escaped ? header.slice(i + 1, j).replace(/\\(.)/g, '$1') : header.slice(i + 1, j);
      i = j + 1;
    } else {
      const from = i;
      for (; i < n; i++) {
        const c = header.charCodeAt(i);
        if (c === 44 || c === 34 || isSpace(c)) break;
      }
      value = header.slice(from, i);
    }
    while (i < n && isSpace(header.charCodeAt(i))) i++;
    if (i < n) {
      if (header.charCodeAt(i) !== 44) return undefined; // ,
      i++;
    }
    params[name.toLowerCase()] = value;
  }
  return params;
}

interface IssuedNonce {
  issuedAt: number;
  highestCount: number;
}

export class DigestAuthenticator {
  readonly realm: string;
  /** User name -> HA1 = MD5(user:realm:password) in hex, what AMT stores per account. */
  private readonly ha1ByUser = new Map<string, string>();
  private readonly offersAuthInt: boolean;
  private readonly nonceTtlMs: number;
  private readonly maxNonces: number;
  private readonly issued = new Map<string, IssuedNonce>();
  /** The clock (tests replace it). */
  now: () => number = Date.now;

  constructor(o: DigestOptions) {
    this.realm = o.realm;
    this.offersAuthInt = o.authInt === true;
    this.nonceTtlMs = o.nonceTtlMs ?? 300_000;
    this.maxNonces = o.maxNonces ?? 32;
    this.setAccount(o.user, md5(`${o.user}:${o.realm}:${o.password}`));
  }

  /** Adds or replaces an account given its HA1 in hex. */
  setAccount(user: string, ha1: string): void {
    this.ha1ByUser.set(user, ha1.toLowerCase());
  }

  removeAccount(user: string): void {
    this.ha1ByUser.delete(user);
  }

  /** A WWW-Authenticate value with a nonce of 32 base64 characters, as AMT's. */
  challenge(stale = false): string {
    if (this.issued.size >= this.maxNonces) this.issued.delete(this.issued.keys().next().value as string);
    const nonce = randomBytes(24).toString('base64');
    this.issued.set(nonce, { issuedAt: this.now(), highestCount: 0 });
    return `Digest realm="${this.realm}", nonce="${nonce}",stale="${String(stale)}",qop="${this.offersAuthInt ? 'auth-int, auth' : 'auth'}"`;
  }

  /** MD5(method:uri) of the last request without a body hash: every warm call repeats it. */
  private lastA2 = '';
  private lastHa2 = '';

  private ha2(method: string, uri: string): string {
    const a2 = `${method}:${uri}`;
    if (a2 !== this.lastA2) {
      this.lastA2 = a2;
      this.lastHa2 = md5(a2);
    }
    return this.lastHa2;
  }

  /** Checks the Authorization header of `method uri` (the body counts for qop=auth-int). */
  verify(method: string, uri: string, authorization: string | undefined, body: Buffer): DigestVerdict {
    const refuse = (reason: string, stale = false): DigestVerdict => ({ ok: false, stale, reason });
    const c = parseDigestHeader(authorization);
    if (!c) return refuse('no Digest credentials');
    if (!c.username || !c.nonce || !c.uri || !c.response) return refuse('incomplete Digest credentials');
    const ha1 = this.ha1ByUser.get(c.username);
    if (ha1 === undefined) return refuse('unknown user');
    if (c.realm !== this.realm) return refuse('wrong realm');
    if (c.algorithm !== undefined && c.algorithm.toUpperCase() !== 'MD5') return refuse('unsupported algorithm');
    if (c.uri !== uri) return refuse('uri does not match the request');
    const qopOk = c.qop === 'auth' || (c.qop === 'auth-int' && this.offersAuthInt);
    if (!qopOk) return refuse(`qop ${c.qop ?? '(none)'} not offered`);
    if (c.nc === undefined || !/^[0-9a-f]{1,8}$/i.test(c.nc) || c.cnonce === undefined) return refuse('bad nc or cnonce');
    const ha2 = c.qop === 'auth-int' ? md5(`${method}:${c.uri}:${md5(body)}`) : this.ha2(method, c.uri);
    if (md5(`${ha1}:${c.nonce}:${c.nc}:${c.cnonce}:${c.qop}:${ha2}`) !== c.response.toLowerCase()) return refuse('wrong response (password?)');
    const n = this.issued.get(c.nonce);
    if (n === undefined || this.now() - n.issuedAt > this.nonceTtlMs) {
      this.issued.delete(c.nonce);
      return refuse('nonce expired', true);
    }
    const count = parseInt(c.nc, 16);
    if (count <= n.highestCount) return refuse(`nonce count ${c.nc} replayed`);
    n.highestCount = count;
    return { ok: true, user: c.username };
  }
}

/**
 * The Authorization header an event push answers a subscriber's challenge with (first use of the
 * nonce: nc=00000001), or undefined when the challenge is not a Digest one the device can answer.
 */
export function pushAuthorization(challengeHeader: string | undefined, user: string, password: string, method: string, uri: string): string | undefined {
  const ch = parseDigestHeader(challengeHeader);
  if (!ch || ch.realm === undefined || ch.nonce === undefined) return undefined;
  if (ch.algorithm !== undefined && ch.algorithm.toUpperCase() !== 'MD5') return undefined;
  const offered = (ch.qop ?? '').split(',').map((q) => q.trim());
  const qop = offered.includes('auth') ? 'auth' : undefined;
  if (ch.qop !== undefined && qop === undefined) return undefined;
  const ha1 = md5(`${user}:${ch.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const quote = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
  const head = `Digest username=${quote(user)}, realm=${quote(ch.realm)}, nonce=${quote(ch.nonce)}, uri=${quote(uri)}`;
  const opaque = ch.opaque !== undefined ? `, opaque=${quote(ch.opaque)}` : '';
  if (qop === undefined) return `${head}, response="${md5(`${ha1}:${ch.nonce}:${ha2}`)}"${opaque}`;
  const nc = '00000001';
  const cnonce = randomBytes(8).toString('hex');
  return `${head}, response="${md5(`${ha1}:${ch.nonce}:${nc}:${cnonce}:auth:${ha2}`)}", qop=auth, nc=${nc}, cnonce="${cnonce}"${opaque}`;
}

/** The HTML AMT sends with a 401. */
export const UNAUTHORIZED_HTML =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" >\n<html><head><link rel=stylesheet href=/styles.css>\n' +
  '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n<title>Intel&reg; Active Management Technology</title></head>\n' +
  '<body><table class=header><tr><td valign=top nowrap><p class=top1>Intel<font class=r><sup>&reg;</sup></font> Active Management Technology</td></tr></table>\n' +
  '<br><h2 class=warn>Log on failed. Incorrect user name or password, or user account temporarily locked.</h2>\n' +
  '<p><form METHOD="GET" action="index.htm"><h2><input type=submit value="Try again"></h2></form></body></html>\n';
