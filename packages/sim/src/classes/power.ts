/** Power classes: CIM_AssociatedPowerManagementService, CIM_PowerManagementService, IPS_PowerManagementService. */
import { isEndpointReference } from '../../../../lib/wsman/xml';
import { faults } from '../sim-fault';
import { managedSystemRef, ref, serviceSelectors, SimProps } from '../values';
import { checkBootConsent } from '../consent';
import { bootState } from './boot';
import { auditPowerAction } from './logs';
import { ClassHandler, inputInt, inputText } from './types';

const PMS_NAME = 'Intel(r) AMT Power Management Service';

export const associatedPowerManagementService: ClassHandler = {
  className: 'CIM_AssociatedPowerManagementService',
  commonNs: true,
  keys: ['ServiceProvided', 'UserOfService'],
  instances: (d) => [
    {
      AvailableRequestedPowerStates: d.power.available(),
      PowerState: d.power.state,
      ServiceProvided: ref('CIM_PowerManagementService', serviceSelectors('CIM_PowerManagementService', PMS_NAME)),
      UserOfService: managedSystemRef(),
    },
  ],
};

export const powerManagementService: ClassHandler = {
  className: 'CIM_PowerManagementService',
  commonNs: true,
  instances: () => [
    {
      CreationClassName: 'CIM_PowerManagementService',
      ElementName: PMS_NAME,
      EnabledState: 5,
      Name: PMS_NAME,
      RequestedState: 12,
      SystemCreationClassName: 'CIM_ComputerSystem',
      SystemName: 'Intel(r) AMT',
    },
  ],
  methods: {
    RequestPowerStateChange: ({ device, input, peer }) => {
      const ps = inputInt(input, 'PowerState');
      if (ps === undefined) throw faults.invalidParameter(`PowerState "${inputText(input, 'PowerState') ?? ''}" is missing or not a number.`);
      const me = input.ManagedElement;
      if (me !== undefined) {
        if (!isEndpointReference(me) || !me.resourceUri.endsWith('/CIM_ComputerSystem')) {
          throw faults.invalidParameter('ManagedElement must reference CIM_ComputerSystem.');
        }
      }
      const refused = checkBootConsent(device, ps, device.classState('AMT_BootSettingData') ? bootState(device) : undefined);
      if (refused !== undefined) return { returnValue: refused };
      device.requestPowerStateChange(ps);
      auditPowerAction(device, ps, peer);
      return { returnValue: 0 };
    },
  },
};

export const ipsPowerManagementService: ClassHandler = {
  className: 'IPS_PowerManagementService',
  commonNs: true,
  instances: (d) => [
    {
      CreationClassName: 'IPS_PowerManagementService',
      ElementName: 'Intel(r) AMT Power Management Service',
      EnabledState: 5,
      Name: 'Intel(r) AMT Power Management Service',
      OSPowerSavingState: d.power.osPowerSavingState(),
      RequestedState: 12,
      SystemCreationClassName: 'CIM_ComputerSystem',
      SystemName: 'Intel(r) AMT',
    } satisfies SimProps,
  ],
  methods: {
    /** 2 full power, 3 OS power saving; only while the OS runs (ReturnValue 2 otherwise). */
    RequestOSPowerSavingStateChange: ({ device, input }) => {
      const s = inputInt(input, 'OSPowerSavingState');
      if (s !== 2 && s !== 3) throw faults.invalidParameter('OSPowerSavingState must be 2 or 3.');
      if (!device.power.osRunning) return { returnValue: 2 };
      device.setOsPowerSaving(s === 3);
      return { returnValue: 0 };
    },
  },
};

export const powerClasses = [associatedPowerManagementService, powerManagementService, ipsPowerManagementService];
