/**
 * Power classes: CIM_AssociatedPowerManagementService (also answered for its parent
 * CIM_ServiceAvailableToElement, which MeshCommander polls for the power state), CIM_PowerManagementService,
 * IPS_PowerManagementService and AMT_SystemPowerScheme (the ME's own power policy).
 */
import { isInputReference } from '../request-envelope';
import type { SimDevice } from '../device';
import { faults } from '../sim-fault';
import { managedSystemRef, ref, serviceSelectors, SimProps } from '../values';
import { checkBootConsent, redirectionSessionOpen } from '../consent';
import { REQUEST_NAMES } from '../power';
import { bootState } from './boot';
import { auditPowerAction } from './logs';
import { ClassHandler, inputInt, inputText } from './types';

const PMS_NAME = 'Intel(r) AMT Power Management Service';

/**
 * What firmware answers a power request it will not carry out. Real AMT answers ReturnValue 2 to a
 * power state its current state does not offer (a hard off to an off PC, a reset to an off PC:
 * sdague/amt issues 16 and 28 show the answers; MeshCentral reads 2 as "not ready"), and Intel's
 * guide says a power cycle or power off is rejected while a redirection session (SOL, IDE-R, KVM)
 * is open. Values outside the ones AMT implements stay an InvalidParameter fault.
 */
const REFUSED_NOT_NOW = 2;
/** Power cycle and hard off: what an open redirection session blocks. */
const BLOCKED_BY_REDIRECTION = new Set([5, 8]);

function associatedPower(d: SimDevice): SimProps[] {
  return [
    {
      AvailableRequestedPowerStates: d.power.available(),
      PowerState: d.power.state,
      ServiceProvided: ref('CIM_PowerManagementService', serviceSelectors('CIM_PowerManagementService', PMS_NAME)),
      UserOfService: managedSystemRef(),
    },
  ];
}

export const associatedPowerManagementService: ClassHandler = {
  className: 'CIM_AssociatedPowerManagementService',
  commonNs: true,
  keys: ['ServiceProvided', 'UserOfService'],
  instances: associatedPower,
};

/** Enumerating the parent association returns the power one, typed as what it is. */
export const serviceAvailableToElement: ClassHandler = {
  className: 'CIM_ServiceAvailableToElement',
  commonNs: true,
  keys: ['ServiceProvided', 'UserOfService'],
  itemClassName: () => 'CIM_AssociatedPowerManagementService',
  instances: associatedPower,
};

/**
 * The ME's power policies (which sleep states it stays reachable in), as the AMT 12 capture lists
 * them (test/fixtures/amt/gwm/amt/systempowerscheme); the second is active.
 */
const POWER_SCHEMES: Array<[string, string]> = [
  ['Mobile: ON in S0', 'djmXEQtWUEOIcJgS85G1YA=='],
  ['Mobile: ON in S0, ME Wake in S3, S4-5 (AC only)', 'MIAN7gnAeEOvKHhootu+Og=='],
];

function activeScheme(d: SimDevice): { guid: string } {
  return d.classState('AMT_SystemPowerScheme', () => ({ guid: POWER_SCHEMES[1][1] }));
}

/** The active scheme's GUID (base64), as a console compares it. */
export function activePowerScheme(d: SimDevice): string {
  return activeScheme(d).guid;
}

export const systemPowerScheme: ClassHandler = {
  className: 'AMT_SystemPowerScheme',
  instances: () =>
    POWER_SCHEMES.map(([description, guid], i) => ({
      Description: description,
      ElementName: 'Intel(r) AMT Power Scheme',
      InstanceID: `SCHEME ${i}`,
      SchemeGUID: guid,
    })),
  methods: {
    /** Selectors name the scheme to activate. */
    SetPowerScheme: ({ device, selectors }) => {
      const i = /^SCHEME (\d+)$/.exec(selectors.InstanceID ?? '')?.[1];
      const scheme = i === undefined ? undefined : POWER_SCHEMES[Number(i)];
      if (!scheme) throw faults.invalidSelectors('No power scheme matches the selectors.');
      activeScheme(device).guid = scheme[1];
      return { returnValue: 0 };
    },
  },
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
        if (!isInputReference(me) || !me.resourceUri.endsWith('/CIM_ComputerSystem')) {
          throw faults.invalidParameter('ManagedElement must reference CIM_ComputerSystem.');
        }
      }
      if (REQUEST_NAMES[ps] !== undefined && !device.power.available().includes(ps)) return { returnValue: REFUSED_NOT_NOW };
      if (BLOCKED_BY_REDIRECTION.has(ps) && redirectionSessionOpen(device)) return { returnValue: REFUSED_NOT_NOW };
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
  ownProps: ['OSPowerSavingState'],
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

export const powerClasses = [associatedPowerManagementService, serviceAvailableToElement, powerManagementService, ipsPowerManagementService, systemPowerScheme];
