/**
 * Remote console sessions of a PC for a viewer: KVM (the screen, RFB) or SOL (the serial console,
 * text). Opening one turns on what it needs over WS-Man — for KVM CIM_KVMRedirectionSAP
 * (RequestStateChange 2) after checking IPS_KVMRedirectionSettingData (KVM must be enabled in the
 * PC's MEBx; that cannot be changed remotely), for SOL its half of AMT_RedirectionService, and for
 * both the redirection listener — then opens the session on the redirection port. When the session
 * ends, for whatever reason, what was turned on is turned off again.
 *
 * One console per PC at a time: a second viewer is refused with an error that says so.
 */
import { EventEmitter } from 'node:events';
import { OobError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import { putListener, readRedirection, requestRedirectionState, restoreRedirection } from './boot';
import type { RedirectionEndpoint } from './redirection/connection';
import { openKvm } from './redirection/kvm-session';
import { openSol } from './redirection/sol-session';
import { RfbEncodingFilter } from './rfb-encodings';

export type ConsoleKind = 'kvm' | 'sol';

export interface ConsoleTarget {
  /** Names the PC: one console per key at a time. */
  key: string;
  client: WsmanClient;
  redirection: RedirectionEndpoint;
  /**
   * User consent: called after the console is enabled and before its session opens. Where the PC
   * requires consent (client control mode always does for KVM), it must resolve once the code on
   * the PC's screen has been given, and reject when consent is refused or times out. Without it,
   * no consent is asked, and a PC that requires it refuses the session.
   */
  waitForUserConsent?: (kind: ConsoleKind) => Promise<void>;
}

/** Busy: another viewer has this PC's console. */
export class ConsoleBusyError extends OobError {
  constructor(key: string, kind: ConsoleKind) {
    super('DEVICE_REFUSED', `${key} already has an open ${kind.toUpperCase()} console: one viewer per PC at a time`);
  }
}

const openConsoles = new Map<string, ConsoleKind>();

/** The kind of console open on a PC, if any. */
export function openConsoleKind(key: string): ConsoleKind | undefined {
  return openConsoles.get(key);
}

/**
 * An open console. 'data': bytes from the PC (RFB for KVM, text for SOL); 'close' (Error?) once
 * the session is over; `done` resolves after what was enabled has been restored (with the
 * restore problem, if one happened).
 */
export class ConsoleConnection extends EventEmitter {
  done: Promise<Error | undefined>;
  private ended = false;
  /** KVM: keeps the viewer from asking AMT for encodings it answers differently (see rfb-encodings). */
  readonly encodings?: RfbEncodingFilter;

  constructor(
    readonly kind: ConsoleKind,
    private readonly session: { write(b: Buffer | string): unknown; close(): Promise<void>; on(e: 'data', f: (b: Buffer) => void): unknown; once(e: 'close', f: (e?: Error) => void): unknown },
    restore: () => Promise<void>,
    release: () => void,
  ) {
    super();
    if (kind === 'kvm') this.encodings = new RfbEncodingFilter();
    this.done = new Promise((resolve) => {
      session.once('close', (e?: Error) => {
        this.ended = true;
        release();
        restore().then(
          () => resolve(undefined),
          (x: Error) => resolve(new OobError('DEVICE_REFUSED', `restoring the ${kind.toUpperCase()} settings failed: ${x.message}`)),
        );
        this.emit('close', e);
      });
    });
    // Bytes wait in the session until the viewer listens (the PC speaks first in RFB).
    const attach = (event: string | symbol) => {
      if (event !== 'data') return;
      this.off('newListener', attach);
      session.on('data', (b: Buffer) => this.emit('data', b));
    };
    this.on('newListener', attach);
  }

  get closed(): boolean {
    return this.ended;
  }

  write(b: Buffer | string): void {
    if (this.ended) return;
    if (this.encodings) {
      const out = this.encodings.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
      if (out.length > 0) this.session.write(out);
    } else this.session.write(b);
  }

  /** Ends the session; resolves once the PC's settings are restored. */
  async close(): Promise<Error | undefined> {
    if (!this.ended) await this.session.close();
    return this.done;
  }
}

type Restore = () => Promise<void>;

async function enableKvm(client: WsmanClient, host: string): Promise<Restore> {
  let settings;
  try {
    settings = (await client.get('IPS_KVMRedirectionSettingData')).props;
  } catch (e) {
    throw new OobError('UNSUPPORTED', `${host} has no KVM redirection (IPS_KVMRedirectionSettingData: ${(e as Error).message})`, { cause: e });
  }
  if (settings.EnabledByMEBx === false) throw new OobError('DEVICE_REFUSED', `KVM is disabled in ${host}'s MEBx; it can only be enabled there, at the PC`);
  const sap = (await client.get('CIM_KVMRedirectionSAP')).props;
  const wasDisabled = Number(sap.EnabledState) === 3;
  if (wasDisabled) await requestKvmState(client, 2);
  const listener = (await readRedirection(client)).listenerEnabled;
  if (!listener) await putListener(client, true);
  return async () => {
    if (wasDisabled) await requestKvmState(client, 3);
    if (!listener) await putListener(client, false);
  };
}

async function requestKvmState(client: WsmanClient, state: 2 | 3): Promise<void> {
  const rv = Number((await client.invoke('CIM_KVMRedirectionSAP', 'RequestStateChange', { RequestedState: state })).ReturnValue);
  if (rv !== 0) throw new OobError('DEVICE_REFUSED', `CIM_KVMRedirectionSAP.RequestStateChange(${state}) answered ReturnValue ${rv}`);
}

/** 32768 nothing, 32769 IDE-R, 32770 SOL, 32771 both. */
const withSol = (state: number): number => (state === 32769 || state === 32771 ? 32771 : 32770);

async function enableSol(client: WsmanClient): Promise<Restore> {
  const before = await readRedirection(client);
  const sol = before.enabledState === 32770 || before.enabledState === 32771;
  if (!sol) await requestRedirectionState(client, withSol(before.enabledState));
  if (!before.listenerEnabled) await putListener(client, true);
  if (sol && before.listenerEnabled) return async () => undefined;
  return () => restoreRedirection(client, before);
}

/** Enables what the console needs, opens it, and restores everything if anything fails. */
export async function openConsole(kind: ConsoleKind, t: ConsoleTarget): Promise<ConsoleConnection> {
  const busy = openConsoles.get(t.key);
  if (busy) throw new ConsoleBusyError(t.key, busy);
  openConsoles.set(t.key, kind);
  const release = () => {
    if (openConsoles.get(t.key) === kind) openConsoles.delete(t.key);
  };
  let restore: Restore | undefined;
  try {
    restore = kind === 'kvm' ? await enableKvm(t.client, t.key) : await enableSol(t.client);
    if (t.waitForUserConsent) await t.waitForUserConsent(kind);
    const session = kind === 'kvm' ? await openKvm(t.redirection) : await openSol(t.redirection);
    return new ConsoleConnection(kind, session, restore, release);
  } catch (e) {
    await restore?.().catch(() => undefined);
    release();
    throw e;
  }
}
