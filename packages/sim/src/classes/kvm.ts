/**
 * IPS_KVMRedirectionSettingData (EnabledByMEBx read-only; Is5900PortEnabled, OptInPolicy and
 * SessionTimeout writable; OptInPolicy stays true in client control mode, where consent is always
 * required), and the KVM session bookkeeping of the redirection port: while a session is open,
 * CIM_KVMRedirectionSAP (inventory.ts) reports EnabledState 2 instead of 6.
 */
import type { SimDevice } from '../device';
import type { SimProps } from '../values';
import { kvmState } from './inventory';
import { applyWritable, ClassHandler } from './types';

export interface KvmSettings {
  enabledByMebx: boolean;
  is5900PortEnabled: boolean;
  optInPolicy: boolean;
  sessionTimeout: number;
}

export function kvmSettings(d: SimDevice): KvmSettings {
  return d.classState<KvmSettings>('IPS_KVMRedirectionSettingData', () => ({ enabledByMebx: true, is5900PortEnabled: false, optInPolicy: d.controlMode === 'client', sessionTimeout: 0 }));
}

/** KVM is enabled (CIM_KVMRedirectionSAP 6 or 2) on a PC that has it. */
export function kvmEnabled(d: SimDevice): boolean {
  const s = kvmState(d).enabledState;
  return d.hardware.kvm === true && kvmSettings(d).enabledByMebx && (s === 6 || s === 2);
}

/** Marks a KVM session open or closed; false when one is already open. */
export function setKvmSessionOpen(d: SimDevice, open: boolean): boolean {
  const s = kvmState(d);
  if (open) {
    if (s.enabledState === 2) return false;
    s.enabledState = 2;
  } else if (s.enabledState === 2) s.enabledState = 6;
  return true;
}

const kvmSettingsClass: ClassHandler = {
  className: 'IPS_KVMRedirectionSettingData',
  instances: (d) => {
    const s = kvmSettings(d);
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
    const s = kvmSettings(d);
    s.is5900PortEnabled = String(next.Is5900PortEnabled) === 'true';
    if (d.controlMode !== 'client') s.optInPolicy = String(next.OptInPolicy) === 'true';
    s.sessionTimeout = Number(next.SessionTimeout) || 0;
    return kvmSettingsClass.instances(d)[0];
  },
};

export const kvmClasses: ClassHandler[] = [kvmSettingsClass];
