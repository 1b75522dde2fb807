/**
 * IPMI v2.0 numbers: network functions, commands, privilege levels, RMCP+ payload types, cipher
 * suites and the status and completion codes a BMC answers with (IPMI v2.0 rev 1.1, sections 13
 * and 22 and appendix G).
 */

/** RMCP class byte for IPMI messages (RMCP header byte 3). */
export const RMCP_CLASS_IPMI = 0x07;
export const RMCP_VERSION = 0x06;
/** "No RMCP ACK" sequence number: IPMI messages are never RMCP-acknowledged. */
export const RMCP_SEQ_NO_ACK = 0xff;

/** Session header AuthType/Format: 0 = IPMI v1.5 without authentication, 6 = RMCP+. */
export const AUTHTYPE_NONE = 0x00;
export const AUTHTYPE_RMCPPLUS = 0x06;

export const PAYLOAD = {
  ipmi: 0x00,
  sol: 0x01,
  openSessionRequest: 0x10,
  openSessionResponse: 0x11,
  rakp1: 0x12,
  rakp2: 0x13,
  rakp3: 0x14,
  rakp4: 0x15,
} as const;

/** Payload type byte: bit 7 = encrypted, bit 6 = authenticated. */
export const PAYLOAD_ENCRYPTED = 0x80;
export const PAYLOAD_AUTHENTICATED = 0x40;

/** Next Header byte of the session trailer. */
export const NEXT_HEADER = 0x07;

/** Slave address of the BMC, and the software ID a remote console uses as requester. */
export const BMC_SA = 0x20;
export const REMOTE_SWID = 0x81;

export const NETFN = {
  chassis: 0x00,
  sensorEvent: 0x04,
  app: 0x06,
  storage: 0x0a,
  transport: 0x0c,
} as const;

export const CMD = {
  // App
  getDeviceId: 0x01,
  getChannelAuthCapabilities: 0x38,
  setSessionPrivilegeLevel: 0x3b,
  closeSession: 0x3c,
  getChannelCipherSuites: 0x54,
  // Chassis
  getChassisStatus: 0x01,
  chassisControl: 0x02,
  chassisIdentify: 0x04,
  setSystemBootOptions: 0x08,
  getSystemBootOptions: 0x09,
  // Sensor/Event
  getSensorThresholds: 0x27,
  getSensorReading: 0x2d,
  // Storage
  getSdrRepositoryInfo: 0x20,
  reserveSdrRepository: 0x22,
  getSdr: 0x23,
  getSelInfo: 0x40,
  reserveSel: 0x42,
  getSelEntry: 0x43,
  clearSel: 0x47,
} as const;

/** Privilege levels as IPMI numbers them. */
export const PRIVILEGE = { callback: 1, user: 2, operator: 3, admin: 4 } as const;
export type PrivilegeName = keyof typeof PRIVILEGE;

export function privilegeName(level: number): string {
  return (Object.entries(PRIVILEGE).find(([, v]) => v === level)?.[0] as string | undefined) ?? `level-${level}`;
}

/** RAKP authentication algorithms. */
export const AUTH_ALG = { none: 0x00, hmacSha1: 0x01, hmacMd5: 0x02, hmacSha256: 0x03 } as const;
/** Integrity algorithms. */
export const INTEGRITY_ALG = { none: 0x00, hmacSha1_96: 0x01, hmacMd5_128: 0x02, md5_128: 0x03, hmacSha256_128: 0x04 } as const;
/** Confidentiality algorithms. */
export const CONF_ALG = { none: 0x00, aesCbc128: 0x01, xrc4_128: 0x02, xrc4_40: 0x03 } as const;

export interface CipherSuite {
  id: number;
  auth: number;
  integrity: number;
  confidentiality: number;
  /** Hash behind the auth and integrity HMACs. */
  hash: 'sha1' | 'sha256';
  /** Bytes of the integrity AuthCode at the end of each packet. */
  authCodeLength: number;
  /** Bytes of the RAKP 4 integrity check value. */
  rakp4Length: number;
  label: string;
}

/**
 * The cipher suites OOBKit speaks. Both sign every packet and encrypt every payload: suites without
 * integrity or confidentiality (0, 1, 2, 15, 16) and the RC4 and MD5 ones are deliberately absent.
 */
export const CIPHER_SUITES: Readonly<Record<number, CipherSuite>> = {
  3: {
    id: 3,
    auth: AUTH_ALG.hmacSha1,
    integrity: INTEGRITY_ALG.hmacSha1_96,
    confidentiality: CONF_ALG.aesCbc128,
    hash: 'sha1',
    authCodeLength: 12,
    rakp4Length: 12,
    label: 'HMAC-SHA1 / HMAC-SHA1-96 / AES-CBC-128',
  },
  17: {
    id: 17,
    auth: AUTH_ALG.hmacSha256,
    integrity: INTEGRITY_ALG.hmacSha256_128,
    confidentiality: CONF_ALG.aesCbc128,
    hash: 'sha256',
    authCodeLength: 16,
    rakp4Length: 16,
    label: 'HMAC-SHA256 / HMAC-SHA256-128 / AES-CBC-128',
  },
};

export const SUPPORTED_CIPHER_SUITES = [17, 3] as const;

/** RMCP+ and RAKP message status codes (table 13-15). */
export const RMCPPLUS_STATUS: Readonly<Record<number, string>> = {
  0x00: 'no errors',
  0x01: 'insufficient resources to create a session',
  0x02: 'invalid session ID',
  0x03: 'invalid payload type',
  0x04: 'invalid authentication algorithm',
  0x05: 'invalid integrity algorithm',
  0x06: 'no matching authentication payload',
  0x07: 'no matching integrity payload',
  0x08: 'inactive session ID',
  0x09: 'invalid role',
  0x0a: 'unauthorized role or privilege level requested',
  0x0b: 'insufficient resources to create a session at the requested role',
  0x0c: 'invalid name length',
  0x0d: 'unauthorized name',
  0x0e: 'unauthorized GUID',
  0x0f: 'invalid integrity check value',
  0x10: 'invalid confidentiality algorithm',
  0x11: 'no cipher suite match with proposed security algorithms',
  0x12: 'illegal or unrecognized parameter',
};

/** Generic completion codes (table 5-2). */
export const COMPLETION_CODES: Readonly<Record<number, string>> = {
  0x00: 'command completed normally',
  0xc0: 'node busy',
  0xc1: 'invalid command',
  0xc2: 'command invalid for given LUN',
  0xc3: 'timeout while processing command',
  0xc4: 'out of space',
  0xc5: 'reservation canceled or invalid reservation ID',
  0xc6: 'request data truncated',
  0xc7: 'request data length invalid',
  0xc8: 'request data field length limit exceeded',
  0xc9: 'parameter out of range',
  0xca: 'cannot return number of requested data bytes',
  0xcb: 'requested sensor, data, or record not present',
  0xcc: 'invalid data field in request',
  0xcd: 'command illegal for specified sensor or record type',
  0xce: 'command response could not be provided',
  0xcf: 'cannot execute duplicated request',
  0xd0: 'SDR repository in update mode',
  0xd1: 'device in firmware update mode',
  0xd2: 'BMC initialization in progress',
  0xd3: 'destination unavailable',
  0xd4: 'insufficient privilege level',
  0xd5: 'command not supported in present state',
  0xd6: 'command sub-function disabled or unavailable',
  0xff: 'unspecified error',
};

export function completionText(cc: number): string {
  return COMPLETION_CODES[cc] ?? (cc >= 0x01 && cc <= 0x7e ? 'device specific (OEM) error' : 'unknown error');
}
