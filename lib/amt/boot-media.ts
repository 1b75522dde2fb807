/**
 * Boot a PC once from media: check what it can do, arm the boot (boot.ts), power it on or reset it,
 * and for IDE-R serve the image (redirection/) until it has loaded its boot image, then keep serving
 * until the device or the caller ends the session. Whatever fails, the boot settings and the
 * redirection service are put back the way they were, and the error says what happened.
 */
import { EventEmitter } from 'node:events';
import { recordOwnAction } from '../activity';
import { ConsentError, DeviceRefusedError, OobError, TimeoutError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import type { TypedObject } from '../wsman/typing';
import { armBoot, BootTarget, canonicalBootTarget, checkBootTarget, enableIder, HttpsBootOptions, isIderTarget, readBootSupport, readRedirection, RedirectionState, restoreBoot, restoreRedirection } from './boot';
import { noteBootChange, noteBootEnded } from './boot-journal';
import { BootCheck, checkBiosSetupReached, eventLogMark } from './boot-check';
import { cancelOptIn, ConsentPrompt, obtainConsent, USER_CONSENT_REQUIRED } from './opt-in';
import { OFF_STATES, readPowerStatus, requestPowerAction } from './power';
import { openRedirection, RedirectionEndpoint } from './redirection/connection';
import { IderEnd, IderProgress, IderSession } from './redirection/ider-session';
import { BootableImage, checkBootable, ImageMedium, resolveImage } from './redirection/medium';

export interface MediaBootOptions {
  target: BootTarget | string;
  /** IDE-R: the folder images must be in, and the image's name (or path) inside it. */
  imageDirectory?: string;
  image?: string;
  https?: HttpsBootOptions;
  /** 'auto': power on when off, reset when on. 'none': arm the next boot only. */
  power?: 'auto' | 'none';
  /** Limit from the start to the device loading its boot image (IDE-R). Default 5 minutes. */
  timeoutMs?: number;
  /** Close the IDE-R session as soon as the device has loaded its boot image. */
  stopAfterBoot?: boolean;
  /** Where the redirection port is and how to authenticate (IDE-R). */
  redirection?: RedirectionEndpoint;
  heartbeatMs?: number;
  /**
   * User consent, for a device that wants it before IDE-R or a boot into BIOS setup (client control
   * mode, or admin control mode with consent required): `askCode` gives the code the person at the
   * PC reads out. Without it such a device is refused before anything changes.
   */
  consent?: { askCode: (prompt: ConsentPrompt) => Promise<unknown>; timeoutMs?: number; attempts?: number };
  /**
   * After a boot into BIOS setup, watch the BIOS's progress reports in the event log for where the
   * PC really went (default: when the PC asked for consent, whose firmware may answer success and
   * boot elsewhere). Up to `verifyBootMs` (default 2 minutes).
   */
  verifyBoot?: boolean;
  verifyBootMs?: number;
}

/** The phase text while the PC shows its consent code. */
export const CONSENT_PHASE = "waiting for user consent: code on the PC's screen";

export type MediaBootResult = 'booted' | 'requested' | 'stopped';

export interface MediaBootOutcome {
  target: BootTarget;
  result: MediaBootResult;
  power: 'on' | 'reset' | 'none';
  bytesServed: number;
  seconds: number;
  image?: string;
  /** Volume id (CD) or label (floppy) of the image. */
  label?: string;
  /** BIOS setup: true when the PC reported entering it, false when it reported nothing (see `note`). */
  verified?: boolean;
  note?: string;
}

export interface MediaBootFinal {
  bytesServed: number;
  seconds: number;
  end: IderEnd['reason'] | 'none';
  error?: Error;
}

/**
 * A boot in progress. Events: 'phase' (text), 'consent' (ConsentPrompt: the PC shows its code and
 * `consent.askCode` was asked for it), 'progress' (IderProgress), 'booted'.
 * `outcome` settles once (booted, requested, stopped, or the error); `final` when everything is
 * closed and restored (for IDE-R, when the session has ended).
 */
export class MediaBoot extends EventEmitter {
  readonly outcome: Promise<MediaBootOutcome>;
  readonly final: Promise<MediaBootFinal>;
  session?: IderSession;
  private stopRequested = false;
  private wake?: () => void;
  private abortConsent?: (e: Error) => void;
  private readonly stopping = new AbortController();

  constructor(
    private readonly client: WsmanClient,
    private readonly host: string,
    private readonly o: MediaBootOptions,
  ) {
    super();
    // Started on the next tick, so that listeners attached right after construction see every phase.
    const run = Promise.resolve().then(() => this.run());
    this.outcome = run.then((r) => r.outcome);
    this.final = run.then(
      (r) => r.final,
      (error: Error) => ({ bytesServed: this.session?.bytesServed ?? 0, seconds: this.elapsed(), end: 'none' as const, error }),
    );
    this.outcome.catch(() => undefined);
  }

  private readonly started = Date.now();
  /** This PC in the boot journal (lib/amt/boot-journal). */
  private get journalKey(): { host: string; port: number } {
    return { host: this.client.host, port: this.client.port };
  }
  private elapsed(): number {
    return Math.round((Date.now() - this.started) / 100) / 10;
  }

  /** Ask to end: before boot the outcome is 'stopped'; after boot the session closes cleanly. */
  async stop(): Promise<MediaBootFinal> {
    this.stopRequested = true;
    this.stopping.abort();
    this.wake?.();
    this.abortConsent?.(new OobError('CLOSED', 'stopped while waiting for the user consent code'));
    await this.session?.stop();
    return this.final;
  }

  private phase(text: string): void {
    this.emit('phase', text);
  }

  private async run(): Promise<{ outcome: MediaBootOutcome; final: Promise<MediaBootFinal> }> {
    const target = canonicalBootTarget(this.o.target);
    const label = this.client.label;
    let medium: ImageMedium | undefined;
    let image: BootableImage | undefined;
    let savedSettings: TypedObject | undefined;
    let savedRedirection: RedirectionState | undefined;
    let armed = false;
    let consentStarted = false;
    const undo = async (e: Error): Promise<never> => {
      const problems: string[] = [];
      if (consentStarted) await cancelOptIn(this.client).catch(() => undefined);
      if (this.session) await this.session.stop().catch(() => undefined);
      else await medium?.close();
      if (armed && savedSettings) await restoreBoot(this.client, savedSettings).catch((x: Error) => problems.push(`restoring the boot settings failed: ${x.message}`));
      if (savedRedirection) await restoreRedirection(this.client, savedRedirection).catch((x: Error) => problems.push(`restoring the redirection service failed: ${x.message}`));
      // Put back (or not restorable now, and said so): a later start does not try again.
      if (!problems.length) noteBootEnded(this.journalKey);
      if (problems.length) e.message += `; ${problems.join('; ')}`;
      throw e;
    };
    try {
      this.phase('checking');
      const support = await readBootSupport(this.client);
      checkBootTarget(label, target, support);
      savedSettings = support.settings;
      if (isIderTarget(target)) {
        const path = await resolveImage(this.o.imageDirectory, this.o.image);
        medium = await ImageMedium.open(path, target === 'ide-r-cd' ? 'cd' : 'floppy');
        image = await checkBootable(medium);
        if (!this.o.redirection) throw new OobError('BAD_INPUT', 'IDE-R needs the redirection port and credentials of the device');
        consentStarted = (await this.consent('redirection')).started;
        this.phase('connecting');
        // Written down before the change: a process killed during the boot puts it back at its next start.
        const before = await readRedirection(this.client);
        noteBootChange(this.journalKey, { redirection: before });
        savedRedirection = await enableIder(this.client, before);
        // Same certificate as on the WS-Man port: pinned, or learned there on first use.
        const channel = await openRedirection({ ...this.o.redirection, fingerprint: this.o.redirection.fingerprint ?? this.client.fingerprint }, 'IDER');
        const bootRange = image.iso
          ? { offset: image.iso.entry.loadRba * 2048, length: image.iso.infoTable?.fileLength ?? image.iso.loadBytes }
          : { offset: 0, length: 512 };
        this.session = await IderSession.open(channel, { medium, start: 'reboot', heartbeatMs: this.o.heartbeatMs, bootRange });
        this.session.on('progress', (p: IderProgress) => this.emit('progress', p));
      } else if (target === 'https' && !this.o.https?.url) {
        throw new OobError('BAD_INPUT', 'an HTTPS boot needs a URL (set it in the node or in msg.url)');
      }
      let consentAsked = false;
      if (target === 'bios') {
        const c = await this.consent('boot');
        consentStarted = c.started;
        consentAsked = c.required;
      }
      this.phase('arming');
      armed = true;
      noteBootChange(this.journalKey, { armed: true });
      await armBoot(this.client, target, support.settings, target === 'https' ? this.o.https : undefined);
      let power: MediaBootOutcome['power'] = 'none';
      const verify = target === 'bios' && (this.o.power ?? 'auto') === 'auto' && (this.o.verifyBoot ?? consentAsked);
      const mark = verify ? await eventLogMark(this.client) : undefined;
      if ((this.o.power ?? 'auto') === 'auto') {
        const state = await readPowerStatus(this.client, { osPowerSaving: false });
        power = OFF_STATES.has(state.state) ? 'on' : 'reset';
        this.phase(power === 'on' ? 'powering on' : 'resetting');
        await requestPowerAction(this.client, power).catch((e: Error) => {
          if (e instanceof DeviceRefusedError && e.returnValue === USER_CONSENT_REQUIRED) throw new ConsentError('refused', `${label} refused to ${power === 'on' ? 'power on' : 'reset'} into ${target}: it needs the user's consent`);
          throw e;
        });
        recordOwnAction(this.host, 'boot', target);
      }
      let check: BootCheck | undefined;
      if (mark) {
        this.phase('checking what the PC booted');
        check = await checkBiosSetupReached(this.client, mark, { timeoutMs: this.o.verifyBootMs ?? 120_000, signal: this.stopping.signal });
      }
      // The firmware has taken the one-time boot (the PC was powered on or reset), or it waits on purpose (power 'none').
      if (savedRedirection) noteBootChange(this.journalKey, { armed: false });
      else noteBootEnded(this.journalKey);
      if (!this.session) {
        const outcome: MediaBootOutcome = { target, result: 'requested', power, bytesServed: 0, seconds: this.elapsed(), ...(check ? { verified: check.verified } : {}), ...(check?.note ? { note: check.note } : {}) };
        return { outcome, final: Promise.resolve({ bytesServed: 0, seconds: outcome.seconds, end: 'none' }) };
      }
      this.phase('waiting for the device');
      const result = await this.waitForBoot(this.session);
      const outcome: MediaBootOutcome = {
        target,
        result,
        power,
        bytesServed: this.session.bytesServed,
        seconds: this.elapsed(),
        image: medium?.name,
        label: image?.label,
      };
      if (result === 'stopped') await restoreBoot(this.client, support.settings).catch(() => undefined);
      if (result === 'booted') this.emit('booted', outcome);
      if (this.o.stopAfterBoot || result === 'stopped') await this.session.stop();
      const final = this.session.ended.then(async (end): Promise<MediaBootFinal> => {
        let error = end.reason === 'error' ? end.error : undefined;
        if (savedRedirection) {
          await restoreRedirection(this.client, savedRedirection).catch((x: Error) => {
            error = new OobError('DEVICE_REFUSED', `restoring the redirection service failed: ${x.message}`);
          });
        }
        noteBootEnded(this.journalKey);
        return { bytesServed: this.session?.bytesServed ?? 0, seconds: this.elapsed(), end: end.reason, error };
      });
      return { outcome, final };
    } catch (e) {
      return undo(e as Error);
    }
  }

  /** Obtains consent when the device wants it: whether it asked, and whether we started a request (cancelled on failure). */
  private async consent(scope: 'redirection' | 'boot'): Promise<{ required: boolean; started: boolean }> {
    const c = this.o.consent;
    const ask = c?.askCode;
    const stopped = new Promise<never>((_, reject) => {
      this.abortConsent = reject;
    });
    stopped.catch(() => undefined);
    const r = await obtainConsent(this.client, {
      scope,
      askCode: ask && ((prompt) => (this.stopRequested ? Promise.reject(new OobError('CLOSED', 'stopped before the user consent code was given')) : Promise.race([ask(prompt), stopped]))),
      timeoutMs: c?.timeoutMs,
      attempts: c?.attempts,
      onWaiting: (prompt) => {
        this.phase(CONSENT_PHASE);
        this.emit('consent', prompt);
      },
    });
    this.abortConsent = undefined;
    if (r.required) this.phase('user consent given');
    return { required: r.required, started: r.started };
  }

  /** Until the boot image has been read, the session ends, the caller stops, or the time is up. */
  private waitForBoot(s: IderSession): Promise<MediaBootResult> {
    const timeoutMs = this.o.timeoutMs ?? 300_000;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        s.off('booted', onBooted);
        this.wake = undefined;
      };
      const onBooted = () => {
        cleanup();
        resolve('booted');
      };
      const describe = () => {
        const p = s.snapshot();
        return `after ${(p.bytesServed / 1e6).toFixed(1)} MB, ${Math.round(p.fraction * 100)}% of the image`;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new TimeoutError(`${s.label} did not load the boot image within ${Math.round(timeoutMs / 1000)} s (${describe()}${s.commands === 0 ? ', no disk command at all: did it boot from IDE-R?' : ''})`));
      }, timeoutMs);
      s.on('booted', onBooted);
      if (s.booted) return onBooted();
      this.wake = () => {
        cleanup();
        resolve('stopped');
      };
      if (this.stopRequested) return this.wake();
      void s.ended.then((end) => {
        if (s.booted || this.stopRequested) return;
        cleanup();
        if (end.reason === 'error') {
          end.error.message = `${end.error.message} (${describe()})`;
          reject(end.error);
        } else reject(new OobError('UNREACHABLE', `${s.label} closed the IDE-R session before loading the boot image (${describe()})`));
      });
    });
  }
}

export function bootFromMedia(client: WsmanClient, host: string, o: MediaBootOptions): MediaBoot {
  return new MediaBoot(client, host, o);
}
