/**
 * AMT_AlarmClockService (AddAlarm) and IPS_AlarmClockOccurrence (Enumerate, Get, Delete), after the
 * AMT 12 captures (gwm/amt/alarmclock, gwm/ips/alarmclock); what a wake-up does is ../alarm-clock.ts.
 * AddAlarm answers an empty reference (as the capture does) and ReturnValue 0; it
 * refuses with ReturnValue 2 a sixth occurrence, a name in use, or a start that is not a date —
 * the class notes say it fails at 5; the value is our model, no capture shows a refusal.
 */
import type { InputObject } from '../request-envelope';
import { addSimAlarm, alarmClockState, cimIntervalMinutes, MAX_SIM_ALARMS, removeSimAlarm } from '../alarm-clock';
import { faults } from '../sim-fault';
import { datetime, interval, SimProps } from '../values';
import { ClassHandler, inputText } from './types';

const FAILED = 2;

export const alarmClockService: ClassHandler = {
  className: 'AMT_AlarmClockService',
  commonNs: true,
  instances: () => [
    {
      CreationClassName: 'AMT_AlarmClockService',
      ElementName: 'Intel(r) AMT Alarm Clock Service',
      Name: 'Intel(r) AMT Alarm Clock Service',
      SystemCreationClassName: 'CIM_ComputerSystem',
      SystemName: 'ManagedSystem',
    },
  ],
  methods: {
    AddAlarm: ({ device, input }) => {
      const t = input.AlarmTemplate;
      if (typeof t !== 'object' || t === null || Array.isArray(t) || 'resourceUri' in t) throw faults.invalidParameter('AlarmTemplate must be an embedded IPS_AlarmClockOccurrence.');
      const tpl = t as InputObject;
      const name = inputText(tpl, 'InstanceID')?.trim();
      const start = Date.parse(inputText(tpl, 'StartTime') ?? '');
      const s = alarmClockState(device);
      if (!name || Number.isNaN(start) || s.alarms.length >= MAX_SIM_ALARMS || s.alarms.some((a) => a.name === name)) return { returnValue: FAILED };
      const intervalText = inputText(tpl, 'Interval')?.trim();
      const everyMinutes = cimIntervalMinutes(intervalText);
      addSimAlarm(device, {
        name,
        elementName: inputText(tpl, 'ElementName'),
        start: new Date(start).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        next: start,
        everyMinutes,
        interval: everyMinutes ? intervalText : undefined,
        deleteOnCompletion: inputText(tpl, 'DeleteOnCompletion') === 'true',
      });
      // As captured: a reference with Address "default" and an empty ResourceURI and SelectorSet.
      return { out: { AlarmClock: { kind: 'ref', resourceUri: '', selectors: [], address: 'default' } }, returnValue: 0 };
    },
  },
};

export const alarmClockOccurrence: ClassHandler = {
  className: 'IPS_AlarmClockOccurrence',
  keys: ['InstanceID'],
  // The capture lists them as the class declares them.
  declarationOrder: true,
  instances: (d) =>
    alarmClockState(d).alarms.map(
      (a): SimProps => ({
        ElementName: a.elementName ?? a.name,
        InstanceID: a.name,
        StartTime: datetime(a.start),
        Interval: a.interval ? interval(a.interval) : undefined,
        DeleteOnCompletion: a.deleteOnCompletion,
      }),
    ),
  delete: (d, current) => {
    removeSimAlarm(d, String(current.InstanceID));
  },
};

export const alarmClockClasses = [alarmClockService, alarmClockOccurrence];
