/**
 * alert-in on a full disk: a tmpfs of 256 KiB mounted for the test (needs root, as the Debian
 * peers do; without it the test fails and says why). Saving and closing fail with the disk's
 * error, the alerts still go out, the node turns red and says why, and nothing half-written
 * (no .tmp file) is left behind.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Alert, makeAlert } from '../lib/alerts/alert';
import { AlertHub } from '../lib/alerts/hub';
import { Policy } from '../lib/alerts/policy';
import { alertInNode, getNode, helperNode, load, nextMessage, recordStatuses, startServer, stopServer } from './helpers/red';

let mnt: string;

beforeAll(() => {
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`cannot mount a small tmpfs for the full-disk test (run as root): ${(e as Error).message}`, { cause: e });
  }
});
afterAll(() => {
  // Lazily: a hub a failed test left open must not keep the mount (and this run) busy.
  execFileSync('umount', ['-l', mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

/** Fills the file system of `dir` to the last byte. */
function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(4096, 0x61);
  try {
    for (let i = 0; i < 10_000; i++) fs.writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    // The last few bytes of a partly filled block.
    try {
      for (let i = 0; i < 4096; i++) fs.writeSync(fd, block, 0, 1);
    } catch {
      /* full */
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

const fan = (i: number) => makeAlert({ device: { name: `pc-${i}`, host: '10.0.0.1' }, source: 'pet', kind: 'fan-failure', severity: 'critical', summary: `Fan failed on pc-${i}` });

describe('alert-in state on a full disk', () => {
  it('saving and closing fail with ENOSPC, the alerts still go out, the node is told, and no .tmp is left', async () => {
    const dir = path.join(mnt, 'hub');
    const emitted: Alert[] = [];
    const stateErrors: Array<string | undefined> = [];
    const hub = () =>
      new AlertHub({
        id: 'full',
        stateDir: dir,
        devices: [],
        policy: new Policy({ dedupSeconds: 300, rateLimitPerKey: undefined, rateLimitGlobal: undefined }),
        emit: (e) => emitted.push(e.alert),
        onStateError: (e) => stateErrors.push((e as NodeJS.ErrnoException | undefined)?.code),
      });
    const first = hub();
    for (let i = 0; i < 100; i++) first.process(fan(i));
    await first.saveState();
    expect(emitted).toHaveLength(100);
    const filler = fillDisk(mnt);
    for (let i = 100; i < 300; i++) first.process(fan(i));
    await expect(first.saveState()).rejects.toMatchObject({ code: 'ENOSPC' });
    // Paging beats silence: what could not be written still went out, and the owner heard why.
    expect(emitted).toHaveLength(300);
    expect(stateErrors).toContain('ENOSPC');
    await expect(first.close()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // With room again, what was written before the disk filled is there.
    fs.rmSync(filler);
    const second = hub();
    expect(second.engine.openKeys).toBeGreaterThanOrEqual(100);
    await second.close();
  });

  it('turns the node red and says the state cannot be saved', async () => {
    const userDir = path.join(mnt, 'red');
    fs.mkdirSync(userDir);
    helperNode.settings({ userDir });
    await startServer();
    let filler: string | undefined;
    try {
      await load([alertInNode], [
        { id: 'f1', type: 'tab', label: 'alerts' },
        { id: 'alerts', z: 'f1', type: 'oob-alert-in', pet: false, wsevent: false, eventlog: false, heartbeat: false, outputs: 1, wires: [['out']] },
        { id: 'out', z: 'f1', type: 'helper' },
      ]);
      const statuses = recordStatuses('alerts');
      filler = fillDisk(mnt);
      const out = nextMessage('out');
      getNode('alerts').receive({ alert: { kind: 'fan-failure', severity: 'critical', summary: 'Fan failed', device: { name: 'pc-01' } } });
      expect((await out).alert.kind).toBe('fan-failure');
      for (let i = 0; i < 100 && !statuses.some((s) => s.fill === 'red'); i++) await new Promise((r) => setTimeout(r, 30));
      expect(statuses.find((s) => s.fill === 'red')).toEqual({ fill: 'red', shape: 'ring', text: 'cannot save state: ENOSPC' });
    } finally {
      await helperNode.unload();
      await stopServer();
      if (filler) fs.rmSync(filler, { force: true });
    }
  });
});
