/**
 * HTTP Digest (RFC 7616 with MD5, the only algorithm AMT offers), client side.
 *
 * AMT quirks handled: the realm is "Digest:<32 hex>"; parameters may be separated by "," with or
 * without spaces; newer firmware offers qop="auth-int, auth" (either order, sometimes separated by
 * spaces only). We prefer qop=auth (no body hash) and reuse a nonce with an increasing nc so a warm
 * call costs a single round trip.
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import { detachedString } from '../util/detached-string';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop: string[];
  opaque?: string;
  stale: boolean;
  algorithm: string;
}

/** Parse the Digest challenge among one or more WWW-Authenticate values. */
export function parseDigestChallenge(header: string | string[] | undefined): DigestChallenge | undefined {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const v of values) {
    const m = /(?:^|,\s*)Digest\s+(.*)$/is.exec(v.trim());
    if (!m) continue;
    const params = parseAuthParams(m[1]);
    if (params.nonce === undefined) continue;
    return {
      realm: params.realm ?? '',
      nonce: params.nonce,
      qop: (params.qop ?? '')
        .split(/[\s,]+/)
        .map((q) => q.trim().toLowerCase())
        .filter(Boolean),
      opaque: params.opaque,
      stale: (params.stale ?? '').toLowerCase() === 'true',
      algorithm: (params.algorithm ?? 'MD5').toUpperCase(),
    };
  }
  return undefined;
}

/** key=value or key="quoted value" pairs, commas optional between them. */
export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    out[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return out;
}

/** One-shot hashing (Node 20.12 and later) skips a Hash object per call; older Node builds one. */
const md5: (s: string | Buffer) => string =
  // Stryker disable next-line all: both ways give the same digest; which one runs is the Node version's choice
  typeof hash === 'function' ? (s) => hash('md5', s, 'hex') : (s) => createHash('md5').update(s).digest('hex');

export interface DigestAuthorization {
  header: string;
  nc: number;
}

/**
 * One user's digest state against one server: the last challenge, and the nonce count.
 * `authorize` returns undefined until a challenge has been seen.
 */
export class DigestSession {
  private challenge?: DigestChallenge;
  private nc = 0;
  /** MD5(user:realm:password), fixed for a challenge's realm. */
  private ha1 = '';
  /** The parts of the header that stay the same from call to call under one challenge and URI. */
  private fixed?: FixedParts;

  constructor(
    private readonly username: string,
    private readonly password: string,
    private readonly makeCnonce: () => string = cnonceSource(),
  ) {}

  get realm(): string | undefined {
    return this.challenge?.realm;
  }

  get hasChallenge(): boolean {
    return this.challenge !== undefined;
  }

  accept(challenge: DigestChallenge): void {
    if (challenge.algorithm !== 'MD5' && challenge.algorithm !== 'MD5-SESS') {
      throw new Error(`digest algorithm ${challenge.algorithm} is not supported`);
    }
    if (challenge.realm !== this.challenge?.realm) this.ha1 = md5(`${this.username}:${challenge.realm}:${this.password}`);
    // Kept until the next challenge, which may be hours away: copies, not views of the 401 reply.
    this.challenge = {
      ...challenge,
      realm: detachedString(challenge.realm),
      nonce: detachedString(challenge.nonce),
      opaque: challenge.opaque === undefined ? undefined : detachedString(challenge.opaque),
    };
    this.nc = 0;
    this.fixed = undefined;
  }

  forget(): void {
    this.challenge = undefined;
    this.nc = 0;
    this.ha1 = '';
    this.fixed = undefined;
  }

  private fixedParts(c: DigestChallenge, method: string, uri: string): FixedParts {
    const f = this.fixed;
    if (f && f.method === method && f.uri === uri) return f;
    const qop = c.qop.includes('auth') ? 'auth' : c.qop.includes('auth-int') ? 'auth-int' : undefined;
    const made: FixedParts = {
      method,
      uri,
      qop,
      ha2: qop === 'auth-int' ? undefined : md5(`${method}:${uri}`),
      head: `Digest username="${quote(this.username)}", realm="${quote(c.realm)}", nonce="${quote(c.nonce)}", uri="${quote(uri)}", response="`,
      afterResponse: `"${c.algorithm !== 'MD5' ? `, algorithm=${c.algorithm}` : ''}${qop ? `, qop=${qop}, nc=` : ''}`,
      tail: c.opaque !== undefined ? `, opaque="${quote(c.opaque)}"` : '',
    };
    this.fixed = made;
    return made;
  }

  authorize(method: string, uri: string, body: string | Buffer): DigestAuthorization | undefined {
    const c = this.challenge;
    if (!c) return undefined;
    const f = this.fixedParts(c, method, uri);
    const nc = ++this.nc;
    const ncHex = nc.toString(16).padStart(8, '0');
    const cnonce = this.makeCnonce();
    const ha1 = c.algorithm === 'MD5-SESS' ? md5(`${this.ha1}:${c.nonce}:${cnonce}`) : this.ha1;
    const ha2 = f.ha2 ?? md5(`${method}:${uri}:${md5(body)}`);
    if (!f.qop) return { header: `${f.head}${md5(`${ha1}:${c.nonce}:${ha2}`)}${f.afterResponse}${f.tail}`, nc };
    const response = md5(`${ha1}:${c.nonce}:${ncHex}:${cnonce}:${f.qop}:${ha2}`);
    return { header: `${f.head}${response}${f.afterResponse}${ncHex}, cnonce="${cnonce}"${f.tail}`, nc };
  }
}

interface FixedParts {
  method: string;
  uri: string;
  qop?: 'auth' | 'auth-int';
  /** MD5(method:uri) when the body is not hashed. */
  ha2?: string;
  /** Up to `response="`. */
  head: string;
  /** From the closing quote of the response up to the nonce count. */
  afterResponse: string;
  /** The opaque value, if any. */
  tail: string;
}

/** Client nonces: a random prefix per session and a counter, unique without a syscall per request. */
function cnonceSource(): () => string {
  const prefix = randomBytes(8).toString('hex');
  let n = 0;
  return () => `${prefix}${(n++).toString(16).padStart(8, '0')}`;
}

function quote(s: string): string {
  return s.replace(/(["\\])/g, '\\$1');
}
