/** The simulated PC's power state machine, through RequestPowerStateChange and the device API. */
import { readEnvelope, readFault, readInstance, readMethodOutput } from '../lib/wsman/envelope';
import { buildGet, buildInvoke, BuiltRequest } from '../lib/wsman/messages';
import { BootEvent, dispatch, OsEvent, PowerEvent, SimDevice, SimDeviceOptions } from '../packages/sim/src';

function device(o: Partial<SimDeviceOptions> = {}): SimDevice {
  return new SimDevice({ name: 'pc-01', uuid: '12345678-1234-4234-8234-123456789abc', mac: '02:00:86:00:00:01', user: 'admin', password: 'pw', ...o });
}

function call(d: SimDevice, r: BuiltRequest) {
  const a = dispatch(d, r.xml);
  return { status: a.status, env: readEnvelope(a.xml) };
}

function requestPower(d: SimDevice, ps: number) {
  return call(d, buildInvoke('CIM_PowerManagementService', 'RequestPowerStateChange', { PowerState: ps }));
}

/** The ReturnValue of an answer that is not a fault. */
function returnValue(r: { status: number; env: ReturnType<typeof readEnvelope> }): string {
  expect(r.status).toBe(200);
  return readMethodOutput(r.env, 'RequestPowerStateChange').ReturnValue as string;
}

function powerView(d: SimDevice): { PowerState: string; available: string[] } {
  const p = readInstance(call(d, buildGet('CIM_AssociatedPowerManagementService')).env).props;
  const av = p.AvailableRequestedPowerStates;
  return { PowerState: p.PowerState as string, available: ([] as unknown[]).concat(av ?? []) as string[] };
}

function record(d: SimDevice) {
  const log: string[] = [];
  d.on('power', (e: PowerEvent) => log.push(`power ${e.from}->${e.to} ${e.cause}`));
  d.on('boot', (e: BootEvent) => log.push(`boot ${e.cause}`));
  d.on('os', (e: OsEvent) => log.push(`os ${e.to}`));
  d.on('nmi', () => log.push('nmi'));
  return log;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('power state machine', () => {
  it('AvailableRequestedPowerStates per state, as in real captures for on and off', () => {
    const d = device();
    expect(powerView(d)).toEqual({ PowerState: '2', available: ['10', '8', '5', '11', '4', '7', '14', '12'] });
    d.setOsRunning(false);
    expect(powerView(d).available).toEqual(['10', '8', '5', '11']);
    d.powerOff();
    expect(powerView(d)).toEqual({ PowerState: '8', available: ['2'] });
    d.powerOn();
    expect(requestPower(d, 4).status).toBe(200);
    expect(powerView(d)).toEqual({ PowerState: '4', available: ['2', '8'] });
    expect(requestPower(d, 2).status).toBe(200);
    expect(requestPower(d, 7).status).toBe(200);
    expect(powerView(d)).toEqual({ PowerState: '7', available: ['2'] });
  });

  it('power on from off boots the firmware and the OS comes up after the boot time', async () => {
    const d = device({ power: 'off', timings: { bootTimeMs: 40 } });
    const log = record(d);
    const r = requestPower(d, 2);
    expect(r.status).toBe(200);
    expect(readMethodOutput(r.env, 'RequestPowerStateChange').ReturnValue).toBe('0');
    expect(d.powerState).toBe(2);
    expect(d.osState).toBe('booting');
    // Graceful requests need the OS: refused while it boots, with ReturnValue 2 as firmware does.
    expect(returnValue(requestPower(d, 12))).toBe('2');
    await sleep(80);
    expect(d.osState).toBe('running');
    expect(log).toEqual(['power 8->2 amt-on', 'os booting', 'boot amt-on', 'os running']);
  });

  it('reset passes through off, then boots', () => {
    const d = device();
    const log = record(d);
    expect(requestPower(d, 10).status).toBe(200);
    expect(log).toEqual(['os off', 'power 2->8 amt-reset', 'power 8->2 amt-reset', 'os booting', 'boot amt-reset', 'os running']);
    expect(d.powerState).toBe(2);
  });

  it('reset and cycle stay off for offDwellMs, visible to a Get', async () => {
    const d = device({ timings: { offDwellMs: 50 } });
    const log = record(d);
    requestPower(d, 5);
    expect(powerView(d).PowerState).toBe('8');
    await sleep(90);
    expect(powerView(d).PowerState).toBe('2');
    expect(log.filter((l) => l.startsWith('power'))).toEqual(['power 2->8 amt-cycle', 'power 8->2 amt-cycle']);
  });

  it('soft-off is refused when the OS is not running, and is graceful when it is', async () => {
    const d = device({ timings: { osShutdownMs: 30 } });
    d.setOsRunning(false);
    expect(returnValue(requestPower(d, 12))).toBe('2');
    expect(d.powerState).toBe(2);
    expect(d.osState).toBe('off');
    d.setOsRunning(true);
    const log = record(d);
    expect(requestPower(d, 12).status).toBe(200);
    expect(d.osState).toBe('stopping');
    expect(d.powerState).toBe(2);
    await sleep(60);
    expect(d.powerState).toBe(8);
    expect(log).toEqual(['os stopping', 'os off', 'power 2->8 amt-soft-off']);
  });

  it('soft-reset, sleep and hibernate need the OS; power off does not', () => {
    const d = device();
    d.setOsRunning(false);
    for (const ps of [14, 4, 7]) expect(returnValue(requestPower(d, ps))).toBe('2');
    expect(d.powerState).toBe(2);
    expect(returnValue(requestPower(d, 8))).toBe('0');
    expect(d.powerState).toBe(8);
    for (const ps of [8, 10, 5, 11, 12, 14]) expect(returnValue(requestPower(d, ps))).toBe('2');
    expect(d.powerState).toBe(8);
  });

  it('sleep resumes without a firmware boot; hibernate boots', () => {
    const d = device();
    const log = record(d);
    requestPower(d, 4);
    requestPower(d, 2);
    expect(log).toEqual(['os sleeping', 'power 2->4 amt-sleep', 'power 4->2 amt-on', 'os running']);
    log.length = 0;
    requestPower(d, 7);
    requestPower(d, 2);
    expect(log).toContain('boot amt-on');
    expect(d.osState).toBe('running');
  });

  it('NMI raises an event and changes nothing', () => {
    const d = device();
    const log = record(d);
    expect(requestPower(d, 11).status).toBe(200);
    expect(log).toEqual(['nmi']);
    expect(d.powerState).toBe(2);
  });

  it('unknown or missing PowerState values are faults', () => {
    const d = device();
    expect(requestPower(d, 3).status).toBe(400);
    const r = call(d, buildInvoke('CIM_PowerManagementService', 'RequestPowerStateChange', {}));
    expect(readFault(r.env, r.status)?.subcode).toBe('InvalidParameter');
    const wrongRef = call(
      d,
      buildInvoke('CIM_PowerManagementService', 'RequestPowerStateChange', {
        PowerState: 8,
        ManagedElement: { address: 'x', resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Chassis', selectors: {} },
      }),
    );
    expect(wrongRef.status).toBe(400);
    expect(d.powerState).toBe(2);
  });

  it('a boot listener can hold the OS back (boot from media) and start it later', () => {
    const d = device({ power: 'off' });
    d.on('boot', (b: BootEvent) => b.preventOsStart());
    d.powerOn('wol');
    expect(d.powerState).toBe(2);
    expect(d.osState).toBe('booting');
    expect(returnValue(requestPower(d, 12))).toBe('2');
    d.setOsRunning(true);
    expect(requestPower(d, 12).status).toBe(200);
  });

  it('a PC without an OS never reaches running', () => {
    const d = device({ power: 'off', osInstalled: false });
    d.powerOn();
    expect(d.osState).toBe('off');
    expect(powerView(d).available).toEqual(['10', '8', '5', '11']);
  });

  it('OSPowerSavingState: 0 off, 2 full power, 3 power saving', () => {
    const d = device();
    const state = () => readInstance(call(d, buildGet('IPS_PowerManagementService')).env).props.OSPowerSavingState;
    expect(state()).toBe('2');
    const r = call(d, buildInvoke('IPS_PowerManagementService', 'RequestOSPowerSavingStateChange', { OSPowerSavingState: 3 }));
    expect(readMethodOutput(r.env, 'RequestOSPowerSavingStateChange').ReturnValue).toBe('0');
    expect(state()).toBe('3');
    d.powerOff();
    expect(state()).toBe('0');
  });

  it('powerOn/powerOff report whether anything changed; close cancels pending timers', async () => {
    const d = device({ timings: { offDwellMs: 30 } });
    expect(d.powerOn()).toBe(false);
    d.reset();
    expect(d.powerState).toBe(8);
    await d.close();
    await sleep(50);
    expect(d.powerState).toBe(8);
  });
});
