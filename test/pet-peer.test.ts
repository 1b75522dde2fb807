/**
 * PET against real peers: traps sent by net-snmp's snmptrap (Debian) decode to the right alerts;
 * traps our simulator sends are received and printed by snmptrapd and dissected by tshark as SNMP
 * traps without errors.
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePet, petToAlert } from '../lib/asf/pet';
import { petFromTrap } from '../lib/asf/pet-trap';
import { ReceivedTrap, TrapReceiver } from '../lib/asf/trap-receiver';
import { SCENARIOS, sendPetTrap, SimDevice } from '../packages/sim/src';
import { freeUdpPort, requirePeer, run, writeUdpPcap } from './helpers/peers';

const snmptrap = requirePeer('snmptrap', 'snmp');
const snmptrapd = requirePeer('snmptrapd', 'snmptrapd');
const tshark = requirePeer('tshark', 'tshark');

const hex = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures/pet', name), 'utf8').trim().split(/\s+/).join('');

function simDevice(): SimDevice {
  return new SimDevice({ name: 'pc-01', uuid: '8c8bc53a-4b6e-4f55-9b8c-2c4a1f0b5e01', mac: '02:00:86:00:00:01', user: 'admin', password: 'P@ssw0rd' });
}

describe('traps from Debian snmptrap', () => {
  let receiver: TrapReceiver;
  const got: ReceivedTrap[] = [];
  beforeAll(async () => {
    receiver = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['s3cret'], allow: ['127.0.0.1'], onTrap: (t) => got.push(t) });
    await receiver.start();
  });
  afterAll(() => receiver.close());

  const waitFor = async (n: number) => {
    for (let i = 0; i < 100 && got.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got.length).toBeGreaterThanOrEqual(n);
    return got[n - 1];
  };

  it('decodes an SNMPv1 PET trap (the Dell chassis-intrusion bytes) into a chassis-intrusion alert', async () => {
    run(snmptrap, ['-v', '1', '-c', 's3cret', '-m', '', `127.0.0.1:${receiver.port}`, '1.3.6.1.4.1.3183.1.1', '127.0.0.1', '6', '356096', '', '1.3.6.1.4.1.3183.1.1.1', 'x', hex('dell-chassis-intrusion-356096.hex')]);
    const t = await waitFor(1);
    expect(t).toMatchObject({ version: 1, community: 's3cret', enterprise: '1.3.6.1.4.1.3183.1.1', generic: 6, specific: 356096 });
    const a = petToAlert(petFromTrap(t)!, { device: { name: 'pc-01', host: t.from }, from: t.from });
    expect(a).toMatchObject({ source: 'pet', kind: 'chassis-intrusion', severity: 'critical', state: 'trigger', details: { iana: 674 } });
  });

  it('decodes an SNMPv2c notification carrying PET data (the Supermicro bytes, little-endian IANA)', async () => {
    run(snmptrap, ['-v', '2c', '-c', 's3cret', '-m', '', `127.0.0.1:${receiver.port}`, '', '1.3.6.1.4.1.3183.1.1.0.262402', '1.3.6.1.4.1.3183.1.1.1', 'x', hex('supermicro-test-0.hex')]);
    const t = await waitFor(2);
    expect(t).toMatchObject({ version: 2, trapOid: '1.3.6.1.4.1.3183.1.1.0.262402' });
    const ev = petFromTrap(t)!;
    expect(ev).toMatchObject({ sensorType: 4, eventType: 1, offset: 2, iana: 10876 });
    // Sent as "information", but a fan below its lower critical threshold is critical to us: the more severe wins.
    expect(petToAlert(ev, { device: { host: t.from } })).toMatchObject({ kind: 'fan-failure', severity: 'critical' });
  });

  it('counts a trap with the wrong community and does not deliver it', async () => {
    const before = receiver.counts.dropped['wrong-community'];
    run(snmptrap, ['-v', '1', '-c', 'public', '-m', '', `127.0.0.1:${receiver.port}`, '1.3.6.1.4.1.3183.1.1', '127.0.0.1', '6', '356096', '', '1.3.6.1.4.1.3183.1.1.1', 'x', '00']);
    for (let i = 0; i < 100 && receiver.counts.dropped['wrong-community'] === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(receiver.counts.dropped['wrong-community']).toBe(before + 1);
    expect(got).toHaveLength(2);
  });
});

describe('traps from our simulator, read by snmptrapd and tshark', () => {
  it('snmptrapd receives and prints a simulated fan-failure PET trap with our bytes', async () => {
    const port = await freeUdpPort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-snmptrapd-'));
    const conf = path.join(dir, 'snmptrapd.conf');
    fs.writeFileSync(conf, 'authCommunity log public\ndoNotRetainNotificationLogs yes\n');
    const child = spawn(snmptrapd, ['-f', '-Lo', '-On', '-C', '-c', conf, '-M', '/dev/null', '-m', '', '-p', path.join(dir, 'pid'), `udp:127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      for (let i = 0; i < 100 && !/NET-SNMP version/.test(output); i++) await new Promise((r) => setTimeout(r, 50));
      const dev = simDevice();
      const bytes = Buffer.from('00112233445566778899aabbccddeeff0007', 'hex');
      await sendPetTrap(dev, { host: '127.0.0.1', port }, SCENARIOS['fan-failure'].event!, { bytes });
      for (let i = 0; i < 100 && !/3183\.1\.1\.1/.test(output); i++) await new Promise((r) => setTimeout(r, 50));
      expect(output).toMatch(/\.1\.3\.6\.1\.4\.1\.3183\.1\.1/);
      // Enterprise specific trap 0x040102: fan, threshold, lower critical going low.
      expect(output).toMatch(/Enterprise Specific Trap \(262402\)/);
      expect(output).toMatch(/\.1\.3\.6\.1\.4\.1\.3183\.1\.1\.1 = Hex-STRING: 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF\s+00 07/);
    } finally {
      child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tshark dissects simulated v1 and v2c PET traps as SNMP traps without errors', async () => {
    const sink = dgram.createSocket('udp4');
    const datagrams: Buffer[] = [];
    sink.on('message', (m) => datagrams.push(m));
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    const port = sink.address().port;
    const dev = simDevice();
    await sendPetTrap(dev, { host: '127.0.0.1', port }, SCENARIOS['chassis-opened'].event!);
    await sendPetTrap(dev, { host: '127.0.0.1', port, version: 2 }, SCENARIOS.overheating.event!);
    for (let i = 0; i < 100 && datagrams.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    sink.close();
    expect(datagrams).toHaveLength(2);
    // Our own decoder reads the same bytes the same way.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-tshark-'));
    const pcap = path.join(dir, 'pet.pcap');
    writeUdpPcap(pcap, datagrams, 40000, 162);
    try {
      const text = run(tshark, ['-r', pcap, '-V', '-o', 'snmp.display_oid:TRUE']);
      expect(text).not.toMatch(/Malformed|Expert Info \(Error/);
      expect(text).toMatch(/trap\s*$|data: trap \(4\)/m);
      expect(text).toMatch(/enterprise: 1\.3\.6\.1\.4\.1\.3183\.1\.1/);
      expect(text).toMatch(/specific-trap: 356096/);
      expect(text).toMatch(/snmpV2-trap/);
      expect(text).toMatch(/1\.3\.6\.1\.4\.1\.3183\.1\.1\.0\.65801/);
      const fields = run(tshark, ['-r', pcap, '-T', 'fields', '-e', 'snmp.value.octets']).trim().split('\n');
      const v1Bytes = Buffer.from(fields[0].replace(/:/g, ''), 'hex');
      expect(decodePet(356096, v1Bytes)).toMatchObject({ sensorType: 5, severityCode: 0x10, entity: 0x17, truncated: false, iana: 343 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
