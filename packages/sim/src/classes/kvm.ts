/**
 * The KVM session bookkeeping of the redirection port: KVM may start when the PC has it, its MEBx
 * allows it (IPS_KVMRedirectionSettingData.EnabledByMEBx) and CIM_KVMRedirectionSAP is enabled
 * (both in inventory.ts); while a session is open the SAP reports EnabledState 2 instead of 6.
 */
import type { SimDevice } from '../device';
import type { SimProps } from '../values';
import { kvmState } from './inventory';

/** KVM is enabled (CIM_KVMRedirectionSAP 6 or 2) on a PC that has it. */
export function kvmEnabled(d: SimDevice): boolean {
  const s = kvmState(d).enabledState;
  const settings = d.classState<{ props: SimProps }>('IPS_KVMRedirectionSettingData')?.props;
  return d.hardware.kvm === true && String(settings?.EnabledByMEBx ?? true) === 'true' && (s === 6 || s === 2);
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
