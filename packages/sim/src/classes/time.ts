/**
 * AMT_TimeSynchronizationService: consoles read the ME's clock (GetLowAccuracyTimeSynch, seconds
 * since 1970 as Ta0) to show the PC's time and how far it is off, and set it with
 * SetHighAccuracyTimeSynch (Ta0 from the Get, Tm1 and Tm2 the console's send and receive times).
 */
import type { SimDevice } from '../device';
import { ClassHandler, inputInt } from './types';

/** Seconds the ME's clock is ahead of the host's; 0 until a console sets it. */
function clock(d: SimDevice): { offset: number } {
  return d.classState('AMT_TimeSynchronizationService', () => ({ offset: 0 }));
}

const now = (d: SimDevice): number => Math.floor(Date.now() / 1000) + clock(d).offset;

export const timeSynchronizationService: ClassHandler = {
  className: 'AMT_TimeSynchronizationService',
  commonNs: true,
  instances: () => [
    {
      CreationClassName: 'AMT_TimeSynchronizationService',
      ElementName: 'Intel(r) AMT Time Synchronization Service',
      EnabledState: 5,
      LocalTimeSyncEnabled: 0,
      Name: 'Intel(r) AMT Time Synchronization Service',
      RequestedState: 12,
      SystemCreationClassName: 'CIM_ComputerSystem',
      SystemName: 'Intel(r) AMT',
      TimeSource: 0,
    },
  ],
  methods: {
    GetLowAccuracyTimeSynch: ({ device }) => ({ out: { Ta0: now(device) }, returnValue: 0 }),
    /** PT_STATUS_INVALID_PARAMETER (36) unless Ta0, Tm1 and Tm2 are all given. */
    SetHighAccuracyTimeSynch: ({ device, input }) => {
      const ta0 = inputInt(input, 'Ta0');
      const tm1 = inputInt(input, 'Tm1');
      const tm2 = inputInt(input, 'Tm2');
      if (ta0 === undefined || tm1 === undefined || tm2 === undefined) return { returnValue: 36 };
      clock(device).offset = Math.round((tm1 + tm2) / 2) - Math.floor(Date.now() / 1000);
      return { returnValue: 0 };
    },
  },
};

export const timeClasses = [timeSynchronizationService];
