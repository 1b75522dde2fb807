/**
 * Addresses and ports for filters, checked against Node's own implementations: net.BlockList for
 * what a network or a range matches, and the WHATWG URL serializer (RFC 5952) for IPv6 text.
 */
import { BlockList, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { formatAddress, formatIp, fromHex, ipBytes, parseAddress, parsePort } from './address';

const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b));
const v6 = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 8 }))
  .map(([b, at, zeros]) => {
    // Runs of zero groups, so "::" compression is exercised.
    const x = Buffer.from(b);
    for (let i = at; i < Math.min(8, at + zeros); i++) x.writeUInt16BE(0, i * 2);
    return x;
  });

/** What the device does with a filter address: AND with the mask, or compare with the range. */
function deviceMatches(hex: { address: string; mask?: string; end?: string }, probe: Buffer): boolean {
  const a = fromHex(hex.address)!;
  if (hex.end) return Buffer.compare(probe, a) >= 0 && Buffer.compare(probe, fromHex(hex.end)!) <= 0;
  const m = hex.mask ? fromHex(hex.mask)! : Buffer.alloc(a.length, 0xff);
  return probe.every((x, i) => (x & m[i]) === (a[i] & m[i]));
}

describe('IP addresses', () => {
  it('reads IPv4, IPv6, networks, netmasks and ranges into the hex the device holds', () => {
    expect(parseAddress('10.0.0.5')).toEqual({ version: 4, address: '0A000005' });
    expect(parseAddress(' 10.1.2.3/8 ')).toEqual({ version: 4, address: '0A000000', mask: 'FF000000' });
    expect(parseAddress('192.168.1.0/255.255.255.0')).toEqual({ version: 4, address: 'C0A80100', mask: 'FFFFFF00' });
    expect(parseAddress('10.0.0.1-10.0.0.9')).toEqual({ version: 4, address: '0A000001', end: '0A000009' });
    expect(parseAddress('10.0.0.7-10.0.0.7')).toEqual({ version: 4, address: '0A000007' });
    expect(parseAddress('10.0.0.7/32')).toEqual({ version: 4, address: '0A000007' });
    expect(parseAddress('2001:db8::/32')).toEqual({ version: 6, address: '20010DB8000000000000000000000000', mask: 'FFFFFFFF000000000000000000000000' });
    expect(parseAddress('::ffff:192.0.2.1').address).toBe('00000000000000000000FFFFC0000201');
    expect(formatAddress(parseAddress('10.1.2.3/8'))).toBe('10.0.0.0/8');
    expect(formatAddress(parseAddress('2001:DB8:0:0:1::1-2001:db8::1:0:0:ff'))).toBe('2001:db8::1:0:0:1-2001:db8::1:0:0:ff');
  });

  it.each([
    ['10.0.0.256', /is not an IP address/],
    ['10.0.0', /is not an IP address/],
    ['abc', /is a host name/],
    ['update.example.com', /is a host name; give its IP address/],
    ['10.0.0.0/33', /prefix longer than 32 bits/],
    ['2001:db8::/129', /prefix longer than 128 bits/],
    ['10.0.0.0/255.0.255.0', /neither a prefix length nor a contiguous netmask/],
    ['10.0.0.0/8/8', /is not an IP network/],
    ['10.0.0.9-10.0.0.1', /ends before it starts/],
    ['10.0.0.1-2001:db8::1', /mixes IPv4 and IPv6/],
    ['fe80::1%eth0', /is not an IP address/],
    ['', /must be an IP address/],
  ])('refuses %j', (text, message) => {
    expect(() => parseAddress(text, 'host')).toThrow(message);
  });

  it('refuses what is not text', () => {
    expect(() => parseAddress(42)).toThrow(/must be an IP address/);
    expect(() => parseAddress(undefined)).toThrow(/must be an IP address/);
  });

  it('writes IPv6 as RFC 5952 does (the URL serializer agrees) and reads it back', () => {
    fc.assert(
      fc.property(v6, (bytes) => {
        const text = formatIp(bytes);
        expect(isIPv6(text)).toBe(true);
        expect(text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
        expect(new URL(`http://[${text}]/`).hostname).toBe(new URL(`http://[${bytes.toString('hex').match(/.{4}/g)!.join(':')}]/`).hostname);
        expect(ipBytes(text)?.equals(bytes)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a network matches exactly what net.BlockList says it does', () => {
    fc.assert(
      fc.property(fc.oneof(v4.map((b) => [b, 32] as const), v6.map((b) => [b, 128] as const)), fc.nat(), fc.nat(), ([net, bits], prefixSeed, flip) => {
        const prefix = prefixSeed % (bits + 1);
        const text = `${formatIp(net)}/${prefix}`;
        const parsed = parseAddress(text);
        const list = new BlockList();
        list.addSubnet(formatIp(net), prefix, bits === 32 ? 'ipv4' : 'ipv6');
        // A probe inside the network (one bit flipped below the prefix) or anywhere.
        const probe = Buffer.from(net);
        const bit = flip % bits;
        probe[bit >> 3] ^= 0x80 >> (bit & 7);
        for (const p of [net, probe]) expect(deviceMatches(parsed, p)).toBe(list.check(formatIp(p), bits === 32 ? 'ipv4' : 'ipv6'));
      }),
      { numRuns: 500 },
    );
  });

  it('a range matches exactly what net.BlockList says it does', () => {
    fc.assert(
      fc.property(v4, v4, v4, (a, b, probe) => {
        const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
        const parsed = parseAddress(`${formatIp(lo)}-${formatIp(hi)}`);
        const list = new BlockList();
        list.addRange(formatIp(lo), formatIp(hi), 'ipv4');
        for (const p of [lo, hi, probe]) expect(deviceMatches(parsed, p)).toBe(list.check(formatIp(p), 'ipv4'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('ports', () => {
  it('reads single ports, ranges and { start, end }', () => {
    expect(parsePort(443)).toEqual({ start: 443, end: 443 });
    expect(parsePort(' 135 - 139 ')).toEqual({ start: 135, end: 139 });
    expect(parsePort({ start: 1000, end: '2000' })).toEqual({ start: 1000, end: 2000 });
  });

  it.each([[0], [65536], [-1], [1.5], ['http'], ['80-'], ['9-1'], [null], [[80]]])('refuses %j', (p) => {
    expect(() => parsePort(p)).toThrow(/is not a port|ends before it starts/);
  });
});
