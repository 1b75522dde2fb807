/**
 * The mechanics every state file of ours shares: a file is replaced whole and atomically (written
 * to a temporary file beside it, synced, renamed over the old one, the directory synced), so a
 * crash leaves the old or the new version and never half of one; and a file that cannot be read
 * is set aside (renamed *.corrupt) rather than trusted or silently overwritten.
 *
 * What is kept in such files, and how, is up to their users: KeyValueFile (a small bounded
 * key-value file), SnapshotLog (a snapshot and a log of changes), alert-in's Journal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Set-aside copies kept per file when each one is kept (`stamped`); older ones are removed. */
const STAMPED_KEPT = 3;

function tmpName(file: string): string {
  return `${file}.${process.pid}.tmp`;
}

/**
 * Removes temporary files a crash (or a full disk) left beside `file` (`<file>.<pid>.tmp`), and
 * returns their names. Call at start, before anything of this process writes `file`.
 */
export function removeLeftoverTemps(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const f of names) {
    if (!f.startsWith(prefix) || !/^\d+\.tmp$/.test(f.slice(prefix.length))) continue;
    try {
      fs.rmSync(path.join(dir, f), { force: true });
      removed.push(f);
    } catch {
      /* reported by whoever writes next */
    }
  }
  return removed;
}

/** Makes a rename in `dir` durable; where a directory cannot be opened for that (Windows), skipped. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported here: the rename is as durable as the platform makes it */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function syncDirAsync(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch {
    /* as syncDir */
  } finally {
    await fh?.close();
  }
}

/**
 * Replaces `file` with `data` atomically and durably (mode 0600); creates the directory. With
 * `sync: false`, atomically only: nothing waits for storage (the caller syncs it later).
 */
export function writeFileAtomic(file: string, data: string | Buffer, o: { sync?: boolean } = {}): void {
  const sync = o.sync !== false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tmpName(file);
  try {
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      const b = typeof data === 'string' ? Buffer.from(data) : data;
      for (let done = 0; done < b.length; ) done += fs.writeSync(fd, b, done);
      if (sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // A full disk must not leave half a file behind.
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (sync) syncDir(path.dirname(file));
}

export interface PiecewiseWrite {
  /** Bytes written. */
  bytes: number;
  /** Time spent making the pieces and encoding them as UTF-8: the part that ran on the event loop. */
  encodeMs: number;
}

/**
 * As writeFileAtomic, for a big text made in pieces: the pieces are encoded about 64 KiB at a
 * time and written off the event loop, which gets control back between them. A failure leaves
 * the old file as it was (and no temporary file) and rejects.
 */
export async function writeFileAtomicInPieces(file: string, pieces: Iterable<string>): Promise<PiecewiseWrite> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = tmpName(file);
  let encodeMs = 0;
  let bytes = 0;
  const fh = await fs.promises.open(tmp, 'w', 0o600);
  try {
    try {
      let t0 = performance.now();
      let pending = '';
      for (const piece of pieces) {
        pending += piece;
        if (pending.length < 65536) continue;
        const b = Buffer.from(pending);
        encodeMs += performance.now() - t0;
        await fh.write(b);
        bytes += b.length;
        pending = '';
        t0 = performance.now();
      }
      const b = Buffer.from(pending);
      encodeMs += performance.now() - t0;
      await fh.write(b);
      bytes += b.length;
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDirAsync(path.dirname(file));
  return { bytes, encodeMs };
}

/**
 * Moves a file that cannot be used out of the way and returns where it went: `<file>.corrupt`
 * (replacing an earlier one), or with `stamped` `<file>.corrupt-<ms since 1970>`, of which the
 * newest few are kept. undefined when it could not be moved (the caller goes on without it).
 */
export function setAside(file: string, o: { stamped?: boolean } = {}): string | undefined {
  const aside = o.stamped ? `${file}.corrupt-${Date.now()}` : `${file}.corrupt`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return undefined;
  }
  if (o.stamped) {
    const dir = path.dirname(file);
    const prefix = `${path.basename(file)}.corrupt-`;
    try {
      const older = fs
        .readdirSync(dir)
        .filter((f) => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length)))
        .sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)))
        .slice(STAMPED_KEPT);
      for (const f of older) fs.rmSync(path.join(dir, f), { force: true });
    } catch {
      /* tidying is a nicety */
    }
  }
  return aside;
}

export interface ReadResult<T> {
  /** The parsed file; undefined when there is none or it could not be used. */
  value?: T;
  /** Its text, when it was read. */
  text?: string;
  /** Why it could not be used, for a person. */
  problem?: string;
  /** Where it was moved (when it could not be parsed). */
  setAsideAs?: string;
}

/**
 * Reads and parses a state file. Missing: undefined, no problem. Unreadable, or `parse` throws:
 * the file is set aside (see setAside) and the problem is described, for the user to be told.
 */
export function readOrSetAside<T>(file: string, parse: (text: string) => T, o: { stamped?: boolean } = {}): ReadResult<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { value: undefined };
    return { value: undefined, problem: `cannot read ${file}: ${(e as Error).message}` };
  }
  try {
    return { value: parse(text), text };
  } catch (e) {
    const setAsideAs = setAside(file, o);
    return { text, problem: `${file} is not a state file (${(e as Error).message})`, setAsideAs };
  }
}
