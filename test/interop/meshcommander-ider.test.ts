/**
 * MeshCommander's IDE-R console (amt-redir-mesh.js + amt-ider-module.js from the `meshcentral`
 * package, unmodified), which people run against real AMT every day, boots a simulated PC from an
 * ISO built by xorriso. Its handshake, Digest (nc 00000002), open request, enable request and
 * ATAPI answers are its own; the simulated firmware must answer INQUIRY itself, as AMT does,
 * because this console has no INQUIRY handler.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootState, Fleet, lastBoot, SimDevice, startFleet } from '../../packages/sim/src';
import { buildIso } from '../helpers/iso';
import { MeshCommanderIder, startMeshCommanderIder } from '../helpers/meshcommander';

const USER = 'admin';
const PASSWORD = 'Mesh-P@ss1';
// MeshCommander's redirection code always connects to port 16994: a loopback address of our own keeps it ours.
const HOST = `127.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(2, 254)}`;
let dir: string;
let iso: string;
let fleet: Fleet;
let console_: MeshCommanderIder | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oobkit-meshcommander-'));
  iso = buildIso(dir, { volumeId: 'MESHCOMMANDER', payloadBytes: 512 * 1024 });
  fleet = await startFleet({ devices: 1, port: 0, host: HOST, redirectionPort: 16994, user: USER, password: PASSWORD, seed: 'meshcommander-ider' });
});

afterEach(async () => {
  console_?.stop();
  console_ = undefined;
  // The device sees the connection close and drops its session (bounded wait).
  for (let i = 0; i < 200 && fleet.devices[0].iderSession; i++) await new Promise((r) => setTimeout(r, 25));
});

afterAll(async () => {
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

const firmwareDone = (d: SimDevice) => new Promise<string>((resolve) => d.once('firmware', (r: { status: string }) => resolve(r.status)));

/** Waits (bounded) until the device has an IDE-R session with its drive enabled. */
async function driveEnabled(d: SimDevice): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (d.iderSession?.enabled) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('MeshCommander never got an IDE-R session with the drive enabled');
}

describe("MeshCommander's IDE-R console against oob-sim", () => {
  it('opens the session, and the simulated BIOS boots the ISO it serves at the next boot', async () => {
    const d = fleet.devices[0];
    expect(d.redirectionPort).toBe(16994);
    console_ = startMeshCommanderIder({ host: HOST, user: USER, pass: PASSWORD, cdromPath: iso });
    await driveEnabled(d);
    expect(d.iderSession?.enabled).toBe('reboot'); // MeshCommander's default: on the next boot
    // What MeshCommander learned from the device's OPEN reply.
    expect(console_.ider.iderinfo).toMatchObject({ proto: 0, readbfr: 8192 });

    Object.assign(bootState(d), { role: 1 });
    bootState(d).settings = { ...bootState(d).settings, UseIDER: 'true', IDERBootDevice: '1' };
    const status = firmwareDone(d);
    d.reset('test');
    expect(await status).toBe('booted from media: MESHCOMMANDER');
    const boot = lastBoot(d)!;
    expect(boot.commands).toEqual(expect.arrayContaining(['TEST UNIT READY', 'INQUIRY', 'READ CAPACITY', 'READ(10)']));
    // The image's bytes came from MeshCommander's module over the wire.
    const wire = d.iderSession!.stats;
    expect(wire.dataBytes).toBeGreaterThanOrEqual(boot.bytesRead! - 64);
    expect(console_.ider.bytesToAmt).toBeGreaterThan(wire.dataBytes);
    expect(wire.dataBytes).toBeLessThan(statSync(iso).size);
    expect(d.osState).toBe('running');
  });

  it('with "now", the drive is attached at once, and closing the console ends the session on the device', async () => {
    const d = fleet.devices[0];
    console_ = startMeshCommanderIder({ host: HOST, user: USER, pass: PASSWORD, cdromPath: iso, iderStart: 2 });
    await driveEnabled(d);
    expect(d.iderSession?.enabled).toBe('now');
    const session = d.iderSession!;
    const closed = new Promise<void>((r) => session.once('close', () => r()));
    console_.stop();
    await closed;
    expect(session.closed).toBe(true);
  });
});
