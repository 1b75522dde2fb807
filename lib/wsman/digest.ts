/**
 * HTTP Digest (RFC 7616 with MD5, the only algorithm AMT offers), client side.
 *
 * AMT quirks handled: the realm is "Digest:<32 hex>"; parameters may be separated by "," with or
 * without spaces; newer firmware offers qop="auth-int, auth" (either order, sometimes separated by
 * spaces only). We prefer qop=auth (no body hash) and reuse a nonce with an increasing nc so a warm
 * call costs a single round trip.
 */
import { createHash, randomBytes } from 'node:crypto';

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

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

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
  private ha2Cache = new Map<string, string>();

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
    if (challenge.realm !== this.challenge?.realm || !this.ha1) this.ha1 = md5(`${this.username}:${challenge.realm}:${this.password}`);
    this.challenge = challenge;
    this.nc = 0;
  }

  forget(): void {
    this.challenge = undefined;
    this.nc = 0;
    this.ha1 = '';
  }

  private plainHa2(method: string, uri: string): string {
    const key = `${method}:${uri}`;
    let v = this.ha2Cache.get(key);
    if (v === undefined) {
      v = md5(key);
      if (this.ha2Cache.size < 16) this.ha2Cache.set(key, v);
    }
    return v;
  }

  authorize(method: string, uri: string, body: string | Buffer): DigestAuthorization | undefined {
    const c = this.challenge;
    if (!c) return undefined;
    const nc = ++this.nc;
    const ncHex = nc.toString(16).padStart(8, '0');
    const cnonce = this.makeCnonce();
    const ha1 = c.algorithm === 'MD5-SESS' ? md5(`${this.ha1}:${c.nonce}:${cnonce}`) : this.ha1;
    const qop = c.qop.includes('auth') ? 'auth' : c.qop.includes('auth-int') ? 'auth-int' : undefined;
    const ha2 = qop === 'auth-int' ? md5(`${method}:${uri}:${md5(body)}`) : this.plainHa2(method, uri);
    const response = qop ? md5(`${ha1}:${c.nonce}:${ncHex}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${c.nonce}:${ha2}`);
    const parts = [
      `username="${quote(this.username)}"`,
      `realm="${quote(c.realm)}"`,
      `nonce="${quote(c.nonce)}"`,
      `uri="${quote(uri)}"`,
      `response="${response}"`,
    ];
    if (c.algorithm !== 'MD5') parts.push(`algorithm=${c.algorithm}`);
    if (qop) parts.push(`qop=${qop}`, `nc=${ncHex}`, `cnonce="${cnonce}"`);
    if (c.opaque !== undefined) parts.push(`opaque="${quote(c.opaque)}"`);
    return { header: `Digest ${parts.join(', ')}`, nc };
  }
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
