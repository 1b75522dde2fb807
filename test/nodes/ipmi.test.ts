/**
 * Servers in a real Node-RED runtime: the power-state node driving an IPMI-only device, and the
 * oob-ipmi node (status, sensors, event log, identify, boot), both against OpenIPMI's ipmi_sim,
 * with ipmitool reading back what the nodes set.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllIpmi } from '../../lib/ipmi';
import { IpmiSim, SIM_USERS } from '../helpers/ipmi-sim';
import * as dgram from 'node:dgram';
import { lastOwnAction } from '../../lib/activity';
import { alertInNode, bootFromMediaNode, catchNode, helperNode, deviceNode, getNode, ipmiNode, load, nextMessage, powerStateNode, recordStatuses, runtimeSettings, startServer, stopServer, wakeNode } from '../helpers/red';

let sim: IpmiSim;
const userDirs = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-ipmi-nodes-'));
const U = SIM_USERS.admin;

beforeAll(async () => {
  sim = await IpmiSim.start({ powerOn: true });
});
afterAll(async () => {
  await sim.stop();
  fs.rmSync(userDirs, { recursive: true, force: true });
});
beforeEach(async () => {
  // A user directory per test: event log positions start afresh.
  runtimeSettings({ userDir: fs.mkdtempSync(path.join(userDirs, 'u-')) });
  await startServer();
});
afterEach(async () => {
  await closeAllIpmi();
  await stopServer();
  sim.resume();
});

function device(extra: Record<string, unknown> = {}) {
  return { id: 'dev', type: 'oob-device', name: 'db-server', host: '127.0.0.1', ipmiPort: sim.port, ipmiCipher: '3', ipmiPrivilege: 'admin', timeout: 2, ...extra };
}

function flow(node: Record<string, unknown>, deviceExtra: Record<string, unknown> = {}) {
  return [
    device(deviceExtra),
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'n', z: 'f1', device: 'dev', wires: [['out']], ...node },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const creds = (password: string = U.password) => ({ dev: { ipmiUsername: U.name, ipmiPassword: password } });
const NODES = [deviceNode, powerStateNode, ipmiNode, wakeNode, bootFromMediaNode, alertInNode, catchNode];
const POWER = { type: 'oob-power-state', action: 'status', poll: 0 };
const IPMI = { type: 'oob-ipmi', action: 'status', watch: 0 };

async function send(msg: Record<string, unknown>): Promise<Record<string, any>> {
  const out = nextMessage('out');
  getNode('n').receive(msg);
  return out;
}

async function fails(msg: Record<string, unknown>): Promise<Record<string, any>> {
  const caught = nextMessage('caught');
  getNode('n').receive(msg);
  return caught;
}

describe('power state of a server without AMT', () => {
  it('reads and changes power over IPMI, with the same output as for AMT, and no credentials in it', async () => {
    sim.setPower(true);
    await load(NODES, flow(POWER), creds());
    const statuses = recordStatuses('n');
    let msg = await send({ payload: 'status' });
    expect(msg.payload).toMatchObject({ state: 'on', code: 2, protocol: 'ipmi', available: ['off', 'soft-off', 'reset', 'cycle', 'nmi'], device: { name: 'db-server', host: '127.0.0.1' } });
    expect(JSON.stringify(msg)).not.toContain(U.password);
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'on' });

    msg = await send({ payload: 'off' });
    expect(msg.payload).toMatchObject({ action: 'off', previous: 'on', state: 'off', protocol: 'ipmi' });
    expect(await sim.ipmitool(['chassis', 'power', 'status'])).toMatch(/Chassis Power is off/);
    expect(await sim.ipmipower(['--stat'])).toMatch(/: off/);

    msg = await send({ action: 'power-on' });
    expect(msg.payload).toMatchObject({ action: 'on', previous: 'off', state: 'on' });
    expect(sim.chassis('power')).toBe('1');
  });

  it('refuses what a BMC cannot do, through a Catch node', async () => {
    await load(NODES, flow(POWER), creds());
    const err = await fails({ payload: 'hibernate', marker: 7 });
    expect(err.marker).toBe(7);
    expect(err.error.message).toMatch(/is an IPMI BMC and has no "hibernate"/);
  });

  it.each([
    ['a wrong password', {}, 'not-it', /rejected the password for "admin"/, 'auth failed'],
    ['a cipher suite the BMC refuses', { ipmiCipher: '17' }, undefined, /refuses cipher suite 17/, 'not supported'],
  ])('gives a clear error and a red status for %s', async (_what, extra, password, message, text) => {
    await load(NODES, flow(POWER, extra), creds(password));
    const statuses = recordStatuses('n');
    const err = await fails({ payload: 'status' });
    expect(err.error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text });
  });

  it('says so when the BMC stops answering, and works when it is back', async () => {
    await load(NODES, flow(POWER), creds());
    const statuses = recordStatuses('n');
    await send({ payload: 'status' });
    sim.pause();
    const err = await fails({ payload: 'status' });
    expect(err.error.message).toMatch(/127\.0\.0\.1:\d+ did not answer/);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: 'timeout' });
    sim.resume();
    expect((await send({ payload: 'status' })).payload.state).toMatch(/on|off/);
  });

  it('takes an inline server from msg.device', async () => {
    sim.setPower(false);
    await load(NODES, flow(POWER), {});
    const msg = await send({ payload: 'status', device: { host: '127.0.0.1', name: 'inline', ipmi: { username: U.name, password: U.password, port: sim.port, cipherSuite: 3 } } });
    expect(msg.payload).toMatchObject({ state: 'off', protocol: 'ipmi', device: { name: 'inline' } });
  });

  it.each([
    ['a BMC port that is not a port', { ipmiPort: '70000' }, /IPMI port "70000" is not a port number/],
    ['a cipher suite OOBKit does not speak', { ipmiCipher: '2' }, /IPMI cipher suite "2" is not supported; use 3, 17 or auto/],
    ['a BMC host that is not a host', { ipmiHost: 'bad host!' }, /IPMI host "bad host!" is not a host name/],
  ])('refuses a device with %s, through a Catch node', async (_what, extra, message) => {
    await load(NODES, flow(POWER, extra), creds());
    const statuses = recordStatuses('n');
    const err = await fails({ payload: 'status' });
    expect(err.error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', text: 'bad input' });
  });

  it('names a device with neither AMT nor IPMI', async () => {
    await load(NODES, flow(POWER), {});
    const err = await fails({ payload: 'status' });
    expect(err.error.message).toMatch(/db-server \(127\.0\.0\.1\) has no AMT or IPMI credentials/);
  });
});

describe('oob-ipmi', () => {
  it('reads the chassis status and the sensors', async () => {
    sim.setPower(true);
    await load(NODES, flow(IPMI), creds());
    let msg = await send({ payload: 'status' });
    expect(msg.payload).toMatchObject({ power: 'on', chassis: { powerOn: true, intrusion: false }, session: { cipherSuite: 3, privilege: 'admin' }, device: { name: 'db-server' } });
    msg = await send({ payload: 'sensors' });
    expect(msg.payload.sensors.map((s: { name: string; value: number }) => [s.name, s.value])).toEqual([
      ['CPU Temp', 45],
      ['FAN1', 3000],
      ['12V', 12],
    ]);
    msg = await send({ payload: 'sensors', types: 'fan' });
    expect(msg.payload.sensors.map((s: { name: string }) => s.name)).toEqual(['FAN1']);
  });

  it('reads the event log as alerts, then only what is new, then clears it', async () => {
    await load(NODES, flow(IPMI), creds());
    await send({ payload: 'sel-clear' });
    await sim.addSelEvent({ sensorType: 0x05, sensorNumber: 4, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    let msg = await send({ payload: 'sel' });
    expect(msg.payload.count).toBe(1);
    expect(msg.payload.alerts[0]).toMatchObject({ source: 'eventlog', kind: 'chassis-intrusion', severity: 'critical', state: 'trigger', device: { name: 'db-server' } });
    msg = await send({ payload: 'sel-new' });
    expect(msg.payload.count).toBe(1);
    msg = await send({ payload: 'sel-new' });
    expect(msg.payload.count).toBe(0);
    await sim.addSelEvent({ sensorType: 0x08, sensorNumber: 9, eventDirType: 0x6f, data: [0x01, 0xff, 0xff] });
    msg = await send({ payload: 'sel-new' });
    expect(msg.payload.alerts.map((a: { kind: string }) => a.kind)).toEqual(['power-supply-failure']);
    await send({ payload: 'sel-clear' });
    expect(await sim.ipmitool(['sel', 'list'])).toMatch(/SEL has no entries/);
  });

  it('blinks the identify light and sets the next boot device, as ipmitool reads it', async () => {
    await load(NODES, flow({ ...IPMI, bootDevice: 'disk' }), creds());
    const statuses = recordStatuses('n');
    await send({ payload: 'identify', seconds: 40 });
    expect(sim.chassisSets().at(-1)).toBe('identify 40 0');
    await send({ payload: 'boot' });
    expect(await sim.ipmitool(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force Boot from default Hard-Drive/);
    const msg = await send({ payload: 'boot', bootDevice: 'pxe' });
    expect(msg.payload.bootOverride).toEqual({ device: 'pxe', persistent: false, efi: false });
    expect(await sim.ipmitool(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force PXE/);
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'next boot: pxe' });
  });

  it.each([
    ['an unknown action', { payload: 'reboot-everything' }, /unknown IPMI action "reboot-everything"/, 'bad input'],
    ['an unknown boot device', { payload: 'boot', bootDevice: 'usb' }, /boot device "usb" is not one of/, 'bad input'],
    ['an identify time out of range', { payload: 'identify', seconds: 999 }, /identify time "999" is not 1-255 seconds/, 'bad input'],
  ])('refuses %s before talking to the BMC', async (_what, msg, message, text) => {
    await load(NODES, flow(IPMI), creds());
    const statuses = recordStatuses('n');
    const err = await fails(msg);
    expect(err.error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text });
  });

  it('watches the event log and sends each new entry as an alert', async () => {
    await sim.addSelEvent({ sensorType: 0x05, sensorNumber: 4, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    await load(NODES, flow({ ...IPMI, watch: 0.3 }), creds());
    const statuses = recordStatuses('n');
    const seen: Array<Record<string, any>> = [];
    getNode('out').on('input', (m: Record<string, any>) => seen.push(m));
    // Entries already there when watching starts are not news.
    const deadline = Date.now() + 10_000;
    while (!statuses.some((s) => s.text === 'watching: 0 new') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(0);
    const next = nextMessage('out', 10_000);
    await sim.addSelEvent({ sensorType: 0x01, sensorNumber: 1, eventDirType: 0x01, data: [0x59, 90, 85] });
    expect(await next).toMatchObject({ topic: 'db-server', payload: { kind: 'temperature-high', severity: 'critical', summary: 'Overheating: temperature above critical threshold [CPU Temp] (reading 90 °C, threshold 85 °C)', device: { name: 'db-server' } } });
    expect(seen).toHaveLength(1);
  });
});

describe('oob-wake for a server without AMT', () => {
  /** Where the magic packets go: a socket of ours on loopback that counts them. */
  async function wolSink(): Promise<{ port: number; packets: Buffer[]; close: () => void }> {
    const sock = dgram.createSocket('udp4');
    const packets: Buffer[] = [];
    sock.on('message', (m) => packets.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return { port: sock.address().port, packets, close: () => sock.close() };
  }

  const WAKE = { type: 'oob-wake', timeout: 10, fallback: true, fallbackAfter: 0.3, repeat: 1, confirm: 'auto' };

  it('sends the magic packet, then powers the server on through its BMC and confirms it there', async () => {
    const sink = await wolSink();
    try {
      sim.setPower(false);
      await load(NODES, flow(WAKE, { mac: '02:00:00:00:00:42', wolAddress: '127.0.0.1', wolPort: sink.port }), creds());
      const statuses = recordStatuses('n');
      const msg = await send({});
      expect(msg.payload).toMatchObject({ woke: true, method: 'ipmi-power-on', fallback: true, confirmedBy: 'ipmi', note: 'Wake-on-LAN did not wake it; powered on through the BMC (IPMI)' });
      expect(sink.packets.length).toBeGreaterThan(0);
      expect(sink.packets[0].subarray(6, 12).toString('hex')).toBe('020000000042');
      expect(sim.chassis('power')).toBe('1');
      expect(await sim.ipmitool(['chassis', 'power', 'status'])).toMatch(/is on/);
      expect(lastOwnAction('127.0.0.1', 60_000)).toMatchObject({ kind: 'wake', action: 'ipmi-power-on' });
      expect(statuses.at(-1)?.text).toMatch(/^on after \d+\.\d s \(BMC\)$/);
    } finally {
      sink.close();
    }
  });

  it('sees through the BMC that a server is on already', async () => {
    const sink = await wolSink();
    try {
      sim.setPower(true);
      const count = sim.chassisSets().length;
      await load(NODES, flow(WAKE, { mac: '02:00:00:00:00:42', wolAddress: '127.0.0.1', wolPort: sink.port }), creds());
      const msg = await send({});
      expect(msg.payload).toMatchObject({ woke: true, alreadyOn: true, confirmedBy: 'ipmi', state: 'on' });
      expect(sim.chassisSets().length).toBe(count);
    } finally {
      sink.close();
    }
  });

  it('names a wrong BMC password instead of waiting', async () => {
    const sink = await wolSink();
    try {
      await load(NODES, flow(WAKE, { mac: '02:00:00:00:00:42', wolAddress: '127.0.0.1', wolPort: sink.port }), creds('wrong-one'));
      const err = await fails({});
      expect(err.error.message).toMatch(/rejected the password for "admin"/);
    } finally {
      sink.close();
    }
  });
});

describe('oob-boot-from-media for a server without AMT', () => {
  const BOOT = { type: 'oob-boot-from-media', target: 'pxe', power: 'auto', timeout: 20 };

  it('sets a one-time PXE boot and resets a running server; ipmitool reads the override', async () => {
    sim.setPower(true);
    await load(NODES, flow(BOOT), creds());
    const msg = await send({});
    expect(msg.payload).toMatchObject({ target: 'pxe', result: 'requested', power: 'reset', protocol: 'ipmi', device: { name: 'db-server' } });
    expect(sim.chassisSets().slice(-2)).toEqual(['boot pxe', 'reset 1']);
    expect(await sim.ipmitool(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force PXE/);
    expect(lastOwnAction('127.0.0.1', 60_000)).toMatchObject({ kind: 'boot', action: 'pxe' });
  });

  it('powers on a server that is off, into BIOS setup', async () => {
    sim.setPower(false);
    await load(NODES, flow(BOOT), creds());
    const msg = await send({ target: 'bios' });
    expect(msg.payload).toMatchObject({ target: 'bios', power: 'on' });
    expect(sim.chassisSets().slice(-2)).toEqual(['boot bios', 'power 1']);
  });

  it('only arms the override when told not to power', async () => {
    sim.setPower(true);
    await load(NODES, flow({ ...BOOT, power: 'none' }), creds());
    const count = sim.chassisSets().length;
    const msg = await send({});
    expect(msg.payload).toMatchObject({ target: 'pxe', power: 'none' });
    expect(sim.chassisSets().slice(count)).toEqual(['boot pxe']);
  });

  it('refuses IDE-R for a BMC, with a clear error and nothing sent', async () => {
    await load(NODES, flow(BOOT), creds());
    const count = sim.chassisSets().length;
    const err = await fails({ target: 'ide-r-cd' });
    expect(err.error.message).toMatch(/is an IPMI BMC: it cannot boot "ide-r-cd" \(it offers: pxe, bios, normal\)/);
    expect(sim.chassisSets().length).toBe(count);
  });
});

describe('oob-alert-in reads the event log of a server', () => {
  const ALERT_IN = { type: 'oob-alert-in', devices: 'db-server', pet: false, wsevent: false, eventlog: true, eventlogSeconds: 0.3, heartbeat: false, outputs: 1 };

  it('emits only SEL entries added after it started, through the policy, and not again after a restart', async () => {
    await sim.addSelEvent({ sensorType: 0x05, sensorNumber: 4, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    const seen: Array<Record<string, any>> = [];
    await load(NODES, flow(ALERT_IN), creds());
    getNode('out').on('input', (m: Record<string, any>) => seen.push(m.payload));
    await new Promise((r) => setTimeout(r, 900));
    expect(seen).toEqual([]);
    await sim.addSelEvent({ sensorType: 0x08, sensorNumber: 9, eventDirType: 0x6f, data: [0x01, 0xff, 0xff] });
    await sim.addSelEvent({ sensorType: 0x01, sensorNumber: 1, eventDirType: 0x01, data: [0x59, 92, 85] });
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((a) => [a.source, a.kind, a.severity, a.device.name])).toEqual([
      ['eventlog', 'power-supply-failure', 'critical', 'db-server'],
      ['eventlog', 'temperature-high', 'critical', 'db-server'],
    ]);
    expect(seen[1].summary).toBe('Overheating: temperature above critical threshold [CPU Temp] (reading 92 °C, threshold 85 °C)');
    await helperNode.unload();
    await closeAllIpmi();
    await load(NODES, flow(ALERT_IN), creds());
    const again: unknown[] = [];
    getNode('out').on('input', (m: Record<string, any>) => again.push(m.payload));
    await new Promise((r) => setTimeout(r, 1200));
    expect(again).toEqual([]);
  });
});
