/**
 * An IPMI v2.0 (RMCP+) client for one BMC: opens a session (Get Channel Authentication
 * Capabilities, Open Session, RAKP 1-4, Set Session Privilege Level), sends commands signed and
 * encrypted with the negotiated cipher suite, retransmits on loss, reopens a session the BMC has
 * forgotten, and closes the session when done. One request at a time per BMC.
 */
import * as dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import * as net from 'node:net';
import { AuthError, ClosedError, ConnectionError, InputError, OobError, TimeoutError, UnsupportedError } from '../errors';
import { Limiter } from '../util/limiter';
import {
  AUTHTYPE_RMCPPLUS,
  BMC_SA,
  CIPHER_SUITES,
  CipherSuite,
  CMD,
  NETFN,
  PAYLOAD,
  PRIVILEGE,
  PrivilegeName,
  REMOTE_SWID,
  RMCPPLUS_STATUS,
} from './constants';
import { deriveKeys, MAX_KEY_BYTES, parseKg, rakp2AuthCode, rakp3AuthCode, rakp4CheckValue, RakpFields, sameBytes, sessionIntegrityKey, userKey } from './crypto';
import { IpmiCompletionError } from './errors';
import { decodeDatagram, decodeMessage, encodeMessage, encodeV15, encodeV2, IpmiMessage, PacketError, SessionKeys, SessionPacket } from './packet';
import {
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp3,
  NAME_ONLY_LOOKUP,
} from './rakp';

export const IPMI_PORT = 623;

export interface IpmiEndpoint {
  host: string;
  /** UDP port of the BMC, default 623. */
  port?: number;
  username: string;
  password: string;
  /** BMC key Kg for two-key logins: text, or hex with a 0x prefix. Empty = one-key login. */
  kg?: string;
  /** 3, 17, or 'auto' (17 when the BMC takes it, else 3). */
  cipherSuite?: 3 | 17 | 'auto';
  /** Session privilege, default admin (power control needs operator or admin). */
  privilege?: PrivilegeName;
  /** How long one command may take, retransmissions included (default 10 s). */
  timeoutMs?: number;
  /** Wait before sending a request again (default 1 s). */
  retransmitMs?: number;
}

export interface IpmiResponse {
  completionCode: number;
  data: Buffer;
}

export interface IpmiSessionInfo {
  cipherSuite: number;
  privilege: number;
  bmcSessionId: number;
  consoleSessionId: number;
  bmcGuid: string;
}

interface Session {
  keys: SessionKeys;
  bmcSessionId: number;
  consoleSessionId: number;
  privilege: number;
  bmcGuid: Buffer;
  outSeq: number;
  lastHeard: number;
  /** Session sequence numbers the BMC has used lately, and the highest: a repeat is a replay. */
  inSeen: Set<number>;
  inHighest: number;
}

/** After this long without an answer in a session, open a fresh one before the next command. */
const SESSION_IDLE_REOPEN_MS = 25_000;
/** How far behind the newest a BMC's session sequence number may be: answers can arrive out of order. */
const IN_SEQ_WINDOW = 32;
/** Tries per handshake step before starting the handshake over. */
const HANDSHAKE_STEP_TRIES = 3;

function kgBytes(kg: string | undefined): Buffer | undefined {
  try {
    return parseKg(kg);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/** Checks an endpoint's settings and fills in the defaults. */
export function normalizeEndpoint(e: IpmiEndpoint): Required<Omit<IpmiEndpoint, 'kg'>> & { kg?: string } {
  const username = e.username ?? '';
  if (Buffer.byteLength(username) > 16) throw new InputError('IPMI user names are at most 16 bytes');
  if (Buffer.byteLength(e.password ?? '') > MAX_KEY_BYTES) throw new InputError(`IPMI passwords are at most ${MAX_KEY_BYTES} bytes`);
  kgBytes(e.kg);
  const cipherSuite = e.cipherSuite ?? 'auto';
  if (cipherSuite !== 'auto' && !CIPHER_SUITES[cipherSuite]) throw new InputError(`cipher suite ${String(cipherSuite)} is not supported; use 3, 17 or auto`);
  const privilege = e.privilege ?? 'admin';
  if (PRIVILEGE[privilege] === undefined || privilege === 'callback') throw new InputError(`privilege "${String(privilege)}" is not one of user, operator, admin`);
  return {
    host: e.host,
    port: e.port ?? IPMI_PORT,
    username,
    password: e.password ?? '',
    kg: e.kg || undefined,
    cipherSuite,
    privilege,
    timeoutMs: e.timeoutMs ?? 10_000,
    retransmitMs: e.retransmitMs ?? 1_000,
  };
}

interface Waiter {
  accept(p: SessionPacket): boolean;
  fail(e: Error): void;
}

export class IpmiClient {
  readonly label: string;
  private readonly e: ReturnType<typeof normalizeEndpoint>;
  private socket?: dgram.Socket;
  private socketReady?: Promise<dgram.Socket>;
  private session?: Session;
  private waiter?: Waiter;
  private readonly queue = new Limiter(1);
  private rqSeq = randomInt(64);
  private tag = 0;
  private closed = false;
  /** The suite that worked, once 'auto' has found it. */
  private settledSuite?: number;
  /** Datagrams dropped because they failed a check; the reason of the last one, for error texts. */
  private ignored = 0;
  private lastIgnoredReason = '';

  constructor(endpoint: IpmiEndpoint) {
    this.e = normalizeEndpoint(endpoint);
    this.label = net.isIPv6(this.e.host) ? `[${this.e.host}]:${this.e.port}` : `${this.e.host}:${this.e.port}`;
  }

  /** What the current session negotiated, if one is open. */
  get sessionInfo(): IpmiSessionInfo | undefined {
    const s = this.session;
    if (!s) return undefined;
    return { cipherSuite: s.keys.suite.id, privilege: s.privilege, bmcSessionId: s.bmcSessionId, consoleSessionId: s.consoleSessionId, bmcGuid: s.bmcGuid.toString('hex') };
  }

  /** Runs one command in a session (opened or reopened as needed) and returns its answer. */
  request(netFn: number, cmd: number, data: Buffer | number[] = [], what = `command 0x${netFn.toString(16)}/0x${cmd.toString(16)}`): Promise<IpmiResponse> {
    const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
    return this.queue.run(async () => {
      if (this.closed) throw new ClosedError(`IPMI client for ${this.label} is closed`);
      const deadline = Date.now() + this.e.timeoutMs;
      let s = this.session;
      if (s && Date.now() - s.lastHeard > SESSION_IDLE_REOPEN_MS) {
        this.dropSession(true);
        s = undefined;
      }
      const fresh = !s;
      if (!s) s = await this.openSession(deadline);
      try {
        return await this.sessionCall(s, netFn, cmd, body, what, deadline, fresh ? undefined : 2);
      } catch (e) {
        // A BMC that restarted or expired our session stays silent: open a new one and try again.
        if (!fresh && e instanceof TimeoutError && (e as TimeoutError & { stale?: boolean }).stale && Date.now() < deadline) {
          this.dropSession(false);
          const s2 = await this.openSession(deadline);
          return this.sessionCall(s2, netFn, cmd, body, what, deadline);
        }
        throw e;
      }
    });
  }

  /** Like request(), but a non-zero completion code is an IpmiCompletionError. */
  async call(netFn: number, cmd: number, data: Buffer | number[], what: string): Promise<Buffer> {
    const r = await this.request(netFn, cmd, data, what);
    if (r.completionCode !== 0) throw new IpmiCompletionError(this.label, what, r.completionCode);
    return r.data;
  }

  /** Closes the session at the BMC (best effort) and the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.run(async () => {
      if (this.session && this.socket) {
        const s = this.session;
        try {
          await this.sessionCall(s, NETFN.app, CMD.closeSession, u32(s.bmcSessionId), 'Close Session', Date.now() + Math.min(1000, this.e.timeoutMs));
        } catch {
          // The BMC will expire the session by itself.
        }
      }
      this.session = undefined;
      this.closed = true;
      this.socket?.close();
      this.socket = undefined;
    });
  }

  /** Closes without telling the BMC (process shutdown, tests). */
  destroy(): void {
    this.closed = true;
    this.session = undefined;
    this.waiter?.fail(new ClosedError(`IPMI client for ${this.label} is closed`));
    try {
      this.socket?.close();
    } catch {
      // already closed
    }
    this.socket = undefined;
  }

  private dropSession(tellBmc: boolean): void {
    const s = this.session;
    this.session = undefined;
    if (tellBmc && s && this.socket) {
      // Fire and forget: the BMC frees the slot now instead of at its own timeout.
      const msg = this.requestMessage(NETFN.app, CMD.closeSession, u32(s.bmcSessionId));
      this.socket.send(encodeV2({ payloadType: PAYLOAD.ipmi, sessionId: s.bmcSessionId, sequence: this.nextSeq(s), payload: msg }, s.keys));
    }
  }

  private async ensureSocket(): Promise<dgram.Socket> {
    if (this.socket) return this.socket;
    if (!this.socketReady) {
      this.socketReady = new Promise<dgram.Socket>((resolve, reject) => {
        const sock = dgram.createSocket(net.isIPv6(this.e.host) ? 'udp6' : 'udp4');
        sock.on('message', (m) => this.onDatagram(m));
        sock.on('error', (err: NodeJS.ErrnoException) => {
          const code = err.code ?? '';
          const e =
            code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
              ? new ConnectionError(`cannot reach ${this.label} (${code})`, err)
              : new ConnectionError(`UDP to ${this.label} failed: ${err.message}`, err);
          if (this.waiter) this.waiter.fail(e);
          else if (!this.socket) reject(e);
        });
        sock.bind(0, () => {
          sock.connect(this.e.port, this.e.host, (err?: Error) => {
            if (err) {
              sock.close();
              this.socketReady = undefined;
              reject(new ConnectionError(`cannot reach ${this.label}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, err));
              return;
            }
            sock.unref();
            this.socket = sock;
            resolve(sock);
          });
        });
      });
    }
    return this.socketReady;
  }

  private onDatagram(buf: Buffer): void {
    const w = this.waiter;
    if (!w) return;
    let p: SessionPacket;
    try {
      p = decodeDatagram(buf, this.session?.keys);
    } catch (e) {
      this.ignored++;
      this.lastIgnoredReason = e instanceof PacketError ? e.message : String(e);
      return;
    }
    w.accept(p);
  }

  /**
   * Sends what build() makes (built afresh for each try, so every retransmission has its own
   * session sequence number) until match() accepts an answer or the deadline passes.
   */
  private async exchange<T>(
    what: string,
    build: () => Buffer,
    match: (p: SessionPacket) => T | undefined,
    deadline: number,
    maxTries?: number,
  ): Promise<T> {
    const socket = await this.ensureSocket();
    const ignoredBefore = this.ignored;
    return new Promise<T>((resolve, reject) => {
      let tries = 0;
      let retransmit: NodeJS.Timeout | undefined;
      const started = Date.now();
      const finish = (err: Error | undefined, value?: T) => {
        clearTimeout(retransmit);
        clearTimeout(overall);
        this.waiter = undefined;
        if (err) reject(err);
        else resolve(value as T);
      };
      const send = () => {
        if (maxTries !== undefined && tries >= maxTries) {
          const e = new TimeoutError(`${this.label} did not answer ${what} after ${tries} tries`);
          return finish(Object.assign(e, { stale: true }));
        }
        tries++;
        try {
          socket.send(build());
        } catch (e) {
          return finish(e instanceof OobError ? e : new ConnectionError(`UDP to ${this.label} failed: ${(e as Error).message}`, e));
        }
        retransmit = setTimeout(send, Math.max(1, Math.min(this.e.retransmitMs, deadline - Date.now())));
      };
      const overall = setTimeout(() => {
        const dropped = this.ignored - ignoredBefore;
        const note = dropped ? `; ignored ${dropped} repl${dropped === 1 ? 'y' : 'ies'}: ${this.lastIgnoredReason}` : '';
        finish(new TimeoutError(`${this.label} did not answer ${what} within ${Date.now() - started} ms (${tries} ${tries === 1 ? 'try' : 'tries'}${note})`));
      }, Math.max(1, deadline - Date.now()));
      this.waiter = {
        accept: (p) => {
          let v: T | undefined;
          try {
            v = match(p);
          } catch (e) {
            finish(e as Error);
            return true;
          }
          if (v === undefined) return false;
          finish(undefined, v);
          return true;
        },
        fail: (e) => finish(e),
      };
      send();
    });
  }

  private nextSeq(s: Session): number {
    s.outSeq = s.outSeq >= 0xffffffff ? 1 : s.outSeq + 1;
    return s.outSeq;
  }

  private requestMessage(netFn: number, cmd: number, data: Buffer, seq = this.rqSeq): Buffer {
    const m: IpmiMessage = { to: BMC_SA, netFn, toLun: 0, from: REMOTE_SWID, seq, fromLun: 0, cmd, body: data };
    return encodeMessage(m);
  }

  private matchResponse(netFn: number, cmd: number, seq: number, p: SessionPacket): IpmiResponse | undefined {
    if (p.payloadType !== PAYLOAD.ipmi) return undefined;
    let m: IpmiMessage;
    try {
      m = decodeMessage(p.payload);
    } catch {
      return undefined;
    }
    if (m.netFn !== netFn + 1 || m.cmd !== cmd || m.seq !== seq) return undefined;
    if (m.body.length < 1) return undefined;
    return { completionCode: m.body[0], data: m.body.subarray(1) };
  }

  private async sessionCall(s: Session, netFn: number, cmd: number, data: Buffer, what: string, deadline: number, maxTries?: number): Promise<IpmiResponse> {
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const seq = this.rqSeq;
    const msg = this.requestMessage(netFn, cmd, data, seq);
    const res = await this.exchange(
      what,
      () => encodeV2({ payloadType: PAYLOAD.ipmi, sessionId: s.bmcSessionId, sequence: this.nextSeq(s), payload: msg }, s.keys),
      (p) => {
        if (p.authType !== AUTHTYPE_RMCPPLUS || p.sessionId !== s.consoleSessionId) return undefined;
        // Inside a session, a BMC answers signed and encrypted; anything else is not our answer.
        if (!p.authenticated || !p.encrypted) return undefined;
        // A signed packet seen before (or far older than the newest) is a replay, not an answer.
        if (p.sequence === 0 || s.inSeen.has(p.sequence) || p.sequence + IN_SEQ_WINDOW < s.inHighest) {
          this.ignored++;
          this.lastIgnoredReason = `replayed session sequence number ${p.sequence}`;
          return undefined;
        }
        const r = this.matchResponse(netFn, cmd, seq, p);
        if (r) {
          s.inSeen.add(p.sequence);
          s.inHighest = Math.max(s.inHighest, p.sequence);
          for (const old of s.inSeen) if (old + IN_SEQ_WINDOW < s.inHighest) s.inSeen.delete(old);
        }
        return r;
      },
      deadline,
      maxTries,
    );
    s.lastHeard = Date.now();
    return res;
  }

  private async sessionless(netFn: number, cmd: number, data: Buffer, what: string, deadline: number): Promise<IpmiResponse> {
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const seq = this.rqSeq;
    const msg = this.requestMessage(netFn, cmd, data, seq);
    return this.exchange(what, () => encodeV15(msg), (p) => (p.sessionId === 0 ? this.matchResponse(netFn, cmd, seq, p) : undefined), deadline);
  }

  private async openSession(deadline: number): Promise<Session> {
    const privilege = PRIVILEGE[this.e.privilege];
    // 1. Does the BMC speak IPMI v2.0 on this channel? (channel 0x0E = this one, bit 7 = v2 data)
    const caps = await this.sessionless(NETFN.app, CMD.getChannelAuthCapabilities, Buffer.from([0x8e, privilege]), 'Get Channel Authentication Capabilities', deadline);
    if (caps.completionCode !== 0) throw new IpmiCompletionError(this.label, 'Get Channel Authentication Capabilities', caps.completionCode);
    const d = caps.data;
    if (d.length < 8 || !(d[1] & 0x80) || !(d[3] & 0x02)) throw new UnsupportedError(`${this.label} does not offer IPMI v2.0 (RMCP+) sessions on this channel`);

    const wanted = this.e.cipherSuite === 'auto' ? (this.settledSuite !== undefined ? [this.settledSuite] : [17, 3]) : [this.e.cipherSuite];
    let lastRefusal: OobError | undefined;
    for (const id of wanted) {
      try {
        const s = await this.handshake(CIPHER_SUITES[id], privilege, deadline);
        if (this.e.cipherSuite === 'auto') this.settledSuite = id;
        this.session = s;
        if (privilege > PRIVILEGE.user) {
          const r = await this.sessionCall(s, NETFN.app, CMD.setSessionPrivilegeLevel, Buffer.from([privilege]), 'Set Session Privilege Level', deadline);
          if (r.completionCode !== 0) {
            this.dropSession(true);
            throw new AuthError(`${this.label} would not raise the session to ${this.e.privilege} privilege for "${this.e.username}" (completion code 0x${r.completionCode.toString(16)})`);
          }
          s.privilege = r.data[0] & 0x0f;
        }
        return s;
      } catch (e) {
        if (e instanceof UnsupportedError && wanted.length > 1) {
          lastRefusal = e;
          continue;
        }
        throw e;
      }
    }
    throw lastRefusal ?? new UnsupportedError(`${this.label} accepts none of the cipher suites 17 and 3`);
  }

  private statusError(stage: string, suite: CipherSuite, status: number): OobError {
    const text = RMCPPLUS_STATUS[status] ?? `status 0x${status.toString(16)}`;
    switch (status) {
      case 0x04:
      case 0x05:
      case 0x10:
      case 0x11:
        return new UnsupportedError(`${this.label} refuses cipher suite ${suite.id} (${suite.label}): ${text}`);
      case 0x0d:
        return new AuthError(`${this.label} does not know the user "${this.e.username}" (${text})`);
      case 0x09:
      case 0x0a:
        return new AuthError(`${this.label} refuses ${this.e.privilege} privilege for "${this.e.username}" (${text})`);
      case 0x0f:
        return new AuthError(`${this.label} rejected our key exchange at ${stage}: wrong password${this.e.kg ? ' or BMC key (Kg)' : ''} (${text})`);
      case 0x01:
      case 0x0b:
        return new OobError('DEVICE_REFUSED', `${this.label} cannot open another session now (${text})`);
      default:
        return new OobError('DEVICE_REFUSED', `${this.label} refused ${stage}: ${text}`);
    }
  }

  /**
   * The RAKP handshake, started over (with a new console session ID) when a step goes unanswered
   * a few times: a lost RAKP 4 leaves the BMC with a session we cannot finish, so resending RAKP 3
   * does not help.
   */
  private async handshake(suite: CipherSuite, privilege: number, deadline: number): Promise<Session> {
    for (;;) {
      try {
        return await this.rakp(suite, privilege, deadline, HANDSHAKE_STEP_TRIES);
      } catch (e) {
        if (e instanceof TimeoutError && (e as TimeoutError & { stale?: boolean }).stale && Date.now() < deadline) continue;
        throw e;
      }
    }
  }

  private async rakp(suite: CipherSuite, privilege: number, deadline: number, stepTries: number): Promise<Session> {
    const consoleSessionId = randomInt(1, 0xffffffff);
    const openTag = this.nextTag();
    const open = await this.exchange(
      'Open Session Request',
      () =>
        encodeV2({
          payloadType: PAYLOAD.openSessionRequest,
          sessionId: 0,
          sequence: 0,
          payload: encodeOpenSessionRequest({ tag: openTag, maxPrivilege: privilege, consoleSessionId, auth: suite.auth, integrity: suite.integrity, confidentiality: suite.confidentiality }),
        }),
      (p) => {
        if (p.payloadType !== PAYLOAD.openSessionResponse) return undefined;
        const r = decodeOpenSessionResponse(p.payload);
        return r.tag === openTag ? r : undefined;
      },
      deadline,
      stepTries,
    );
    if (open.status !== 0) throw this.statusError('Open Session', suite, open.status);
    if (open.consoleSessionId !== consoleSessionId) throw new OobError('DEVICE_REFUSED', `${this.label} answered the Open Session of another console`);
    if (open.auth !== suite.auth || open.integrity !== suite.integrity || open.confidentiality !== suite.confidentiality) {
      throw new UnsupportedError(`${this.label} offered algorithms ${open.auth}/${open.integrity}/${open.confidentiality} instead of cipher suite ${suite.id}`);
    }

    const username = Buffer.from(this.e.username, 'utf8');
    const kuid = userKey(this.e.password);
    const consoleRandom = randomBytes(16);
    const role = privilege | NAME_ONLY_LOOKUP;
    const tag1 = this.nextTag();
    const rakp2 = await this.exchange(
      'RAKP 1',
      () => encodeV2({ payloadType: PAYLOAD.rakp1, sessionId: 0, sequence: 0, payload: encodeRakp1({ tag: tag1, bmcSessionId: open.bmcSessionId, consoleRandom, role, username }) }),
      (p) => {
        if (p.payloadType !== PAYLOAD.rakp2) return undefined;
        const r = decodeRakp2(p.payload);
        return r.tag === tag1 ? r : undefined;
      },
      deadline,
      stepTries,
    );
    if (rakp2.status !== 0) throw this.statusError('RAKP 1', suite, rakp2.status);
    const fields: RakpFields = { consoleSessionId, bmcSessionId: open.bmcSessionId, consoleRandom, bmcRandom: rakp2.bmcRandom, bmcGuid: rakp2.bmcGuid, role, username };
    const expected = rakp2AuthCode(suite, kuid, fields);
    if (!sameBytes(expected, rakp2.authCode)) {
      // The BMC keyed its HMAC with the stored password: ours differs.
      throw new AuthError(`${this.label} rejected the password for "${this.e.username}" (RAKP 2 key exchange code does not match)`);
    }

    const kg = kgBytes(this.e.kg);
    const sik = sessionIntegrityKey(suite, kg ?? kuid, fields);
    const tag3 = this.nextTag();
    const rakp4 = await this.exchange(
      'RAKP 3',
      () =>
        encodeV2({ payloadType: PAYLOAD.rakp3, sessionId: 0, sequence: 0, payload: encodeRakp3({ tag: tag3, status: 0, bmcSessionId: open.bmcSessionId, authCode: rakp3AuthCode(suite, kuid, fields) }) }),
      (p) => {
        if (p.payloadType !== PAYLOAD.rakp4) return undefined;
        const r = decodeRakp4(p.payload);
        return r.tag === tag3 ? r : undefined;
      },
      deadline,
      stepTries,
    );
    if (rakp4.status !== 0) throw this.statusError('RAKP 3', suite, rakp4.status);
    if (!sameBytes(rakp4CheckValue(suite, sik, fields), rakp4.checkValue)) {
      throw new AuthError(`${this.label} answered RAKP 4 with a check value we cannot reproduce${kg ? ': wrong BMC key (Kg)?' : ''}`);
    }
    const { k1, k2 } = deriveKeys(suite, sik);
    return { keys: { suite, k1, k2 }, bmcSessionId: open.bmcSessionId, consoleSessionId, privilege: PRIVILEGE.user, bmcGuid: rakp2.bmcGuid, outSeq: 0, lastHeard: Date.now(), inSeen: new Set(), inHighest: 0 };
  }

  private nextTag(): number {
    this.tag = (this.tag + 1) & 0xff;
    return this.tag;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
