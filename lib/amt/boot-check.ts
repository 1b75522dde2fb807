/**
 * What a PC really booted, from the BIOS's own progress reports in AMT's event log (System
 * Firmware Progress: sensor type 0Fh, offset 02h, the progress code in event data 2 — 05h
 * "user-initiated system setup", 13h "starting operating system boot process"). A 200 and a
 * ReturnValue 0 to a boot request are no proof: firmware in client control mode has been seen to
 * answer a boot into BIOS setup without user consent with success and boot from disk.
 *
 * Firmware logs progress events when its BIOS sends them (AMT_BootSettingData.ForcedProgressEvents
 * asks it to); a PC that logs none leaves the question open, which the result says.
 */
import { OobError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import { EventLogRecord, readEventLog } from './event-log';

const FIRMWARE_PROGRESS = 0x0f;
const PROGRESS_OFFSET = 2;
const SYSTEM_SETUP = 0x05;
const OS_BOOT = 0x13;

export interface BootCheck {
  /** True: the PC reported entering BIOS setup; false: it reported nothing either way. */
  verified: boolean;
  note?: string;
}

/** What the log holds now, to tell new records from old ones later. */
export async function eventLogMark(client: WsmanClient): Promise<Set<string>> {
  try {
    return new Set((await readEventLog(client)).records.map((r) => r.raw));
  } catch {
    return new Set();
  }
}

function progress(r: EventLogRecord): number | undefined {
  return r.sensorType === FIRMWARE_PROGRESS && r.offset === PROGRESS_OFFSET && !r.deassert ? r.eventData[1] : undefined;
}

/**
 * Watches the event log after a boot into BIOS setup until the BIOS reports setup (verified), or
 * an OS boot without setup (an error: the one-time boot was ignored), or `timeoutMs` passes.
 */
export async function checkBiosSetupReached(client: WsmanClient, before: Set<string>, o: { timeoutMs: number; pollMs?: number; signal?: AbortSignal }): Promise<BootCheck> {
  const until = Date.now() + o.timeoutMs;
  for (;;) {
    if (o.signal?.aborted) return { verified: false, note: 'stopped before the PC reported where it booted' };
    const fresh = (await readEventLog(client).catch(() => ({ records: [] as EventLogRecord[] }))).records.filter((r) => !before.has(r.raw)).reverse();
    for (const r of fresh) {
      const code = progress(r);
      if (code === SYSTEM_SETUP) return { verified: true };
      if (code === OS_BOOT) {
        throw new OobError('DEVICE_REFUSED', `${client.label} accepted the boot into BIOS setup but its BIOS reported starting the operating system instead: the one-time boot was ignored`);
      }
    }
    if (Date.now() >= until) return { verified: false, note: `${client.label} reported no BIOS progress within ${(o.timeoutMs / 1000).toFixed(o.timeoutMs < 10_000 ? 1 : 0)} s: whether it entered BIOS setup is not known` };
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(o.pollMs ?? 2000, Math.max(until - Date.now(), 0)));
      if (o.signal?.aborted) return done();
      o.signal?.addEventListener('abort', done);
    });
  }
}
