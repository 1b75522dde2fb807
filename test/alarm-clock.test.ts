/**
 * AMT's alarm clock against simulated PCs: a wake-up set with AddAlarm (the body written by
 * Intel's wsman-messages) powers an off PC on when it comes due, with nothing else running; a
 * nightly one is listed with its interval and moves on a day each time (checked with the sim's
 * injectable clock instead of waiting for 02:00); delete removes it; bad input is refused before
 * anything is sent, and the device's own refusal is a clear error.
 */
import { AMT } from '@device-management-toolkit/wsman-messages';
import { addAlarm, alarmStart, deleteAlarm, intervalMinutes, listAlarms } from '../lib/amt/alarm-clock';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import { readMethodOutput } from '../lib/wsman/envelope';
import { buildInvokeWithBody } from '../lib/wsman/messages';
import { AlarmEvent, alarmClockState, Fleet, runAlarmClock, SimDevice, startFleet } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'Alarm-P@ss1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 3, port: 0, user: USER, password: PASSWORD, power: 'off', timings: { bootTimeMs: 20 } });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});

const clientOf = (d: SimDevice) => acquireAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD }).client;

describe('alarm clock', () => {
  it('a single wake-up powers the off PC on when due, by itself, and then deletes itself', async () => {
    const d = fleet.devices[0];
    const c = clientOf(d);
    expect(await listAlarms(c)).toEqual([]);
    const start = new Date(Date.now() + 1500);
    const woke = new Promise<AlarmEvent>((resolve) => d.once('alarm', resolve));
    const set = await addAlarm(c, { name: 'patch-once', start });
    expect(set).toMatchObject({ name: 'patch-once', deleteOnCompletion: true });
    expect(set.everyMinutes).toBeUndefined();
    const listed = await listAlarms(c);
    expect(listed).toEqual([{ name: 'patch-once', elementName: 'patch-once', start: new Date(Math.floor(start.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z'), deleteOnCompletion: true }]);
    expect(d.powerState).toBe(8);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no wake-up within 10 s')), 10_000);
    });
    const e = await Promise.race([woke, limit]).finally(() => clearTimeout(timer));
    expect(e).toMatchObject({ name: 'patch-once', powered: true });
    expect(d.powerState).toBe(2);
    expect(await listAlarms(c)).toEqual([]);
  });

  it('every night at 02:00: listed with its interval, wakes the PC each night, deleted on request', async () => {
    const d = fleet.devices[1];
    const c = clientOf(d);
    const set = await addAlarm(c, { name: 'nightly patching', start: '02:00', every: 'daily' });
    const first = new Date(set.start);
    expect(first.getHours()).toBe(2);
    expect(first.getMinutes()).toBe(0);
    expect(first.getTime()).toBeGreaterThan(Date.now());
    expect(first.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    expect(await listAlarms(c)).toEqual([{ name: 'nightly patching', elementName: 'nightly patching', start: set.start, everyMinutes: 1440, deleteOnCompletion: false }]);

    // The sim's clock at the first 02:00, then the next night's: the PC is off both times and wakes.
    expect(runAlarmClock(d, first.getTime() - 1000)).toEqual([]);
    expect(runAlarmClock(d, first.getTime())).toEqual([{ name: 'nightly patching', at: first.toISOString(), powered: true }]);
    expect(d.powerState).toBe(2);
    d.powerOff('test');
    expect(runAlarmClock(d, first.getTime() + 3600_000)).toEqual([]);
    const second = first.getTime() + 1440 * 60_000;
    expect(runAlarmClock(d, second)).toEqual([{ name: 'nightly patching', at: new Date(second).toISOString(), powered: true }]);
    expect(alarmClockState(d).alarms[0].next).toBe(second + 1440 * 60_000);
    expect((await listAlarms(c)).map((a) => a.name)).toEqual(['nightly patching']);

    expect(await deleteAlarm(c, 'nightly patching')).toBe(true);
    expect(await listAlarms(c)).toEqual([]);
    expect(await deleteAlarm(c, 'nightly patching')).toBe(false);
  });

  it('refuses bad input before sending, and the PC\'s own refusal is a clear error', async () => {
    const d = fleet.devices[2];
    const c = clientOf(d);
    const later = new Date(Date.now() + 3600_000);
    await expect(addAlarm(c, { name: 'x', start: new Date(Date.now() - 1000) })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/in the past/) });
    await expect(addAlarm(c, { name: 'bad<name>', start: later })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(addAlarm(c, { name: 'x', start: '25:00' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(addAlarm(c, { name: 'x', start: later, every: 'sometimes' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    for (let i = 1; i <= 5; i++) await addAlarm(c, { name: `a${i}`, start: later, every: `${i}h` });
    expect((await listAlarms(c)).map((a) => a.everyMinutes)).toEqual([60, 120, 180, 240, 300]);
    await expect(addAlarm(c, { name: 'a6', start: later })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/already holds 5 alarms/) });
    await expect(addAlarm(c, { name: 'a1', start: later })).rejects.toMatchObject({ message: expect.stringMatching(/already has an alarm named "a1"/) });

    // Straight to the device, past our checks: AddAlarm answers a non-zero ReturnValue.
    const xml = new AMT.Messages().AlarmClockService.AddAlarm({ InstanceID: 'a6', StartTime: later, DeleteOnCompletion: true } as never);
    const body = xml.slice(xml.indexOf('<Body>'), xml.lastIndexOf('</Body>') + 7);
    const out = readMethodOutput(await c.call(buildInvokeWithBody('AMT_AlarmClockService', 'AddAlarm', body)), 'AddAlarm');
    expect(out.ReturnValue).toBe('2');
  });

  it('a PC without the alarm clock classes: a clear "not supported"', async () => {
    const d = fleet.devices[2];
    d.classes.delete('IPS_AlarmClockOccurrence');
    await expect(listAlarms(clientOf(d))).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/has no alarm clock/) });
  });

  it('reads intervals and start times as people and devices write them', () => {
    expect([intervalMinutes('daily'), intervalMinutes('12h'), intervalMinutes('30m'), intervalMinutes('P1DT0H0M'), intervalMinutes('PT90M'), intervalMinutes(15)]).toEqual([1440, 720, 30, 1440, 90, 15]);
    expect(() => intervalMinutes('P0D')).toThrow(/whole number of minutes/);
    const now = new Date(2026, 11, 4, 3, 0, 0);
    expect(alarmStart('02:00', now)).toEqual(new Date(2026, 11, 5, 2, 0, 0));
    expect(alarmStart('04:30', now)).toEqual(new Date(2026, 11, 4, 4, 30, 0));
    expect(alarmStart('2026-12-24T18:00:00Z', now).toISOString()).toBe('2026-12-24T18:00:00.000Z');
  });
});
