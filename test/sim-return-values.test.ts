/**
 * Refusals a real PC answers with a non-zero ReturnValue, through the simulated firmware, and the
 * error our client turns each into:
 *  - RequestPowerStateChange for a state the PC does not offer right now: AMT answers 2 (real
 *    answers: sdague/amt issues 16 and 28). Our client checks AvailableRequestedPowerStates first,
 *    so it meets 2 when the PC changed state between that read and the request.
 *  - a power off or power cycle while a redirection session (IDE-R, SOL, KVM) is open: rejected
 *    (Intel's AMT guide, "Change System Power State"); a reset still goes through.
 * MeshCentral's AMT stack sees the same values (test/interop/meshcentral-return-values.test.ts).
 */
import * as net from 'node:net';
import { readPowerStatus, requestPowerAction } from '../lib/amt/power';
import { amtSchemaFor } from '../lib/amt/schema';
import { DeviceRefusedError } from '../lib/errors';
import { WsmanClient } from '../lib/wsman/client';
import { Fleet, SimDevice, startFleet } from '../packages/sim/src';
import { redirectionSessionOpen } from '../packages/sim/src/consent';

const USER = 'admin';
const PASSWORD = 'R3turn-Values!';

let fleet: Fleet;
let d: SimDevice;
let client: WsmanClient;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'return-values' });
  d = fleet.devices[0];
  client = new WsmanClient({ host: '127.0.0.1', port: d.port!, username: USER, password: PASSWORD, schemaFor: amtSchemaFor });
});

afterAll(async () => {
  client.close();
  await fleet.stop();
});

beforeEach(() => {
  d.removeAllListeners('request');
  if (d.powerState !== 2) d.powerOn();
  d.setOsRunning(true);
});

async function refusal(p: Promise<unknown>): Promise<DeviceRefusedError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof DeviceRefusedError)) throw new Error(`expected a refusal by the device, got ${String(e)}`);
  return e;
}

/** Opens a session on the redirection port the way a console starts IDE-R; resolves once the device accepted it. */
function openIderSession(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(d.redirectionPort, '127.0.0.1');
    s.setTimeout(5000, () => s.destroy(new Error('no StartRedirectionSession reply')));
    s.on('error', reject);
    s.once('data', (reply: Buffer) => {
      s.setTimeout(0);
      if (reply[0] === 0x11 && reply[1] === 0) resolve(s);
      else reject(new Error(`StartRedirectionSession refused: ${reply.toString('hex')}`));
    });
    s.write(Buffer.concat([Buffer.from([0x10, 0, 0, 0]), Buffer.from('IDER', 'latin1')]));
  });
}

async function closeSession(s: net.Socket): Promise<void> {
  await new Promise<void>((resolve) => {
    s.once('close', () => resolve());
    s.destroy();
  });
  // The device sees the close on its side a moment later.
  for (let i = 0; i < 100 && redirectionSessionOpen(d); i++) await new Promise((r) => setTimeout(r, 20));
  expect(redirectionSessionOpen(d)).toBe(false);
}

describe('a power state the PC no longer offers', () => {
  it('the PC turned off between our read and our request: ReturnValue 2, an error that says what to do, state unchanged', async () => {
    // The moment the device has answered our power state read, someone presses the power button.
    d.on('request', (r: { action?: string; resourceUri?: string }) => {
      if (r.action?.endsWith('/transfer/Get') && r.resourceUri?.endsWith('/CIM_AssociatedPowerManagementService')) d.powerOff();
    });
    const e = await refusal(requestPowerAction(client, 'reset'));
    expect(e.returnValue).toBe(2);
    expect(e.code).toBe('DEVICE_REFUSED');
    expect(e.message).toMatch(/^power action "reset" refused by the device: ReturnValue 2 \(/);
    expect(e.message).toContain('changed power state since it was read');
    expect(e.message).toContain('read the state again, then retry');
    expect(d.powerState).toBe(8);
    d.removeAllListeners('request');
    // Read again, as the message says: the action now offered is "on", and it works.
    expect((await readPowerStatus(client)).available).toEqual(['on']);
    await requestPowerAction(client, 'on');
    expect(d.powerState).toBe(2);
  });

  it('the OS stopped between our read and a graceful shutdown: ReturnValue 2', async () => {
    d.on('request', (r: { action?: string; resourceUri?: string }) => {
      if (r.action?.endsWith('/transfer/Get') && r.resourceUri?.endsWith('/CIM_AssociatedPowerManagementService')) d.setOsRunning(false);
    });
    const e = await refusal(requestPowerAction(client, 'soft-off'));
    expect(e.returnValue).toBe(2);
    expect(d.powerState).toBe(2);
  });
});

describe('a redirection session is open', () => {
  it('power off and power cycle are refused with ReturnValue 2 naming the session; reset goes through; after the session, off works', async () => {
    const s = await openIderSession();
    try {
      for (const action of ['off', 'cycle']) {
        const e = await refusal(requestPowerAction(client, action));
        expect(e.returnValue).toBe(2);
        expect(e.message).toContain('KVM, SOL or IDE-R session is open: close the session');
        expect(d.powerState).toBe(2);
      }
      await requestPowerAction(client, 'reset');
    } finally {
      await closeSession(s);
    }
    await requestPowerAction(client, 'off');
    expect(d.powerState).toBe(8);
  });
});
