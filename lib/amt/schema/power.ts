import type { ClassSchema } from '../../wsman/typing';

export const POWER_SCHEMAS: Record<string, ClassSchema> = {
  CIM_AssociatedPowerManagementService: {
    PowerState: 'int',
    RequestedPowerState: 'int',
    AvailableRequestedPowerStates: 'int[]',
    TransitioningToPowerState: 'int',
    PowerOnTime: 'datetime',
    ServiceProvided: 'ref',
    UserOfService: 'ref',
  },
  CIM_PowerManagementService: {
    EnabledState: 'int',
    RequestedState: 'int',
    OperationalStatus: 'int[]',
  },
  'CIM_PowerManagementService.RequestPowerStateChange': { Job: 'ref' },
  IPS_PowerManagementService: {
    OSPowerSavingState: 'int',
    EnabledState: 'int',
    RequestedState: 'int',
  },
};
