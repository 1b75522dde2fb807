/**
 * The boot journal against a simulated PC: a boot writes down what it changes before changing it
 * and drops the entry when it has put things back; what an interrupted boot left (redirection service
 * on, a one-time boot armed) is put back by the recovery, once; a PC that cannot be reached keeps its
 * entry for the next start.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootFromMedia } from '../lib/amt/boot-media';
import { noteBootChange, recoverInterruptedBoots, useBootJournal } from '../lib/amt/boot-journal';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import type { ManagedDevice } from '../lib/device';
import { bootState, Fleet, redirectionState, startFleet } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'Journal-P@ss1';
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, seed: 'boot-journal', timings: { bootTimeMs: 20 } });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-boot-journal-'));
  useBootJournal(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const device = (i: number, port = fleet.devices[i].port): ManagedDevice => ({ name: `pc-${i}`, host: '127.0.0.1', amt: { host: '127.0.0.1', port, tls: false, username: USER, password: PASSWORD } });
const entries = () => {
  const f = path.join(dir, 'boot-journal.json');
  return fs.existsSync(f) ? Object.keys((JSON.parse(fs.readFileSync(f, 'utf8')) as { entries: object }).entries) : [];
};

describe('boot journal', () => {
  it('a PXE boot that finishes leaves no entry behind', async () => {
    const lease = acquireAmt(device(0).amt!);
    try {
      const boot = bootFromMedia(lease.client, '127.0.0.1', { target: 'pxe' });
      await expect(boot.outcome).resolves.toMatchObject({ result: 'requested' });
      await boot.final;
    } finally {
      lease.release();
    }
    expect(entries()).toEqual([]);
  });

  it('puts back what an interrupted boot changed, once, and says what it did', async () => {
    const pc = fleet.devices[1];
    const d = device(1);
    redirectionState(pc).enabledState = 32768;
    // What a boot killed after turning IDE-R on and arming writes down, and what it leaves on the PC.
    noteBootChange({ host: '127.0.0.1', port: pc.port }, { redirection: { enabledState: 32768, listenerEnabled: true }, armed: true });
    redirectionState(pc).enabledState = 32769;
    bootState(pc).role = 1;
    expect(entries()).toEqual([`127.0.0.1:${pc.port}`]);

    expect(await recoverInterruptedBoots([device(0), d])).toEqual([{ device: 'pc-1', restored: ['one-time boot cleared', 'redirection service restored'] }]);
    expect(redirectionState(pc).enabledState).toBe(32768);
    expect(bootState(pc).role).toBe(32768);
    expect(entries()).toEqual([]);
    expect(await recoverInterruptedBoots([d])).toEqual([]);
  });

  it('keeps the entry of a PC it cannot reach, for the next start', async () => {
    // Nothing answers there (discard port of another loopback address).
    const gone: ManagedDevice = { name: 'gone', host: '127.0.0.2', amt: { host: '127.0.0.2', port: 9, tls: false, username: USER, password: PASSWORD, timeoutMs: 500 } };
    noteBootChange({ host: '127.0.0.2', port: 9 }, { redirection: { enabledState: 32768, listenerEnabled: true } });
    const [r] = await recoverInterruptedBoots([gone]);
    expect(r).toMatchObject({ device: 'gone', restored: [] });
    expect(r.error).toBeTruthy();
    expect(entries()).toEqual(['127.0.0.2:9']);
  });
});
