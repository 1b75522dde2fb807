/**
 * A simulated server BMC speaking IPMI v2.0 over LAN (RMCP+): session setup with cipher suites 3
 * and 17 (RAKP 1-4, SIK, K1/K2), signed and encrypted commands, and the chassis, boot option, SEL,
 * SDR and sensor commands a management tool uses. For demos and for checking our client against
 * ipmitool and FreeIPMI with the cipher suite OpenIPMI's simulator lacks (17).
 *
 *   const bmc = await SimBmc.start({ users: [{ name: 'admin', password: 'secret' }] });
 *   bmc.port; bmc.on('power', (e) => ...); bmc.addSelEvent(...); await bmc.stop();
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomBytes, randomInt } from 'node:crypto';
import { CIPHER_SUITES, CipherSuite, CMD, NETFN, PAYLOAD, PRIVILEGE, REMOTE_SWID, BMC_SA } from '../../../../lib/ipmi/constants';
import { deriveKeys, parseKg, rakp2AuthCode, rakp3AuthCode, rakp4CheckValue, RakpFields, sameBytes, sessionIntegrityKey, userKey } from '../../../../lib/ipmi/crypto';
import { decodeDatagram, decodeMessage, encodeMessage, encodeV15, encodeV2, IpmiMessage, MAX_DATAGRAM, SessionKeys, SessionPacket } from '../../../../lib/ipmi/packet';
import {
  decodeOpenSessionRequest,
  decodeRakp1,
  decodeRakp3,
  encodeOpenSessionResponse,
  encodeRakp2,
  encodeRakp4,
  NAME_ONLY_LOOKUP,
} from '../../../../lib/ipmi/rakp';
import { BmcState, BmcStateOptions } from './state';

export interface SimBmcUser {
  name: string;
  password: string;
  /** Highest privilege, default admin. */
  privilege?: 'user' | 'operator' | 'admin';
}

export interface SimBmcOptions extends BmcStateOptions {
  host?: string;
  /** UDP port; 0 (default) = one the kernel picks. */
  port?: number;
  users: SimBmcUser[];
  /** Cipher suites offered (default 17 and 3). */
  cipherSuites?: number[];
  /** 16-byte GUID as 32 hex digits (default random). */
  guid?: string;
  /** BMC key for two-key logins. */
  kg?: string;
  /** Sessions open at once (default 16). */
  maxSessions?: number;
  /** A session without traffic for this long is forgotten (default 60 s). */
  sessionTimeoutMs?: number;
  /** Datagrams per second the BMC answers at most; the rest are dropped (default 2000). */
  maxPacketsPerSecond?: number;
}

interface SimSession {
  bmcSessionId: number;
  consoleSessionId: number;
  suite: CipherSuite;
  maxPrivilege: number;
  privilege: number;
  state: 'opened' | 'rakp2' | 'active';
  user?: SimBmcUser;
  role: number;
  username: Buffer;
  consoleRandom: Buffer;
  bmcRandom: Buffer;
  rakp3Tag?: number;
  rakp4?: Buffer;
  keys?: SessionKeys;
  outSeq: number;
  lastSeq: number;
  lastActivity: number;
  peer: { address: string; port: number };
}

const PRIV_NUM = { user: PRIVILEGE.user, operator: PRIVILEGE.operator, admin: PRIVILEGE.admin } as const;

/** Commands below operator privilege: everything else changes something. */
const READ_ONLY = new Set([
  `${NETFN.app}/${CMD.getDeviceId}`,
  `${NETFN.app}/${CMD.getChannelAuthCapabilities}`,
  `${NETFN.app}/${CMD.setSessionPrivilegeLevel}`,
  `${NETFN.app}/${CMD.closeSession}`,
  `${NETFN.app}/${CMD.getChannelCipherSuites}`,
  `${NETFN.chassis}/${CMD.getChassisStatus}`,
  `${NETFN.chassis}/${CMD.getSystemBootOptions}`,
  `${NETFN.sensorEvent}/${CMD.getSensorReading}`,
  `${NETFN.sensorEvent}/${CMD.getSensorThresholds}`,
  `${NETFN.storage}/${CMD.getSdrRepositoryInfo}`,
  `${NETFN.storage}/${CMD.reserveSdrRepository}`,
  `${NETFN.storage}/${CMD.getSdr}`,
  `${NETFN.storage}/${CMD.getSelInfo}`,
  `${NETFN.storage}/${CMD.reserveSel}`,
  `${NETFN.storage}/${CMD.getSelEntry}`,
]);

export class SimBmc extends EventEmitter {
  readonly state: BmcState;
  readonly guid: Buffer;
  host: string;
  port = 0;
  /** While true the BMC hears nothing (a hung or unplugged BMC). */
  silent = false;
  /** Counters for tests. */
  readonly stats = { datagrams: 0, dropped: 0, sessionsOpened: 0, commands: 0 };
  private readonly o: SimBmcOptions;
  private socket?: dgram.Socket;
  private readonly sessions = new Map<number, SimSession>();
  private sweep?: NodeJS.Timeout;
  private windowStart = 0;
  private windowCount = 0;

  constructor(o: SimBmcOptions) {
    super();
    this.o = o;
    this.host = o.host ?? '127.0.0.1';
    this.guid = o.guid ? Buffer.from(o.guid, 'hex') : randomBytes(16);
    if (this.guid.length !== 16) throw new RangeError('BMC GUID must be 16 bytes (32 hex digits)');
    this.state = new BmcState(o);
    this.state.on('power', (e) => this.emit('power', e));
    this.state.on('boot', (e) => this.emit('boot', e));
    this.state.on('identify', (e) => this.emit('identify', e));
  }

  static async start(o: SimBmcOptions): Promise<SimBmc> {
    const bmc = new SimBmc(o);
    await bmc.listen();
    return bmc;
  }

  async listen(): Promise<void> {
    const sock = dgram.createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    sock.on('message', (m, rinfo) => this.onDatagram(m, rinfo));
    sock.on('error', (e) => this.emit('error', e));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.o.port ?? 0, this.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    this.socket = sock;
    this.port = sock.address().port;
    const timeout = this.o.sessionTimeoutMs ?? 60_000;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [id, s] of this.sessions) if (now - s.lastActivity > timeout) this.sessions.delete(id);
    }, Math.min(10_000, timeout));
    this.sweep.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweep);
    this.state.dispose();
    this.sessions.clear();
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** Sessions currently open (any state). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Forgets every session, as a BMC does when it reboots. */
  forgetSessions(): void {
    this.sessions.clear();
  }

  private send(buf: Buffer, to: { address: string; port: number }): void {
    this.socket?.send(buf, to.port, to.address);
  }

  private allowPacket(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    return ++this.windowCount <= (this.o.maxPacketsPerSecond ?? 2000);
  }

  private onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    this.stats.datagrams++;
    if (this.silent || buf.length > MAX_DATAGRAM || !this.allowPacket()) {
      this.stats.dropped++;
      return;
    }
    const peer = { address: rinfo.address, port: rinfo.port };
    // Look the session up first: its keys are needed to check and decrypt the packet.
    let keys: SessionKeys | undefined;
    if (buf.length >= 4 + 6 && buf[4] === 0x06) {
      const sid = buf.readUInt32LE(4 + 2);
      keys = this.sessions.get(sid)?.keys;
    }
    let p: SessionPacket;
    try {
      p = decodeDatagram(buf, keys);
    } catch {
      this.stats.dropped++;
      return;
    }
    try {
      if (p.authType === 0) this.onSessionless(p, peer);
      else if (p.payloadType === PAYLOAD.openSessionRequest) this.onOpenSession(p, peer);
      else if (p.payloadType === PAYLOAD.rakp1) this.onRakp1(p, peer);
      else if (p.payloadType === PAYLOAD.rakp3) this.onRakp3(p, peer);
      else if (p.payloadType === PAYLOAD.ipmi && p.sessionId === 0 && !p.authenticated) this.onSessionless(p, peer);
      else if (p.payloadType === PAYLOAD.ipmi) this.onSessionMessage(p, peer);
      else this.stats.dropped++;
    } catch {
      // Malformed input never takes the BMC down.
      this.stats.dropped++;
    }
  }

  private reply(req: IpmiMessage, cc: number, data: Buffer | number[] = []): Buffer {
    return encodeMessage({ to: req.from, netFn: req.netFn + 1, toLun: req.fromLun, from: BMC_SA, seq: req.seq, fromLun: req.toLun, cmd: req.cmd, body: Buffer.concat([Buffer.from([cc]), Buffer.from(data)]) });
  }

  /** Before a session only a few App commands are allowed (IPMI v2.0 section 13.14). */
  private onSessionless(p: SessionPacket, peer: { address: string; port: number }): void {
    const m = decodeMessage(p.payload);
    if (m.netFn !== NETFN.app) return;
    let out: Buffer | undefined;
    if (m.cmd === CMD.getChannelAuthCapabilities) out = this.reply(m, 0, this.authCapabilities());
    else if (m.cmd === CMD.getChannelCipherSuites) out = this.reply(m, ...this.cipherSuites(m.body));
    else if (m.cmd === CMD.getDeviceId) out = this.reply(m, 0, this.state.deviceId());
    if (!out) return;
    // Answer in the wrapper the request came in: IPMI v1.5, or RMCP+ outside a session.
    this.send(p.authType === 0 ? encodeV15(out) : encodeV2({ payloadType: PAYLOAD.ipmi, sessionId: 0, sequence: 0, payload: out }), peer);
  }

  private authCapabilities(): number[] {
    // channel 1; bit 7 = IPMI v2.0 extended data; login status: non-null user names; KG status;
    // extended capabilities: IPMI v2.0 supported; OEM ID 0.
    return [0x01, 0x80, 0x04 | (this.o.kg ? 0x20 : 0), 0x02, 0x00, 0x00, 0x00, 0x00];
  }

  private offeredSuites(): CipherSuite[] {
    return (this.o.cipherSuites ?? [17, 3]).map((id) => CIPHER_SUITES[id]).filter((s): s is CipherSuite => Boolean(s));
  }

  private cipherSuites(body: Buffer): [number, number[]] {
    if (body.length < 3) return [0xc7, []];
    const records: number[] = [];
    for (const s of this.offeredSuites()) records.push(0xc0, s.id, s.auth, 0x40 | s.integrity, 0x80 | s.confidentiality);
    const index = body[2] & 0x3f;
    return [0, [0x01, ...records.slice(index * 16, index * 16 + 16)]];
  }

  private onOpenSession(p: SessionPacket, peer: { address: string; port: number }): void {
    const req = decodeOpenSessionRequest(p.payload);
    const suite = this.offeredSuites().find((s) => s.auth === req.auth && s.integrity === req.integrity && s.confidentiality === req.confidentiality);
    const answer = (status: number, bmcSessionId = 0, maxPrivilege = 0) =>
      this.send(
        encodeV2({ payloadType: PAYLOAD.openSessionResponse, sessionId: 0, sequence: 0, payload: encodeOpenSessionResponse({ tag: req.tag, status, maxPrivilege, consoleSessionId: req.consoleSessionId, bmcSessionId, auth: req.auth, integrity: req.integrity, confidentiality: req.confidentiality }) }),
        peer,
      );
    if (!suite) {
      const authKnown = this.offeredSuites().some((s) => s.auth === req.auth);
      return answer(authKnown ? 0x11 : 0x04);
    }
    if (req.maxPrivilege > PRIVILEGE.admin) return answer(0x09);
    // The same console retrying its request gets the same session.
    for (const s of this.sessions.values()) {
      if (s.consoleSessionId === req.consoleSessionId && s.state === 'opened' && s.peer.address === peer.address && s.peer.port === peer.port) return answer(0, s.bmcSessionId, s.maxPrivilege);
    }
    if (this.sessions.size >= (this.o.maxSessions ?? 16)) return answer(0x01);
    let bmcSessionId: number;
    do bmcSessionId = randomInt(1, 0xffffffff);
    while (this.sessions.has(bmcSessionId));
    const maxPrivilege = req.maxPrivilege || PRIVILEGE.admin;
    this.sessions.set(bmcSessionId, {
      bmcSessionId,
      consoleSessionId: req.consoleSessionId,
      suite,
      maxPrivilege,
      privilege: PRIVILEGE.user,
      state: 'opened',
      role: 0,
      username: Buffer.alloc(0),
      consoleRandom: Buffer.alloc(16),
      bmcRandom: Buffer.alloc(16),
      outSeq: 0,
      lastSeq: 0,
      lastActivity: Date.now(),
      peer,
    });
    answer(0, bmcSessionId, maxPrivilege);
  }

  private rakpFields(s: SimSession): RakpFields {
    return { consoleSessionId: s.consoleSessionId, bmcSessionId: s.bmcSessionId, consoleRandom: s.consoleRandom, bmcRandom: s.bmcRandom, bmcGuid: this.guid, role: s.role, username: s.username };
  }

  private onRakp1(p: SessionPacket, peer: { address: string; port: number }): void {
    const r = decodeRakp1(p.payload);
    const s = this.sessions.get(r.bmcSessionId);
    const answer = (status: number, consoleSessionId: number, rest?: { bmcRandom: Buffer; authCode: Buffer }) =>
      this.send(
        encodeV2({
          payloadType: PAYLOAD.rakp2,
          sessionId: 0,
          sequence: 0,
          payload: encodeRakp2({ tag: r.tag, status, consoleSessionId, bmcRandom: rest?.bmcRandom ?? Buffer.alloc(0), bmcGuid: this.guid, authCode: rest?.authCode ?? Buffer.alloc(0) }),
        }),
        peer,
      );
    if (!s || s.state === 'active') return answer(0x02, 0);
    const requested = r.role & 0x0f;
    const name = r.username.toString('utf8');
    const user = this.o.users.find((u) => u.name === name);
    s.lastActivity = Date.now();
    if (!user) {
      this.sessions.delete(s.bmcSessionId);
      return answer(0x0d, s.consoleSessionId);
    }
    const userMax = PRIV_NUM[user.privilege ?? 'admin'];
    if (requested < PRIVILEGE.callback || requested > PRIVILEGE.admin || requested > userMax || requested > s.maxPrivilege || (r.role & ~(0x0f | NAME_ONLY_LOOKUP)) !== 0) {
      this.sessions.delete(s.bmcSessionId);
      return answer(0x09, s.consoleSessionId);
    }
    s.user = user;
    s.role = r.role;
    s.username = r.username;
    s.consoleRandom = r.consoleRandom;
    s.bmcRandom = randomBytes(16);
    s.state = 'rakp2';
    s.maxPrivilege = requested;
    answer(0, s.consoleSessionId, { bmcRandom: s.bmcRandom, authCode: rakp2AuthCode(s.suite, userKey(user.password), this.rakpFields(s)) });
  }

  private onRakp3(p: SessionPacket, peer: { address: string; port: number }): void {
    const r = decodeRakp3(p.payload);
    const s = this.sessions.get(r.bmcSessionId);
    if (!s) return;
    // A console that lost our RAKP 4 sends RAKP 3 again: answer it again.
    if (s.state === 'active' && s.rakp4 && s.rakp3Tag === r.tag) return this.send(s.rakp4, peer);
    if (s.state !== 'rakp2' || !s.user) return;
    const fields = this.rakpFields(s);
    const answer = (status: number, checkValue: Buffer = Buffer.alloc(0)) => encodeV2({ payloadType: PAYLOAD.rakp4, sessionId: 0, sequence: 0, payload: encodeRakp4({ tag: r.tag, status, consoleSessionId: s.consoleSessionId, checkValue }) });
    if (r.status !== 0) {
      this.sessions.delete(s.bmcSessionId);
      return;
    }
    const kuid = userKey(s.user.password);
    if (!sameBytes(rakp3AuthCode(s.suite, kuid, fields), r.authCode)) {
      this.sessions.delete(s.bmcSessionId);
      return this.send(answer(0x0f), peer);
    }
    const kg = parseKg(this.o.kg);
    const sik = sessionIntegrityKey(s.suite, kg ?? kuid, fields);
    const { k1, k2 } = deriveKeys(s.suite, sik);
    s.keys = { suite: s.suite, k1, k2 };
    s.state = 'active';
    s.privilege = Math.min(PRIVILEGE.user, s.maxPrivilege);
    s.rakp3Tag = r.tag;
    s.rakp4 = answer(0, rakp4CheckValue(s.suite, sik, fields));
    s.peer = peer;
    this.stats.sessionsOpened++;
    this.send(s.rakp4, peer);
  }

  private onSessionMessage(p: SessionPacket, peer: { address: string; port: number }): void {
    const s = this.sessions.get(p.sessionId);
    if (!s || s.state !== 'active' || !p.authenticated || !p.encrypted) return;
    // Sequence window: reject repeats and numbers far behind the highest seen.
    if (p.sequence === 0 || (p.sequence <= s.lastSeq && s.lastSeq - p.sequence > 8)) return;
    s.lastSeq = Math.max(s.lastSeq, p.sequence);
    s.lastActivity = Date.now();
    s.peer = peer;
    const m = decodeMessage(p.payload);
    if (m.to !== BMC_SA || m.from !== REMOTE_SWID) return;
    this.stats.commands++;
    const [cc, data] = this.command(s, m);
    s.outSeq = s.outSeq >= 0xffffffff ? 1 : s.outSeq + 1;
    this.send(encodeV2({ payloadType: PAYLOAD.ipmi, sessionId: s.consoleSessionId, sequence: s.outSeq, payload: this.reply(m, cc, data) }, s.keys), peer);
    if (m.netFn === NETFN.app && m.cmd === CMD.closeSession && cc === 0) this.sessions.delete(s.bmcSessionId);
  }

  private command(s: SimSession, m: IpmiMessage): [number, number[] | Buffer] {
    const key = `${m.netFn}/${m.cmd}`;
    if (!READ_ONLY.has(key) && s.privilege < PRIVILEGE.operator) return [0xd4, []];
    if (m.netFn === NETFN.app) {
      switch (m.cmd) {
        case CMD.getDeviceId:
          return [0, this.state.deviceId()];
        case CMD.getChannelAuthCapabilities:
          return [0, this.authCapabilities()];
        case CMD.getChannelCipherSuites:
          return this.cipherSuites(m.body);
        case CMD.setSessionPrivilegeLevel: {
          const want = m.body[0] ?? 0;
          if (want === 0) return [0, [s.privilege]];
          if (want < PRIVILEGE.user || want > PRIVILEGE.admin) return [0x80, []];
          if (want > s.maxPrivilege) return [0x81, []];
          s.privilege = want;
          return [0, [want]];
        }
        case CMD.closeSession: {
          const id = m.body.length >= 4 ? m.body.readUInt32LE(0) : 0;
          if (id !== s.bmcSessionId) {
            if (!this.sessions.has(id)) return [0x87, []];
            if (s.privilege < PRIVILEGE.admin) return [0xd4, []];
            this.sessions.delete(id);
          }
          return [0, []];
        }
      }
    }
    return this.state.handle(m.netFn, m.cmd, m.body);
  }
}
