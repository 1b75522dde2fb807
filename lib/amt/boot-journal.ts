/**
 * Boots under way that changed a PC, kept in a small file (lib/util/key-value-file, written before
 * the change), so that a process killed in the middle of one (a site gateway losing power, Node-RED
 * killed during an IDE-R boot) puts the PC back the next time it starts: the redirection service as
 * it was before the boot turned IDE-R on, and no one-time boot left armed for the next power-on.
 * A boot that ends normally undoes its changes itself and drops its entry.
 *
 * Process-wide: a node that boots or runs a gateway opens it in its user directory (useBootJournal)
 * and recovers its devices at start (recoverInterruptedBoots). Without a journal nothing is kept.
 */
import * as path from 'node:path';
import type { ManagedDevice } from '../device';
import { KeyValueFile } from '../util/key-value-file';
import { acquireAmt, AmtEndpoint } from './connect';
import { clearArmedBoot, RedirectionState, restoreRedirection } from './boot';

export interface UnfinishedBoot {
  /** The redirection service before the boot changed it (absent: it was not changed). */
  redirection?: RedirectionState;
  /** A one-time boot was armed and may not have been taken by the firmware yet. */
  armed?: boolean;
  since: number;
}

let journal: KeyValueFile<UnfinishedBoot> | undefined;

/** Keeps unfinished boots in `<dir>/boot-journal.json` from now on (the same file for every caller). */
export function useBootJournal(dir: string, onCorrupt?: (message: string) => void): void {
  const file = path.join(dir, 'boot-journal.json');
  if (journal?.file === file) return;
  journal = new KeyValueFile<UnfinishedBoot>(file, { maxEntries: 1000, onCorrupt });
}

function keyOf(e: Pick<AmtEndpoint, 'host' | 'port'>): string {
  return `${e.host.toLowerCase()}:${e.port ?? ''}`;
}

/** What a boot of this PC is about to change (merged with what it noted before); written at once. */
export function noteBootChange(e: Pick<AmtEndpoint, 'host' | 'port'>, change: Partial<Omit<UnfinishedBoot, 'since'>>): void {
  if (!journal) return;
  const k = keyOf(e);
  const was = journal.get(k);
  journal.set(k, { ...was, ...change, since: was?.since ?? Date.now() });
}

/** The boot of this PC has put back what it changed (or changed nothing that stays). */
export function noteBootEnded(e: Pick<AmtEndpoint, 'host' | 'port'>): void {
  journal?.delete(keyOf(e));
}

export interface Recovered {
  device: string;
  restored: string[];
  error?: string;
}

/**
 * Puts back what unfinished boots of these devices had changed, and forgets them once done. A
 * device that cannot be reached now keeps its entry for the next start.
 */
export async function recoverInterruptedBoots(devices: Iterable<ManagedDevice>): Promise<Recovered[]> {
  const out: Recovered[] = [];
  if (!journal) return out;
  const keys = new Set(journal.keys());
  if (keys.size === 0) return out;
  for (const d of devices) {
    if (!d.amt) continue;
    const lease = acquireAmt(d.amt);
    // The client's host and port, as the boot wrote them (the port resolved from TLS or not).
    const k = keyOf(lease.client);
    const entry = keys.has(k) ? journal.get(k) : undefined;
    if (!entry) {
      lease.release();
      continue;
    }
    const restored: string[] = [];
    try {
      if (entry.armed) {
        await clearArmedBoot(lease.client);
        restored.push('one-time boot cleared');
      }
      if (entry.redirection) {
        await restoreRedirection(lease.client, entry.redirection);
        restored.push('redirection service restored');
      }
      journal.delete(k);
      out.push({ device: d.name ?? d.host, restored });
    } catch (e) {
      out.push({ device: d.name ?? d.host, restored, error: (e as Error).message });
    } finally {
      lease.release();
    }
  }
  return out;
}
