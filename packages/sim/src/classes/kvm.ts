/**
 * KVM redirection: CIM_KVMRedirectionSAP (RequestStateChange 2 enables, 3 disables; EnabledState
 * 2 while a session is open, 6 enabled and waiting, 3 disabled) and IPS_KVMRedirectionSettingData
 * (EnabledByMEBx read-only; Is5900PortEnabled, OptInPolicy and SessionTimeout writable; OptInPolicy
 * stays true in client control mode, where consent is always required). A simulated PC starts
 * with KVM disabled, as many provisioned PCs do, so consoles must enable it.
 */
import type { SimDevice } from '../device';
import type { SimProps } from '../values';
import { applyWritable, ClassHandler, inputInt } from './types';

export interface KvmState {
  enabled: boolean;
  enabledByMebx: boolean;
  is5900PortEnabled: boolean;
  optInPolicy: boolean;
  sessionTimeout: number;
  /** A KVM session is open on the redirection port. */
  sessionOpen: boolean;
}

export function kvmState(d: SimDevice): KvmState {
  return d.classState<KvmState>('CIM_KVMRedirectionSAP', () => ({ enabled: false, enabledByMebx: true, is5900PortEnabled: false, optInPolicy: d.controlMode === 'client', sessionTimeout: 0, sessionOpen: false }));
}

const SYSTEM = { SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'ManagedSystem' };

const kvmSap: ClassHandler = {
  className: 'CIM_KVMRedirectionSAP',
  keys: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName'],
  instances: (d) => {
    const s = kvmState(d);
    return [
      {
        CreationClassName: 'CIM_KVMRedirectionSAP',
        ElementName: 'KVM Redirection Service Access Point',
        EnabledState: s.enabled ? (s.sessionOpen ? 2 : 6) : 3,
        KVMProtocol: 4,
        Name: 'KVM Redirection Service Access Point',
        RequestedState: s.enabled ? 2 : 3,
        ...SYSTEM,
      } satisfies SimProps,
    ];
  },
  methods: {
    RequestStateChange: ({ device, input }) => {
      const v = inputInt(input, 'RequestedState');
      if (v !== 2 && v !== 3) return { returnValue: 5 };
      const s = kvmState(device);
      if (v === 2 && !s.enabledByMebx) return { returnValue: 2 };
      s.enabled = v === 2;
      return { returnValue: 0 };
    },
  },
};

const kvmSettings: ClassHandler = {
  className: 'IPS_KVMRedirectionSettingData',
  instances: (d) => {
    const s = kvmState(d);
    return [
      {
        ElementName: 'Intel(r) KVM Redirection Settings',
        InstanceID: 'Intel(r) KVM Redirection Settings',
        EnabledByMEBx: s.enabledByMebx,
        Is5900PortEnabled: s.is5900PortEnabled,
        OptInPolicy: s.optInPolicy,
        SessionTimeout: s.sessionTimeout,
      } satisfies SimProps,
    ];
  },
  put: (d, current, input) => {
    const next = applyWritable(current, input, ['Is5900PortEnabled', 'OptInPolicy', 'SessionTimeout']);
    const s = kvmState(d);
    s.is5900PortEnabled = String(next.Is5900PortEnabled) === 'true';
    if (d.controlMode !== 'client') s.optInPolicy = String(next.OptInPolicy) === 'true';
    s.sessionTimeout = Number(next.SessionTimeout) || 0;
    return kvmSettings.instances(d)[0];
  },
};

export const kvmClasses: ClassHandler[] = [kvmSap, kvmSettings];
