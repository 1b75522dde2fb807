/**
 * Wake-on-LAN and RMCP presence against real peers:
 *  - tshark dissects the magic packets we send (captured on loopback) as Wake-on-LAN with the right
 *    MAC and SecureOn password and no malformed flag, and our ping and the simulator's pong as ASF;
 *  - Debian's wakeonlan sending to the simulator's port wakes the simulated PC (and only it);
 *  - FreeIPMI's rmcpping gets a pong from the simulator bound to UDP 623 in a namespace we create;
 *  - our ping gets a pong from OpenIPMI's ipmi_sim;
 *  - broadcast, directed broadcast and interface binding, on a veth pair inside a namespace (so
 *    not one broadcast leaves this machine), with tshark watching the interface.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pinger, presencePing } from '../lib/asf/ping';
import { Fleet, startFleet } from '../packages/sim/src';
import { wake } from '../lib/wol/send';
import { CapturedPacket, createNamespace, jsonLines, Namespace, requirePeer, ROOT, startCapture } from './helpers/peers';

const run = promisify(execFile);
const settle = (ms = 80) => new Promise((r) => setTimeout(r, ms));

function field(p: CapturedPacket, name: string): string[] {
  return p.fields.filter((f) => f.name === name).map((f) => f.show);
}

describe('tshark reads our packets', () => {
  let receiver: dgram.Socket;
  let port: number;
  beforeAll(async () => {
    requirePeer('tshark');
    // Something listens on the port, so no ICMP unreachable muddies the capture.
    receiver = dgram.createSocket('udp4');
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', () => r()));
    port = receiver.address().port;
  });
  afterAll(() => receiver.close());

  it('as Wake-on-LAN with the right MAC and password, not malformed', async () => {
    const captured = await startCapture({ iface: 'lo', filter: `udp dst port ${port}`, count: 3, heuristicsFirst: true });
    await settle(300);
    await wake({ macs: 'AA-BB-CC-00-11-22', address: '127.0.0.1', port, repeat: 1 });
    await wake({ macs: '02:00:86:00:00:07', address: '127.0.0.1', port, repeat: 1, secureOn: '11:22:33:44:55:66' });
    await wake({ macs: '0200.8600.0008', address: '127.0.0.1', port, repeat: 1, secureOn: '192.168.7.9' });
    const packets = await captured.packets;
    expect(packets).toHaveLength(3);
    const expected = [
      { mac: 'aa:bb:cc:00:11:22', password: undefined },
      { mac: '02:00:86:00:00:07', password: '112233445566' },
      { mac: '02:00:86:00:00:08', password: 'c0a80709' },
    ];
    packets.forEach((p, i) => {
      expect(p.protocols).toMatch(/:udp:wol$/);
      expect(p.malformed).toBe(false);
      expect(p.expertErrors).toEqual([]);
      expect(field(p, 'wol.sync')).toEqual(['ff:ff:ff:ff:ff:ff']);
      expect(field(p, 'wol.mac')).toEqual(Array(16).fill(expected[i].mac));
      const pw = p.fields.find((f) => f.name === 'wol.passwd');
      expect(pw?.value).toBe(expected[i].password);
    });
    // Wireshark shows a 4-byte password as a dotted quad and a 6-byte one like a MAC.
    expect(packets[1].fields.find((f) => f.name === 'wol.passwd')?.showname).toBe('Password: 11:22:33:44:55:66');
    expect(packets[2].fields.find((f) => f.name === 'wol.passwd')?.showname).toBe('Password: 192.168.7.9');
  });

  it('as an ASF presence ping, and the simulator\'s answer as an ASF presence pong', async () => {
    const fleet = await startFleet({ devices: 1, port: 0, rmcpPort: 0 });
    try {
      const rport = fleet.rmcp![0].port;
      // RMCP lives on 623: on ephemeral ports tshark has to be told, for both ends (UDP looks up
      // the lower port first, and the ping's own port could be another protocol's).
      const captured = await startCapture({ iface: 'lo', filter: `udp port ${rport}`, count: 2, decodeAs: ['udp.port==1-65535,rmcp'] });
      await settle(300);
      const r = await presencePing('127.0.0.1', { port: rport, timeoutMs: 1000, retries: 0 });
      expect(r.answered).toBe(true);
      const [ping, pong] = await captured.packets;
      for (const p of [ping, pong]) {
        expect(p.protocols).toMatch(/:udp:rmcp:asf/);
        expect(p.malformed).toBe(false);
        expect(p.expertErrors).toEqual([]);
        expect(field(p, 'asf.iana')).toEqual(['4542']);
      }
      expect(field(ping, 'asf.type')).toEqual(['0x80']);
      expect(field(ping, 'asf.len')).toEqual(['0']);
      expect(field(pong, 'asf.type')).toEqual(['0x40']);
      expect(field(pong, 'asf.len')).toEqual(['16']);
      expect(field(pong, 'asf.tag')).toEqual(field(ping, 'asf.tag'));
    } finally {
      await fleet.stop();
    }
  });
});

describe("Debian's wakeonlan wakes the simulated PC", () => {
  let fleet: Fleet;
  let dir: string;
  beforeAll(async () => {
    requirePeer('wakeonlan');
    dir = mkdtempSync(join(tmpdir(), 'oob-wol-'));
  });
  beforeEach(async () => {
    fleet = await startFleet({ devices: 4, port: 0, power: 'off', wolPort: 0 });
  });
  afterEach(() => fleet.stop());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given one MAC on the command line', async () => {
    const { stdout } = await run('wakeonlan', ['-i', '127.0.0.1', '-p', String(fleet.wol!.port), fleet.devices[2].mac]);
    expect(stdout).toContain(`Sending magic packet to 127.0.0.1:${fleet.wol!.port} with ${fleet.devices[2].mac}`);
    await settle();
    expect(fleet.devices.map((d) => d.powerState)).toEqual([8, 8, 2, 8]);
  });

  it('given a file of MACs (wakeonlan -f)', async () => {
    const file = join(dir, 'macs.txt');
    const p = fleet.wol!.port;
    writeFileSync(file, `# two of four\n${fleet.devices[0].mac} 127.0.0.1 ${p}\n\n${fleet.devices[3].mac.toUpperCase()} 127.0.0.1 ${p}\n`);
    await run('wakeonlan', ['-f', file]);
    await settle();
    expect(fleet.devices.map((d) => d.powerState)).toEqual([2, 8, 8, 2]);
    expect(fleet.wol!.stats.woke).toBe(2);
  });
});

describe('in network namespaces we create', () => {
  let ns: Namespace;
  beforeEach(async () => {
    requirePeer('ip');
    ns = await createNamespace('wol');
  });
  afterEach(() => ns.remove());

  it("FreeIPMI's rmcpping gets a pong from the simulator on UDP 623, while the PC is off", async () => {
    const rmcpping = requirePeer('rmcpping');
    const sim = ns.spawnTs(join(ROOT, 'packages', 'sim', 'src', 'cli.ts'), ['--devices', '1', '--port', '0', '--rmcp-port', '623', '--power', 'off']);
    const [dev] = await jsonLines(sim, 1);
    expect(dev.rmcpPort).toBe(623);
    const { stdout } = await ns.exec(rmcpping, ['-v', '-c', '2', '-i', '1', '127.0.0.1']);
    expect(stdout).toMatch(/pong received from 127\.0\.0\.1: message_tag=\d+, ipmi not-supported/);
    expect(stdout).toMatch(/2 pings transmitted, 2 pongs received in time, 0\.0% packet loss/);
  });

  it('sends to the limited broadcast from a chosen interface, to a directed broadcast, and to a unicast address on port 9', async () => {
    // A veth pair inside the namespace: va 10.77.0.1 <-> vb 10.77.0.2. Nothing leaves the namespace.
    for (const args of [
      ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb'],
      ['addr', 'add', '10.77.0.1/24', 'dev', 'va'],
      ['addr', 'add', '10.77.0.2/24', 'dev', 'vb'],
      ['link', 'set', 'va', 'up'],
      ['link', 'set', 'vb', 'up'],
    ]) {
      await ns.exec('ip', args);
    }
    const onVa = await startCapture({ iface: 'va', filter: 'udp dst port 9 and dst host 255.255.255.255', count: 1, ns, heuristicsFirst: true });
    const onVb = await startCapture({ iface: 'vb', filter: 'udp dst port 9 and dst host 10.77.0.255', count: 1, ns, heuristicsFirst: true });
    await settle(300);
    const wakes = [
      { device: 0, interface: 'va' },
      { device: 1, address: '10.77.0.255', interface: 'vb' },
      { device: 0, address: '10.77.0.1', port: 9 },
      { device: 1, interface: 'nosuch0' },
    ];
    const script = ns.spawnTs(join(ROOT, 'test', 'helpers', 'wol-in-netns.ts'), [JSON.stringify(wakes)]);
    const [ready, limited, directed, unicast, bad] = await jsonLines(script, 5, 30_000);
    expect(ready.ready).toBe(true);
    expect(limited).toMatchObject({ sent: { address: '255.255.255.255', port: 9, source: '10.77.0.1' }, woke: [true, false], from: ['10.77.0.1'] });
    expect(directed).toMatchObject({ sent: { address: '10.77.0.255', port: 9, source: '10.77.0.2' }, woke: [false, true], from: ['10.77.0.2'] });
    expect(unicast).toMatchObject({ sent: { address: '10.77.0.1', port: 9 }, woke: [true, false] });
    expect(bad.error).toMatch(/unknown network interface "nosuch0" \(this machine has: .*va/);
    // tshark on each interface saw the broadcast leave by the chosen one, as Wake-on-LAN.
    const [a] = await onVa.packets;
    const [b] = await onVb.packets;
    for (const [p, mac, src] of [
      [a, ready.macs[0], '10.77.0.1'],
      [b, ready.macs[1], '10.77.0.2'],
    ] as const) {
      expect(p.protocols).toMatch(/:udp:wol$/);
      expect(p.malformed).toBe(false);
      expect(field(p, 'ip.src')).toEqual([src]);
      expect(field(p, 'wol.mac')).toEqual(Array(16).fill(mac));
    }
  });
});

describe("OpenIPMI's ipmi_sim answers our ping", () => {
  let dir: string;
  let sim: ChildProcess | undefined;
  beforeAll(() => {
    requirePeer('ipmi_sim');
    dir = mkdtempSync(join(tmpdir(), 'oob-ipmisim-'));
  });
  afterAll(() => {
    sim?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  async function freeUdpPort(): Promise<number> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const p = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }

  it('with an IPMI-capable ASF pong', async () => {
    const port = await freeUdpPort();
    writeFileSync(
      join(dir, 'lan.conf'),
      [
        'name "oobkit-test"',
        'set_working_mc 0x20',
        'startlan 1',
        `  addr 127.0.0.1 ${port}`,
        '  priv_limit admin',
        '  allowed_auths_admin md5',
        '  guid a123456789abcdefa123456789abcdef',
        'endlan',
        'user 2 true "admin" "not-used-here" admin 10 md5',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'bmc.emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n');
    sim = spawn('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'bmc.emu'), '-s', dir, '-n', '-p'], { stdio: 'ignore' });
    const pinger = new Pinger();
    try {
      // ipmi_sim needs a moment to bind; keep pinging until it answers.
      let r = await pinger.ping('127.0.0.1', { port, timeoutMs: 200, retries: 0 });
      for (let i = 0; i < 25 && !r.answered; i++) r = await pinger.ping('127.0.0.1', { port, timeoutMs: 200, retries: 0 });
      expect(r).toMatchObject({
        answered: true,
        pong: { vendor: 'asf', iana: 4542, supports: ['asf', 'ipmi'], ipmi: true, asfVersion: '1.0', dash: false, oem: '00000000' },
      });
      expect(r.pong?.amt).toBeUndefined();
    } finally {
      pinger.close();
    }
  });
});
