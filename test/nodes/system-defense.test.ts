/**
 * oob-system-defense in a real Node-RED runtime against simulated PCs: isolation really isolates
 * (the simulated PC's traffic is dropped except to the management host), release restores what was
 * in force before, counters move, and every bad input of the issue gets a clear error with the
 * device left as it was.
 */
import { lastOwnAction } from '../../lib/activity';
import { acquireAmt, closeAllAmt } from '../../lib/amt/connect';
import { createFilter, createPolicy, enablePolicy, listFilters, listPolicies, parsePort } from '../../lib/amt/defense';
import { defaultClasses, Fleet, SimDevice, startFleet } from '../../packages/sim/src';
import { catchNode, deviceNode, getNode, load, nextMessage, recordStatuses, startServer, stopServer, systemDefenseNode } from '../helpers/red';

const USER = 'admin';
const PASSWORD = 'Sim-P@ss1';
const MGMT = '198.51.100.10';
const ELSEWHERE = '203.0.113.5';
const AGENT = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    devices: 8,
    port: 0,
    user: USER,
    password: PASSWORD,
    configure: (i, o) => ({ ...o, controlMode: i === 6 ? 'client' : 'admin', defense: { secondMs: 20 } }),
  });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
});
beforeEach(startServer);
afterEach(async () => {
  closeAllAmt();
  await stopServer();
});

const NODES = [deviceNode, systemDefenseNode, catchNode];

function flow(sim: SimDevice, node: Record<string, unknown> = {}) {
  return [
    { id: 'dev', type: 'oob-device', name: sim.name, host: '127.0.0.1', amtPort: sim.port, amtTls: false, timeout: 3 },
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'sd', z: 'f1', type: 'oob-system-defense', device: 'dev', action: 'status', template: 'isolate', managementHosts: MGMT, wires: [['out']], ...node },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const creds = { dev: { username: USER, password: PASSWORD } };

async function send(msg: Record<string, unknown>): Promise<Record<string, any>> {
  const out = nextMessage('out');
  getNode('sd').receive(msg);
  return (await out).payload;
}

async function fail(msg: Record<string, unknown>): Promise<Record<string, any>> {
  const caught = nextMessage('caught');
  getNode('sd').receive(msg);
  return caught;
}

interface Req {
  action?: string;
  resourceUri?: string;
}
const isCreate = (r: Req, uri: RegExp) => Boolean(r.action?.endsWith('/transfer/Create') && uri.test(r.resourceUri ?? ''));

const out = (sim: SimDevice, remote: string, extra: Record<string, unknown> = {}) => sim.sendPacket({ direction: 'out', remote, ...extra }).verdict;
const inn = (sim: SimDevice, remote: string, extra: Record<string, unknown> = {}) => sim.sendPacket({ direction: 'in', remote, ...extra }).verdict;

/** Policies and filters as the device holds them, to show that nothing changed. */
async function deviceConfig(sim: SimDevice): Promise<string> {
  const lease = acquireAmt({ host: '127.0.0.1', port: sim.port, username: USER, password: PASSWORD });
  try {
    return JSON.stringify({ policies: await listPolicies(lease.client), filters: await listFilters(lease.client) });
  } finally {
    lease.release();
  }
}

/** A policy someone made before OOBKit (say with MeshCommander): drop outbound SMTP, enabled on wired. */
async function userPolicy(sim: SimDevice, name = 'no-smtp', precedence = 5, filterName = `${name}-25`): Promise<void> {
  const lease = acquireAmt({ host: '127.0.0.1', port: sim.port, username: USER, password: PASSWORD });
  try {
    const c = lease.client;
    const f = await createFilter(c, { kind: 'ip', name: filterName, direction: 'out', action: 'drop', count: true, event: false, protocol: 6, dstPort: parsePort(25) });
    const p = await createPolicy(c, { name, precedence, in: { drop: false, count: false, event: false }, out: { drop: false, count: false, event: false }, filterHandles: [f.handle] });
    await enablePolicy(c, 'wired', p.instanceId);
  } finally {
    lease.release();
  }
}

describe('oob-system-defense in a real Node-RED flow', () => {
  it('isolates: traffic to other hosts is dropped, the management host passes; release opens it again; counters move', async () => {
    const sim = fleet.devices[0];
    await load(NODES, flow(sim), creds);
    const statuses = recordStatuses('sd');

    let s = await send({ payload: 'status' });
    expect(s).toMatchObject({ action: 'status', state: 'open', label: 'open', device: { name: sim.name } });
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'open' });
    expect(out(sim, ELSEWHERE)).toBe('passed');

    s = await send({ payload: 'isolate' });
    expect(s).toMatchObject({ action: 'apply', changed: true, template: 'isolate', state: 'isolated', params: { managementHosts: [MGMT] }, before: { wired: null } });
    expect(s.interfaces.wired.inForce).toBe(s.policy.name);
    expect(statuses.at(-1)).toEqual({ fill: 'red', shape: 'dot', text: 'isolated' });
    expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'defense', action: 'isolate' });
    expect(JSON.stringify(s)).not.toContain(PASSWORD);

    expect(out(sim, ELSEWHERE)).toBe('dropped');
    expect(inn(sim, ELSEWHERE, { localPort: 3389 })).toBe('dropped');
    expect(out(sim, '2001:db8:ffff::1')).toBe('dropped');
    expect(out(sim, MGMT, { remotePort: 443 })).toBe('passed');
    expect(inn(sim, MGMT, { remotePort: 443 })).toBe('passed');
    expect(out(sim, MGMT, { protocol: 'udp', remotePort: 53 })).toBe('passed');
    expect(sim.sendPacket({ direction: 'out', kind: 'arp' }).verdict).toBe('passed');

    s = await send({ payload: 'status' });
    const count = (rule: string) => s.counters.find((c: any) => s.policy.filters.find((f: any) => f.name === c.filter)?.rule === rule)?.count;
    expect(count(`out pass to ${MGMT} (counted)`)).toBe(2);
    expect(count(`in pass from ${MGMT} (counted)`)).toBe(1);
    expect(count('out drop all ipv4 (counted)')).toBe(1);
    expect(count('in drop all ipv4 (counted)')).toBe(1);
    expect(count('out drop all ipv6 (counted)')).toBe(1);
    expect(count('out pass arp (counted)')).toBe(1);

    // The same template again: nothing to do, nothing sent but reads.
    const creates: string[] = [];
    const record = (r: { action?: string }) => r.action?.endsWith('/Create') && creates.push(r.action);
    sim.on('request', record);
    s = await send({ payload: 'isolate' });
    sim.off('request', record);
    expect(s).toMatchObject({ changed: false, state: 'isolated', steps: [] });
    expect(creates).toEqual([]);

    s = await send({ payload: 'release' });
    expect(s).toMatchObject({ action: 'release', changed: true, state: 'open', released: expect.stringMatching(/^oobkit-/), before: { wired: expect.stringMatching(/isolate/) } });
    expect(statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'open' });
    expect(out(sim, ELSEWHERE)).toBe('passed');
    expect(inn(sim, ELSEWHERE)).toBe('passed');
    expect(await deviceConfig(sim)).toBe(JSON.stringify({ policies: [], filters: [] }));

    s = await send({ payload: 'release' });
    expect(s).toMatchObject({ changed: false, state: 'open' });
  });

  it('release restores the policy that was in force before OOBKit', async () => {
    const sim = fleet.devices[1];
    await userPolicy(sim);
    const before = await deviceConfig(sim);
    await load(NODES, flow(sim), creds);
    expect(out(sim, ELSEWHERE, { remotePort: 25 })).toBe('dropped');

    let s = await send({ payload: 'status' });
    expect(s).toMatchObject({ state: 'policy', label: 'policy: no-smtp' });

    s = await send({ action: 'apply', template: 'isolate' });
    expect(s).toMatchObject({ state: 'isolated', before: { wired: 'no-smtp' } });
    expect(s.policy.precedence).toBeGreaterThan(5);
    expect(out(sim, ELSEWHERE, { remotePort: 443 })).toBe('dropped');

    s = await send({ action: 'release' });
    expect(s).toMatchObject({ state: 'policy', label: 'policy: no-smtp', interfaces: { wired: { inForce: 'no-smtp', enabled: ['no-smtp'] } } });
    expect(out(sim, ELSEWHERE, { remotePort: 25 })).toBe('dropped');
    expect(out(sim, ELSEWHERE, { remotePort: 443 })).toBe('passed');
    expect(await deviceConfig(sim)).toBe(before);
  });

  it('blocks an inbound port from msg.action and msg.params, yellow "policy" status', async () => {
    const sim = fleet.devices[2];
    await load(NODES, flow(sim), creds);
    const statuses = recordStatuses('sd');
    const s = await send({ action: 'block-inbound-port', params: { ports: ['3389', '135-139'], protocol: 'tcp' } });
    expect(s).toMatchObject({ state: 'policy', label: 'policy: block-inbound-port', template: 'block-inbound-port', params: { ports: ['3389', '135-139'], protocol: 'tcp' } });
    expect(statuses.at(-1)).toEqual({ fill: 'yellow', shape: 'ring', text: 'policy: block-inbound-port' });
    expect(inn(sim, ELSEWHERE, { localPort: 3389 })).toBe('dropped');
    expect(inn(sim, ELSEWHERE, { localPort: 137 })).toBe('dropped');
    expect(inn(sim, ELSEWHERE, { localPort: 3389, protocol: 'udp' })).toBe('passed');
    expect(inn(sim, ELSEWHERE, { localPort: 445 })).toBe('passed');
    expect(out(sim, ELSEWHERE, { remotePort: 3389 })).toBe('passed');
    await send({ action: 'release' });
  });

  it('refuses a different template while one is in force, and replaces it on request without opening the PC in between', async () => {
    const sim = fleet.devices[3];
    await load(NODES, flow(sim), creds);
    await send({ payload: 'isolate' });
    const before = await deviceConfig(sim);

    const err = await fail({ action: 'block-outbound-port', params: { ports: 25 } });
    expect(err.error.message).toMatch(/overlapping templates: isolate is applied .* release it first or set replace/);
    expect(await deviceConfig(sim)).toBe(before);
    expect(out(sim, ELSEWHERE)).toBe('dropped');

    const events: Array<{ kind: string; policy: string }> = [];
    sim.on('defense', (e: { kind: string; policy: string }) => events.push(e));
    const s = await send({ action: 'block-outbound-port', params: { ports: 25 }, replace: true });
    expect(s).toMatchObject({ state: 'policy', label: 'policy: block-outbound-port', changed: true });
    // One switch, straight from the isolation policy to the new one.
    expect(events.map((e) => e.kind)).toEqual(['policy-deactivated', 'policy-activated']);
    expect(events[1].policy).toMatch(/block-out/);
    expect(out(sim, ELSEWHERE, { remotePort: 25 })).toBe('dropped');
    expect(out(sim, ELSEWHERE, { remotePort: 443 })).toBe('passed');
    expect(JSON.parse(await deviceConfig(sim)).policies).toHaveLength(1);
    await send({ action: 'release' });
  });

  it.each([
    ['an invalid management address', { payload: 'isolate', params: { managementHosts: ['10.0.0.300'] } }, /management host "10.0.0.300" is not an IP address/],
    ['a host name instead of an address', { payload: 'isolate', params: { managementHosts: 'update.example.com' } }, /is a host name; give its IP address/],
    ['a network with a prefix too long', { payload: 'isolate', params: { managementHosts: '10.0.0.0/33' } }, /prefix longer than 32 bits/],
    ['a range that ends before it starts', { action: 'allow-only', params: { allow: ['10.0.0.9-10.0.0.1'] } }, /ends before it starts/],
    ['a port out of range', { action: 'block-inbound-port', params: { ports: [70000] } }, /port 70000 is not a port/],
    ['a port that is not a number', { action: 'block-outbound-port', params: { ports: 'smtp' } }, /port "smtp" is not a port/],
    ['a port range backwards', { action: 'block-inbound-port', params: { ports: '200-100' } }, /range 200-100 ends before it starts/],
    ['no port at all', { action: 'block-inbound-port', params: {} }, /needs at least one port/],
    ['an unknown template', { action: 'apply', template: 'nuke' }, /unknown System Defense template "nuke"/],
    ['an unknown action', { action: 'explode' }, /unknown action "explode"/],
    ['a parameter the template does not take', { payload: 'isolate', params: { ports: 22 } }, /isolate does not take "ports"/],
  ])('refuses %s before sending anything', async (_what, msg, message) => {
    const sim = fleet.devices[4];
    await load(NODES, flow(sim), creds);
    const statuses = recordStatuses('sd');
    const requests: unknown[] = [];
    const record = (r: unknown) => requests.push(r);
    sim.on('request', record);
    const err = await fail({ ...msg, marker: 7 });
    sim.off('request', record);
    expect(err.marker).toBe(7);
    expect(err.error.message).toMatch(message);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: 'bad input' });
    expect(requests).toEqual([]);
  });

  it('refuses a PC in client control mode', async () => {
    const sim = fleet.devices[6];
    await load(NODES, flow(sim), creds);
    const statuses = recordStatuses('sd');
    const err = await fail({ payload: 'isolate' });
    expect(err.error.message).toMatch(/is in client control mode; System Defense needs admin control mode/);
    expect(statuses.at(-1)).toMatchObject({ fill: 'red', shape: 'ring', text: 'not supported' });
    expect(out(sim, ELSEWHERE)).toBe('passed');
  });

  it('refuses a PC without System Defense', async () => {
    const bare = await startFleet({
      devices: 1,
      port: 0,
      user: USER,
      password: PASSWORD,
      seed: 'no-defense',
      configure: (_i, o) => ({ ...o, classes: defaultClasses.filter((c) => !/SystemDefense|Filter|EthernetPort|AgentPresence/.test(c.className)) }),
    });
    try {
      await load(NODES, flow(bare.devices[0]), creds);
      const err = await fail({ payload: 'isolate' });
      expect(err.error.message).toMatch(/has no System Defense: DestinationUnreachable/);
    } finally {
      closeAllAmt();
      await bare.stop();
    }
  });

  it('refuses a policy name that exists already and was not made by OOBKit', async () => {
    const sim = fleet.devices[5];
    await userPolicy(sim, 'oobkit-a-isolate', 3, 'their-smtp');
    const before = await deviceConfig(sim);
    await load(NODES, flow(sim), creds);
    const err = await fail({ payload: 'isolate' });
    expect(err.error.message).toMatch(/a System Defense policy named "oobkit-a-isolate" exists already .* not made by OOBKit/);
    expect(await deviceConfig(sim)).toBe(before);
  });

  it.each([
    ['creating a filter', (r: Req, n: number) => isCreate(r, /AMT_(IPHeadersFilter|Hdr8021Filter)$/) && n === 3, /failed at step 4 of 10 \(create filter oobkit-a-4\): .*HTTP 500; undid the 3 step\(s\) done before it; nothing was left applied/],
    ['enabling the policy', (r: Req) => isCreate(r, /AMT_SystemDefensePolicy$/), /failed at step 10 of 10 \(enable oobkit-a-isolate on wired\): .*HTTP 500; undid the 9 step\(s\)/],
  ])('rolls back a device that fails halfway (%s) and says so', async (_what, failAfter, message) => {
    const sim = fleet.devices[7];
    const before = await deviceConfig(sim);
    await load(NODES, flow(sim), creds);
    let creates = 0;
    // The request after the one `failAfter` picks gets an HTTP 500.
    const trip = (r: Req) => {
      if (isCreate(r, /./)) creates++;
      if (failAfter(r, creates)) {
        sim.injectFault({ kind: 'http500' });
        sim.off('request', trip);
      }
    };
    sim.on('request', trip);
    const err = await fail({ payload: 'isolate' });
    sim.off('request', trip);
    expect(err.error.message).toMatch(message);
    expect(await deviceConfig(sim)).toBe(before);
    expect(out(sim, ELSEWHERE)).toBe('passed');
    // And the next try goes through.
    expect((await send({ payload: 'isolate' })).state).toBe('isolated');
    await send({ payload: 'release' });
  });

  it('adds an agent watchdog that isolates the PC by itself when the agent dies, and removes it', async () => {
    const sim = fleet.devices[2];
    await userPolicy(sim, 'quarantine', 1);
    const lease = acquireAmt({ host: '127.0.0.1', port: sim.port, username: USER, password: PASSWORD });
    // Make "quarantine" drop everything by default, but leave it switched off on the interface.
    const c = lease.client;
    const q = (await listPolicies(c)).find((p) => p.name === 'quarantine')!;
    await c.put('AMT_SystemDefensePolicy', { InstanceID: q.instanceId, PolicyName: 'quarantine', PolicyPrecedence: 1, TxDefaultDrop: true, RxDefaultDrop: true, TxDefaultCount: false, RxDefaultCount: false, TxDefaultMatchEvent: false, RxDefaultMatchEvent: false }, { InstanceID: q.instanceId });
    await c.delete('AMT_NetworkPortSystemDefensePolicy', { Antecedent: { address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous', resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPort', selectors: { CreationClassName: 'CIM_EthernetPort', DeviceID: 'Intel(r) AMT Ethernet Port 0' } }, Dependent: { address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous', resourceUri: 'http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SystemDefensePolicy', selectors: { InstanceID: q.instanceId } } });
    lease.release();
    expect(out(sim, ELSEWHERE)).toBe('passed');

    await load(NODES, flow(sim, { action: 'watchdog-add', agentId: AGENT, agentDescription: 'antivirus', agentTimeout: 15, agentGrace: 30, agentPolicy: 'quarantine' }), creds);
    let s = await send({ payload: 1 });
    expect(s).toMatchObject({ action: 'watchdog-add', changed: true, agentId: AGENT, state: 'open' });
    expect(s.watchdogs).toEqual([
      expect.objectContaining({ agentId: AGENT, description: 'antivirus', state: 'not-started', timeout: 15, grace: 30 }),
    ]);
    expect(s.interfaces.wired.agentPresence).toEqual({ policy: 'quarantine', active: false });

    const alerts: Array<Record<string, unknown>> = [];
    sim.on('agent-presence', (e) => alerts.push(e));
    sim.agent(AGENT).start();
    s = await send({ action: 'watchdog-status' });
    expect(s.watchdogs[0].state).toBe('running');

    const expired = new Promise((resolve) => sim.once('agent-presence', resolve));
    sim.agent(AGENT).crash();
    await expired;
    expect(alerts).toEqual([expect.objectContaining({ agentId: AGENT, from: 'running', to: 'expired', policy: 'activated' })]);
    expect(out(sim, ELSEWHERE)).toBe('dropped');
    s = await send({ action: 'watchdog-status' });
    expect(s).toMatchObject({ state: 'isolated', interfaces: { wired: { inForce: 'quarantine', agentPresence: { policy: 'quarantine', active: true } } } });
    expect(s.watchdogs[0].state).toBe('expired');

    sim.agent(AGENT).start();
    expect(out(sim, ELSEWHERE)).toBe('passed');
    expect(alerts.at(-1)).toMatchObject({ from: 'expired', to: 'running', policy: 'deactivated' });

    s = await send({ action: 'watchdog-remove' });
    expect(s).toMatchObject({ action: 'watchdog-remove', changed: true, watchdogs: [] });
    expect(s.interfaces.wired.agentPresence).toBeUndefined();
    sim.agent(AGENT).crash();
  });
});

