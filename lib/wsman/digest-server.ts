/**
 * The server side of HTTP Digest (RFC 2617, MD5): challenges and checks credentials. The event
 * listener uses it for AMT's pushed events and the simulator for its devices. Challenges are
 * shaped like the firmware's:
 *
 *   WWW-Authenticate: Digest realm="Digest:<32 hex>", nonce="<32 chars>",stale="false",qop="auth"
 *
 * (note the missing space before stale, as in test/fixtures/amt/http/HTTP-401-Digest.http).
 * Newer firmware offers qop="auth-int, auth". Nonces expire after `nonceTtlMs`; a request with an
 * expired (or forgotten) nonce but a correct response gets a fresh challenge with stale="true".
 * The nonce count must grow per nonce: a replayed or smaller nc is refused.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestOptions {
  realm: string;
  user: string;
  password: string;
  /** Offer qop="auth-int, auth" like newer firmware (default: qop="auth"). */
  authInt?: boolean;
  /** Lifetime of a nonce; AMT's is a few minutes. Default 5 minutes. */
  nonceTtlMs?: number;
  /** Most nonces remembered at once (oldest forgotten first); keeps a 1,000-device fleet small. */
  maxNonces?: number;
}

export type DigestVerdict = { ok: true; user: string } | { ok: false; stale: boolean; reason: string };

interface NonceState {
  created: number;
  lastNc: number;
}

export function md5(s: string | Buffer): string {
  return createHash('md5').update(s).digest('hex');
}

/** Parse `Digest k=v, k="v"` into lower-cased keys; undefined when not a Digest header. */
export function parseDigestHeader(h: string | undefined): Record<string, string> | undefined {
  if (!h) return undefined;
  const m = /^\s*Digest\s+/i.exec(h);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  const rest = h.slice(m[0].length).trim();
  while (re.lastIndex < rest.length) {
    const g = re.exec(rest);
    if (!g) return undefined;
    out[g[1].toLowerCase()] = g[2] !== undefined ? g[2].replace(/\\(.)/g, '$1') : (g[3] ?? '');
  }
  return out;
}

export class DigestAuthenticator {
  readonly realm: string;
  /** Digest user -> MD5(user:realm:password), the form AMT keeps (and AddUserAclEntryEx sends). */
  private readonly accounts = new Map<string, string>();
  private readonly authInt: boolean;
  private readonly ttl: number;
  private readonly maxNonces: number;
  private readonly nonces = new Map<string, NonceState>();
  /** Test hook: the clock. */
  now: () => number = Date.now;

  constructor(o: DigestOptions) {
    this.realm = o.realm;
    this.accounts.set(o.user, md5(`${o.user}:${o.realm}:${o.password}`));
    this.authInt = o.authInt ?? false;
    this.ttl = o.nonceTtlMs ?? 5 * 60_000;
    this.maxNonces = o.maxNonces ?? 32;
  }

  /** Add or change an account by its HA1 (hex). */
  setAccount(user: string, ha1: string): void {
    this.accounts.set(user, ha1.toLowerCase());
  }

  removeAccount(user: string): void {
    this.accounts.delete(user);
  }

  /** A fresh nonce: 24 random bytes in base64, 32 characters like AMT's. */
  private newNonce(): string {
    const nonce = randomBytes(24).toString('base64');
    if (this.nonces.size >= this.maxNonces) {
      const oldest = this.nonces.keys().next().value;
      if (oldest !== undefined) this.nonces.delete(oldest);
    }
    this.nonces.set(nonce, { created: this.now(), lastNc: 0 });
    return nonce;
  }

  /** The WWW-Authenticate value for a 401, with a new nonce. */
  challenge(stale = false): string {
    const qop = this.authInt ? 'auth-int, auth' : 'auth';
    return `Digest realm="${this.realm}", nonce="${this.newNonce()}",stale="${stale ? 'true' : 'false'}",qop="${qop}"`;
  }

  /** Check an Authorization header for `method uri` with the request body (for auth-int). */
  verify(method: string, uri: string, authorization: string | undefined, body: Buffer): DigestVerdict {
    const p = parseDigestHeader(authorization);
    if (!p) return { ok: false, stale: false, reason: 'no Digest credentials' };
    const { username, realm, nonce, response, qop, nc, cnonce } = p;
    const dUri = p.uri;
    if (!username || !nonce || !response || !dUri) return { ok: false, stale: false, reason: 'incomplete Digest credentials' };
    const ha1 = this.accounts.get(username);
    if (ha1 === undefined) return { ok: false, stale: false, reason: 'unknown user' };
    if (realm !== this.realm) return { ok: false, stale: false, reason: 'wrong realm' };
    if (p.algorithm && p.algorithm.toUpperCase() !== 'MD5') return { ok: false, stale: false, reason: 'unsupported algorithm' };
    if (dUri !== uri) return { ok: false, stale: false, reason: 'uri does not match the request' };
    if (qop !== 'auth' && !(qop === 'auth-int' && this.authInt)) return { ok: false, stale: false, reason: `qop ${qop ?? '(none)'} not offered` };
    if (!nc || !/^[0-9a-fA-F]{1,8}$/.test(nc) || cnonce === undefined) return { ok: false, stale: false, reason: 'bad nc or cnonce' };
    const ha2 = qop === 'auth-int' ? md5(`${method}:${dUri}:${md5(body)}`) : md5(`${method}:${dUri}`);
    const expected = md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    if (expected !== response.toLowerCase()) return { ok: false, stale: false, reason: 'wrong response (password?)' };
    const st = this.nonces.get(nonce);
    if (!st || this.now() - st.created > this.ttl) {
      if (st) this.nonces.delete(nonce);
      return { ok: false, stale: true, reason: 'nonce expired' };
    }
    const count = parseInt(nc, 16);
    if (count <= st.lastNc) return { ok: false, stale: false, reason: `nonce count ${nc} replayed` };
    st.lastNc = count;
    return { ok: true, user: username };
  }
}
