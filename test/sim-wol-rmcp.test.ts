/**
 * The simulator's Wake-on-LAN listener and RMCP presence responder: each PC wakes on its own MAC
 * (and SecureOn password), answers presence pings like AMT even while off, and a flood of garbage
 * on either port is bounded, counted and harmless. Also the oob-sim options that start them.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { join } from 'node:path';
import { openAmt } from '../lib/amt/connect';
import { readPowerStatus } from '../lib/amt/power';
import { presencePing } from '../lib/asf/ping';
import { buildPresencePing, readPresencePong, readRmcp } from '../lib/asf/rmcp';
import { Fleet, PowerEvent, startFleet, WolListener } from '../packages/sim/src';
import { parseCli } from '../packages/sim/src/cli';
import { buildMagicPacket } from '../lib/wol/magic-packet';
import { wake } from '../lib/wol/send';

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

function sendRaw(port: number, packets: Buffer[], o: { from?: string; batch?: number } = {}): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.bind(0, o.from ?? '127.0.0.1', async () => {
      try {
        for (let i = 0; i < packets.length; i++) {
          await new Promise<void>((res, rej) => s.send(packets[i], port, '127.0.0.1', (e) => (e ? rej(e) : res())));
          if (o.batch && i % o.batch === o.batch - 1) await settle(2);
        }
        s.close();
        resolve();
      } catch (e) {
        s.close();
        reject(e);
      }
    });
  });
}

describe('simulated Wake-on-LAN', () => {
  let fleet: Fleet;
  beforeEach(async () => {
    fleet = await startFleet({
      devices: 3,
      port: 0,
      power: 'off',
      wolPort: 0,
      configure: (i, o) => (i === 2 ? { ...o, wolPassword: '01:02:03:04:05:06' } : o),
    });
  });
  afterEach(() => fleet.stop());

  it('wakes only the PC whose MAC is in the packet, with cause "wol"', async () => {
    const events: PowerEvent[] = [];
    fleet.devices[1].on('power', (e: PowerEvent) => events.push(e));
    await wake({ macs: fleet.devices[1].mac, address: '127.0.0.1', port: fleet.wol!.port, repeat: 2 });
    await settle();
    expect(fleet.devices.map((d) => d.powerState)).toEqual([8, 2, 8]);
    expect(events).toEqual([{ from: 8, to: 2, cause: 'wol' }]);
    expect(fleet.wol!.stats).toMatchObject({ woke: 1, alreadyOn: 1 });
  });

  it('wants the SecureOn password when the PC has one', async () => {
    const port = fleet.wol!.port;
    const pc = fleet.devices[2];
    await wake({ macs: pc.mac, address: '127.0.0.1', port, repeat: 1 });
    await wake({ macs: pc.mac, address: '127.0.0.1', port, repeat: 1, secureOn: '01:02:03:04:05:07' });
    await settle();
    expect(pc.powerState).toBe(8);
    expect(fleet.wol!.stats.wrongPassword).toBe(2);
    await wake({ macs: pc.mac, address: '127.0.0.1', port, repeat: 1, secureOn: '01-02-03-04-05-06' });
    await settle();
    expect(pc.powerState).toBe(2);
  });

  it('counts MACs it does not know and wakes nobody', async () => {
    await wake({ macs: '02:00:86:ff:ff:ff', address: '127.0.0.1', port: fleet.wol!.port, repeat: 1 });
    await settle();
    expect(fleet.devices.every((d) => d.powerState === 8)).toBe(true);
    expect(fleet.wol!.stats.unknownMac).toBe(1);
  });

  it('survives a flood of garbage, counting it, and still wakes a PC afterwards', async () => {
    const port = fleet.wol!.port;
    const junk = [Buffer.alloc(0), Buffer.alloc(3000, 0xff), Buffer.from('hello'), Buffer.alloc(102, 0xff), buildMagicPacket('02:00:86:aa:aa:aa').subarray(0, 90)];
    const packets = Array.from({ length: 3000 }, (_, i) => junk[i % junk.length]);
    await sendRaw(port, packets, { batch: 100 });
    await settle(100);
    const s = fleet.wol!.stats;
    expect(s.received).toBeGreaterThan(2000);
    // 102 x 0xFF is a magic packet for the broadcast MAC: nobody's.
    expect(s.garbage + s.tooLarge + s.rateLimited + s.unknownMac).toBe(s.received);
    expect(s.tooLarge).toBeGreaterThan(0);
    expect(s.unknownMac).toBeGreaterThan(0);
    expect(fleet.devices.every((d) => d.powerState === 8)).toBe(true);
    await wake({ macs: fleet.devices[0].mac, address: '127.0.0.1', port, repeat: 1 });
    await settle();
    expect(fleet.devices[0].powerState).toBe(2);
  });

  it('drops what is over its rate instead of working through a backlog', async () => {
    const listener = new WolListener(fleet.devices, { port: 0, ratePerSecond: 100 });
    await listener.listen();
    try {
      const p = buildMagicPacket(fleet.devices[0].mac);
      const t0 = performance.now();
      await sendRaw(listener.port, Array.from({ length: 600 }, () => p), { batch: 100 });
      await settle(50);
      const seconds = (performance.now() - t0) / 1000;
      const s = listener.stats;
      // Loopback UDP may drop some of the burst under load; enough must arrive to pass the rate.
      expect(s.rateLimited).toBeGreaterThan(0);
      // A burst of 100 plus 100 per second, and not one more.
      expect(s.woke + s.alreadyOn).toBeLessThanOrEqual(100 + Math.ceil(100 * seconds));
      expect(s.rateLimited).toBe(s.received - s.woke - s.alreadyOn);
      expect(fleet.devices[0].powerState).toBe(2);
    } finally {
      await listener.close();
    }
  });
});

describe('who may talk to the simulator', () => {
  it('ignores senders outside the allowed blocks', async () => {
    const fleet = await startFleet({ devices: 1, port: 0, power: 'off', wolPort: 0, rmcpPort: 0, udpAllowFrom: ['127.0.0.2/32'] });
    try {
      await sendRaw(fleet.wol!.port, [buildMagicPacket(fleet.devices[0].mac)], { from: '127.0.0.1' });
      const ping = await presencePing('127.0.0.1', { port: fleet.rmcp![0].port, timeoutMs: 100, retries: 0 });
      await settle();
      expect(fleet.devices[0].powerState).toBe(8);
      expect(fleet.wol!.stats.notAllowed).toBe(1);
      expect(ping.answered).toBe(false);
      expect(fleet.rmcp![0].stats.notAllowed).toBe(1);
      await sendRaw(fleet.wol!.port, [buildMagicPacket(fleet.devices[0].mac)], { from: '127.0.0.2' });
      await settle();
      expect(fleet.devices[0].powerState).toBe(2);
    } finally {
      await fleet.stop();
    }
  });
});

describe('simulated RMCP presence', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ devices: 2, port: 0, rmcpPort: 0, configure: (i, o) => ({ ...o, power: i === 0 ? 'off' : 'on', firmware: { version: i === 0 ? '11.8.55' : '15.0.23' } }) });
  });
  afterAll(() => fleet.stop());

  it('answers like AMT, also while the PC is off', async () => {
    expect(fleet.devices[0].powerState).toBe(8);
    const off = await presencePing('127.0.0.1', { port: fleet.rmcp![0].port, timeoutMs: 500 });
    expect(off).toMatchObject({
      answered: true,
      pong: { vendor: 'intel-amt', iana: 343, supports: ['asf', 'dash'], ipmi: false, amt: { port: 16992, tls: false, version: '11.8', provisioning: 'post' } },
    });
    const on = await presencePing('127.0.0.1', { port: fleet.rmcp![1].port, timeoutMs: 500 });
    expect(on.pong?.amt?.version).toBe('15.0');
  });

  it('acknowledges a ping that asks for an RMCP ACK, then answers it', async () => {
    const s = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    s.on('message', (m) => got.push(m));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    s.send(buildPresencePing(77, 0x05), fleet.rmcp![1].port, '127.0.0.1');
    await settle(100);
    s.close();
    expect(got).toHaveLength(2);
    expect(readRmcp(got[0])).toEqual({ kind: 'ack', seq: 5, cls: 6 });
    expect(readPresencePong(got[1])?.tag).toBe(77);
  });

  it('survives a flood of garbage and keeps answering', async () => {
    const port = fleet.rmcp![0].port;
    const junk = [Buffer.alloc(0), Buffer.alloc(1000, 6), Buffer.from('0600ff06', 'hex'), Buffer.from('0600ff06000011be40000000', 'hex'), Buffer.from('not rmcp at all')];
    await sendRaw(port, Array.from({ length: 3000 }, (_, i) => junk[i % junk.length]), { batch: 100 });
    await settle(100);
    const s = fleet.rmcp![0].stats;
    expect(s.received).toBeGreaterThan(2000);
    expect(s.garbage + s.tooLarge + s.rateLimited).toBe(s.received - s.pings);
    expect((await presencePing('127.0.0.1', { port, timeoutMs: 500 })).answered).toBe(true);
  });

  it('can model an engine that sleeps with the host', async () => {
    const f = await startFleet({ devices: 1, port: 0, power: 'off', rmcpPort: 0, rmcpWhileOff: false });
    try {
      expect((await presencePing('127.0.0.1', { port: f.rmcp![0].port, timeoutMs: 100, retries: 0 })).answered).toBe(false);
      f.devices[0].powerOn('test');
      expect((await presencePing('127.0.0.1', { port: f.rmcp![0].port, timeoutMs: 300, retries: 0 })).answered).toBe(true);
      expect(f.rmcp![0].stats.silentWhileOff).toBe(1);
    } finally {
      await f.stop();
    }
  });
});

describe('oob-sim options for WOL and RMCP', () => {
  const ROOT = join(__dirname, '..');

  it('parses --wol-port, --rmcp-port and --rmcp-hosts', () => {
    expect(parseCli(['--devices', '2', '--port', '0', '--wol-port', '0', '--rmcp-port', '40000'])).toMatchObject({ wolPort: 0, rmcpPort: 40000 });
    expect(parseCli(['--devices', '2', '--port', '0', '--rmcp-port', '40000', '--rmcp-hosts', '127.1.0.1'])).toMatchObject({ rmcpPort: 40000, rmcpHosts: '127.1.0.1' });
  });

  it.each([
    [['--wol-port', 'x'], /--wol-port must be a whole number/],
    [['--wol-host', '0.0.0.0'], /--wol-host needs --wol-port/],
    [['--rmcp-port', '65535'], /--rmcp-port 65535 with 2 devices runs past port 65535/],
    [['--rmcp-hosts', '127.1.0.1'], /--rmcp-hosts needs a non-zero --rmcp-port/],
    [['--rmcp-port', '40000', '--rmcp-hosts', '127.1.0'], /--rmcp-hosts must be an IPv4 address/],
  ])('refuses %p', (args, message) => {
    expect(() => parseCli(['--devices', '2', '--port', '0', ...args])).toThrow(message);
  });

  it('prints the WOL and RMCP ports of each device, and both work', async () => {
    const p: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages', 'sim', 'src', 'cli.ts'), '--devices', '2', '--port', '0', '--power', 'off', '--wol-port', '0', '--rmcp-port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const devs = await new Promise<Record<string, any>[]>((resolve, reject) => {
        let buf = '';
        p.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          const l = buf.split('\n').filter(Boolean);
          if (l.length >= 2) resolve(l.map((x) => JSON.parse(x)));
        });
        p.on('exit', (code) => reject(new Error(`oob-sim exited ${code}`)));
      });
      expect(devs[0].wolPort).toBe(devs[1].wolPort);
      expect(devs[0].rmcpPort).not.toBe(devs[1].rmcpPort);
      const pong = await presencePing('127.0.0.1', { port: devs[1].rmcpPort, timeoutMs: 1000 });
      expect(pong.pong?.vendor).toBe('intel-amt');
      await wake({ macs: devs[1].mac, address: '127.0.0.1', port: devs[1].wolPort, repeat: 1 });
      const client = openAmt({ host: '127.0.0.1', port: devs[1].port, username: 'admin', password: 'P@ssw0rd' });
      try {
        expect((await readPowerStatus(client)).state).toBe('on');
        const other = openAmt({ host: '127.0.0.1', port: devs[0].port, username: 'admin', password: 'P@ssw0rd' });
        expect((await readPowerStatus(other)).state).toBe('off');
        other.close();
      } finally {
        client.close();
      }
    } finally {
      p.kill('SIGTERM');
    }
  });
});
