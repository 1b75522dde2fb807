/**
 * Which received traps are PET, and their PET event: SNMPv1 traps of enterprise
 * 1.3.6.1.4.1.3183.1.1 with generic trap 6 (enterprise-specific), or v2c notifications whose
 * snmpTrapOID is 1.3.6.1.4.1.3183.1.1.0.<specific>; the event bytes are the OCTET STRING
 * varbind 1.3.6.1.4.1.3183.1.1.1.
 */
import { decodePet, PET_ENTERPRISE, PET_VARBIND_OID, PetEvent } from './pet';
import type { ReceivedTrap } from './trap-receiver';

export function isPetTrap(t: ReceivedTrap): boolean {
  if (t.version === 1) return t.generic === 6 && (t.enterprise === PET_ENTERPRISE || (t.enterprise ?? '').startsWith(`${PET_ENTERPRISE}.`));
  return /^\.?1\.3\.6\.1\.4\.1\.3183\.1\.1\.0\.\d+$/.test(t.trapOid ?? '');
}

/** The PET event of a trap, or undefined when the trap is not PET. */
export function petFromTrap(t: ReceivedTrap): PetEvent | undefined {
  if (!isPetTrap(t)) return undefined;
  const specific = t.version === 1 ? Number(t.specific) : Number((t.trapOid ?? '').split('.').pop());
  const vb = t.varbinds.find((v) => v.oid === PET_VARBIND_OID) ?? t.varbinds.find((v) => Buffer.isBuffer(v.value) && v.oid.startsWith(PET_ENTERPRISE));
  return decodePet(specific, Buffer.isBuffer(vb?.value) ? vb.value : undefined, t.receivedAt);
}
