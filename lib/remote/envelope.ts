/**
 * Signed messages between the centre and a site's gateway. On the wire a message is JSON
 * `{"body": "<JSON text>", "sig": "<base64 Ed25519 signature>"}`: the signature covers the exact
 * bytes of `body` behind a context line, so nothing has to be re-serialised the same way on both
 * sides, and a signed answer can never pass as a command (or the other way round).
 *
 *   command (centre -> site)   { v, site, device, action, args, ts, nonce }         centre's key
 *   answer  (site -> centre)   { v, site, device, action, nonce, ts, type, ... }    site's key
 *       type 'result'   result: the action's value (JSON)
 *       type 'error'    error: { code, message }: the action ran and failed
 *       type 'refused'  error: { code: reason, message }: the gateway would not run it
 *       type 'progress' seq, event: a long action's progress (boot phases, IDE-R transfer)
 */
import { randomBytes, sign, verify, KeyObject } from 'node:crypto';
import { clip } from '../errors';

export const PROTOCOL_VERSION = 1;
const COMMAND_CONTEXT = Buffer.from('oobkit remote command v1\n');
const ANSWER_CONTEXT = Buffer.from('oobkit remote answer v1\n');

/** Messages larger than this are refused unread (a command is small; an inventory answer is not). */
export const MAX_COMMAND_BYTES = 16 * 1024;
export const MAX_ANSWER_BYTES = 1024 * 1024;

export interface Command {
  v: number;
  site: string;
  device: string;
  action: string;
  args: Record<string, unknown>;
  /** Milliseconds since 1970, the centre's clock when it signed. */
  ts: number;
  /** 16 random bytes, base64url: a command is run at most once. */
  nonce: string;
  /**
   * The centre's name: its answers go to `<base>/<site>/_remote/reply/<reply>`. Signed, so a
   * broker without MQTT 5's response topic (3.1.1) still carries the exchange, and the nonce
   * stands in for the correlation data.
   */
  reply?: string;
}

export type AnswerType = 'result' | 'error' | 'refused' | 'progress';

export interface Answer {
  v: number;
  site: string;
  device: string;
  action: string;
  nonce: string;
  ts: number;
  type: AnswerType;
  result?: unknown;
  error?: { code: string; message: string };
  seq?: number;
  event?: unknown;
}

export function newNonce(): string {
  return nonceText(randomBytes(16));
}

/** A nonce's text from its 16 random bytes. */
export function nonceText(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** The context line and the body's UTF-8 bytes in one buffer: what is signed. */
function withContext(context: Buffer, body: string): Buffer {
  const out = Buffer.allocUnsafe(context.length + Buffer.byteLength(body, 'utf8'));
  context.copy(out);
  out.write(body, context.length, 'utf8');
  return out;
}

function signed(context: Buffer, body: object, key: KeyObject): Buffer {
  const text = JSON.stringify(body);
  const sig = sign(null, withContext(context, text), key);
  return Buffer.from(JSON.stringify({ body: text, sig: sig.toString('base64') }), 'utf8');
}

export function signCommand(c: Command, centreKey: KeyObject): Buffer {
  return signed(COMMAND_CONTEXT, c, centreKey);
}

export function signAnswer(a: Answer, siteKey: KeyObject): Buffer {
  return signed(ANSWER_CONTEXT, a, siteKey);
}

/** Why a signed message could not be opened. */
export type OpenFailure = 'too-large' | 'malformed' | 'unsigned' | 'bad-signature';

export type Opened<T> = { ok: true; value: T } | { ok: false; reason: OpenFailure; message: string; peek?: Record<string, unknown> };

function open(raw: Buffer, context: Buffer, key: KeyObject, max: number): Opened<Record<string, unknown>> {
  if (raw.length > max) return { ok: false, reason: 'too-large', message: `message of ${raw.length} bytes is over the limit of ${max}` };
  let outer: unknown;
  try {
    outer = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', message: 'message is not JSON' };
  }
  if (typeof outer !== 'object' || outer === null || Array.isArray(outer)) return { ok: false, reason: 'malformed', message: 'message is not a JSON object' };
  const { body, sig } = outer as Record<string, unknown>;
  // Only a refusal needs the unverified fields (to address it): a good message's body is parsed once.
  const peek = () => peekAt(typeof body === 'string' ? body : outer);
  if (typeof body !== 'string') return { ok: false, reason: 'unsigned', message: 'message has no signed body', peek: peek() };
  if (typeof sig !== 'string' || !sig) return { ok: false, reason: 'unsigned', message: 'message carries no signature', peek: peek() };
  const signature = Buffer.from(sig, 'base64');
  let good: boolean;
  try {
    good = signature.length === 64 && verify(null, withContext(context, body), key, signature);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'bad-signature', message: 'signature does not verify with the pinned key', peek: peek() };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'malformed', message: 'signed body is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'malformed', message: 'signed body is not a JSON object' };
  return { ok: true, value: value as Record<string, unknown> };
}

/** The unverified fields of a message, only to address a refusal (its nonce); never trusted. */
function peekAt(body: unknown): Record<string, unknown> | undefined {
  try {
    const v = typeof body === 'string' ? JSON.parse(body) : body;
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    if (typeof o.nonce === 'string') out.nonce = clip(o.nonce, 64);
    if (typeof o.reply === 'string') out.reply = clip(o.reply, 64);
    return Object.keys(out).length ? out : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;

export function openCommand(raw: Buffer, centreKey: KeyObject): Opened<Command> {
  const o = open(raw, COMMAND_CONTEXT, centreKey, MAX_COMMAND_BYTES);
  if (!o.ok) return o;
  const c = o.value;
  const args = c.args === undefined ? {} : c.args;
  if (
    c.v !== PROTOCOL_VERSION ||
    !str(c.site, 64) ||
    !str(c.device, 64) ||
    !str(c.action, 64) ||
    !str(c.nonce, 64) ||
    typeof c.ts !== 'number' ||
    !Number.isFinite(c.ts) ||
    typeof args !== 'object' ||
    args === null ||
    Array.isArray(args) ||
    (c.reply !== undefined && !isReplyName(c.reply))
  ) {
    return { ok: false, reason: 'malformed', message: 'command lacks site, device, action, ts or nonce (or has a protocol version other than 1)', peek: peekAt(c) };
  }
  return { ok: true, value: { ...(c as unknown as Command), args: args as Record<string, unknown> } };
}

/** A centre's name as the last level of a reply topic: no separators or wildcards. */
function isReplyName(v: unknown): v is string {
  return str(v, 64) && !/[/#+\0]/.test(v as string);
}

/**
 * The nonce an answer claims, unverified: only to find the command it may belong to (over MQTT
 * 3.1.1, which has no correlation data), whose site key then verifies it.
 */
export function peekNonce(raw: Buffer): string | undefined {
  if (raw.length > MAX_ANSWER_BYTES) return undefined;
  try {
    const outer = JSON.parse(raw.toString('utf8')) as unknown;
    if (typeof outer !== 'object' || outer === null) return undefined;
    const n = peekAt((outer as Record<string, unknown>).body)?.nonce;
    return typeof n === 'string' ? n : undefined;
  } catch {
    return undefined;
  }
}

export function openAnswer(raw: Buffer, siteKey: KeyObject): Opened<Answer> {
  const o = open(raw, ANSWER_CONTEXT, siteKey, MAX_ANSWER_BYTES);
  if (!o.ok) return o;
  const a = o.value;
  if (a.v !== PROTOCOL_VERSION || !str(a.site, 64) || !str(a.nonce, 64) || !['result', 'error', 'refused', 'progress'].includes(a.type as string)) {
    return { ok: false, reason: 'malformed', message: 'answer lacks site, nonce or type' };
  }
  return { ok: true, value: a as unknown as Answer };
}
