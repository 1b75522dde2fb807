/**
 * Errors a remote call ends with at the centre: the site is offline, the site refused the command
 * (and why), or the action ran at the site and failed there (its error code comes back as it was).
 */
import { OobError, OobErrorCode } from '../errors';
import type { RefusalReason } from './guard';

/** The site's gateway is not connected (its last will, or it said so when it stopped). */
export class SiteOfflineError extends OobError {
  readonly site: string;
  constructor(site: string, message: string) {
    super('SITE_OFFLINE', message);
    this.site = site;
  }
}

/** The site's gateway would not run the command. */
export class RemoteRefusedError extends OobError {
  readonly site: string;
  readonly reason: RefusalReason | 'busy' | string;
  constructor(site: string, reason: string, message: string) {
    super('REMOTE_REFUSED', message);
    this.site = site;
    this.reason = reason;
  }
}

const CODES = {
  BAD_INPUT: true,
  UNSUPPORTED: true,
  AUTH_FAILED: true,
  TLS_PIN_MISMATCH: true,
  TLS_UNPINNED: true,
  TIMEOUT: true,
  UNREACHABLE: true,
  BAD_XML: true,
  HTTP_STATUS: true,
  WSMAN_FAULT: true,
  DEVICE_REFUSED: true,
  CONSENT: true,
  CLOSED: true,
  SITE_OFFLINE: true,
  REMOTE_REFUSED: true,
} satisfies Record<OobErrorCode, true>;

/** The error an action raised at the site, with its code when it is one of ours. */
export function errorFromSite(site: string, e: { code?: unknown; message?: unknown } | undefined): OobError {
  const code = typeof e?.code === 'string' && Object.prototype.hasOwnProperty.call(CODES, e.code) ? (e.code as OobErrorCode) : 'DEVICE_REFUSED';
  const message = typeof e?.message === 'string' ? e.message.slice(0, 500) : 'failed';
  return new OobError(code, `site ${site}: ${message}`);
}
