import { ConsentError, ConsentFailure, InputError, OobError, OobErrorCode } from '../../lib/errors';
import type { Translate } from './texts';

/** Catalog keys for lib's error codes: the short status text and the start of the error message. */
const CODE_KEYS: Record<OobErrorCode, { status: string; message: string }> = {
  BAD_INPUT: { status: 'oobkit.reason.bad-input', message: 'oobkit.error.bad-input' },
  UNSUPPORTED: { status: 'oobkit.reason.unsupported', message: 'oobkit.error.unsupported' },
  AUTH_FAILED: { status: 'oobkit.reason.auth-failed', message: 'oobkit.error.auth-failed' },
  TLS_PIN_MISMATCH: { status: 'oobkit.reason.cert-changed', message: 'oobkit.error.cert-changed' },
  TLS_UNPINNED: { status: 'oobkit.reason.cert-unpinned', message: 'oobkit.error.cert-unpinned' },
  TIMEOUT: { status: 'oobkit.reason.timeout', message: 'oobkit.error.timeout' },
  UNREACHABLE: { status: 'oobkit.reason.unreachable', message: 'oobkit.error.unreachable' },
  BAD_XML: { status: 'oobkit.reason.bad-reply', message: 'oobkit.error.bad-reply' },
  HTTP_STATUS: { status: 'oobkit.reason.http-status', message: 'oobkit.error.http-status' },
  WSMAN_FAULT: { status: 'oobkit.reason.fault', message: 'oobkit.error.fault' },
  DEVICE_REFUSED: { status: 'oobkit.reason.refused', message: 'oobkit.error.refused' },
  CLOSED: { status: 'oobkit.reason.closed', message: 'oobkit.error.closed' },
  CONSENT: { status: 'oobkit.reason.consent-refused', message: 'oobkit.error.consent' },
  SITE_OFFLINE: { status: 'oobkit.reason.site-offline', message: 'oobkit.error.site-offline' },
  REMOTE_REFUSED: { status: 'oobkit.reason.site-refused', message: 'oobkit.error.site-refused' },
};

/** Why user consent failed, as a short status. */
const CONSENT_KEYS: Record<ConsentFailure, string> = {
  'wrong-code': 'oobkit.reason.consent-wrong-code',
  expired: 'oobkit.reason.consent-expired',
  'too-many-tries': 'oobkit.reason.consent-too-many-tries',
  'not-started': 'oobkit.reason.consent-not-started',
  busy: 'oobkit.reason.consent-busy',
  'no-code': 'oobkit.reason.consent-no-code',
  refused: 'oobkit.reason.consent-refused',
};

const TRANSLATED = Symbol('translated');

/** An error a node raises itself, its whole text already from the node's catalog. */
export function nodeError(code: OobErrorCode, text: string): OobError {
  const e = code === 'BAD_INPUT' ? new InputError(text) : new OobError(code, text);
  (e as OobError & { [TRANSLATED]?: boolean })[TRANSLATED] = true;
  return e;
}

/** Bad input, in the words of the node's catalog. */
export function inputError(_: Translate, key: string, vars?: Record<string, unknown>): OobError {
  return nodeError('BAD_INPUT', _(key, vars));
}

/** Short text for a red status: "auth failed", "timeout", the fault's subcode... */
export function reasonText(_: Translate, e: unknown): string {
  if (e instanceof OobError) {
    const fault = e as OobError & { subcode?: string; status?: number };
    if (e.code === 'WSMAN_FAULT' && fault.subcode) return fault.subcode;
    if (e.code === 'HTTP_STATUS') return _(CODE_KEYS.HTTP_STATUS.status, { status: fault.status });
    if (e instanceof ConsentError) return _(CONSENT_KEYS[e.reason]);
  }
  return _(e instanceof OobError ? CODE_KEYS[e.code].status : 'oobkit.reason.error');
}

/**
 * The text a person reads (debug sidebar, Catch node): what went wrong from the catalog, then
 * lib's detail, which names the device, value or fault.
 */
export function errorText(_: Translate, e: unknown): string {
  if (e instanceof OobError && (e as OobError & { [TRANSLATED]?: boolean })[TRANSLATED]) return e.message;
  const detail = e instanceof Error ? e.message : String(e);
  if (!(e instanceof OobError)) return detail;
  const what = _(CODE_KEYS[e.code].message, { status: (e as OobError & { status?: number }).status });
  return detail ? `${what}: ${detail}` : what;
}

/** The error handed to done(): the translated text, with lib's `code`, name and the original as cause. */
export function translatedError(_: Translate, e: unknown): Error {
  if (e instanceof OobError && (e as OobError & { [TRANSLATED]?: boolean })[TRANSLATED]) return e;
  const out = new Error(errorText(_, e), { cause: e });
  if (e instanceof Error) out.name = e.name;
  if (e instanceof OobError) (out as Error & { code?: string }).code = e.code;
  return out;
}
