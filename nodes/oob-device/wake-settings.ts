/**
 * The Wake-on-LAN part of an oob-device config node: where magic packets go, the
 * SecureOn password (credential store only) and how a wake can be confirmed without AMT.
 */
import { checkPort, WakeSettings } from '../../lib/device';

export interface WakeDef {
  wolAddress?: string;
  wolPort?: string | number;
  wolInterface?: string;
  presencePort?: string | number;
  confirmPort?: string | number;
}

export interface WakeCredentials {
  secureOn?: string;
}

/** Credential fields this block adds to oob-device (merged into registerType's credentials). */
export const WAKE_CREDENTIALS = { secureOn: { type: 'password' } } as const;

const portOrUndefined = (v: string | number | undefined, what: string) => (v === undefined || v === '' ? undefined : checkPort(v, what));

/** The device's wake settings, or undefined when none is set. */
export function wakeSettingsFromConfig(def: WakeDef, credentials: WakeCredentials | undefined, label: string): WakeSettings | undefined {
  const w: WakeSettings = {};
  if (def.wolAddress?.trim()) w.address = def.wolAddress.trim();
  const port = portOrUndefined(def.wolPort, `device "${label}" WOL port`);
  if (port) w.port = port;
  if (def.wolInterface?.trim()) w.interface = def.wolInterface.trim();
  if (credentials?.secureOn) w.secureOn = credentials.secureOn;
  const presencePort = portOrUndefined(def.presencePort, `device "${label}" presence port`);
  if (presencePort) w.presencePort = presencePort;
  const confirmPort = portOrUndefined(def.confirmPort, `device "${label}" confirm port`);
  if (confirmPort) w.confirmPort = confirmPort;
  return Object.keys(w).length ? w : undefined;
}
