/**
 * User consent (AMT's "opt-in") as firmware enforces it, for IPS_OptInService and the places that
 * need it (the redirection port, power actions that boot into BIOS setup or IDE-R).
 *
 *   OptInState    0 not started, 1 requested, 2 displayed, 3 received, 4 in session
 *   OptInRequired 0 none, 1 KVM only, 4294967295 all redirection and boots into BIOS/IDE-R
 *
 * Client control mode always requires consent (OptInRequired reads 4294967295 and cannot be
 * changed); admin control mode follows OptInRequired. StartOptIn puts a six-digit code on the PC's
 * screen: the device emits 'consent' `{ state: 'displayed', code, expiresAt }` (and `{ state:
 * 'cleared', reason }` when it goes away). The code is valid for OptInCodeTimeout seconds; three
 * wrong codes end the request. Consent received is good for the same time unless a redirection
 * session starts, which keeps it until that session closes.
 *
 * A quirk seen on real client-control-mode firmware (a Lenovo on AMT 14.1, reported to Intel's
 * toolkit): without consent, a power action that should boot into BIOS setup answers success and
 * the PC boots elsewhere. `quirks.bootWithoutConsent = 'ignore'` makes a device behave like that;
 * the default refuses the power action with AMT's USER_CONSENT_REQUIRED status.
 */
import { randomInt } from 'node:crypto';
import type { SimDevice } from './device';

/** IPS_OptInService.OptInState values (Intel's AMT SDK class reference). */
export const OPT_IN_STATE = { notStarted: 0, requested: 1, displayed: 2, received: 3, inSession: 4 } as const;
/** OptInRequired: every redirection and boot into BIOS setup or IDE-R, or KVM only. */
export const OPT_IN_REQUIRED_ALL = 0xffffffff;
const OPT_IN_REQUIRED_KVM = 1;
/** AMT status 0x821: an action that needs the user's consent, asked without it. */
export const USER_CONSENT_REQUIRED = 0x821;
/** AMT status 0x812: what SendOptInCode answers a code that is not the one on the screen. */
const OPT_IN_WRONG_CODE = 0x812;
/** Wrong codes after which the firmware ends a consent request. */
const MAX_CONSENT_TRIES = 3;

export interface SimConsentOptions {
  /** OptInCodeTimeout in seconds as the device reports it (firmware default 120). */
  codeTimeoutSeconds?: number;
  /** How long a code and a received consent really last, in ms (tests shorten it); default codeTimeoutSeconds. */
  timeoutMs?: number;
  /** OptInRequired in admin control mode (default 0: none). */
  required?: number;
  /** 'ignore': a boot that needs consent, asked without it, answers success and boots from disk. */
  bootWithoutConsent?: 'refuse' | 'ignore';
}

export interface ConsentEvent {
  state: 'displayed' | 'received' | 'in-session' | 'cleared';
  code?: string;
  /** When the code (or the consent received) expires, ISO 8601. */
  expiresAt?: string;
  reason?: 'expired' | 'cancelled' | 'too-many-tries' | 'session-ended' | 'received';
}

export interface ConsentState {
  /** OptInRequired set for admin control mode. */
  required: number;
  state: number;
  code?: string;
  tries: number;
  codeTimeoutSeconds: number;
  timeoutMs?: number;
  bootWithoutConsent: 'refuse' | 'ignore';
  timer?: NodeJS.Timeout;
}

export function consentState(d: SimDevice): ConsentState {
  return d.classState<ConsentState>('IPS_OptInService', () => {
    const o = d.consentOptions;
    const s: ConsentState = { required: o.required ?? 0, state: 0, tries: 0, codeTimeoutSeconds: o.codeTimeoutSeconds ?? 120, timeoutMs: o.timeoutMs, bootWithoutConsent: o.bootWithoutConsent ?? 'refuse' };
    d.onClose(() => clearTimeout(s.timer));
    return s;
  });
}

/** OptInRequired as the device reports it now. */
export function optInRequired(d: SimDevice): number {
  return d.controlMode === 'client' ? OPT_IN_REQUIRED_ALL : consentState(d).required;
}

/** Whether `what` needs the user's consent on this device now. */
export function consentRequired(d: SimDevice, what: 'kvm' | 'redirection' | 'boot'): boolean {
  const r = optInRequired(d);
  return r === OPT_IN_REQUIRED_ALL || (what === 'kvm' && r === OPT_IN_REQUIRED_KVM);
}

export function consentGiven(d: SimDevice): boolean {
  const s = consentState(d).state;
  return s === OPT_IN_STATE.received || s === OPT_IN_STATE.inSession;
}

function lifetimeMs(s: ConsentState): number {
  return s.timeoutMs ?? s.codeTimeoutSeconds * 1000;
}

function setState(d: SimDevice, state: number, e: ConsentEvent): void {
  const s = consentState(d);
  clearTimeout(s.timer);
  s.timer = undefined;
  s.state = state;
  if (state === OPT_IN_STATE.displayed || state === OPT_IN_STATE.received) {
    const ms = lifetimeMs(s);
    e.expiresAt = new Date(Date.now() + ms).toISOString();
    s.timer = setTimeout(() => clear(d, 'expired'), ms);
    s.timer.unref();
  }
  d.emit('consent', e);
}

function clear(d: SimDevice, reason: NonNullable<ConsentEvent['reason']>): void {
  const s = consentState(d);
  s.code = undefined;
  s.tries = 0;
  setState(d, OPT_IN_STATE.notStarted, { state: 'cleared', reason });
}

/** StartOptIn: 0 with a code on the screen; 2 (NOT_READY) while a request or a consent is in place. */
export function startOptIn(d: SimDevice): number {
  const s = consentState(d);
  if (s.state !== OPT_IN_STATE.notStarted) return 2;
  s.code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  s.tries = 0;
  setState(d, OPT_IN_STATE.displayed, { state: 'displayed', code: s.code });
  return 0;
}

/** SendOptInCode: 0 received; 0x0812 wrong code (the third one ends the request); 2 no code displayed. */
export function sendOptInCode(d: SimDevice, code: string | undefined): number {
  const s = consentState(d);
  if (s.state !== OPT_IN_STATE.displayed || !s.code) return 2;
  const given = (code ?? '').trim();
  if (!/^\d{1,6}$/.test(given) || given.padStart(6, '0') !== s.code) {
    s.tries += 1;
    if (s.tries >= MAX_CONSENT_TRIES) clear(d, 'too-many-tries');
    return OPT_IN_WRONG_CODE;
  }
  s.code = undefined;
  s.tries = 0;
  setState(d, OPT_IN_STATE.received, { state: 'received', reason: 'received' });
  return 0;
}

/** CancelOptIn: 0 when a request or a consent was cancelled; 2 when there was none or a session runs. */
export function cancelOptIn(d: SimDevice): number {
  const s = consentState(d).state;
  if (s === OPT_IN_STATE.notStarted || s === OPT_IN_STATE.inSession) return 2;
  clear(d, 'cancelled');
  return 0;
}

/** A redirection session may start: true when no consent is needed or it was given (then it is in session). */
export function enterRedirectionSession(d: SimDevice): boolean {
  if (consentRequired(d, 'redirection')) {
    if (!consentGiven(d)) return false;
    setState(d, OPT_IN_STATE.inSession, { state: 'in-session' });
  }
  openSessions(d).count++;
  return true;
}

export function leaveRedirectionSession(d: SimDevice): void {
  const open = openSessions(d);
  open.count = Math.max(0, open.count - 1);
  if (consentState(d).state === OPT_IN_STATE.inSession) clear(d, 'session-ended');
}

function openSessions(d: SimDevice): { count: number } {
  return d.classState('sim-redirection-sessions', () => ({ count: 0 }));
}

/** An IDE-R, SOL or KVM session is open on the redirection port. */
export function redirectionSessionOpen(d: SimDevice): boolean {
  return openSessions(d).count > 0;
}

/** PowerState values that start the firmware: on, power cycle, resets. */
const BOOTING_REQUESTS = new Set([2, 5, 10, 14]);

/**
 * Before a power action: undefined to go ahead, or the ReturnValue that refuses it. A pending
 * one-time boot into BIOS setup or IDE-R needs consent where the policy says so; with the
 * 'ignore' quirk the boot request is dropped instead and the action answers success.
 */
export function checkBootConsent(d: SimDevice, powerState: number, pending: { settings: Record<string, unknown>; role: number } | undefined): number | undefined {
  if (!BOOTING_REQUESTS.has(powerState) || !pending || pending.role !== 1) return undefined;
  const wants = String(pending.settings.BIOSSetup) === 'true' || String(pending.settings.UseIDER) === 'true';
  if (!wants || !consentRequired(d, 'boot') || consentGiven(d)) return undefined;
  if (consentState(d).bootWithoutConsent === 'refuse') return USER_CONSENT_REQUIRED;
  pending.role = 32768;
  return undefined;
}
