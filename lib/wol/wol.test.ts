import * as dgram from 'node:dgram';
import * as os from 'node:os';
import fc from 'fast-check';
import { buildMagicPacket, MAGIC_PACKET_BYTES, parseMagicPacket, parseSecureOn } from './magic-packet';
import { formatMac, normalizeMac, parseMac } from './mac';
import { planWake, wake } from './send';

describe('MAC addresses', () => {
  it.each(['aa:bb:cc:dd:ee:0f', 'AA-BB-CC-DD-EE-0F', 'aabb.ccdd.ee0f', 'AABBCCDDEE0F', ' aA:Bb:cC:dD:eE:0f '])('reads %s', (s) => {
    expect(normalizeMac(s)).toBe('aa:bb:cc:dd:ee:0f');
  });

  it.each([
    ['aa:bb:cc:dd:ee', /"aa:bb:cc:dd:ee" is not a MAC address/],
    ['aa:bb:cc:dd:ee:gg', /"aa:bb:cc:dd:ee:gg" is not a MAC address/],
    ['aa:bb-cc:dd:ee:ff', /"aa:bb-cc:dd:ee:ff" is not a MAC address/],
    ['aabbccddeeff0', /"aabbccddeeff0" is not a MAC address/],
    ['aabb.ccdd.eeff.0011', /is not a MAC address/],
    ['', /"" is not a MAC address/],
    [42, /must be text.*number 42/],
    [null, /must be text.*null/],
    [{ mac: 'x' }, /must be text.*an object/],
  ])('refuses %p, naming it', (v, message) => {
    expect(() => parseMac(v)).toThrow(message);
    try {
      parseMac(v);
    } catch (e) {
      expect((e as { code: string }).code).toBe('BAD_INPUT');
    }
  });
});

describe('magic packets', () => {
  it('is 6 x FF then the MAC 16 times, 102 bytes', () => {
    const p = buildMagicPacket('01:23:45:67:89:ab');
    expect(p.length).toBe(102);
    expect(p.subarray(0, 6).toString('hex')).toBe('ffffffffffff');
    expect(p.subarray(6).toString('hex')).toBe('0123456789ab'.repeat(16));
  });

  it('appends a 6-byte or 4-byte SecureOn password', () => {
    expect(buildMagicPacket('01:23:45:67:89:ab', '11:22:33:44:55:66').subarray(102).toString('hex')).toBe('112233445566');
    expect(buildMagicPacket('01:23:45:67:89:ab', '192.168.1.2').subarray(102).toString('hex')).toBe('c0a80102');
    expect(buildMagicPacket('01:23:45:67:89:ab', 'deadbeef').length).toBe(106);
  });

  it.each([
    ['11:22:33:44:55', /SecureOn password is 5 bytes; it must be 4 bytes/],
    ['1122334455667788', /SecureOn password is 8 bytes/],
    ['11', /SecureOn password is 1 byte;/],
    ['300.1.1.1', /numbers 0-255/],
    ['hunter2', /must be 4 bytes .* or 6 bytes/],
    ['11:22-33:44:55:66', /mixes ":" and "-"/],
  ])('refuses the SecureOn password %s without repeating it', (pw, message) => {
    expect(() => parseSecureOn(pw)).toThrow(message);
    try {
      parseSecureOn(pw);
    } catch (e) {
      expect((e as Error).message).not.toContain(pw);
    }
  });

  it('parses what it builds, wherever the packet sits in a payload', () => {
    const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
    const password = fc.option(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 6, maxLength: 6 })), { nil: undefined });
    // A prefix without 0xFF cannot contain a competing sync stream.
    // `size: 'max'`: at fast-check's default size a "maxLength: 40" array stays near 10 bytes.
    const prefix = fc.uint8Array({ maxLength: 40, size: 'max' }).map((a) => a.map((b) => (b === 0xff ? 0 : b)));
    fc.assert(
      fc.property(mac, password, prefix, (m, pw, pre) => {
        const packet = buildMagicPacket(Buffer.from(m), pw ? Buffer.from(pw) : undefined);
        const found = parseMagicPacket(Buffer.concat([Buffer.from(pre), packet]));
        expect(found?.mac).toBe(formatMac(Buffer.from(m)));
        expect(found?.offset).toBe(pre.length);
        expect(found?.secureOn?.toString('hex')).toBe(pw ? Buffer.from(pw).toString('hex') : undefined);
      }),
    );
  });

  it('finds the MAC when it starts with FF bytes or the sync run is longer than six', () => {
    expect(parseMagicPacket(buildMagicPacket('ff:ff:00:11:22:33'))?.mac).toBe('ff:ff:00:11:22:33');
    const longer = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), buildMagicPacket('00:11:22:33:44:55')]);
    expect(parseMagicPacket(longer)).toMatchObject({ mac: '00:11:22:33:44:55', offset: 3 });
  });

  it('finds nothing in garbage and never throws on it', () => {
    fc.assert(
      // At least 102 bytes, or the parser's loop never runs.
      fc.property(fc.uint8Array({ minLength: MAGIC_PACKET_BYTES, maxLength: 300, size: 'max' }), (a) => {
        const r = parseMagicPacket(Buffer.from(a));
        // Random bytes essentially never hold 16 equal copies after a sync run.
        if (r) expect(a.length).toBeGreaterThanOrEqual(MAGIC_PACKET_BYTES);
      }),
    );
    expect(parseMagicPacket(Buffer.concat([Buffer.alloc(6, 0xff), Buffer.from('0123456789ab'.repeat(15) + '0123456789ac', 'hex')]))).toBeUndefined();
  });
});

describe('planning a wake (bad input fails before anything is sent)', () => {
  it.each([
    [{ macs: 'zz' }, /MAC address "zz" is not a MAC address/],
    [{ macs: ['00:11:22:33:44:55', 'oops'] }, /MAC address #2 "oops"/],
    [{ macs: [] }, /no MAC address to wake/],
    [{ macs: '00:11:22:33:44:55', address: '300.1.1.1' }, /broadcast address "300.1.1.1" is not an IPv4 address/],
    [{ macs: '00:11:22:33:44:55', address: '192.168.1' }, /broadcast address "192.168.1" is not an IPv4 address/],
    [{ macs: '00:11:22:33:44:55', address: 'not a host!' }, /broadcast address "not a host!" is not an IP address or host name/],
    [{ macs: '00:11:22:33:44:55', port: 0 }, /WOL port "0" is not a port number/],
    [{ macs: '00:11:22:33:44:55', port: 70000 }, /WOL port "70000"/],
    [{ macs: '00:11:22:33:44:55', repeat: 0 }, /repeat "0" must be a number from 1 to 100/],
    [{ macs: '00:11:22:33:44:55', repeat: 2.5 }, /repeat "2.5" must be a whole number/],
    [{ macs: '00:11:22:33:44:55', secureOn: '11:22:33' }, /SecureOn password is 3 bytes/],
    [{ macs: '00:11:22:33:44:55', interface: 'nosuch0' }, /unknown network interface "nosuch0" \(this machine has: .*lo/],
    [{ macs: '00:11:22:33:44:55', interface: '203.0.113.77' }, /no network interface of this machine has the address 203.0.113.77/],
  ])('refuses %p', async (o, message) => {
    await expect(planWake(o as never)).rejects.toThrow(message);
  });

  it('defaults to the limited broadcast on port 9, 3 packets per MAC', async () => {
    const plan = await planWake({ macs: 'AA-BB-CC-DD-EE-FF' });
    expect(plan).toMatchObject({ address: '255.255.255.255', port: 9, repeat: 3, macs: ['aa:bb:cc:dd:ee:ff'] });
    expect(plan.packets[0].length).toBe(102);
  });

  it('sends from the address of a named interface', async () => {
    const plan = await planWake({ macs: '00:11:22:33:44:55', address: '127.0.0.1', interface: 'lo' });
    expect(plan.source).toBe(os.networkInterfaces().lo?.find((a) => a.family === 'IPv4')?.address);
  });
});

describe('sending', () => {
  let receiver: dgram.Socket;
  let port: number;
  let got: Array<{ at: number; data: Buffer; from: string }>;

  beforeEach(async () => {
    got = [];
    receiver = dgram.createSocket('udp4');
    receiver.on('message', (data, r) => got.push({ at: performance.now(), data, from: `${r.address}:${r.port}` }));
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', () => resolve()));
    port = receiver.address().port;
  });
  afterEach(() => receiver.close());

  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('sends every MAC in rounds, repeat times, from one socket', async () => {
    const macs = ['00:00:00:00:00:01', '00:00:00:00:00:02', '00:00:00:00:00:03'];
    const r = await wake({ macs, address: '127.0.0.1', port, repeat: 2, spacingMs: 20 });
    await settle();
    expect(r).toMatchObject({ packets: 6, address: '127.0.0.1', port, macs });
    expect(got.map((g) => parseMagicPacket(g.data)?.mac)).toEqual([...macs, ...macs]);
    expect(new Set(got.map((g) => g.from)).size).toBe(1);
    // The second round starts at least the spacing after the first ended.
    expect(got[3].at - got[2].at).toBeGreaterThanOrEqual(10);
  });

  it('paces a long list instead of sending it in one burst', async () => {
    const macs = Array.from({ length: 120 }, (_, i) => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`);
    await wake({ macs, address: '127.0.0.1', port, repeat: 1, packetsPerSecond: 1000 });
    await settle();
    expect(got).toHaveLength(120);
    // 120 packets at 1000/s cannot take less than ~119 ms; a burst would take a few.
    expect(got[119].at - got[0].at).toBeGreaterThanOrEqual(100);
    // And no 20 ms window holds more than its share (20 + timer slack).
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, got.filter((g) => g.at >= got[i].at && g.at < got[i].at + 20).length);
    expect(worst).toBeLessThanOrEqual(30);
  });

  it('carries the SecureOn password in every packet', async () => {
    await wake({ macs: '00:11:22:33:44:55', secureOn: '01:02:03:04:05:06', address: '127.0.0.1', port, repeat: 1 });
    await settle();
    expect(parseMagicPacket(got[0].data)?.secureOn?.toString('hex')).toBe('010203040506');
  });

  it('sends over IPv6 to an IPv6 address', async () => {
    const r6 = dgram.createSocket('udp6');
    const got6: Buffer[] = [];
    r6.on('message', (m) => got6.push(m));
    await new Promise<void>((resolve) => r6.bind(0, '::1', () => resolve()));
    try {
      const r = await wake({ macs: '00:11:22:33:44:55', address: '[::1]', port: r6.address().port, repeat: 1 });
      await settle();
      expect(r.address).toBe('::1');
      expect(parseMagicPacket(got6[0])?.mac).toBe('00:11:22:33:44:55');
    } finally {
      r6.close();
    }
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    const macs = Array.from({ length: 200 }, (_, i) => `02:00:00:00:01:${i.toString(16).padStart(2, '0')}`);
    const sending = wake({ macs, address: '127.0.0.1', port, repeat: 1, packetsPerSecond: 500, signal: ac.signal });
    setTimeout(() => ac.abort(), 60);
    await expect(sending).rejects.toThrow();
    await settle();
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(200);
  });
});
