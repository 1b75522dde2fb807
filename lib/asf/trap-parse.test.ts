import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { parseTrap, ParsedTrap } from './trap-parse';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

const COMMUNITY = 'pub\u00e9lic';

/** net-snmp's receiver on a socket we hold: what it makes of a datagram (a PDU, or an error), synchronously. */
function netSnmpReader(): (b: Buffer) => { pdu?: Record<string, unknown>; error?: Error; answered: boolean } {
  const socket = new EventEmitter() as EventEmitter & Record<string, unknown>;
  let answered = false;
  Object.assign(socket, { bind: () => undefined, address: () => ({ port: 9, address: '127.0.0.1', family: 'IPv4' }), send: () => (answered = true), close: () => undefined, unref: () => socket });
  let last: { pdu?: Record<string, unknown>; error?: Error } = {};
  const receiver = snmp.createReceiver({ port: 9, includeAuthentication: true, dgramModule: { createSocket: () => socket } }, (error: Error | null, data?: { pdu: Record<string, unknown> }) => {
    last = error ? { error } : { pdu: data!.pdu };
  });
  receiver.getAuthorizer().addCommunity(COMMUNITY);
  return (b) => {
    last = {};
    answered = false;
    socket.emit('message', b, { address: '127.0.0.1', port: 40000, family: 'IPv4', size: b.length });
    return { ...last, answered };
  };
}

/** The bytes net-snmp's sender writes for a trap (v1 or v2c; an inform with `inform`). */
function encoded(version: 1 | 2, enterprise: string, varbinds: unknown[], o: { agentAddr?: string; upTime?: number; inform?: boolean } = {}): Buffer {
  let bytes: Buffer | undefined;
  const session = snmp.createSession('127.0.0.1', COMMUNITY, { version: version === 1 ? snmp.Version1 : snmp.Version2c, trapPort: 9 });
  session.dgram.send = (buf: Buffer, _o: number, _l: number, _p: number, _h: string, cb?: () => void) => {
    bytes = Buffer.from(buf);
    cb?.();
  };
  const options = { agentAddr: o.agentAddr, upTime: o.upTime };
  if (o.inform) session.inform(enterprise, varbinds, options, () => undefined);
  else session.trap(enterprise, varbinds, options, () => undefined);
  session.close();
  if (!bytes) throw new Error('net-snmp wrote nothing');
  return bytes;
}

/** What of net-snmp's PDU the receiver uses, beside the same from parseTrap. */
function compare(ours: ParsedTrap, theirs: Record<string, unknown>): void {
  const pick = (p: Record<string, unknown>) => ({
    type: p.type,
    community: p.community,
    enterprise: p.enterprise,
    agentAddr: p.agentAddr,
    generic: p.generic,
    specific: p.specific,
    upTime: p.upTime,
    varbinds: p.varbinds,
  });
  expect(pick(ours as unknown as Record<string, unknown>)).toEqual(pick(theirs));
}

const oidArc = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
const oid = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(oidArc, { minLength: 1, maxLength: 12 })).map(([a, b, rest]) => [a, b, ...rest].join('.'));
const varbind = fc.oneof(
  fc.record({ oid, type: fc.constant(snmp.ObjectType.OctetString), value: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)) }),
  fc.record({ oid, type: fc.constant(snmp.ObjectType.Integer), value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
  fc.record({ oid, type: fc.constantFrom(snmp.ObjectType.Counter, snmp.ObjectType.Gauge, snmp.ObjectType.TimeTicks), value: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
  fc.record({ oid, type: fc.constant(snmp.ObjectType.OID), value: oid }),
  fc.record({ oid, type: fc.constant(snmp.ObjectType.IpAddress), value: fc.ipV4() }),
  fc.record({ oid, type: fc.constant(snmp.ObjectType.Null), value: fc.constant(null) }),
  fc.record({ oid, type: fc.constantFrom(snmp.ObjectType.Opaque, snmp.ObjectType.Counter64), value: fc.uint8Array({ minLength: 1, maxLength: 8 }).map((u) => Buffer.from(u)) }),
);
const trap = fc.record({
  version: fc.constantFrom(1 as const, 2 as const),
  enterprise: fc.tuple(oid, fc.integer({ min: 0, max: 2 ** 31 - 1 })).map(([o, s]) => `${o}.${s}`),
  varbinds: fc.array(varbind, { maxLength: 6 }),
  agentAddr: fc.ipV4(),
  upTime: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
});

describe('the quick trap reader', () => {
  const netSnmp = netSnmpReader();

  it('reads every v1 and v2c trap net-snmp writes, as net-snmp reads it', () => {
    fc.assert(
      fc.property(trap, (t) => {
        const b = encoded(t.version, t.enterprise, t.varbinds, { agentAddr: t.agentAddr, upTime: t.upTime });
        const ours = parseTrap(b);
        const theirs = netSnmp(b);
        expect(theirs.error).toBeUndefined();
        expect(ours).toBeDefined();
        compare(ours!, theirs.pdu!);
      }),
      { numRuns: 300 },
    );
  });

  it('reads a mangled trap only when net-snmp reads the same from it, and never throws', () => {
    const mangle = fc.oneof(
      fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }).map((m) => (b: Buffer) => {
        const c = Buffer.from(b);
        c[m.at % c.length] = m.byte;
        return c;
      }),
      fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
      fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }).map((m) => (b: Buffer) => {
        const at = m.at % b.length;
        return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
      }),
    );
    let read = 0;
    fc.assert(
      fc.property(trap, fc.array(mangle, { minLength: 1, maxLength: 3 }), (t, changes) => {
        let b = encoded(t.version, t.enterprise, t.varbinds, { agentAddr: t.agentAddr, upTime: t.upTime });
        for (const change of changes) if (b.length > 0) b = change(b);
        const ours = parseTrap(b);
        if (!ours) return;
        read++;
        const theirs = netSnmp(b);
        if (ours.community !== COMMUNITY) {
          // net-snmp refuses it for its community; what the PDU held is not told.
          expect(theirs.error).toBeInstanceOf(snmp.RequestFailedError);
          return;
        }
        expect(theirs.error).toBeUndefined();
        compare(ours, theirs.pdu!);
      }),
      { numRuns: 2000 },
    );
    // Most single byte changes land in a value: the comparison above ran on many.
    expect(read).toBeGreaterThan(100);
  });

  it('reads a value of odd length for its type (an IpAddress of 5 bytes, a Null with contents...) only as net-snmp does', () => {
    // An OCTET STRING varbind of any length whose tag is changed to another type's (every length
    // stays exact), followed by another varbind: net-snmp may read on into the value's bytes.
    const tags = [0x01, 0x02, 0x03, 0x05, 0x06, 0x40, 0x41, 0x42, 0x43, 0x44, 0x46, 0x80, 0x81, 0x82, 0x30];
    const target = Buffer.from('06072b06010401090904', 'hex'); // OID 1.3.6.1.4.1.9.9, then the value's tag
    const value = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.uint8Array({ minLength: 9, maxLength: 9 })).map(([n, u]) => Buffer.from(u.subarray(0, n)));
    fc.assert(
      fc.property(fc.constantFrom(1 as const, 2 as const), value, fc.constantFrom(...tags), fc.boolean(), (version, v, tag, more) => {
        const after = more ? [{ oid: '1.3.6.1.4.1.9.10', type: snmp.ObjectType.OctetString, value: Buffer.from('tail') }] : [];
        const b = encoded(version, '1.3.6.1.4.1.3183.1.1.7', [{ oid: '1.3.6.1.4.1.9.9', type: snmp.ObjectType.OctetString, value: v }, ...after]);
        b[b.indexOf(target) + target.length - 1] = tag;
        const ours = parseTrap(b);
        const theirs = netSnmp(b);
        if (!ours) return;
        expect(theirs.error).toBeUndefined();
        compare(ours, theirs.pdu!);
      }),
      { numRuns: 1500 },
    );
  });

  it('never throws on arbitrary bytes, and reads nothing that is not a whole message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        const b = Buffer.from(u);
        const ours = parseTrap(b);
        if (ours) compare(ours, netSnmp(b).pdu ?? {});
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves informs (net-snmp answers them), other PDUs and trailing bytes to net-snmp', () => {
    const inform = encoded(2, '1.3.6.1.4.1.3183.1.1.0.1', [], { inform: true });
    expect(parseTrap(inform)).toBeUndefined();
    expect(netSnmp(inform).answered).toBe(true);
    const v1 = encoded(1, '1.3.6.1.4.1.3183.1.1.1', [{ oid: '1.3.6.1.4.1.3183.1.1.1', type: snmp.ObjectType.OctetString, value: Buffer.alloc(46) }]);
    expect(parseTrap(v1)).toBeDefined();
    // A trailing byte: net-snmp reads on past the message's end; the quick reader does not guess.
    expect(parseTrap(Buffer.concat([v1, Buffer.from([0])]))).toBeUndefined();
    // A GetRequest in a v1 message.
    const get = Buffer.from(v1);
    get[v1.indexOf(0xa4, 2 + COMMUNITY.length)] = 0xa0;
    expect(parseTrap(get)).toBeUndefined();
    // A Boolean varbind: a type it does not read.
    const bool = encoded(2, '1.3.6.1.4.1.3183.1.1.0.1', [{ oid: '1.3.6.1.2.1', type: snmp.ObjectType.Boolean, value: true }]);
    expect(parseTrap(bool)).toBeUndefined();
    expect(netSnmp(bool).pdu).toBeDefined();
  });
});

describe('the quick trap reader at its edges (messages built by hand, byte by byte)', () => {
  type Form = 'short' | 'long1' | 'long2' | 'long3';
  // The short form holds up to 127; past that the long form of one or two bytes is the only one.
  const lengthBytes = (n: number, form: Form): number[] =>
    form === 'short' ? (n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff]) : form === 'long1' ? [0x81, n] : form === 'long2' ? [0x82, n >> 8, n & 0xff] : [0x83, 0, n >> 8, n & 0xff];
  const tlv = (tag: number, body: Buffer | number[], form: Form = 'short'): Buffer => {
    const b = Buffer.from(body);
    return Buffer.concat([Buffer.from([tag, ...lengthBytes(b.length, form)]), b]);
  };
  const int = (...bytes: number[]) => tlv(0x02, bytes);
  const str = (s: string) => tlv(0x04, Buffer.from(s));
  const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
  // 1.3.6.1.2.1.1.3.0 (sysUpTime.0) and 1.3.6.1.4.1.3183.1.1 (the PET enterprise)
  const SYS_UPTIME = [0x2b, 6, 1, 2, 1, 1, 3, 0];
  const PET = [0x2b, 6, 1, 4, 1, 0x98, 0x6f, 1, 1];
  const varbind = (oidBytes: number[], value: Buffer) => seq(tlv(0x06, oidBytes), value);
  const v2 = (o: { version?: Buffer; community?: Buffer; head?: Buffer[]; varbinds?: Buffer[]; form?: Form; after?: Buffer } = {}) =>
    Buffer.concat([
      tlv(
        0x30,
        Buffer.concat([
          o.version ?? int(1),
          o.community ?? str(COMMUNITY),
          tlv(0xa7, Buffer.concat([...(o.head ?? [int(7), int(0), int(0)]), tlv(0x30, Buffer.concat(o.varbinds ?? [varbind(SYS_UPTIME, tlv(0x43, [1, 0]))]), o.form)]), o.form),
        ]),
        o.form,
      ),
      o.after ?? Buffer.alloc(0),
    ]);
  const v1 = (o: { enterprise?: number[]; agent?: number[]; generic?: Buffer; specific?: Buffer; upTime?: Buffer } = {}) =>
    seq(int(0), str(COMMUNITY), tlv(0xa4, Buffer.concat([tlv(0x06, o.enterprise ?? PET), tlv(0x40, o.agent ?? [10, 0, 0, 1]), o.generic ?? int(6), o.specific ?? int(0x01, 0x02), o.upTime ?? tlv(0x43, [0x30, 0x39]), seq()])));
  const netSnmp = netSnmpReader();
  /** Read by us, and as net-snmp reads it. */
  const read = (b: Buffer) => {
    const ours = parseTrap(b);
    expect(ours).toBeDefined();
    const theirs = netSnmp(b);
    expect(theirs.error).toBeUndefined();
    compare(ours!, theirs.pdu!);
    return ours!;
  };

  it('reads a v2c trap and a v1 trap field by field', () => {
    expect(read(v2())).toMatchObject({ version: 1, community: COMMUNITY, type: 0xa7, varbinds: [{ oid: '1.3.6.1.2.1.1.3.0', type: 0x43, value: 256 }] });
    expect(read(v1())).toMatchObject({ version: 0, type: 0xa4, enterprise: '1.3.6.1.4.1.3183.1.1', agentAddr: '10.0.0.1', generic: 6, specific: 258, upTime: 12345, varbinds: [] });
  });

  it('reads lengths in the long form of one and two bytes as the short form, and leaves three to net-snmp', () => {
    const short = parseTrap(v2());
    expect(read(v2({ form: 'long1' }))).toEqual(short);
    expect(read(v2({ form: 'long2' }))).toEqual(short);
    expect(parseTrap(v2({ form: 'long3' }))).toBeUndefined();
  });

  it('reads an empty community (the receiver then refuses it, as net-snmp does) and an empty string value', () => {
    expect(parseTrap(v2({ community: str('') }))?.community).toBe('');
    expect(netSnmp(v2({ community: str('') })).error?.message).toMatch(/community not found/);
    expect(read(v2({ varbinds: [varbind(SYS_UPTIME, tlv(0x04, []))] })).varbinds[0].value).toEqual(Buffer.alloc(0));
  });

  it('reads integers of up to six bytes, and leaves longer ones to net-snmp', () => {
    expect(read(v2({ varbinds: [varbind(SYS_UPTIME, int(0x7f, 1, 2, 3, 4, 5))] })).varbinds[0].value).toBe(0x7f0102030405);
    expect(parseTrap(v2({ varbinds: [varbind(SYS_UPTIME, int(0, 1, 2, 3, 4, 5, 6))] }))).toBeUndefined();
    expect(parseTrap(v2({ head: [int(0, 1, 2, 3, 4, 5, 6), int(0), int(0)] }))).toBeUndefined();
    expect(parseTrap(v1({ generic: int(0, 0, 0, 0, 0, 0, 6) }))).toBeUndefined();
    expect(parseTrap(v1({ specific: int(0, 0, 0, 0, 0, 0, 1) }))).toBeUndefined();
    expect(parseTrap(v1({ upTime: tlv(0x43, [0, 0, 0, 0, 0, 0, 1]) }))).toBeUndefined();
  });

  it('reads OIDs of up to 128 bytes, and leaves empty, longer and unfinished ones to net-snmp', () => {
    const long = [0x2b, ...Array(127).fill(1)];
    expect(read(v2({ varbinds: [varbind(long, tlv(0x05, []))] })).varbinds[0].oid).toBe(`1.3.${Array(127).fill(1).join('.')}`);
    expect(parseTrap(v2({ varbinds: [varbind([...long, 1], tlv(0x05, []))] }))).toBeUndefined();
    expect(parseTrap(v2({ varbinds: [varbind([], tlv(0x05, []))] }))).toBeUndefined();
    expect(parseTrap(v2({ varbinds: [varbind([0x2b, 6, 0x81], tlv(0x05, []))] }))).toBeUndefined();
    expect(parseTrap(v1({ enterprise: [0x2b, 6, 0x81] }))).toBeUndefined();
  });

  it('leaves to net-snmp: another version, an agent address not of 4 bytes, and every length that is not exact', () => {
    for (const version of [2, 3]) expect(parseTrap(v2({ version: int(version) }))).toBeUndefined();
    expect(parseTrap(v1({ agent: [10, 0, 0, 1, 2] }))).toBeUndefined();
    // Bytes after the message, after the PDU inside it, after the varbind list inside the PDU.
    expect(parseTrap(v2({ after: Buffer.from([0]) }))).toBeUndefined();
    const inner = Buffer.concat([int(7), int(0), int(0), seq(varbind(SYS_UPTIME, tlv(0x43, [1])))]);
    expect(parseTrap(seq(int(1), str(COMMUNITY), tlv(0xa7, inner), Buffer.from([5, 0])))).toBeUndefined();
    expect(parseTrap(seq(int(1), str(COMMUNITY), tlv(0xa7, Buffer.concat([inner, Buffer.from([5, 0])]))))).toBeUndefined();
    // The same with a whole varbind after the PDU: it is no part of the trap.
    const stray = varbind(SYS_UPTIME, tlv(0x05, []));
    expect(parseTrap(seq(int(1), str(COMMUNITY), tlv(0xa7, inner), stray))).toBeUndefined();
    expect(parseTrap(Buffer.concat([v2(), stray]))).toBeUndefined();
    // A varbind with something after its value; one with no value; a value running past its varbind.
    expect(parseTrap(v2({ varbinds: [seq(tlv(0x06, SYS_UPTIME), tlv(0x05, []), tlv(0x05, []))] }))).toBeUndefined();
    expect(parseTrap(v2({ varbinds: [seq(tlv(0x06, SYS_UPTIME))] }))).toBeUndefined();
    expect(parseTrap(v2({ varbinds: [seq(tlv(0x06, SYS_UPTIME), Buffer.from([0x04, 5, 1, 2]))] }))).toBeUndefined();
    // A header whose length byte is missing, and one whose long-form length bytes are.
    expect(parseTrap(v2({ varbinds: [seq(tlv(0x06, SYS_UPTIME), Buffer.from([0x04]))] }))).toBeUndefined();
    expect(parseTrap(v2({ varbinds: [seq(tlv(0x06, SYS_UPTIME), Buffer.from([0x04, 0x82, 0]))] }))).toBeUndefined();
    expect(parseTrap(v2({ varbinds: [seq(tlv(0x06, SYS_UPTIME), Buffer.from([0x04, 0x81]))] }))).toBeUndefined();
  });
});
