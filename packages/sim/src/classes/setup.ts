/**
 * Provisioning and user consent: AMT_SetupAndConfigurationService, IPS_HostBasedSetupService,
 * AMT_RedirectionService, AMT_UserInitiatedConnectionService (IPS_OptInService: opt-in.ts).
 * A simulated device is provisioned (ProvisioningState 2) in admin control mode (CurrentControlMode 2)
 * unless it was made with `controlMode: 'client'` (CurrentControlMode 1).
 */
import { createHash } from 'node:crypto';
import type { SimDevice } from '../device';
import { SimProps } from '../values';
import { applyWritable, ClassHandler, inputInt } from './types';

const SYSTEM = { SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' };

interface SetupState {
  provisioningState: number;
}

function setupState(d: SimDevice): SetupState {
  return d.classState<SetupState>('AMT_SetupAndConfigurationService', () => ({ provisioningState: 2 }));
}

export const setupAndConfigurationService: ClassHandler = {
  className: 'AMT_SetupAndConfigurationService',
  commonNs: true,
  instances: (d) => [
    {
      CreationClassName: 'AMT_SetupAndConfigurationService',
      ElementName: 'Intel(r) AMT Setup and Configuration Service',
      EnabledState: 5,
      Name: 'Intel(r) AMT Setup and Configuration Service',
      PasswordModel: 1,
      // 1 admin control mode, 4 client control mode.
      ProvisioningMode: d.controlMode === 'client' ? 4 : 1,
      ProvisioningServerOTP: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      ProvisioningState: d.classState<SetupState>('AMT_SetupAndConfigurationService')?.provisioningState ?? 2,
      RequestedState: 12,
      ...SYSTEM,
      ZeroTouchConfigurationEnabled: true,
    },
  ],
  methods: {
    /**
     * Marks the device unprovisioned (ProvisioningState 0). Unlike real firmware the simulator
     * keeps accepting the same credentials afterwards, so a test can still read the state.
     */
    Unprovision: ({ device }) => {
      setupState(device).provisioningState = 0;
      return { returnValue: 0 };
    },
    /** The system UUID as 16 bytes in base64. */
    GetUuid: ({ device }) => ({ out: { UUID: Buffer.from(device.uuid.replace(/-/g, ''), 'hex').toString('base64') }, returnValue: 0 }),
    CommitChanges: () => ({ returnValue: 0 }),
  },
};

export const hostBasedSetupService: ClassHandler = {
  className: 'IPS_HostBasedSetupService',
  commonNs: true,
  instances: (d) => [
    {
      AllowedControlModes: [2, 1],
      CertChainStatus: 0,
      ConfigurationNonce: createHash('sha1').update(`nonce:${d.uuid}`).digest('base64'),
      CreationClassName: 'IPS_HostBasedSetupService',
      // 0 not provisioned, 1 client control mode, 2 admin control mode (SimDevice.controlMode).
      CurrentControlMode: (d.classState<SetupState>('AMT_SetupAndConfigurationService')?.provisioningState ?? 2) === 2 ? (d.controlMode === 'client' ? 1 : 2) : 0,
      ElementName: 'Intel(r) AMT Host Based Setup Service',
      Name: 'Intel(r) AMT Host Based Setup Service',
      ...SYSTEM,
    },
  ],
};

interface Stateful {
  enabledState: number;
  listenerEnabled: boolean;
}

/** 32768 none, 32769 IDE-R, 32770 SOL, 32771 IDE-R and SOL. */
const REDIRECTION_STATES = [32768, 32769, 32770, 32771];

export function redirectionState(d: SimDevice): Stateful {
  return d.classState<Stateful>('AMT_RedirectionService', () => ({ enabledState: 32771, listenerEnabled: true }));
}

export const redirectionService: ClassHandler = {
  className: 'AMT_RedirectionService',
  commonNs: true,
  instances: (d) => {
    const s = d.classState<Stateful>('AMT_RedirectionService') ?? { enabledState: 32771, listenerEnabled: true };
    return [
      {
        CreationClassName: 'AMT_RedirectionService',
        ElementName: 'Intel(r) AMT Redirection Service',
        EnabledState: s.enabledState,
        ListenerEnabled: s.listenerEnabled,
        Name: 'Intel(r) AMT Redirection Service',
        ...SYSTEM,
      } satisfies SimProps,
    ];
  },
  put: (d, current, input) => {
    const next = applyWritable(current, input, ['ListenerEnabled']);
    redirectionState(d).listenerEnabled = String(next.ListenerEnabled) === 'true';
    return { ...next, ListenerEnabled: redirectionState(d).listenerEnabled };
  },
  methods: {
    /** ReturnValue 5 (invalid parameter) for a state other than 32768..32771. */
    RequestStateChange: ({ device, input }) => {
      const v = inputInt(input, 'RequestedState');
      if (v === undefined || !REDIRECTION_STATES.includes(v)) return { returnValue: 5 };
      redirectionState(device).enabledState = v;
      return { returnValue: 0 };
    },
  },
};

/** 32768 disabled, 32769 BIOS only, 32770 OS only, 32771 BIOS and OS. */
export const userInitiatedConnectionService: ClassHandler = {
  className: 'AMT_UserInitiatedConnectionService',
  commonNs: true,
  instances: (d) => [
    {
      CreationClassName: 'AMT_UserInitiatedConnectionService',
      ElementName: 'Intel(r) AMT User Initiated Connection Service',
      EnabledState: d.classState<{ enabledState: number }>('AMT_UserInitiatedConnectionService')?.enabledState ?? 32768,
      Name: 'Intel(r) AMT User Initiated Connection Service',
      ...SYSTEM,
    },
  ],
  methods: {
    RequestStateChange: ({ device, input }) => {
      const v = inputInt(input, 'RequestedState');
      if (v === undefined || !REDIRECTION_STATES.includes(v)) return { returnValue: 5 };
      device.classState('AMT_UserInitiatedConnectionService', () => ({ enabledState: 32768 })).enabledState = v;
      return { returnValue: 0 };
    },
  },
};

export const setupClasses = [setupAndConfigurationService, hostBasedSetupService, redirectionService, userInitiatedConnectionService];
