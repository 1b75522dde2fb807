/**
 * The binary parsers of untrusted datagrams (IPMI/RMCP+, RMCP presence, SNMP traps, PET variable data) fed
 * real-size input: whole datagrams up to each one's cap, random and mutated from valid ones
 * (`size: 'max'`: at fast-check's default size an array stays near 10 elements whatever its maxLength).
 * Each refuses with its own error (or ignores) and never throws anything else.
 */
import * as fc from 'fast-check';
import { decodePet, encodePet, PET_ENTERPRISE, PET_VARBIND_OID, petToAlert, specificTrapOf } from '../../lib/asf/pet';
import { parseTrap } from '../../lib/asf/trap-parse';
import { buildPresencePong, readPresencePong, readRmcp } from '../../lib/asf/rmcp';
import { decodeDatagram, decodeMessage, encodeMessage, encodeV2, MAX_DATAGRAM, PacketError } from '../../lib/ipmi/packet';

/** A valid datagram with some of its bytes overwritten and its length changed. */
const mutated = (valid: Buffer, max: number) =>
  fc
    .tuple(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 40, size: 'max' }), fc.integer({ min: 0, max }), fc.uint8Array({ maxLength: max, size: 'max' }))
    .map(([edits, length, tail]) => {
      const b = Buffer.concat([valid, Buffer.from(tail)]).subarray(0, length);
      const out = Buffer.from(b);
      for (const [at, v] of edits) if (out.length) out[at % out.length] = v;
      return out;
    });

function onlyThrows<E>(type: new (...a: never[]) => E, fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof type)) throw e;
  }
}

describe('binary parsers at real sizes', () => {
  it('IPMI datagrams up to and past the 1,024-byte cap', () => {
    const message = encodeMessage({ to: 0x81, netFn: 0x07, toLun: 0, from: 0x20, seq: 3, fromLun: 0, cmd: 0x01, body: Buffer.alloc(40, 0x11) });
    const valid = encodeV2({ payloadType: 0, sessionId: 0x01020304, sequence: 5, payload: message });
    const datagram = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: MAX_DATAGRAM + 64, size: 'max' }).map((a) => Buffer.from(a)), mutated(valid, MAX_DATAGRAM + 64));
    fc.assert(
      fc.property(datagram, (b) => {
        onlyThrows(PacketError, () => {
          const p = decodeDatagram(b);
          onlyThrows(PacketError, () => decodeMessage(p.payload));
        });
      }),
      { numRuns: 2000 },
    );
    expect(decodeMessage(decodeDatagram(valid).payload).cmd).toBe(0x01);
    expect(() => decodeDatagram(Buffer.alloc(MAX_DATAGRAM + 1, 6))).toThrow(/too long/);
  });

  it('RMCP presence datagrams of any size up to an Ethernet frame', () => {
    const valid = buildPresencePong(7, { iana: 343, oem: 0x42a01202, ipmi: true, dash: true });
    const datagram = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 1500, size: 'max' }).map((a) => Buffer.from(a)), mutated(valid, 1500));
    fc.assert(
      fc.property(datagram, (b) => {
        readRmcp(b);
        readPresencePong(b);
      }),
      { numRuns: 2000 },
    );
    expect(readPresencePong(valid)?.tag).toBe(7);
  });

  it('SNMP trap messages up to and past the 2 KB datagram cap: read whole or left to net-snmp, never a throw', () => {
    const snmp = require('net-snmp');
    let valid: Buffer | undefined;
    const session = snmp.createSession('127.0.0.1', 'public', { version: snmp.Version1, trapPort: 9 });
    session.dgram.send = (buf: Buffer, _o: number, _l: number, _p: number, _h: string, cb?: () => void) => {
      valid = Buffer.from(buf);
      cb?.();
    };
    const varbind = encodePet({ sequence: 1, severity: 0x10, entity: 0x17, sensorNumber: 3 });
    session.trap(`${PET_ENTERPRISE}.${specificTrapOf({ sensorType: 5, eventType: 0x6f, offset: 0 })}`, [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: varbind }], { agentAddr: '10.0.0.1' }, () => undefined);
    session.close();
    expect(parseTrap(valid!)?.varbinds[0].value).toEqual(varbind);
    const datagram = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 2048 + 64, size: 'max' }).map((a) => Buffer.from(a)), mutated(valid!, 2048 + 64));
    fc.assert(
      fc.property(datagram, (b) => {
        const t = parseTrap(b);
        if (t) expect(t.varbinds.length).toBeLessThanOrEqual(b.length / 4);
      }),
      { numRuns: 2000 },
    );
  });

  it('PET variable data up to the 2 KB datagram cap, with any specific trap', () => {
    const valid = encodePet({ sequence: 1, severity: 0x10, entity: 0x17, sensorNumber: 3, iana: 343, systemId: 0x1234 });
    const data = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 2048, size: 'max' }).map((a) => Buffer.from(a)), mutated(valid, 2048));
    fc.assert(
      fc.property(fc.integer(), data, (specific, b) => {
        const a = petToAlert(decodePet(specific, b), { device: { host: '192.0.2.1' } });
        expect(a.summary.length).toBeGreaterThan(0);
        expect(a.summary.length).toBeLessThan(1000);
      }),
      { numRuns: 2000 },
    );
  });
});
