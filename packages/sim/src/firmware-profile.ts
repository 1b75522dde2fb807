/**
 * Firmware generations the simulator can play (`oob-sim --amt-version N`), differing where real
 * firmware differs and where consoles (ours included) branch on it:
 *
 *   11  TLS 1.0 and 1.1 only, and no secure renegotiation (RFC 5746): Node 17+ refuses such a
 *       server by default (ERR_SSL_UNSAFE_LEGACY_RENEGOTIATION_DISABLED or a protocol-version alert).
 *       The simulator's TLS comes from OpenSSL, which always offers secure renegotiation, so it
 *       models the protocol versions and the old cipher list; the renegotiation refusal is
 *       recognised by the client's error text (lib/wsman/tls-pin.ts).
 *   12  AMT 12.0.67 build 1579, as in the captures of test/fixtures/amt/gwm; AMT_GeneralSettings
 *       has no ThunderboltDockEnabled (the Pull capture).
 *   15  AMT 15.0.23 build 1706 (test/fixtures/amt and amt/http); ThunderboltDockEnabled appears.
 *   16  AMT 16.1: port 16992 closed (TLS on 16993 only, as on an HP EliteDesk 800 G9), UEFI
 *       HTTPS boot in AMT_BootCapabilities.
 *   18  AMT 18: as 16, TLS 1.2 and 1.3.
 *
 * Versions and builds other than 12.0.67.1579 and 15.0.23.1706 are representative, not captured.
 */
export interface FirmwareProfile {
  generation: number;
  version: string;
  build: string;
  /** TLS protocol range the HTTPS port speaks. */
  tls: { minVersion: 'TLSv1' | 'TLSv1.2'; maxVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' };
  /** Whether port 16992 (WS-Man over plain HTTP) answers at all. */
  plainHttp: boolean;
  /** AMT_GeneralSettings properties that come and go between generations. */
  generalSettings: { thunderboltDock: boolean };
}

export const FIRMWARE_PROFILES: Readonly<Record<string, FirmwareProfile>> = {
  '11': {
    generation: 11,
    version: '11.8.79',
    build: '3734',
    tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' },
    plainHttp: true,
    generalSettings: { thunderboltDock: false },
  },
  '12': {
    generation: 12,
    version: '12.0.67',
    build: '1579',
    tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    plainHttp: true,
    generalSettings: { thunderboltDock: false },
  },
  '15': {
    generation: 15,
    version: '15.0.23',
    build: '1706',
    tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    plainHttp: true,
    generalSettings: { thunderboltDock: true },
  },
  '16': {
    generation: 16,
    version: '16.1.27',
    build: '2225',
    tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    plainHttp: false,
    generalSettings: { thunderboltDock: true },
  },
  '18': {
    generation: 18,
    version: '18.0.5',
    build: '2062',
    tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' },
    plainHttp: false,
    generalSettings: { thunderboltDock: true },
  },
};

/** The default generation of a simulated PC. */
export const DEFAULT_AMT_VERSION = '15';

/** The profile for "11", "12", "15", "16" or "18" ("15.0" and "16.1" also name theirs). */
export function firmwareProfile(version: string | number): FirmwareProfile {
  const key = String(version).split('.')[0];
  const p = FIRMWARE_PROFILES[key];
  if (!p) throw new Error(`AMT version ${version} has no simulator profile; choose one of ${Object.keys(FIRMWARE_PROFILES).join(', ')}`);
  return p;
}

/** The profile of a firmware version string ("12.0.67"): the nearest generation at or below it. */
export function profileOfVersion(version: string): FirmwareProfile {
  const major = Number(version.split('.')[0]);
  const gens = Object.values(FIRMWARE_PROFILES).sort((a, b) => a.generation - b.generation);
  return [...gens].reverse().find((p) => p.generation <= major) ?? gens[0];
}

/** Node TLS server options for a profile: old protocol versions need OpenSSL's security level 0. */
export function tlsServerOptions(p: FirmwareProfile): { minVersion: FirmwareProfile['tls']['minVersion']; maxVersion: FirmwareProfile['tls']['maxVersion']; ciphers?: string } {
  return p.tls.maxVersion === 'TLSv1.1' ? { ...p.tls, ciphers: 'AES128-SHA:AES256-SHA:@SECLEVEL=0' } : { ...p.tls };
}
