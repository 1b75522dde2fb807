/**
 * The simulator's own Wake-on-LAN and RMCP codecs (packages/sim/src/wol-codec.ts, rmcp-codec.ts):
 * against bytes written by hand from the definitions, and against lib's codecs as two independent
 * readings that must agree, so tests that go through the simulator are not lib checking itself.
 */
import * as fc from 'fast-check';
import { buildPresencePing, buildRmcpAck, readPresencePong, readRmcp } from '../lib/asf/rmcp';
import { buildMagicPacket, parseMagicPacket } from '../lib/wol/magic-packet';
import { ackFor, amtOem, pong, readPing } from '../packages/sim/src/rmcp-codec';
import { findWakePatterns, macBytes, secureOnBytes } from '../packages/sim/src/wol-codec';

describe("the simulator's Wake-on-LAN reading", () => {
  it('finds the pattern written by hand, with what follows it', () => {
    const mac = [0x02, 0x00, 0x86, 0x12, 0x34, 0x56];
    const bytes = [0x00, 0x01, ...Array(6).fill(0xff), ...Array.from({ length: 16 }, () => mac).flat(), 0xc0, 0xa8, 0x01, 0x01];
    expect(findWakePatterns(Buffer.from(bytes))).toEqual([{ mac: Buffer.from(mac), trailer: Buffer.from([0xc0, 0xa8, 0x01, 0x01]) }]);
    expect(findWakePatterns(Buffer.from(bytes.slice(0, 2 + 101)))).toEqual([]);
  });

  it('reads MACs and passwords as a PC is configured with them', () => {
    expect(macBytes('02:00:86:AA:bb:0c')).toEqual(Buffer.from([2, 0, 0x86, 0xaa, 0xbb, 0x0c]));
    expect(macBytes('02-00-86-aa-bb-0c')).toEqual(Buffer.from([2, 0, 0x86, 0xaa, 0xbb, 0x0c]));
    expect(macBytes('02:00:86:aa:bb')).toBeUndefined();
    expect(secureOnBytes('192.168.1.1')).toEqual(Buffer.from([192, 168, 1, 1]));
    expect(secureOnBytes('01:02:03:04:05:06')).toEqual(Buffer.from([1, 2, 3, 4, 5, 6]));
    expect(secureOnBytes('01020304')).toEqual(Buffer.from([1, 2, 3, 4]));
    for (const bad of ['256.1.1.1', '01:02-03:04', '0102030405', '1:02:03:04', 'password']) expect(() => secureOnBytes(bad)).toThrow();
  });

  it("agrees with lib's parser on the first packet of any payload (biased to FFh and repeats)", () => {
    const byte = fc.constantFrom(0xff, 0xff, 0xff, 0x11, 0x22, 0x00);
    const mac = fc.array(byte, { minLength: 6, maxLength: 6 });
    const payload = fc
      .tuple(fc.array(byte, { maxLength: 60, size: 'max' }), fc.option(mac, { nil: undefined }), fc.array(byte, { maxLength: 60, size: 'max' }))
      .map(([before, m, after]) => Buffer.concat([Buffer.from(before), m ? buildMagicPacket(Buffer.from(m)) : Buffer.alloc(0), Buffer.from(after)]));
    fc.assert(
      fc.property(payload, (b) => {
        const ours = findWakePatterns(b)[0];
        const libs = parseMagicPacket(b);
        expect(ours?.mac.toString('hex')).toBe(libs?.mac.replace(/:/g, ''));
        if (libs && ours) {
          expect(b.length - ours.trailer.length - 102).toBe(libs.offset);
          expect(libs.secureOn).toEqual(ours.trailer.length === 4 || ours.trailer.length === 6 ? ours.trailer : undefined);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("the simulator's RMCP reading and writing", () => {
  it('reads a ping written by hand, and what lib sends', () => {
    expect(readPing(Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x2a, 0x00, 0x00]))).toEqual({ sequence: 0xff, tag: 0x2a, wantsAck: false });
    expect(readPing(Buffer.from([0x06, 0x00, 0x07, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x01, 0x00, 0x00]))).toEqual({ sequence: 7, tag: 1, wantsAck: true });
    // A pong, another enterprise, another class, a short datagram: not pings.
    expect(readPing(Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x40, 0x2a, 0x00, 0x00]))).toBeUndefined();
    expect(readPing(Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x01, 0x57, 0x80, 0x2a, 0x00, 0x00]))).toBeUndefined();
    expect(readPing(Buffer.from([0x06, 0x00, 0xff, 0x07, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x2a, 0x00, 0x00]))).toBeUndefined();
    expect(readPing(Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x2a, 0x00]))).toBeUndefined();
    for (const [tag, seq] of [
      [0, 0xff],
      [254, 0],
      [17, 200],
    ]) {
      expect(readPing(buildPresencePing(tag, seq))).toEqual({ sequence: seq, tag, wantsAck: seq !== 0xff });
    }
  });

  it('writes the ACK and the pong as ASF 2.0 lays them out, and lib reads them', () => {
    expect(ackFor(7)).toEqual(Buffer.from([0x06, 0x00, 0x07, 0x86]));
    expect(ackFor(7)).toEqual(buildRmcpAck(7));
    expect(readRmcp(ackFor(7))).toEqual({ kind: 'ack', seq: 7, cls: 6 });
    const p = pong(0x2a, { enterprise: 343, oem: amtOem(16993, '15.0', 2), ipmi: false, dash: true });
    expect(p).toEqual(
      Buffer.from([
        0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x40, 0x2a, 0x00, 0x10, 0x00, 0x00, 0x01, 0x57, 0x42, 0x61, 0xf0, 0x02, 0x01, 0x20, 0, 0, 0, 0, 0, 0,
      ]),
    );
    expect(readPresencePong(p)).toMatchObject({ tag: 0x2a, iana: 343, ipmi: false, dash: true, asfVersion: '1.0', amt: { port: 16993, version: '15.0', provisioning: 'post' } });
    expect(amtOem(16992, '11.8', 2)).toEqual([0x42, 0x60, 0xb8, 0x02]);
  });
});
