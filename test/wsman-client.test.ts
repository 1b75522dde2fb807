/**
 * The WS-Man client against the simulated AMT firmware: Digest round trips, TLS pinning, paging,
 * every operation, faults, queueing and timeouts. (The simulator itself is checked against real
 * captures, Intel's wsman-messages and curl in test/sim-*.test.ts.)
 */
import type { IncomingMessage } from 'node:http';
import { closeAllAmt, openAmt } from '../lib/amt/connect';
import { readIdentity } from '../lib/amt/identity';
import { readPowerStatus, requestPowerAction } from '../lib/amt/power';
import { Limiter } from '../lib/util/limiter';
import { WsmanClient } from '../lib/wsman/client';
import { Fleet, SimDevice, startFleet } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'Cl1ent-P@ss';
let fleet: Fleet;
let tlsFleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 3, port: 0, user: USER, password: PASSWORD, nonceTtlMs: 400 });
  tlsFleet = await startFleet({ devices: 2, port: 0, tls: true, user: USER, password: PASSWORD, seed: 'tls' });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
  await tlsFleet.stop();
});

/** Every HTTP request the device receives, with the status it answered. */
function recordHttp(d: SimDevice): Array<{ authorized: boolean; status?: number }> {
  const seen: Array<{ authorized: boolean; status?: number }> = [];
  d.server!.on('request', (req: IncomingMessage, res: { on: (e: string, f: () => void) => void; statusCode: number }) => {
    const entry: { authorized: boolean; status?: number } = { authorized: Boolean(req.headers.authorization) };
    seen.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
  });
  return seen;
}

const plain = (d: SimDevice, extra: Partial<ConstructorParameters<typeof WsmanClient>[0]> = {}) =>
  new WsmanClient({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD, ...extra });

describe('HTTP Digest', () => {
  it('costs one round trip per warm call after the first challenge', async () => {
    const d = fleet.devices[0];
    const http = recordHttp(d);
    const c = plain(d);
    try {
      await c.get('AMT_GeneralSettings');
      expect(http.map((h) => h.status)).toEqual([401, 200]);
      for (let i = 0; i < 5; i++) await c.get('AMT_GeneralSettings');
      expect(http).toHaveLength(7);
      expect(http.slice(2).every((h) => h.authorized && h.status === 200)).toBe(true);
      expect(c.realm).toMatch(/^Digest:[0-9A-F]{32}$/);
    } finally {
      c.close();
    }
  });

  it('retries once with a fresh nonce when the device says the nonce is stale', async () => {
    const d = fleet.devices[0];
    const c = plain(d);
    try {
      await c.get('AMT_GeneralSettings');
      await new Promise((r) => setTimeout(r, 500)); // nonceTtlMs is 400
      const http = recordHttp(d);
      await c.get('AMT_GeneralSettings');
      expect(http.map((h) => h.status)).toEqual([401, 200]);
    } finally {
      c.close();
    }
  });

  it('says the password is wrong instead of timing out', async () => {
    const c = plain(fleet.devices[0], { password: 'wrong', timeoutMs: 5000 });
    const t0 = Date.now();
    try {
      await expect(c.get('AMT_GeneralSettings')).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/rejected the username or password/) });
      expect(Date.now() - t0).toBeLessThan(4000);
    } finally {
      c.close();
    }
  });

  it('works when the firmware offers qop="auth-int, auth"', async () => {
    const f = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, authInt: true, seed: 'authint' });
    const c = plain(f.devices[0]);
    try {
      expect((await c.get('AMT_GeneralSettings')).className).toBe('AMT_GeneralSettings');
    } finally {
      c.close();
      await f.stop();
    }
  });
});

describe('TLS pinning', () => {
  it('talks to a device whose certificate matches the pin', async () => {
    const d = tlsFleet.devices[0];
    const c = plain(d, { tls: true, pin: { fingerprint: d.tls!.fingerprint256.toLowerCase().replace(/:/g, '') } });
    try {
      expect((await readPowerStatus(c)).state).toBe('on');
    } finally {
      c.close();
    }
  });

  it('refuses a changed certificate, naming both fingerprints, before sending credentials', async () => {
    const [a, b] = tlsFleet.devices;
    const http = recordHttp(b);
    const c = plain(b, { tls: true, pin: { fingerprint: a.tls!.fingerprint256 } });
    try {
      const e = await c.get('AMT_GeneralSettings').catch((x) => x);
      expect(e).toMatchObject({ code: 'TLS_PIN_MISMATCH', expected: a.tls!.fingerprint256, actual: b.tls!.fingerprint256 });
      expect(e.message).toContain(a.tls!.fingerprint256);
      expect(e.message).toContain(b.tls!.fingerprint256);
      expect(http).toHaveLength(0);
    } finally {
      c.close();
    }
  });

  it('refuses an unpinned certificate unless trust-on-first-use is on, then records it', async () => {
    const d = tlsFleet.devices[1];
    const refused = plain(d, { tls: true });
    await expect(refused.get('AMT_GeneralSettings')).rejects.toMatchObject({ code: 'TLS_UNPINNED', actual: d.tls!.fingerprint256 });
    refused.close();
    const learned: string[] = [];
    const tofu = plain(d, { tls: true, pin: { trustOnFirstUse: true, onTrusted: (fp) => learned.push(fp) } });
    try {
      await tofu.get('AMT_GeneralSettings');
      await tofu.get('AMT_GeneralSettings');
      expect(learned).toEqual([d.tls!.fingerprint256]);
      expect(tofu.fingerprint).toBe(d.tls!.fingerprint256);
    } finally {
      tofu.close();
    }
  });
});

describe('operations', () => {
  it('enumerates every instance whatever the page size', async () => {
    const c = plain(fleet.devices[1]);
    try {
      const all = await c.enumerate('CIM_SoftwareIdentity');
      const paged = await c.enumerate('CIM_SoftwareIdentity', { maxElements: 1 });
      expect(all.length).toBeGreaterThan(5);
      expect(paged.map((i) => i.props.InstanceID)).toEqual(all.map((i) => i.props.InstanceID));
      const eprs = await c.enumerate('CIM_SoftwareIdentity', { eprs: true, maxElements: 3 });
      expect(eprs).toHaveLength(all.length);
      expect(eprs[0].props).toMatchObject({ resourceUri: expect.stringContaining('CIM_SoftwareIdentity') });
    } finally {
      c.close();
    }
  });

  it('types properties by schema through lib/amt', async () => {
    const c = openAmt({ host: '127.0.0.1', port: fleet.devices[1].port, username: USER, password: PASSWORD });
    try {
      const { props } = await c.get('CIM_AssociatedPowerManagementService');
      expect(props.PowerState).toBe(2);
      expect(props.AvailableRequestedPowerStates).toEqual(expect.arrayContaining([8, 10]));
      expect(props.ServiceProvided).toMatchObject({ resourceUri: expect.stringContaining('CIM_PowerManagementService') });
      const general = await c.get('AMT_GeneralSettings');
      expect(typeof general.props.RmcpPingResponseEnabled).toBe('boolean');
    } finally {
      c.close();
    }
  });

  it('puts, invokes and reads the change back', async () => {
    const d = fleet.devices[1];
    const c = openAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
    try {
      const before = await c.get('AMT_GeneralSettings');
      await c.put('AMT_GeneralSettings', { ...(before.props as Record<string, never>), HostName: 'renamed & <escaped>' });
      expect((await c.get('AMT_GeneralSettings')).props.HostName).toBe('renamed & <escaped>');
      const out = await c.invoke('AMT_RedirectionService', 'RequestStateChange', { RequestedState: 32771 });
      expect(out.ReturnValue).toBe(0);
    } finally {
      c.close();
    }
  });

  it('subscribes and unsubscribes', async () => {
    const d = fleet.devices[2];
    const c = plain(d);
    try {
      const sub = await c.subscribe('http://schemas.dmtf.org/wbem/wscim/1/*', { notifyTo: 'http://127.0.0.1:9/events/secret', reference: 'r-1' });
      expect(d.subscriptions.size).toBe(1);
      expect([...d.subscriptions.values()][0].notifyTo).toBe('http://127.0.0.1:9/events/secret');
      await c.unsubscribe('http://schemas.dmtf.org/wbem/wscim/1/*', sub);
      expect(d.subscriptions.size).toBe(0);
    } finally {
      c.close();
    }
  });

  it('turns SOAP faults into typed errors with code, subcode and reason', async () => {
    const c = plain(fleet.devices[2]);
    try {
      await expect(c.get('AMT_NoSuchClass')).rejects.toMatchObject({ code: 'WSMAN_FAULT', faultCode: 'Sender', subcode: 'DestinationUnreachable', httpStatus: 400 });
      await expect(c.get('CIM_Chassis', { Tag: 'nope' })).rejects.toMatchObject({ code: 'WSMAN_FAULT', subcode: expect.stringMatching(/Selector/) });
    } finally {
      c.close();
    }
  });
});

describe('power and identity', () => {
  it('reads identity like the fixtures', async () => {
    const d = fleet.devices[0];
    const c = openAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
    try {
      const id = await readIdentity(c);
      expect(id).toMatchObject({ amtVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/), uuid: d.uuid, realm: d.realm });
      expect(id.manufacturer).toBeTruthy();
      expect(id.serial).toBeTruthy();
    } finally {
      c.close();
    }
  });

  it('passes a reset through off and refuses what the state does not offer', async () => {
    const f = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'reset', timings: { offDwellMs: 150, bootTimeMs: 150 } });
    const d = f.devices[0];
    const states: number[] = [];
    d.on('power', (e: { to: number }) => states.push(e.to));
    const c = openAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
    try {
      await requestPowerAction(c, 'reset');
      await new Promise((r) => setTimeout(r, 400));
      expect(states).toEqual([8, 2]);
      await requestPowerAction(c, 'off');
      await expect(requestPowerAction(c, 'graceful-reset')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('while off (it offers: on)') });
      await expect(requestPowerAction(c, 'teleport')).rejects.toMatchObject({ code: 'BAD_INPUT' });
      expect((await readPowerStatus(c)).state).toBe('off');
    } finally {
      c.close();
      await f.stop();
    }
  });
});

describe('queueing and timeouts', () => {
  it('sends one request at a time to a device, however many are asked at once', async () => {
    const d = fleet.devices[0];
    d.latencyMs = 20;
    let inFlight = 0;
    let most = 0;
    d.server!.on('request', (_req: IncomingMessage, res: { on: (e: string, f: () => void) => void }) => {
      inFlight++;
      most = Math.max(most, inFlight);
      res.on('finish', () => inFlight--);
    });
    const c = plain(d);
    try {
      await Promise.all(Array.from({ length: 8 }, () => c.get('AMT_GeneralSettings')));
      expect(most).toBe(1);
    } finally {
      d.latencyMs = 0;
      c.close();
    }
  });

  it('keeps a fleet-wide limit across devices', async () => {
    const limiter = new Limiter(2);
    let most = 0;
    const clients = fleet.devices.map((d) => plain(d, { limiter }));
    const watch = setInterval(() => (most = Math.max(most, limiter.active)), 1);
    try {
      fleet.devices.forEach((d) => (d.latencyMs = 30));
      await Promise.all(clients.flatMap((c) => [c.get('AMT_GeneralSettings'), c.get('CIM_Chassis')]));
      expect(most).toBeLessThanOrEqual(2);
      expect(most).toBeGreaterThan(0);
      expect(limiter.active).toBe(0);
    } finally {
      clearInterval(watch);
      fleet.devices.forEach((d) => (d.latencyMs = 0));
      clients.forEach((c) => c.close());
    }
  });

  it('gives a fleet slot back when a call fails, so a one-slot fleet goes on', async () => {
    const limiter = new Limiter(1);
    const d = fleet.devices[1];
    const c = plain(d, { limiter, timeoutMs: 300 });
    try {
      d.injectFault({ kind: 'hang', count: 1 });
      await expect(c.get('AMT_GeneralSettings')).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(limiter.active).toBe(0);
      await expect(c.get('CIM_NoSuchClass')).rejects.toMatchObject({ subcode: 'DestinationUnreachable' });
      expect(limiter.active).toBe(0);
      expect((await c.get('AMT_GeneralSettings')).className).toBe('AMT_GeneralSettings');
      expect(limiter.active).toBe(0);
    } finally {
      d.clearFaults();
      c.close();
    }
  });

  it('gives up on a device that hangs with a timeout error, and recovers', async () => {
    const d = fleet.devices[2];
    const c = plain(d, { timeoutMs: 300 });
    try {
      await c.get('AMT_GeneralSettings');
      d.injectFault({ kind: 'hang', count: 1 });
      await expect(c.get('AMT_GeneralSettings')).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('did not answer within 300 ms') });
      expect((await c.get('AMT_GeneralSettings')).className).toBe('AMT_GeneralSettings');
    } finally {
      d.clearFaults();
      c.close();
    }
  });

  it('rejects calls after close with a clear error', async () => {
    const c = plain(fleet.devices[0]);
    c.close();
    await expect(c.get('AMT_GeneralSettings')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
