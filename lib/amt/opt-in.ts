/**
 * User consent ("opt-in", IPS_OptInService): before redirection (IDE-R, KVM) or a boot into BIOS
 * setup or IDE-R, AMT may want the person at the PC to read out a six-digit code it shows on the
 * screen. Client control mode always wants it; admin control mode when OptInRequired says so.
 *
 *   OptInRequired 0 none, 1 KVM only, 4294967295 (0xFFFFFFFF) every redirection and such boots
 *   OptInState    0 not started, 1 requested, 2 displayed, 3 received, 4 in session
 *   StartOptIn    0, or 2 (NOT_READY) while a request or a consent is already in place
 *   SendOptInCode 0, 0x0812 (2066) for a wrong code, 2 when no code is displayed (expired, ended)
 *   CancelOptIn   0, or 2 when there is nothing to cancel or a session is in progress
 *
 * Firmware ends a request after a few wrong codes (the code leaves the screen: OptInState goes
 * back to 0); that is how a "too many tries" is told apart from a plain wrong code.
 */
import { ConsentError, DeviceRefusedError, InputError, TimeoutError, WsmanFaultError } from '../errors';
import type { WsmanClient } from '../wsman/client';

export const OPT_IN_REQUIRED = { none: 0, kvm: 1, all: 4294967295 } as const;
export const OPT_IN_STATE = { notStarted: 0, requested: 1, displayed: 2, received: 3, inSession: 4 } as const;
const STATE_NAMES = ['not started', 'requested', 'displayed', 'received', 'in session'] as const;
/** AMT status 0x0812: SendOptInCode with a code that is not the one on the screen. */
export const OPT_IN_WRONG_CODE = 0x0812;
/** AMT status 0x0821 USER_CONSENT_REQUIRED (an action that needs consent, asked without it). */
export const USER_CONSENT_REQUIRED = 0x0821;
/** Wrong codes after which firmware ends a request. */
export const MAX_CONSENT_TRIES = 3;
const NOT_READY = 2;

export type ConsentScope = 'kvm' | 'redirection' | 'boot';

export interface OptInPolicy {
  /** OptInRequired as a name; 'other' for a value this code does not know. */
  required: 'none' | 'kvm' | 'all' | 'other';
  requiredValue: number;
  state: number;
  stateName: string;
  /** CanModifyOptInPolicy: whether OptInRequired may be changed over the network. */
  canModifyPolicy: boolean;
  /** How long a code stays valid, in seconds (OptInCodeTimeout). */
  codeTimeoutSeconds: number;
  displayTimeoutSeconds: number;
  /** 'client' or 'admin' control mode (IPS_HostBasedSetupService), when the device tells. */
  controlMode?: 'client' | 'admin';
}

export async function readOptInPolicy(client: WsmanClient): Promise<OptInPolicy> {
  const p = (await client.get('IPS_OptInService')).props;
  const requiredValue = Number(p.OptInRequired);
  const state = Number(p.OptInState);
  let controlMode: OptInPolicy['controlMode'];
  try {
    const mode = Number((await client.get('IPS_HostBasedSetupService')).props.CurrentControlMode);
    controlMode = mode === 1 ? 'client' : mode === 2 ? 'admin' : undefined;
  } catch {
    controlMode = undefined; // older firmware without host-based setup: OptInRequired decides
  }
  return {
    required: requiredValue === 0 ? 'none' : requiredValue === 1 ? 'kvm' : requiredValue === OPT_IN_REQUIRED.all ? 'all' : 'other',
    requiredValue,
    state,
    stateName: STATE_NAMES[state] ?? `state ${state}`,
    canModifyPolicy: Number(p.CanModifyOptInPolicy) === 1,
    codeTimeoutSeconds: Number(p.OptInCodeTimeout) > 0 ? Number(p.OptInCodeTimeout) : 120,
    displayTimeoutSeconds: Number(p.OptInDisplayTimeout) || 0,
    controlMode,
  };
}

/** Whether `scope` needs the user's consent under this policy. */
export function consentNeeded(p: OptInPolicy, scope: ConsentScope): boolean {
  if (p.controlMode === 'client') return true;
  if (p.required === 'none') return false;
  if (p.required === 'kvm') return scope === 'kvm';
  return true;
}

export const consentInPlace = (p: OptInPolicy): boolean => p.state === OPT_IN_STATE.received || p.state === OPT_IN_STATE.inSession;

async function readState(client: WsmanClient): Promise<number> {
  return Number((await client.get('IPS_OptInService')).props.OptInState);
}

/** StartOptIn: the PC shows a code. A request or consent already in place is a ConsentError 'busy'. */
export async function startOptIn(client: WsmanClient): Promise<void> {
  const rv = Number((await client.invoke('IPS_OptInService', 'StartOptIn')).ReturnValue);
  if (rv === 0) return;
  if (rv === NOT_READY) {
    const state = await readState(client);
    throw new ConsentError('busy', `${client.label} already has a user consent ${STATE_NAMES[state] ?? `in state ${state}`}; cancel it or wait for it to end`);
  }
  throw new DeviceRefusedError('IPS_OptInService.StartOptIn', rv, 'see the AMT SDK');
}

/** Checks a code as a person would type it: six digits (spaces and dashes allowed between). */
export function normalizeConsentCode(code: unknown): string {
  const text = typeof code === 'number' && Number.isInteger(code) ? String(code).padStart(6, '0') : typeof code === 'string' ? code.replace(/[\s-]/g, '') : '';
  if (!/^\d{6}$/.test(text)) throw new InputError('the user consent code is the 6 digits shown on the PC\'s screen');
  return text;
}

/** SendOptInCode. Throws ConsentError 'wrong-code', 'too-many-tries' (the request ended) or 'expired'. */
export async function sendOptInCode(client: WsmanClient, code: unknown): Promise<void> {
  const digits = normalizeConsentCode(code);
  const rv = Number((await client.invoke('IPS_OptInService', 'SendOptInCode', { OptInCode: Number(digits) })).ReturnValue);
  if (rv === 0) return;
  if (rv === OPT_IN_WRONG_CODE) {
    const state = await readState(client);
    if (state === OPT_IN_STATE.notStarted) throw new ConsentError('too-many-tries', `${client.label} refused the consent code and ended the request after too many wrong codes`);
    throw new ConsentError('wrong-code', `${client.label} refused the consent code: it is not the one on the PC's screen`);
  }
  if (rv === NOT_READY) {
    const state = await readState(client);
    if (state === OPT_IN_STATE.received || state === OPT_IN_STATE.inSession) return;
    throw new ConsentError('expired', `${client.label} shows no consent code any more (it expired or was cancelled); start again`);
  }
  throw new DeviceRefusedError('IPS_OptInService.SendOptInCode', rv, 'see the AMT SDK');
}

/** CancelOptIn: true when something was cancelled, false when there was nothing to cancel. */
export async function cancelOptIn(client: WsmanClient): Promise<boolean> {
  const rv = Number((await client.invoke('IPS_OptInService', 'CancelOptIn')).ReturnValue);
  if (rv === 0) return true;
  if (rv === NOT_READY) return false;
  throw new DeviceRefusedError('IPS_OptInService.CancelOptIn', rv, 'see the AMT SDK');
}

export interface ConsentPrompt {
  /** The device, as the client names it. */
  device: string;
  /** How long the code is valid, in seconds. */
  codeTimeoutSeconds: number;
  /** 1 for the first code asked for. */
  attempt: number;
}

export interface ConsentOptions {
  scope: ConsentScope;
  /** Gives the code the person at the PC reads out; called once per attempt. Without it, a device that wants consent is refused before anything starts. */
  askCode?: (prompt: ConsentPrompt) => Promise<unknown>;
  /** Wait for a code at most this long (default: the device's OptInCodeTimeout). */
  timeoutMs?: number;
  /** Codes to try before giving up (default 1, at most 3: firmware ends the request after a few). */
  attempts?: number;
  /** Told 'waiting' with the prompt once the code is on the screen. */
  onWaiting?: (prompt: ConsentPrompt) => void;
  /** While waiting for the code, look this often (ms, default 5000) whether the PC still shows it. */
  watchMs?: number;
}

export interface ConsentResult {
  /** False: the device did not ask for consent for this. */
  required: boolean;
  /** We started the request (and cancel it if what follows fails). */
  started: boolean;
  policy: OptInPolicy;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Rejects `gone` once the PC no longer shows a code (it expired, or someone cancelled it). */
function watchScreen(client: WsmanClient, everyMs: number): { gone: Promise<never>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const gone = new Promise<never>((_, reject) => {
    const look = () => {
      timer = setTimeout(() => {
        readState(client).then(
          (state) => {
            if (stopped) return;
            if (state === OPT_IN_STATE.notStarted) reject(new ConsentError('expired', `${client.label} no longer shows its consent code (it expired or was cancelled at the PC)`));
            else look();
          },
          () => !stopped && look(),
        );
      }, everyMs);
    };
    look();
  });
  gone.catch(() => undefined);
  return {
    gone,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Makes sure the device has the user's consent for `scope`: nothing when it does not need it or
 * already has it; otherwise StartOptIn (a code someone else already put on the screen is used as
 * it is), ask for the code, SendOptInCode. Whatever fails, a request we started is cancelled, so
 * the code leaves the screen.
 */
export async function obtainConsent(client: WsmanClient, o: ConsentOptions): Promise<ConsentResult> {
  let policy: OptInPolicy;
  try {
    policy = await readOptInPolicy(client);
  } catch (e) {
    // Firmware without IPS_OptInService (before user consent existed) asks for none.
    if (e instanceof WsmanFaultError && e.subcode === 'DestinationUnreachable') {
      return { required: false, started: false, policy: { required: 'none', requiredValue: 0, state: 0, stateName: STATE_NAMES[0], canModifyPolicy: false, codeTimeoutSeconds: 0, displayTimeoutSeconds: 0 } };
    }
    throw e;
  }
  if (!consentNeeded(policy, o.scope)) return { required: false, started: false, policy };
  if (consentInPlace(policy)) return { required: true, started: false, policy };
  const askCode = o.askCode;
  if (!askCode) throw new ConsentError('refused', `${client.label} needs the user's consent (the code on its screen) for this${policy.controlMode === 'client' ? ': it is in client control mode' : ''}`);
  let started = false;
  if (policy.state === OPT_IN_STATE.notStarted) {
    await startOptIn(client);
    started = true;
  }
  const attempts = Math.min(Math.max(Math.floor(o.attempts ?? 1), 1), 3);
  const timeoutMs = o.timeoutMs ?? policy.codeTimeoutSeconds * 1000;
  try {
    for (let attempt = 1; ; attempt++) {
      const prompt: ConsentPrompt = { device: client.label, codeTimeoutSeconds: policy.codeTimeoutSeconds, attempt };
      o.onWaiting?.(prompt);
      let code: unknown;
      const watch = watchScreen(client, o.watchMs ?? 5000);
      try {
        code = await withTimeout(Promise.race([askCode(prompt), watch.gone]), timeoutMs, `no user consent code for ${client.label} within ${(timeoutMs / 1000).toFixed(timeoutMs < 10_000 ? 1 : 0)} s`);
      } catch (e) {
        if (e instanceof TimeoutError) throw new ConsentError('no-code', e.message);
        throw e;
      } finally {
        watch.stop();
      }
      try {
        await sendOptInCode(client, code);
        return { required: true, started, policy };
      } catch (e) {
        if (!(e instanceof ConsentError) || e.reason !== 'wrong-code' || attempt >= attempts) throw e;
      }
    }
  } catch (e) {
    if (started) await cancelOptIn(client).catch(() => undefined);
    throw e;
  }
}
