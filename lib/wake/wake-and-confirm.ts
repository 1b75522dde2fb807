/**
 * "Wake and confirm": send magic packets, then watch the PC until it is up or a timeout passes,
 * and when Wake-on-LAN did not work and AMT is configured, power it on through AMT instead and
 * say so. What a user pressing "wake" wants to know is that the PC is up, not that a packet left.
 *
 * Confirmation: AMT power state when the device has AMT credentials, otherwise the RMCP presence
 * ping (meaningful only when the host did not answer before the wake), or a TCP port of the OS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { recordOwnAction } from '../activity';
import { checkPort, ManagedDevice } from '../device';
import { InputError } from '../errors';
import { planWake, sendPlan, WakePlan } from '../wol/send';
import { driverKindOf, withDriver } from '../drivers';
import { wakeRemote } from '../remote/wake';
import { ConfirmMethod, managementProbe, presenceProbe, Probe, tcpProbe } from './probes';

export type ConfirmChoice = 'auto' | 'none' | ConfirmMethod;

export interface WakeAndConfirmOptions {
  /** The device (host for confirmation, AMT for power state and fallback, its wake settings). */
  device?: ManagedDevice;
  /** MACs to wake; default the device's MAC. */
  macs?: string[];
  /** Magic-packet options; the device's own wake settings win over these. */
  address?: string;
  port?: number | string;
  interface?: string;
  secureOn?: string;
  repeat?: number | string;
  spacingMs?: number;
  packetsPerSecond?: number;
  /** How to confirm (default auto: AMT when configured, else presence ping). */
  confirm?: ConfirmChoice;
  /** TCP port for confirm 'tcp' when the device has none. */
  confirmPort?: number | string;
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Time between checks (default 1 s). */
  pollMs?: number;
  /** Power on through AMT when WOL has not worked after fallbackAfterMs (default true when AMT is configured). */
  fallback?: boolean;
  /** Default 20 s. */
  fallbackAfterMs?: number;
  /** Called as the wake moves on: 'waking', 'fallback' (with what powers it on: AMT or a BMC over IPMI). */
  onStage?: (stage: 'waking' | 'fallback', via?: 'amt' | 'ipmi') => void;
  signal?: AbortSignal;
}

export interface WakeOutcome {
  /** true: confirmed up; false: not up within the timeout; null: not confirmed (no way to, or not asked). */
  woke: boolean | null;
  /** From the first packet to confirmation. */
  after_ms: number | null;
  /** What brought it up: 'wol', or 'amt-power-on' / 'ipmi-power-on' (a server's BMC) after a fallback. */
  method: 'wol' | 'amt-power-on' | 'ipmi-power-on';
  /** How it was confirmed, when it was. */
  confirmedBy?: ConfirmMethod;
  /** It was up before anything was sent. */
  alreadyOn?: boolean;
  /** WOL did not bring it up in time and AMT was asked to power on. */
  fallback?: boolean;
  /** A sentence for a person when something needs explaining. */
  note?: string;
  /** Last power state AMT reported, when confirming through AMT. */
  state?: string;
  packets: number;
  macs: string[];
  address: string;
  port: number;
}

export const CONFIRM_DEFAULTS = { timeoutMs: 60_000, pollMs: 1000, fallbackAfterMs: 20_000 } as const;

function choose(o: WakeAndConfirmOptions): ConfirmMethod | 'none' {
  const c = o.confirm ?? 'auto';
  if (!['auto', 'none', 'amt', 'presence', 'tcp', 'ipmi'].includes(c)) throw new InputError(`unknown confirmation "${String(c)}"; use auto, none, amt, ipmi, presence or tcp`);
  if (c !== 'auto') return c;
  if (!o.device) return 'none';
  // A device with a management controller is confirmed by the power state it reports.
  const kind = driverKindOf(o.device);
  return kind === 'amt' || kind === 'ipmi' ? kind : 'presence';
}

function makeProbe(method: ConfirmMethod, o: WakeAndConfirmOptions): Probe {
  const d = o.device;
  if (!d) throw new InputError(`confirming by ${method} needs a device with a host, not only a MAC`);
  if (method === 'amt' || method === 'ipmi') return managementProbe(d, method);
  if (method === 'presence') return presenceProbe(d.host, d.wake?.presencePort);
  const port = d.wake?.confirmPort ?? o.confirmPort;
  if (port === undefined || port === '') throw new InputError('confirming over TCP needs a port the OS listens on (22, 3389, 445...)');
  return tcpProbe(d.host, checkPort(port, 'confirm port'));
}

function checkDurations(o: WakeAndConfirmOptions): { timeoutMs: number; pollMs: number; fallbackAfterMs: number } {
  const timeoutMs = o.timeoutMs ?? CONFIRM_DEFAULTS.timeoutMs;
  const pollMs = o.pollMs ?? CONFIRM_DEFAULTS.pollMs;
  const fallbackAfterMs = o.fallbackAfterMs ?? CONFIRM_DEFAULTS.fallbackAfterMs;
  if (!(timeoutMs > 0 && timeoutMs <= 3_600_000)) throw new InputError(`confirm timeout ${timeoutMs} ms must be more than 0 and at most an hour`);
  if (!(pollMs >= 50 && pollMs <= 60_000)) throw new InputError(`poll interval ${pollMs} ms must be 50 ms to 60 s`);
  if (!(fallbackAfterMs >= 0)) throw new InputError(`fallback delay ${fallbackAfterMs} ms must not be negative`);
  return { timeoutMs, pollMs, fallbackAfterMs };
}

/** Send the magic packets and, unless told not to, watch the device until it is up. */
export async function wakeAndConfirm(o: WakeAndConfirmOptions): Promise<WakeOutcome> {
  const d = o.device;
  if (d?.remote) return wakeRemote(d.remote, o);
  const macs = o.macs && o.macs.length ? o.macs : d?.mac ? [d.mac] : [];
  if (macs.length === 0) throw new InputError(d ? `${d.name ?? d.host} has no MAC address to wake` : 'no MAC address to wake: set msg.mac or choose a device');
  const w = d?.wake ?? {};
  // Everything is checked before the first packet leaves.
  const plan = await planWake({
    macs,
    address: w.address ?? o.address,
    port: w.port ?? o.port,
    interface: w.interface ?? o.interface,
    secureOn: w.secureOn ?? o.secureOn,
    repeat: o.repeat,
    spacingMs: o.spacingMs,
    packetsPerSecond: o.packetsPerSecond,
  });
  const durations = checkDurations(o);
  const choice = choose(o);
  const probe = choice === 'none' ? undefined : makeProbe(choice, o);
  try {
    return await run(o, plan, durations, probe);
  } finally {
    probe?.close();
  }
}

async function run(
  o: WakeAndConfirmOptions,
  plan: WakePlan,
  t: { timeoutMs: number; pollMs: number; fallbackAfterMs: number },
  probe: Probe | undefined,
): Promise<WakeOutcome> {
  const d = o.device;
  // Before sending: is it up already? For presence this decides whether a pong can mean anything.
  const before = probe ? await probe.check(Math.min(t.pollMs, 1000), o.signal) : false;
  o.onStage?.('waking');
  const started = performance.now();
  const sent = await sendPlan(plan, o.signal);
  if (d) recordOwnAction(d.host, 'wake', 'wol');
  const base: WakeOutcome = { woke: null, after_ms: null, method: 'wol', packets: sent.packets, macs: sent.macs, address: sent.address, port: sent.port };
  if (!probe) {
    return { ...base, note: d ? 'sent; not confirmed (confirmation is off)' : 'sent; not confirmed (no device to watch, only MACs)' };
  }
  if (before) {
    if (probe.method === 'presence') {
      return {
        ...base,
        note: 'the device answered presence pings before the wake (its management controller runs on standby power, or the PC was on already), so a pong cannot confirm it woke; add AMT credentials or a TCP port to confirm',
      };
    }
    return { ...base, woke: true, after_ms: 0, confirmedBy: probe.method, alreadyOn: true, ...(probe.lastState ? { state: probe.lastState } : {}) };
  }
  // The fallback powers on through the device's management controller: AMT, or a server's BMC.
  const kind = d ? driverKindOf(d) : undefined;
  const via = kind === 'amt' || kind === 'ipmi' ? kind : undefined;
  const canFallBack = via !== undefined && o.fallback !== false;
  const fallbackMethod = via === 'ipmi' ? 'ipmi-power-on' : 'amt-power-on';
  const viaText = via === 'ipmi' ? 'the BMC (IPMI)' : 'AMT';
  let fellBack = false;
  let fallbackNote: string | undefined;
  const deadline = started + t.timeoutMs;
  for (;;) {
    o.signal?.throwIfAborted();
    const checkStarted = performance.now();
    const remaining = deadline - checkStarted;
    if (remaining <= 0) break;
    if (await probe.check(Math.min(t.pollMs, remaining), o.signal)) {
      const outcome: WakeOutcome = { ...base, woke: true, after_ms: Math.round(performance.now() - started), confirmedBy: probe.method };
      if (probe.lastState) outcome.state = probe.lastState;
      if (fellBack) Object.assign(outcome, { method: fallbackMethod, fallback: true, note: `Wake-on-LAN did not wake it; powered on through ${viaText}` });
      return outcome;
    }
    if (canFallBack && !fellBack && performance.now() - started >= t.fallbackAfterMs) {
      fellBack = true;
      o.onStage?.('fallback', via);
      fallbackNote = await powerOnFallback(d as ManagedDevice, via === 'ipmi' ? 'IPMI' : 'AMT');
    }
    // Checks that fail fast (a refused TCP connection) must not turn into a busy loop.
    const wait = Math.min(checkStarted + t.pollMs, deadline) - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: o.signal });
  }
  const outcome: WakeOutcome = { ...base, woke: false };
  if (probe.lastState) outcome.state = probe.lastState;
  const waited = `${(t.timeoutMs / 1000).toFixed(1)} s`;
  if (fellBack) Object.assign(outcome, { method: fallbackMethod, fallback: true, note: `no answer within ${waited}, even after a power-on through ${viaText}${fallbackNote ? ` (${fallbackNote})` : ''}` });
  else outcome.note = `no answer within ${waited}${canFallBack ? '' : via ? ` (${via === 'ipmi' ? 'IPMI' : 'AMT'} fallback is off)` : ''}`;
  return outcome;
}

/** Power-on through the device's driver for the fallback; returns a note when it could not be done. */
async function powerOnFallback(d: ManagedDevice, viaName: string): Promise<string | undefined> {
  try {
    await withDriver(d, (driver) => driver.powerOn());
    return undefined;
  } catch (e) {
    return `${viaName} power-on failed: ${(e as Error).message}`;
  }
}
