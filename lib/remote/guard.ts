/**
 * The gateway's checks on a command from the centre, in order: it opens (size, JSON, signed by
 * the pinned centre key), it is for this site, it is fresh (inside the clock window), it was not
 * seen before (nonce), and its action is one this site allows. Each refusal says why.
 */
import type { KeyObject } from 'node:crypto';
import { clip } from '../errors';
import { ActionClass, actionClass, isRemoteAction } from './actions';
import { Command, openCommand, OpenFailure } from './envelope';
import { NonceCache } from './nonce-cache';

export type RefusalReason = OpenFailure | 'wrong-site' | 'stale' | 'replayed' | 'unknown-action' | 'not-allowed';

/** A refusal names the nonce and the reply name the command carried (unverified if it did not open), to address the answer. */
export type Checked = { ok: true; command: Command } | { ok: false; reason: RefusalReason; message: string; nonce?: string; reply?: string };

export interface GuardOptions {
  /** This gateway's site (slug). */
  site: string;
  /** The centre's public key, pinned at the site. */
  centreKey: KeyObject;
  /** Action classes this site allows. */
  allow: ReadonlySet<ActionClass>;
  /** How far a command's time may be from ours, either way. Default 60 s. */
  windowMs?: number;
  /** Nonces remembered at most. Default 10,000. */
  maxNonces?: number;
  now?: () => number;
}

export class CommandGuard {
  readonly site: string;
  readonly windowMs: number;
  private readonly nonces: NonceCache;
  private readonly now: () => number;

  constructor(private readonly o: GuardOptions) {
    this.site = o.site;
    this.windowMs = o.windowMs ?? 60_000;
    this.now = o.now ?? Date.now;
    this.nonces = new NonceCache(o.maxNonces ?? 10_000);
  }

  check(raw: Buffer): Checked {
    const opened = openCommand(raw, this.o.centreKey);
    if (!opened.ok) return { ok: false, reason: opened.reason, message: opened.message, nonce: opened.peek?.nonce as string | undefined, reply: opened.peek?.reply as string | undefined };
    const c = opened.value;
    const refuse = (reason: RefusalReason, message: string): Checked => ({ ok: false, reason, message, nonce: c.nonce, reply: c.reply });
    if (c.site !== this.site) return refuse('wrong-site', `command is for site "${clip(c.site, 64)}", this is "${this.site}"`);
    const now = this.now();
    if (Math.abs(now - c.ts) > this.windowMs) {
      return refuse('stale', `command was signed ${Math.round((now - c.ts) / 1000)} s from now; the window is ±${Math.round(this.windowMs / 1000)} s (check both clocks)`);
    }
    if (!isRemoteAction(c.action)) return refuse('unknown-action', `unknown action "${clip(c.action, 64)}"`);
    const cls = actionClass(c.action);
    if (!this.o.allow.has(cls)) return refuse('not-allowed', `this site does not allow "${cls}" actions (${c.action})`);
    // Last: a refused command does not use up its nonce, but a run one can never run again.
    if (!this.nonces.add(c.nonce, c.ts, now - this.windowMs)) return refuse('replayed', 'command was already received (same nonce)');
    return { ok: true, command: c };
  }
}
