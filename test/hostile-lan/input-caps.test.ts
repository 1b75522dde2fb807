/** Inputs that would turn one message into a flood or a DNS lookup of garbage. */
import * as dgram from 'node:dgram';
import { checkHost, deviceFromObject } from '../../lib/device';
import { InputError } from '../../lib/errors';
import { MAX_MACS_PER_WAKE, wake } from '../../lib/wol';

describe('host check', () => {
  it.each(['192.168.1.5:16992', 'pc-01:16992', '[::1]:16992', '10.0.0.1:80', '999.1.1.1', '1.2.3', 'dead:beef', '::1]', '[pc-01]', 'a b', ''])('refuses %j', (h) => {
    expect(() => checkHost(h)).toThrow(InputError);
  });
  it.each([
    ['192.168.1.5', '192.168.1.5'],
    ['pc-01.example.lan', 'pc-01.example.lan'],
    ['::1', '::1'],
    ['[fe80::1]', 'fe80::1'],
    ['2001:db8::42', '2001:db8::42'],
    [' localhost ', 'localhost'],
  ])('accepts %j', (h, want) => {
    expect(checkHost(h)).toBe(want);
  });
  it('refuses host:port in an inline device before any lookup', () => {
    expect(() => deviceFromObject({ host: '192.168.1.5:16992' })).toThrow(/device.host "192.168.1.5:16992" is not a host name or IP address/);
  });
  it('quotes at most a short piece of a huge host', () => {
    let message = '';
    try {
      checkHost('x:'.repeat(1_000_000));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.length).toBeLessThan(200);
  });
});

describe('wake with many MACs', () => {
  it('refuses 100,000 MACs with a clear error and sends nothing', async () => {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    let received = 0;
    udp.on('message', () => received++);
    try {
      const macs = Array.from({ length: 100_000 }, (_, i) => `00:16:3e:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
      await expect(wake({ macs, address: '127.0.0.1', port: udp.address().port })).rejects.toThrow(/100000 MAC addresses in one wake; at most 1024/);
      // The largest allowed list goes out whole.
      const sent = await wake({ macs: macs.slice(0, MAX_MACS_PER_WAKE), address: '127.0.0.1', port: udp.address().port, repeat: 1, spacingMs: 0, packetsPerSecond: 0 });
      expect(sent.packets).toBe(MAX_MACS_PER_WAKE);
      for (let i = 0; i < 200 && received < MAX_MACS_PER_WAKE; i++) await new Promise((r) => setTimeout(r, 10));
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThanOrEqual(MAX_MACS_PER_WAKE);
    } finally {
      udp.close();
    }
  });
});
