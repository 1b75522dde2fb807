/**
 * The device drivers: which one a device gets, and what each does to a simulated PC (AMT) and a
 * simulated server BMC (IPMI), with every result plain data that survives a trip through JSON
 * (what a driver for a device at another site will need).
 */
import { lastOwnAction } from '../lib/activity';
import { closeAllAmt } from '../lib/amt/connect';
import type { ManagedDevice } from '../lib/device';
import { capabilitiesOf, consentOf, driverFor, driverKindOf, EventCursor, withCapability, withDriver } from '../lib/drivers';
import { closeAllIpmi } from '../lib/ipmi';
import { Fleet, runScenario, SimDevice, startFleet } from '../packages/sim/src';
import { SimBmc } from '../packages/sim/src/ipmi';

const USER = 'admin';
const PASSWORD = 'Drv-P@ss1';
const BMC_PASSWORD = 'Drv-Bmc-1';

let fleet: Fleet;
let bmc: SimBmc;

beforeAll(async () => {
  fleet = await startFleet({ devices: 3, port: 0, user: USER, password: PASSWORD, timings: { bootTimeMs: 20, offDwellMs: 10 } });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(async () => {
  bmc = await SimBmc.start({ users: [{ name: USER, password: BMC_PASSWORD }], softOffMs: 30, cycleMs: 30 });
});
afterEach(async () => {
  await closeAllIpmi();
  await bmc.stop();
});

const amtOf = (d: SimDevice) => ({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD, timeoutMs: 3000 });
const ipmiOf = () => ({ host: '127.0.0.1', port: bmc.port, username: USER, password: BMC_PASSWORD, timeoutMs: 3000 });
const pc = (i: number): ManagedDevice => ({ name: fleet.devices[i].name, host: '127.0.0.1', amt: amtOf(fleet.devices[i]) });
const server = (): ManagedDevice => ({ name: 'srv-01', host: '127.0.0.1', ipmi: ipmiOf() });
/** What a result looks like after crossing a wire. */
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('the driver a device gets', () => {
  it('AMT when it has AMT credentials, IPMI when it has only a BMC, and a clear refusal with neither', () => {
    expect(driverKindOf(pc(0))).toBe('amt');
    expect(driverKindOf(server())).toBe('ipmi');
    expect(driverKindOf({ ...pc(0), ipmi: ipmiOf() })).toBe('amt');
    expect(driverKindOf({ host: '127.0.0.1', mac: '02:00:00:00:00:01' })).toBeUndefined();
    expect(() => driverFor({ name: 'bare', host: '127.0.0.1' })).toThrow(/bare \(127\.0\.0\.1\) has no AMT or IPMI credentials/);
    expect(() => driverFor(pc(0), 'ipmi')).toThrow(/has no IPMI credentials/);
    const d = driverFor({ ...pc(0), ipmi: ipmiOf() }, 'ipmi');
    expect(d.kind).toBe('ipmi');
    d.close();
  });

  it('each driver says what it can do beyond power, boot and the event log', async () => {
    await withDriver(pc(0), async (d) => expect(capabilitiesOf(d).sort()).toEqual(['audit-log', 'consent', 'defense', 'identity', 'inventory', 'isolation']));
    await withDriver(server(), async (d) => expect(capabilitiesOf(d).sort()).toEqual(['bmc', 'identify', 'sensors']));
  });

  it('a capability goes to the driver that has it: a PC with AMT and a BMC reaches its BMC for BMC actions', async () => {
    const both = { ...pc(0), ipmi: ipmiOf() };
    expect(await withCapability(both, 'bmc', async (d) => d.kind)).toBe('ipmi');
    expect(await withCapability(both, 'inventory', async (d) => d.kind)).toBe('amt');
    await expect(withCapability(server(), 'inventory', async () => 'read')).rejects.toThrow(/srv-01 \(127\.0\.0\.1\) has no AMT credentials/);
    await expect(withCapability(pc(0), 'sensors', async () => 'read')).rejects.toThrow(/has no IPMI credentials/);
  });

  it('a BMC asks for no user consent, and says so', async () => {
    await withDriver(server(), async (d) => expect(() => consentOf(d)).toThrow(/user consent is not supported through its IPMI driver/));
  });
});

describe('the AMT driver against a simulated PC', () => {
  it('reads power, changes it, records the change as ours, and powers on as a wake', async () => {
    const sim = fleet.devices[0];
    await withDriver(pc(0), async (d) => {
      const s = wire(await d.readPower());
      expect(s).toMatchObject({ state: 'on', code: 2, protocol: 'amt', osPowerSaving: 'full-power' });
      expect(await d.readPower({ osPowerSaving: false })).not.toHaveProperty('osPowerSaving');
      const change = wire(await d.changePower('off'));
      expect(change).toMatchObject({ before: { state: 'on' }, after: { state: 'off', protocol: 'amt' } });
      expect(sim.power.state).toBe(8);
      expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'power', action: 'off' });
      expect(await d.probePower()).toEqual({ on: false, state: 'off' });
      expect(await d.powerOn()).toEqual({ wasOn: false, method: 'amt-power-on' });
      expect(sim.power.state).toBe(2);
      expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'wake', action: 'amt-power-on' });
      expect(await d.powerOn()).toEqual({ wasOn: true, method: 'amt-power-on' });
      const rebooted = new Promise<string>((resolve) => sim.once('boot', (e: { cause: string }) => resolve(e.cause)));
      expect(wire(await d.requestPower('reset'))).toMatchObject({ state: 'on', protocol: 'amt' });
      expect(await rebooted).toMatch(/reset/);
      expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'power', action: 'reset' });
      await expect(d.changePower('explode')).rejects.toThrow(/unknown power action "explode"/);
    });
  });

  it('reads only new event-log entries, with a cursor that crosses JSON', async () => {
    const sim = fleet.devices[1];
    await withDriver(pc(1), async (d) => {
      await runScenario(sim, 'fan-failure');
      const first = wire(await d.readNewEvents(undefined, { initial: 'skip' }));
      expect(first.alerts).toEqual([]);
      await runScenario(sim, 'chassis-opened');
      const next = wire(await d.readNewEvents(first.cursor as EventCursor, {}));
      expect(next.alerts).toHaveLength(1);
      expect(next.alerts[0]).toMatchObject({ source: 'eventlog', device: { name: sim.name, host: '127.0.0.1' } });
      expect((await d.readNewEvents(next.cursor, {})).alerts).toEqual([]);
    });
  });

  it('boots once into PXE: the outcome and end are plain data, the phases come as events', async () => {
    const sim = fleet.devices[2];
    sim.powerOff('test');
    const firmware = new Promise<string>((resolve) => sim.once('firmware', (r: { status: string }) => resolve(r.status)));
    const events: string[] = [];
    await withDriver(pc(2), async (d) => {
      const job = await d.startBoot({ target: 'pxe' }, (e) => events.push(e.type === 'phase' ? e.text : e.type));
      expect(wire(await job.outcome)).toMatchObject({ target: 'pxe', result: 'requested', power: 'on' });
      expect(wire(await job.final)).toMatchObject({ end: 'none', bytesServed: 0 });
    });
    expect(events).toEqual(['checking', 'arming', 'powering on']);
    expect(await firmware).toBe('PXE boot');
    expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'boot', action: 'pxe' });
  });

  it('refuses a second boot of the same PC while one runs', async () => {
    await withDriver(pc(2), async (d) => {
      const first = await d.startBoot({ target: 'bios', power: 'none' });
      await expect(d.startBoot({ target: 'pxe' })).rejects.toThrow(/already running/);
      await first.final;
      const again = await d.startBoot({ target: 'normal', power: 'none' });
      expect(await again.outcome).toMatchObject({ target: 'normal', result: 'requested', power: 'none' });
      await again.final;
    });
  });
});

describe('user consent through the AMT driver', () => {
  it('a PC in client control mode shows a code; a wrong one is refused, the right one grants consent', async () => {
    const consenting = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, configure: (_i, o) => ({ ...o, controlMode: 'client' }) });
    try {
      const sim = consenting.devices[0];
      const shown = new Promise<string>((resolve) => {
        const on = (e: { state: string; code?: string }) => {
          if (e.state !== 'displayed' || !e.code) return;
          sim.off('consent', on);
          resolve(e.code);
        };
        sim.on('consent', on);
      });
      await withDriver({ host: '127.0.0.1', amt: amtOf(sim) }, async (d) => {
        const consent = consentOf(d);
        expect(wire(await consent.read())).toMatchObject({ required: 'all', state: 'not started', controlMode: 'client' });
        expect((await consent.request()).state).toBe('displayed');
        const code = await shown;
        await expect(consent.submit(code === '123456' ? '654321' : '123456')).rejects.toMatchObject({ reason: 'wrong-code' });
        expect(wire(await consent.submit(code))).toMatchObject({ state: 'received' });
        expect((await consent.cancel()).state).toBe('not started');
      });
    } finally {
      closeAllAmt();
      await consenting.stop();
    }
  });
});

describe('the IPMI driver against a simulated BMC', () => {
  it('reads power, changes it, records the change, refuses what a BMC cannot do', async () => {
    await withDriver(server(), async (d) => {
      expect(wire(await d.readPower())).toEqual({ state: 'on', code: 2, available: ['off', 'soft-off', 'reset', 'cycle', 'nmi'], protocol: 'ipmi' });
      expect(wire(await d.changePower('off'))).toMatchObject({ before: { state: 'on' }, after: { state: 'off', protocol: 'ipmi' } });
      expect(bmc.state.powerOn).toBe(false);
      expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'power', action: 'off' });
      expect(await d.probePower()).toEqual({ on: false, state: 'off' });
      await expect(d.changePower('hibernate')).rejects.toThrow(/has no "hibernate"|does not offer "hibernate"/);
      expect(await d.powerOn()).toEqual({ wasOn: false, method: 'ipmi-power-on' });
      expect(bmc.state.powerOn).toBe(true);
      expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'wake', action: 'ipmi-power-on' });
    });
  });

  it('boots into PXE through the boot override, and refuses IDE-R before sending anything', async () => {
    const boots: Array<{ device: string }> = [];
    bmc.on('boot', (e: { device: string }) => boots.push(e));
    await withDriver(server(), async (d) => {
      expect(d.bootTargets).toEqual(['pxe', 'bios', 'normal']);
      const job = await d.startBoot({ target: 'pxe' });
      expect(wire(await job.outcome)).toMatchObject({ target: 'pxe', result: 'requested', power: 'reset', protocol: 'ipmi' });
      await expect((await d.startBoot({ target: 'ide-r-cd' })).outcome).rejects.toThrow(/cannot boot "ide-r-cd"/);
    });
    expect(boots.at(-1)).toMatchObject({ device: 'pxe' });
  });

  it("reads only new SEL entries as alerts, blinks the identify light and reads sensors", async () => {
    bmc.state.addSelEvent({ sensorType: 0x05, sensorNumber: 0x31, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
    await withDriver(server(), async (d) => {
      const first = wire(await d.readNewEvents(undefined, { initial: 'skip' }));
      expect(first.alerts).toEqual([]);
      bmc.state.addSelEvent({ sensorType: 0x04, sensorNumber: 0x10, eventDirType: 0x01, data: [0x52, 5, 6] });
      const next = wire(await d.readNewEvents(first.cursor, {}));
      expect(next.alerts).toHaveLength(1);
      expect(next.alerts[0]).toMatchObject({ source: 'eventlog', device: { name: 'srv-01', host: '127.0.0.1' } });
      await d.identify!(5);
      expect(bmc.state.identifyUntil).toBeGreaterThan(Date.now());
      const sensors = wire(await d.sensors!());
      expect(sensors.length).toBeGreaterThan(0);
      expect(sensors[0]).toHaveProperty('name');
    });
  });
});
