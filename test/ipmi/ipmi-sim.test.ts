/**
 * lib/ipmi against a real BMC implementation, OpenIPMI's ipmi_sim, with ipmitool and FreeIPMI as
 * independent readers of the state we set.
 */
import * as dgram from 'node:dgram';
import { AuthError, ConnectionError, TimeoutError, UnsupportedError } from '../../lib/errors';
import {
  chassisIdentify,
  clearSel,
  getBootOverride,
  getChassisStatus,
  getSelInfo,
  IpmiClient,
  ipmiPowerAction,
  ipmiPowerOn,
  ipmiPowerStatus,
  readNewSel,
  readSel,
  readSensors,
  selRecordToAlert,
  sensorRecords,
  setBootOverride,
} from '../../lib/ipmi';
import { IpmiSim, SIM_GUID, SIM_USERS } from '../helpers/ipmi-sim';

let sim: IpmiSim;
const clients: IpmiClient[] = [];

function client(o: Partial<ConstructorParameters<typeof IpmiClient>[0]> = {}): IpmiClient {
  const u = SIM_USERS.admin;
  const c = new IpmiClient({ host: sim.host, port: sim.port, username: u.name, password: u.password, cipherSuite: 3, timeoutMs: 4000, retransmitMs: 300, ...o });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  sim = await IpmiSim.start();
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  sim.resume();
});

describe('RMCP+ session with ipmi_sim', () => {
  it('opens a cipher suite 3 session at admin privilege and learns the BMC GUID', async () => {
    const c = client();
    const status = await getChassisStatus(c);
    expect(typeof status.powerOn).toBe('boolean');
    expect(c.sessionInfo).toMatchObject({ cipherSuite: 3, privilege: 4, bmcGuid: SIM_GUID });
  });

  it('reuses one session for many commands and closes it at the BMC', async () => {
    const c = client();
    await getChassisStatus(c);
    const id = c.sessionInfo!.bmcSessionId;
    for (let i = 0; i < 20; i++) await getChassisStatus(c);
    expect(c.sessionInfo!.bmcSessionId).toBe(id);
    await c.close();
    expect(c.sessionInfo).toBeUndefined();
  });

  it('opens an operator session for an operator account', async () => {
    const u = SIM_USERS.operator;
    const c = client({ username: u.name, password: u.password, privilege: 'operator' });
    await getChassisStatus(c);
    expect(c.sessionInfo!.privilege).toBe(3);
  });

  it('falls back from 17 to 3 on auto, because ipmi_sim has no SHA-256', async () => {
    const c = client({ cipherSuite: 'auto' });
    await getChassisStatus(c);
    expect(c.sessionInfo!.cipherSuite).toBe(3);
  });
});

describe('errors a user can act on', () => {
  it('a wrong password', async () => {
    const err = await getChassisStatus(client({ password: 'not-the-password' })).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toMatch(/127\.0\.0\.1:\d+ rejected the password for "admin"/);
  });

  it('an unknown user', async () => {
    const err = await getChassisStatus(client({ username: 'mallory' })).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toMatch(/does not know the user "mallory"/);
  });

  it('a cipher suite the BMC refuses', async () => {
    const err = await getChassisStatus(client({ cipherSuite: 17 })).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err.message).toMatch(/refuses cipher suite 17 \(HMAC-SHA256 \/ HMAC-SHA256-128 \/ AES-CBC-128\): invalid authentication algorithm/);
  });

  it('a BMC that stops answering, and answers again', async () => {
    const c = client({ timeoutMs: 1500 });
    await getChassisStatus(c);
    sim.pause();
    const t0 = Date.now();
    const err = await getChassisStatus(c).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toMatch(/did not answer/);
    expect(Date.now() - t0).toBeLessThan(3000);
    sim.resume();
    const again = await getChassisStatus(c);
    expect(typeof again.powerOn).toBe('boolean');
  });

  it('a port where no BMC listens', async () => {
    const free = dgram.createSocket('udp4');
    await new Promise<void>((r) => free.bind(0, '127.0.0.1', () => r()));
    const port = free.address().port;
    free.close();
    const err = await getChassisStatus(client({ port })).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toMatch(/cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('a BMC that restarted and forgot our session: a new session, no error', async () => {
    const c = client({ timeoutMs: 6000 });
    await getChassisStatus(c);
    const before = c.sessionInfo!.consoleSessionId;
    await sim.restart();
    const s = await getChassisStatus(c);
    expect(typeof s.powerOn).toBe('boolean');
    expect(c.sessionInfo!.consoleSessionId).not.toBe(before);
  });
});

describe('retransmission', () => {
  /** A UDP relay to the BMC that loses about a third of the datagrams (the same ones every run). */
  async function lossyRelay(): Promise<{ port: number; dropped: () => number; close: () => void }> {
    const front = dgram.createSocket('udp4');
    const back = dgram.createSocket('udp4');
    let clientAddr: dgram.RemoteInfo | undefined;
    let seed = 12345;
    let dropped = 0;
    const drop = (_dir: 'up' | 'down') => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      if (seed % 3 === 0) {
        dropped++;
        return true;
      }
      return false;
    };
    front.on('message', (m, rinfo) => {
      clientAddr = rinfo;
      if (!drop('up')) back.send(m, sim.port, sim.host);
    });
    back.on('message', (m) => {
      if (clientAddr && !drop('down')) front.send(m, clientAddr.port, clientAddr.address);
    });
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
    return {
      port: front.address().port,
      dropped: () => dropped,
      close: () => {
        front.close();
        back.close();
      },
    };
  }

  it('completes a session and commands when a third of the packets are lost', async () => {
    const relay = await lossyRelay();
    try {
      const c = client({ port: relay.port, retransmitMs: 100, timeoutMs: 8000 });
      for (let i = 0; i < 5; i++) await getChassisStatus(c);
      expect(relay.dropped()).toBeGreaterThan(3);
      expect(c.sessionInfo!.cipherSuite).toBe(3);
    } finally {
      relay.close();
    }
  });
});

describe('chassis power, as ipmitool and ipmipower see it', () => {
  it('powers on, and both peers read "on"', async () => {
    sim.setPower(false);
    const c = client();
    expect(await ipmiPowerStatus(c)).toMatchObject({ state: 'off', available: ['on'] });
    const before = await ipmiPowerAction(c, 'on');
    expect(before.state).toBe('off');
    expect(sim.chassis('power')).toBe('1');
    expect(await sim.ipmitool(['chassis', 'power', 'status'])).toMatch(/Chassis Power is on/);
    expect(await sim.ipmipower(['--stat'])).toMatch(/127\.0\.0\.1: on/);
    expect((await ipmiPowerStatus(c)).state).toBe('on');
  });

  it('sends off, soft-off, reset, cycle and nmi as the Chassis Control the BMC expects', async () => {
    const c = client();
    const seen = () => sim.chassisSets().at(-1);
    sim.setPower(true);
    await ipmiPowerAction(c, 'reset');
    expect(seen()).toBe('reset 1');
    await ipmiPowerAction(c, 'soft-off');
    expect(seen()).toBe('shutdown 1');
    expect(await sim.ipmitool(['chassis', 'power', 'status'])).toMatch(/is off/);
    sim.setPower(true);
    await ipmiPowerAction(c, 'off');
    expect(seen()).toBe('power 0');
    expect(await sim.ipmipower(['--stat'])).toMatch(/: off/);
    sim.setPower(true);
    await ipmiPowerAction(c, 'cycle');
    expect(seen()).toBe('power 0');
  });

  it('refuses an action that makes no sense now, or that a BMC does not have, before sending it', async () => {
    const c = client();
    sim.setPower(false);
    const count = sim.chassisSets().length;
    await expect(ipmiPowerAction(c, 'reset')).rejects.toThrow(/does not offer "reset" while off \(it offers: on\)/);
    await expect(ipmiPowerAction(c, 'hibernate')).rejects.toThrow(/is an IPMI BMC and has no "hibernate"/);
    await expect(ipmiPowerAction(c, 'explode')).rejects.toThrow(/unknown power action "explode"/);
    expect(sim.chassisSets().length).toBe(count);
  });

  it('powers on through the BMC only when the server is off', async () => {
    const c = client();
    sim.setPower(true);
    const count = sim.chassisSets().length;
    expect(await ipmiPowerOn(c)).toEqual({ wasOn: true });
    expect(sim.chassisSets().length).toBe(count);
    sim.setPower(false);
    expect(await ipmiPowerOn(c)).toEqual({ wasOn: false });
    expect(sim.chassis('power')).toBe('1');
  });

  it('blinks the identify light', async () => {
    await chassisIdentify(client(), { seconds: 30 });
    expect(sim.chassisSets().at(-1)).toBe('identify 30 0');
  });
});

describe('boot override', () => {
  it.each([
    ['pxe', /Force PXE/],
    ['disk', /Force Boot from default Hard-Drive/],
    ['bios', /Force Boot into BIOS Setup/],
  ] as const)('sets %s for the next boot; ipmitool reads it back', async (device, ipmitoolText) => {
    const c = client();
    await setBootOverride(c, device);
    expect(await sim.ipmitool(['chassis', 'bootparam', 'get', '5'])).toMatch(ipmitoolText);
    expect((await getBootOverride(c)).device).toBe(device);
  });

  it('reads what ipmitool set', async () => {
    await sim.ipmitool(['chassis', 'bootdev', 'pxe']);
    expect((await getBootOverride(client())).device).toBe('pxe');
  });
});

describe('system event log', () => {
  it('reads entries ipmitool also lists, turns them into alerts, and clears the log', async () => {
    const c = client();
    await clearSel(c);
    await sim.addSelEvent({ sensorType: 0x05, sensorNumber: 4, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    // Upper critical going high on CPU Temp, with trigger reading 90 and threshold 85
    await sim.addSelEvent({ sensorType: 0x01, sensorNumber: 1, eventDirType: 0x01, data: [0x59, 90, 85] });
    await sim.addSelEvent({ sensorType: 0x01, sensorNumber: 1, eventDirType: 0x81, data: [0x59, 70, 85] });

    const records = await readSel(c);
    expect(records).toHaveLength(3);
    const listed = await sim.ipmitool(['sel', 'list']);
    expect(listed.trim().split('\n')).toHaveLength(3);
    expect(listed).toMatch(/General Chassis intrusion \| Asserted/);
    expect(listed).toMatch(/Upper Critical going high/);
    for (const r of records) expect(listed).toContain(r.recordId.toString(16).padStart(4, ' '));

    const sensors = new Map((await sensorRecords(c)).map((s) => [s.number, s]));
    const device = { name: 'db-server', host: sim.host };
    const alerts = records.map((r) => selRecordToAlert(r, { device, sensors }));
    expect(alerts[0]).toMatchObject({ source: 'eventlog', kind: 'chassis-intrusion', severity: 'critical', state: 'trigger', summary: 'Chassis opened (general chassis intrusion) [Intrusion]', device });
    expect(alerts[1]).toMatchObject({ kind: 'temperature-high', severity: 'critical', state: 'trigger', summary: 'Overheating: temperature above critical threshold [CPU Temp] (reading 90 °C, threshold 85 °C)' });
    expect(alerts[2]).toMatchObject({ kind: 'temperature-high', severity: 'ok', state: 'resolve' });
    expect(alerts[2].dedupKey).toBe(alerts[1].dedupKey);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(3);

    await clearSel(c);
    expect((await getSelInfo(c)).entries).toBe(0);
    expect(await sim.ipmitool(['sel', 'list'])).toMatch(/SEL has no entries/);
    expect(await readSel(c)).toEqual([]);
  });

  it('reads only what is new, and notices a cleared log', async () => {
    const c = client();
    await clearSel(c);
    await sim.addSelEvent({ sensorType: 0x05, sensorNumber: 4, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    let r = await readNewSel(c);
    expect(r.records).toHaveLength(1);
    r = await readNewSel(c, r.cursor);
    expect(r.records).toHaveLength(0);
    await sim.addSelEvent({ sensorType: 0x08, sensorNumber: 9, eventDirType: 0x6f, data: [0x01, 0xff, 0xff] });
    await sim.addSelEvent({ sensorType: 0x0c, sensorNumber: 8, eventDirType: 0x6f, data: [0x01, 0xff, 0xff] });
    r = await readNewSel(c, r.cursor);
    expect(r.records.map((x) => x.sensorType)).toEqual([0x08, 0x0c]);
    await sim.ipmitool(['sel', 'clear']);
    await sim.addSelEvent({ sensorType: 0x20, sensorNumber: 5, eventDirType: 0x6f, data: [0x01, 0xff, 0xff] });
    r = await readNewSel(c, r.cursor);
    expect(r.cleared).toBe(true);
    expect(r.records.map((x) => x.sensorType)).toEqual([0x20]);
  });
});

describe('sensors', () => {
  it('reads the values and thresholds ipmitool and ipmi-sensors read', async () => {
    const c = client();
    const readings = await readSensors(c);
    expect(readings.map((r) => r.name)).toEqual(['CPU Temp', 'FAN1', '12V']);
    const [temp, fan, volts] = readings;
    expect(temp).toMatchObject({ type: 'temperature', value: 45, unit: '°C', status: 'ok', thresholds: { upperNonCritical: 75, upperCritical: 85, upperNonRecoverable: 95 } });
    expect(fan).toMatchObject({ type: 'fan', value: 3000, unit: 'RPM', status: 'ok', thresholds: { lowerCritical: 500, lowerNonCritical: 1000 } });
    expect(volts).toMatchObject({ type: 'voltage', value: 12, unit: 'V', status: 'ok', thresholds: { lowerCritical: 10.8, upperCritical: 13.2 } });

    const tool = await sim.ipmitool(['sensor', 'list']);
    const row = (name: string) => tool.split('\n').find((l) => l.startsWith(name))!.split('|').map((x) => x.trim());
    expect(Number(row('CPU Temp')[1])).toBe(temp.value);
    expect(Number(row('CPU Temp')[8])).toBe(85);
    expect(Number(row('FAN1')[1])).toBe(fan.value);
    expect(Number(row('FAN1')[5])).toBe(500);
    expect(Number(row('12V')[1])).toBe(volts.value);
    expect(Number(row('12V')[8])).toBe(13.2);

    const free = await sim.freeipmi('ipmi-sensors', ['--no-header-output', '--comma-separated-output']);
    for (const r of readings) {
      const line = free.split('\n').find((l) => l.split(',')[1] === r.name)!;
      expect(Number(line.split(',')[3])).toBeCloseTo(r.value!, 2);
    }
  });

  it('reports a threshold crossing as the BMC does', async () => {
    const c = client();
    await sim.command('sensor_set_value 0x20 0 1 88 0');
    try {
      const [temp] = await readSensors(c, { types: ['temperature'] });
      expect(temp).toMatchObject({ value: 88, status: 'critical' });
    } finally {
      await sim.command('sensor_set_value 0x20 0 1 45 0');
    }
  });
});
