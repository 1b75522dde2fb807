/**
 * Whether a device can do System Defense at all: it must be provisioned in admin control mode
 * (IPS_HostBasedSetupService.CurrentControlMode 2; client control mode has no System Defense) and
 * offer the AMT_SystemDefensePolicy class. Firmware without IPS_HostBasedSetupService (before AMT
 * 6) predates client control mode and is judged by the class alone.
 */
import { OobError, UnsupportedError, WsmanFaultError } from '../../errors';
import type { WsmanClient } from '../../wsman/client';

const CONTROL_MODES: Readonly<Record<number, string>> = { 0: 'not provisioned', 1: 'client control mode', 2: 'admin control mode' };

/** The error for a device whose System Defense classes answer with a fault. */
export function noDefense(client: WsmanClient, e: WsmanFaultError): UnsupportedError {
  const why = e.subcode === 'AccessDenied' ? 'refuses System Defense (is it in admin control mode?)' : 'has no System Defense';
  return new UnsupportedError(`${client.label} ${why}: ${e.subcode || e.message}`);
}

export function isFault(e: unknown): e is WsmanFaultError {
  return e instanceof OobError && e.code === 'WSMAN_FAULT';
}

/**
 * Refuse, with a clear error, a device that cannot do System Defense. `classCheck: false` leaves
 * the class check to the caller's own first read (readSnapshot does it), saving a round trip.
 */
export async function ensureDefenseAvailable(client: WsmanClient, feature = 'System Defense', o: { classCheck?: boolean } = {}): Promise<void> {
  try {
    const setup = await client.get('IPS_HostBasedSetupService');
    const mode = setup.props.CurrentControlMode;
    if (typeof mode === 'number' && mode !== 2) {
      throw new UnsupportedError(`${client.label} is in ${CONTROL_MODES[mode] ?? `control mode ${mode}`}; ${feature} needs admin control mode`);
    }
  } catch (e) {
    if (!isFault(e)) throw e;
  }
  if (o.classCheck === false) return;
  try {
    await client.enumerate('AMT_SystemDefensePolicy');
  } catch (e) {
    if (!isFault(e)) throw e;
    throw noDefense(client, e);
  }
}
