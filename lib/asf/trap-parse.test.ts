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
