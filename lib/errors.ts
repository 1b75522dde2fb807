/**
 * Typed errors shared by everything under lib/. Each carries a stable `code` so a flow's Catch
 * node (and our node status texts) can tell the cases apart without parsing messages.
 */
export type OobErrorCode =
  | 'BAD_INPUT'
  | 'UNSUPPORTED'
  | 'AUTH_FAILED'
  | 'TLS_PIN_MISMATCH'
  | 'TLS_UNPINNED'
  | 'TIMEOUT'
  | 'UNREACHABLE'
  | 'BAD_XML'
  | 'HTTP_STATUS'
  | 'WSMAN_FAULT'
  | 'DEVICE_REFUSED'
  | 'CONSENT'
  | 'CLOSED'
  | 'SITE_OFFLINE'
  | 'REMOTE_REFUSED';

/** A piece of untrusted text as it may appear in an error message: at most `max` characters. */
export function clip(s: string, max = 80): string {
  const flat = String(s).replace(/[\r\n\t]+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max)}… (${flat.length} characters)`;
}

export class OobError extends Error {
  readonly code: OobErrorCode;
  constructor(code: OobErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The caller gave us something we cannot use (bad MAC, unknown action, path outside a folder...). */
export class InputError extends OobError {
  constructor(message: string) {
    super('BAD_INPUT', message);
  }
}

/** The device does not offer what was asked (power state it does not list, boot target it lacks...). */
export class UnsupportedError extends OobError {
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}

export class AuthError extends OobError {
  constructor(message: string) {
    super('AUTH_FAILED', message);
  }
}

export class TlsPinError extends OobError {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string, host: string) {
    super(
      'TLS_PIN_MISMATCH',
      `TLS certificate of ${host} changed: pinned SHA-256 ${expected}, device presented ${actual}; refusing to connect`,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** TLS requested but neither a pinned fingerprint nor trust-on-first-use was configured. */
export class TlsUnpinnedError extends OobError {
  readonly actual: string;
  constructor(actual: string, host: string) {
    super(
      'TLS_UNPINNED',
      `TLS certificate of ${host} is not pinned (SHA-256 ${actual}); set the fingerprint or enable trust on first use`,
    );
    this.actual = actual;
  }
}

export class TimeoutError extends OobError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

export class ConnectionError extends OobError {
  constructor(message: string, cause?: unknown) {
    super('UNREACHABLE', message, { cause });
  }
}

export class XmlError extends OobError {
  constructor(message: string) {
    super('BAD_XML', message);
  }
}

export class HttpStatusError extends OobError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('HTTP_STATUS', message);
    this.status = status;
  }
}

/** A SOAP fault answered by the device, with the parts a person needs to understand it. */
export class WsmanFaultError extends OobError {
  readonly faultCode: string;
  readonly subcode: string;
  readonly reason: string;
  readonly detail: string;
  readonly httpStatus: number;
  constructor(f: { code: string; subcode: string; reason: string; detail: string; httpStatus: number; action?: string }) {
    const what = f.subcode || f.code || 'fault';
    super('WSMAN_FAULT', `device answered ${clip(what)}${f.reason ? `: ${clip(f.reason, 300)}` : ''}${f.action ? ` (${clip(f.action, 160)})` : ''}`);
    this.faultCode = f.code;
    this.subcode = f.subcode;
    this.reason = f.reason;
    this.detail = f.detail;
    this.httpStatus = f.httpStatus;
  }
}

/** A method ran but returned a non-zero ReturnValue. */
export class DeviceRefusedError extends OobError {
  readonly returnValue: number;
  constructor(what: string, returnValue: number, meaning: string) {
    super('DEVICE_REFUSED', `${what} refused by the device: ReturnValue ${returnValue} (${meaning})`);
    this.returnValue = returnValue;
  }
}

/** Why user consent (the code on the PC's screen) was not obtained. */
export type ConsentFailure = 'wrong-code' | 'expired' | 'too-many-tries' | 'not-started' | 'busy' | 'no-code' | 'refused';

/** The device needs the user's consent for this and did not get it. */
export class ConsentError extends OobError {
  readonly reason: ConsentFailure;
  constructor(reason: ConsentFailure, message: string) {
    super('CONSENT', message);
    this.reason = reason;
  }
}

export class ClosedError extends OobError {
  constructor(message = 'client closed') {
    super('CLOSED', message);
  }
}

export function isOobError(e: unknown): e is OobError {
  return e instanceof OobError;
}

const CONSENT_STATUS: Record<ConsentFailure, string> = {
  'wrong-code': 'wrong consent code',
  expired: 'consent code expired',
  'too-many-tries': 'too many wrong codes',
  'not-started': 'no consent request',
  busy: 'consent busy',
  'no-code': 'no consent code',
  refused: 'needs user consent',
};

/** Short text for a red node status: "auth failed", "unreachable", "timeout"... */
export function shortReason(e: unknown): string {
  if (!(e instanceof OobError)) return 'error';
  switch (e.code) {
    case 'AUTH_FAILED':
      return 'auth failed';
    case 'TLS_PIN_MISMATCH':
      return 'cert changed';
    case 'TLS_UNPINNED':
      return 'cert not pinned';
    case 'TIMEOUT':
      return 'timeout';
    case 'UNREACHABLE':
      return 'unreachable';
    case 'BAD_XML':
      return 'bad reply';
    case 'HTTP_STATUS':
      return `HTTP ${(e as HttpStatusError).status}`;
    case 'WSMAN_FAULT':
      return (e as WsmanFaultError).subcode || 'fault';
    case 'UNSUPPORTED':
      return 'not supported';
    case 'BAD_INPUT':
      return 'bad input';
    case 'DEVICE_REFUSED':
      return 'refused';
    case 'CONSENT':
      return CONSENT_STATUS[(e as ConsentError).reason];
    case 'CLOSED':
      return 'closed';
    case 'SITE_OFFLINE':
      return 'site offline';
    case 'REMOTE_REFUSED':
      return 'site refused';
  }
}
