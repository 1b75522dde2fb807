/**
 * MeshCentral's own AMT stack (unmodified, wired as amtmanager.js wires it) meets the refusals the
 * simulated firmware answers with a non-zero ReturnValue, and reads the same value our client turns
 * into its error (test/sim-return-values.test.ts): ReturnValue 2, which MeshCentral's status table
 * names NOT_READY, for a power state the PC does not offer now and for a power off while a
 * redirection session is open.
 */
import * as net from 'node:net';
import { Fleet, SimDevice, startFleet } from '../../packages/sim/src';
import { redirectionSessionOpen } from '../../packages/sim/src/consent';
import { call, createMeshAmtStack, MeshAmtStack } from '../helpers/meshcentral';

let fleet: Fleet;
let dev: SimDevice;
let amt: MeshAmtStack;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, amtVersion: '12' });
  dev = fleet.devices[0];
  amt = createMeshAmtStack({ host: '127.0.0.1', port: dev.port!, user: 'admin', pass: 'P@ssw0rd' });
});

afterAll(async () => {
  amt?.CancelAllQueries?.(999);
  await fleet.stop();
});

async function powerRequest(state: number): Promise<{ status: number; rv: unknown; text: unknown }> {
  const r = await call(amt.RequestPowerStateChange, state);
  return { status: r.status, rv: r.response?.Body?.ReturnValue, text: r.response?.Body?.ReturnValueStr };
}

describe("MeshCentral's AMT stack against refusals of the simulated firmware", () => {
  it('power on to a running PC and a reset to an off PC: ReturnValue 2 (NOT_READY), nothing changes', async () => {
    dev.powerOn();
    expect(await powerRequest(2)).toEqual({ status: 200, rv: 2, text: 'NOT_READY' });
    expect(dev.powerState).toBe(2);
    dev.powerOff();
    expect(await powerRequest(10)).toEqual({ status: 200, rv: 2, text: 'NOT_READY' });
    expect(dev.powerState).toBe(8);
    expect(await powerRequest(2)).toMatchObject({ status: 200, rv: 0 });
    expect(dev.powerState).toBe(2);
  });

  it('power off while an IDE-R session is open: ReturnValue 2; after the session closes, 0', async () => {
    dev.setOsRunning(true);
    const s = net.connect(dev.redirectionPort, '127.0.0.1');
    const reply = await new Promise<Buffer>((resolve, reject) => {
      s.on('error', reject);
      s.once('data', resolve);
      s.write(Buffer.concat([Buffer.from([0x10, 0, 0, 0]), Buffer.from('IDER', 'latin1')]));
    });
    expect([...reply.subarray(0, 2)]).toEqual([0x11, 0]);
    expect(await powerRequest(8)).toEqual({ status: 200, rv: 2, text: 'NOT_READY' });
    expect(dev.powerState).toBe(2);
    s.destroy();
    for (let i = 0; i < 100 && redirectionSessionOpen(dev); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await powerRequest(8)).toMatchObject({ status: 200, rv: 0 });
    expect(dev.powerState).toBe(8);
  });
});
