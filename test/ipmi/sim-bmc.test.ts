/**
 * Our simulated BMC checked by ipmitool and FreeIPMI (so its RMCP+ crypto, cipher suite 17
 * included, is the real thing), then our client against it with cipher suite 17, which OpenIPMI's
 * ipmi_sim does not offer.
 */
import * as dgram from 'node:dgram';
import fc from 'fast-check';
import { AuthError, UnsupportedError } from '../../lib/errors';
import {
  chassisIdentify,
  clearSel,
  getBootOverride,
  getChassisStatus,
  IpmiClient,
  IpmiCompletionError,
  ipmiPowerAction,
  ipmiPowerStatus,
  readSel,
  readSensors,
  setBootOverride,
} from '../../lib/ipmi';
import { SimBmc } from '../../packages/sim/src/ipmi';
import { ipmipower, ipmitool } from '../helpers/ipmi-sim';

const ADMIN = { name: 'admin', password: 'Sim-Bmc-Pw1' };
const OPER = { name: 'oper', password: 'Sim-Op3r', privilege: 'operator' as const };
const VIEWER = { name: 'viewer', password: 'Sim-V1ew', privilege: 'user' as const };
const GUID = '0123456789abcdef0123456789abcdef';

let bmc: SimBmc;
const clients: IpmiClient[] = [];

const client_ = (o: Partial<ConstructorParameters<typeof IpmiClient>[0]> = {}) => client(o);
function client(o: Partial<ConstructorParameters<typeof IpmiClient>[0]> = {}): IpmiClient {
  const c = new IpmiClient({ host: bmc.host, port: bmc.port, username: ADMIN.name, password: ADMIN.password, cipherSuite: 17, timeoutMs: 3000, retransmitMs: 300, ...o });
  clients.push(c);
  return c;
}

const tool = (args: string[], o: { cipher?: number; user?: { name: string; password: string }; kg?: string } = {}) =>
  ipmitool(bmc.host, bmc.port, (o.user ?? ADMIN).name, (o.user ?? ADMIN).password, args, { cipher: o.cipher ?? 17, kg: o.kg });

beforeEach(async () => {
  bmc = await SimBmc.start({ users: [ADMIN, OPER, VIEWER], guid: GUID, cycleMs: 100, softOffMs: 50 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await bmc.stop();
});

describe('ipmitool and ipmipower against the simulated BMC', () => {
  it.each([17, 3])('ipmitool with cipher suite %i reads and changes power, boot flags, sensors and the SEL', async (cipher) => {
    expect(await tool(['chassis', 'power', 'status'], { cipher })).toMatch(/Chassis Power is on/);
    await tool(['chassis', 'power', 'off'], { cipher });
    expect(bmc.state.powerOn).toBe(false);
    await tool(['chassis', 'bootdev', 'pxe'], { cipher });
    expect(bmc.state.bootDevice).toMatchObject({ device: 'pxe', valid: true });
    const sensors = await tool(['sdr', 'list'], { cipher });
    expect(sensors).toMatch(/CPU Temp\s+\| 45 degrees C\s+\| ok/);
    expect(sensors).toMatch(/FAN1\s+\| 5400 RPM/);
    bmc.state.addSelEvent({ sensorType: 0x05, sensorNumber: 0x31, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    expect(await tool(['sel', 'list'], { cipher })).toMatch(/Physical Security #0x31 \| General Chassis intrusion \| Asserted/);
  });

  it('ipmitool picks cipher suite 17 by itself from Get Channel Cipher Suites', async () => {
    expect(await tool(['channel', 'getciphers', 'ipmi'])).toMatch(/17\s+N\/A\s+hmac_sha256\s+sha256_128\s+aes_cbc_128/);
    expect(await ipmitool(bmc.host, bmc.port, ADMIN.name, ADMIN.password, ['power', 'status'])).toMatch(/Chassis Power is on/);
  });

  it.each([17, 3])('ipmipower with cipher suite %i reads and sets power', async (cipher) => {
    expect(await ipmipower(bmc.host, bmc.port, ADMIN.name, ADMIN.password, cipher, ['--stat'])).toMatch(/: on/);
    await ipmipower(bmc.host, bmc.port, ADMIN.name, ADMIN.password, cipher, ['--off']);
    expect(bmc.state.powerOn).toBe(false);
  });

  it('ipmitool with the wrong password is refused', async () => {
    await expect(tool(['chassis', 'power', 'status'], { user: { name: 'admin', password: 'wrong' } })).rejects.toThrow(/RAKP 2 HMAC is invalid|Unable to establish/);
  });
});

describe('our client against the simulated BMC', () => {
  it('opens a cipher suite 17 session and sets what ipmitool then reads', async () => {
    const c = client();
    expect(await ipmiPowerStatus(c)).toMatchObject({ state: 'on' });
    expect(c.sessionInfo).toMatchObject({ cipherSuite: 17, privilege: 4, bmcGuid: GUID });
    await ipmiPowerAction(c, 'off');
    expect(await tool(['chassis', 'power', 'status'])).toMatch(/Chassis Power is off/);
    await setBootOverride(c, 'bios', { efi: true });
    expect(await tool(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force Boot into BIOS Setup/);
    expect(await getBootOverride(c)).toEqual({ device: 'bios', valid: true, persistent: false, efi: true });
    await ipmiPowerAction(c, 'on');
    expect(bmc.state.powerOn).toBe(true);
    // The one-time override was used by that boot.
    expect((await getBootOverride(c)).valid).toBe(false);
  });

  it('picks 17 on auto', async () => {
    const c = client({ cipherSuite: 'auto' });
    await getChassisStatus(c);
    expect(c.sessionInfo!.cipherSuite).toBe(17);
  });

  it('reads the sensors ipmitool reads', async () => {
    const ours = await readSensors(client(), { types: [] });
    const theirs = await tool(['sensor', 'list']);
    for (const r of ours.filter((x) => x.value !== null)) {
      const row = theirs.split('\n').find((l) => l.split('|')[0].trim() === r.name)!;
      expect(Number(row.split('|')[1])).toBeCloseTo(r.value!, 2);
    }
    expect(ours.find((r) => r.name === 'PSU1 Status')).toMatchObject({ type: 'power-supply', states: [0], value: null });
  });

  it('reads the SEL ipmitool lists, and clears it', async () => {
    const c = client();
    bmc.state.addSelEvent({ sensorType: 0x04, sensorNumber: 0x10, eventDirType: 0x01, data: [0x52, 5, 6] });
    bmc.state.addSelEvent({ sensorType: 0x08, sensorNumber: 0x30, eventDirType: 0x6f, data: [0x01, 0xff, 0xff] });
    const records = await readSel(c);
    expect(records.map((r) => [r.sensorType, r.sensorNumber])).toEqual([
      [0x04, 0x10],
      [0x08, 0x30],
    ]);
    expect(await tool(['sel', 'list'])).toMatch(/Power Supply #0x30 \| Failure detected/);
    await clearSel(c);
    expect(bmc.state.sel).toHaveLength(0);
  });

  it('blinks the identify light and reports it in the chassis status', async () => {
    const c = client();
    await chassisIdentify(c, { seconds: 20 });
    expect((await getChassisStatus(c)).identify).toBe('timed');
    await chassisIdentify(c, { forceOn: true });
    expect((await getChassisStatus(c)).identify).toBe('on');
  });

  it('logs in with a BMC key (Kg) as ipmitool does, and names a wrong one', async () => {
    await bmc.stop();
    bmc = await SimBmc.start({ users: [ADMIN], guid: GUID, kg: 'Two-Key-Secret' });
    expect(await tool(['chassis', 'power', 'status'], { kg: 'Two-Key-Secret' })).toMatch(/is on/);
    await getChassisStatus(client({ kg: 'Two-Key-Secret' }));
    const err = await getChassisStatus(client({ kg: 'Other-Key' })).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toMatch(/RAKP 4 .*wrong BMC key \(Kg\)/);
  });

  it('a user-level account reads but may not act', async () => {
    const c = client({ username: VIEWER.name, password: VIEWER.password, privilege: 'user' });
    expect((await ipmiPowerStatus(c)).state).toBe('on');
    const err = await ipmiPowerAction(c, 'off').catch((e) => e);
    expect(err).toBeInstanceOf(IpmiCompletionError);
    expect(err.message).toMatch(/refused Chassis Control off: completion code 0xD4 \(insufficient privilege level\)/);
    expect(bmc.state.powerOn).toBe(true);
  });

  it('asking for more privilege than the account has is refused with a clear error', async () => {
    const err = await getChassisStatus(client({ username: OPER.name, password: OPER.password, privilege: 'admin' })).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toMatch(/refuses admin privilege for "oper"/);
    const ok = client({ username: OPER.name, password: OPER.password, privilege: 'operator' });
    await ipmiPowerAction(ok, 'cycle');
    expect(ok.sessionInfo!.privilege).toBe(3);
  });

  it('a BMC offering only cipher suite 3 refuses 17 and auto settles on 3', async () => {
    await bmc.stop();
    bmc = await SimBmc.start({ users: [ADMIN], cipherSuites: [3] });
    const err = await getChassisStatus(client({ cipherSuite: 17 })).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err.message).toMatch(/refuses cipher suite 17/);
    const auto = client({ cipherSuite: 'auto' });
    await getChassisStatus(auto);
    expect(auto.sessionInfo!.cipherSuite).toBe(3);
  });

  it('a BMC out of sessions says so', async () => {
    await bmc.stop();
    bmc = await SimBmc.start({ users: [ADMIN], maxSessions: 1 });
    await getChassisStatus(client());
    await expect(getChassisStatus(client())).rejects.toThrow(/cannot open another session now \(insufficient resources to create a session\)/);
  });

  it('a BMC that reboots and forgets sessions: the next command opens a new one', async () => {
    const c = client();
    await getChassisStatus(c);
    const first = c.sessionInfo!.bmcSessionId;
    bmc.forgetSessions();
    await getChassisStatus(c);
    expect(c.sessionInfo!.bmcSessionId).not.toBe(first);
  });

  it('survives garbage datagrams and keeps serving', async () => {
    const sock = dgram.createSocket('udp4');
    const garbage = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 200 }), 300);
    // Also near-valid packets: RMCP+ headers with random tails.
    const nearly = fc.sample(fc.uint8Array({ minLength: 10, maxLength: 80 }), 200).map((t) => Buffer.concat([Buffer.from([0x06, 0x00, 0xff, 0x07, 0x06]), Buffer.from(t)]));
    for (const g of [...garbage.map((x) => Buffer.from(x)), ...nearly]) sock.send(g, bmc.port, bmc.host);
    await new Promise((r) => setTimeout(r, 200));
    sock.close();
    expect(bmc.stats.datagrams).toBeGreaterThan(100);
    expect(bmc.stats.dropped).toBe(bmc.stats.datagrams);
    expect(bmc.stats.commands).toBe(0);
    expect((await ipmiPowerStatus(client())).state).toBe('on');
  });

  it('ignores a replayed answer: an old signed "on" does not hide that the server is off', async () => {
    // A relay that keeps the BMC's first Get Chassis Status answer and, 64 requests later (the
    // same rqSeq and command again), sends that old answer instead of the real one.
    const front = dgram.createSocket('udp4');
    const back = dgram.createSocket('udp4');
    let client: dgram.RemoteInfo | undefined;
    let answers = 0;
    let kept: Buffer | undefined;
    let replayed = 0;
    front.on('message', (m, r) => {
      client = r;
      back.send(m, bmc.port, bmc.host);
    });
    back.on('message', (m) => {
      if (!client) return;
      // The packets of a session's commands are the signed ones (payload type byte with bit 6).
      if (m[5] & 0x40) {
        answers++;
        if (answers === 2) kept = m;
        if (answers === 66 && kept) {
          replayed++;
          front.send(kept, client.port, client.address);
          return;
        }
      }
      front.send(m, client.port, client.address);
    });
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
    try {
      // Set Session Privilege Level is the first signed answer; Get Chassis Status follows.
      const c = client_({ port: front.address().port, retransmitMs: 100 });
      expect((await ipmiPowerStatus(c)).state).toBe('on');
      bmc.state.setPower(false, 'test');
      for (let i = 0; i < 63; i++) await getChassisStatus(c);
      expect(answers).toBe(65);
      // The 66th answer is swapped for the 2nd: same rqSeq and command, an old sequence number.
      const now = await ipmiPowerStatus(c);
      expect(replayed).toBe(1);
      expect(now.state).toBe('off');
    } finally {
      front.close();
      back.close();
    }
  });
});

