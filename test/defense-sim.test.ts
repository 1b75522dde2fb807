/**
 * lib/amt/defense against the simulated System Defense and Agent Presence classes: the building
 * blocks (filters, policies, interface bindings, precedence, counters, defaults, wireless), what
 * the simulated firmware refuses, and the watchdog state machine with its linked actions.
 */
import { openAmt } from '../lib/amt/connect';
import {
  addWatchdog,
  applyTemplate,
  createFilter,
  createPolicy,
  deletePolicy,
  disablePolicy,
  enablePolicy,
  ensureDefenseAvailable,
  listFilters,
  listPolicies,
  parseAddress,
  parsePort,
  readAgentPresence,
  readCounters,
  readSnapshot,
  readStatus,
  releaseTemplate,
  removeWatchdog,
  setPrecedence,
  bind,
} from '../lib/amt/defense';
import { OobError } from '../lib/errors';
import type { WsmanClient } from '../lib/wsman/client';
import { Fleet, SimDevice, startBackgroundTraffic, startFleet } from '../packages/sim/src';

const USER = 'admin';
const PASS = 'Sim-P@ss1';
const AGENT = '0b6a34f2-51c7-4cf4-9d1e-2a7c44b1a0e1';
const NONE = { drop: false, count: false, event: false };

let fleet: Fleet;
let next = 0;

beforeAll(async () => {
  fleet = await startFleet({
    devices: 16,
    port: 0,
    user: USER,
    password: PASS,
    timings: { bootTimeMs: 20, offDwellMs: 10 },
    configure: (i, o) => ({ ...o, defense: { secondMs: 20, maxFilters: i === 14 ? 10 : undefined, wireless: i === 15 } }),
  });
});
afterAll(() => fleet.stop());

/** A fresh simulated PC and a client for it (14 and 15 are kept for the tests that need them). */
function pc(index?: number): { sim: SimDevice; c: WsmanClient } {
  const sim = fleet.devices[index ?? next++];
  const c = openAmt({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
  clients.push(c);
  return { sim, c };
}
const clients: WsmanClient[] = [];
afterEach(() => clients.splice(0).forEach((c) => c.close()));

async function faultOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OobError) return e.message;
    throw e;
  }
  throw new Error('expected a fault');
}

describe('System Defense building blocks against the simulator', () => {
  it('creates, reads and deletes filters and policies; one policy linked per interface', async () => {
    const { sim, c } = pc();
    const drop25 = await createFilter(c, { kind: 'ip', name: 'drop-25', direction: 'out', action: 'drop', count: true, event: false, protocol: 6, dstPort: parsePort(25) });
    const drop80 = await createFilter(c, { kind: 'ip', name: 'drop-80', direction: 'out', action: 'drop', count: false, event: false, version: 4, protocol: 6, dst: parseAddress('192.0.2.0/24'), dstPort: parsePort('80-81') });
    expect((await listFilters(c)).map((f) => f.spec)).toEqual([drop25.spec, drop80.spec]);
    const a = await createPolicy(c, { name: 'mail', precedence: 2, in: NONE, out: NONE, filterHandles: [drop25.handle] });
    const b = await createPolicy(c, { name: 'web', precedence: 1, in: NONE, out: NONE, filterHandles: [drop80.handle] });
    expect((await listPolicies(c)).map((p) => [p.name, p.precedence, p.filterHandles])).toEqual([
      ['mail', 2, [drop25.handle]],
      ['web', 1, [drop80.handle]],
    ]);
    await enablePolicy(c, 'wired', a.instanceId);
    // A second link on the same interface is refused: the old one goes first (as MeshCommander does it).
    expect(await faultOf(enablePolicy(c, 'wired', b.instanceId))).toMatch(/InvalidParameter.*has a System Defense policy linked already/);
    expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.1', remotePort: 25 }).verdict).toBe('dropped');
    expect(sim.sendPacket({ direction: 'out', remote: '192.0.2.9', remotePort: 80 })).toMatchObject({ verdict: 'passed', policy: 'mail' });
    // Deleting a link needs the port named by CreationClassName and DeviceID.
    const port = { address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous', resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPort' };
    const dependent = { address: port.address, resourceUri: 'http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SystemDefensePolicy', selectors: { InstanceID: a.instanceId } };
    expect(await faultOf(c.delete('AMT_NetworkPortSystemDefensePolicy', { Antecedent: { ...port, selectors: { DeviceID: 'Intel(r) AMT Ethernet Port 0' } }, Dependent: dependent }))).toMatch(/InvalidSelectors.*CreationClassName and DeviceID/);
    await disablePolicy(c, 'wired', a.instanceId);
    await enablePolicy(c, 'wired', b.instanceId);
    await setPrecedence(c, b, 3);
    expect(sim.sendPacket({ direction: 'out', remote: '192.0.2.9', remotePort: 81 })).toMatchObject({ verdict: 'dropped', policy: 'web', filter: 'drop-80' });
    expect(sim.sendPacket({ direction: 'out', remote: '192.0.2.9', remotePort: 25 }).verdict).toBe('passed');

    await disablePolicy(c, 'wired', b.instanceId);
    await enablePolicy(c, 'wired', a.instanceId);
    expect((await readSnapshot(c)).enabled).toEqual([{ interface: 'wired', policyInstanceId: a.instanceId }]);
    expect(await faultOf(c.delete('AMT_IPHeadersFilter', drop25.keys))).toMatch(/InvalidParameter.*used by policy mail/);
    await deletePolicy(c, a.instanceId);
    await deletePolicy(c, b.instanceId);
    // A deleted policy takes its interface binding with it.
    expect((await readSnapshot(c)).enabled).toEqual([]);
    await c.delete('AMT_IPHeadersFilter', drop25.keys);
    await c.delete('AMT_IPHeadersFilter', drop80.keys);
    expect(await listFilters(c)).toEqual([]);
  });

  it('refuses what the class reference rules out', async () => {
    const { sim, c } = pc();
    // Without its key properties a Create is refused, whatever else it holds (as MeshCommander's placeholders imply).
    const unkeyed = { Name: 'x', FilterDirection: 0, FilterProfile: 4, ActionEventOnMatch: false };
    expect(await faultOf(c.create('AMT_IPHeadersFilter', unkeyed))).toMatch(/InvalidParameter.*Create without its key properties InstanceID, CreationClassName, SystemName, SystemCreationClassName/);
    expect(await faultOf(c.create('AMT_IPHeadersFilter', { ...unkeyed, InstanceID: 0 }))).toMatch(/without its key properties CreationClassName, SystemName, SystemCreationClassName/);
    expect(await faultOf(c.create('AMT_SystemDefensePolicy', { PolicyName: 'p', PolicyPrecedence: 1 }))).toMatch(/AMT_SystemDefensePolicy Create without its key properties InstanceID/);
    const base = { InstanceID: 0, Name: 'x', CreationClassName: 0, SystemName: 0, SystemCreationClassName: 0, FilterDirection: 0, FilterProfile: 4, ActionEventOnMatch: false };
    expect(await faultOf(c.create('AMT_IPHeadersFilter', { ...base, HdrDestPortStart: 80, HdrDestPortEnd: 80 }))).toMatch(/need HdrProtocolID 6 \(TCP\) or 17/);
    expect(await faultOf(c.create('AMT_IPHeadersFilter', { ...base, HdrIPVersion: 4, HdrSrcAddress: '0A000000', HdrSrcMask: 'FF000000', HdrSrcAddressEndOfRange: '0A0000FF' }))).toMatch(/exclude each other/);
    expect(await faultOf(c.create('AMT_IPHeadersFilter', { ...base, HdrSrcAddress: '0A000000' }))).toMatch(/needs HdrIPVersion/);
    expect(await faultOf(c.create('AMT_IPHeadersFilter', { ...base, HdrIPVersion: 6, HdrSrcAddress: '0A000000' }))).toMatch(/16 bytes of hex for IPv6/);
    expect(await faultOf(c.create('AMT_IPHeadersFilter', { ...base, FilterProfile: 2 }))).toMatch(/FilterProfileData/);
    expect(await faultOf(c.create('AMT_Hdr8021Filter', base))).toMatch(/HdrProtocolID8021 is required/);
    expect(await faultOf(c.create('AMT_IPHeadersFilter', { ...base, Name: 'a-name-longer-than-16' }))).toMatch(/longer than 16/);
    // The device gives the filter its InstanceID: its handle, as firmware does (MeshCommander lists filter InstanceIDs as FilterCreationHandles).
    expect((await c.create('AMT_IPHeadersFilter', base))?.selectors.InstanceID).toMatch(/^\d+$/);
    expect(await faultOf(c.create('AMT_IPHeadersFilter', base))).toMatch(/AlreadyExists/);
    expect(await faultOf(c.create('AMT_SystemDefensePolicy', { InstanceID: 0, PolicyName: 'p', PolicyPrecedence: 1, FilterCreationHandles: [999] }))).toMatch(/TxDefaultDrop is required/);
    expect(
      await faultOf(
        c.create('AMT_SystemDefensePolicy', { InstanceID: 0, PolicyName: 'p', PolicyPrecedence: 1, TxDefaultDrop: false, TxDefaultMatchEvent: false, TxDefaultCount: false, RxDefaultDrop: false, RxDefaultMatchEvent: false, RxDefaultCount: false, FilterCreationHandles: [999] }),
      ),
    ).toMatch(/no filter has handle 999/);
    // Our own client refuses a policy name the device has, before sending the Create.
    await createPolicy(c, { name: 'dup', precedence: 1, in: NONE, out: NONE, filterHandles: [] });
    let creates = 0;
    sim.on('request', (r: { action?: string }) => r.action?.endsWith('/Create') && creates++);
    await expect(createPolicy(c, { name: 'dup', precedence: 9, in: NONE, out: NONE, filterHandles: [] })).rejects.toThrow(/named "dup" exists already/);
    expect(creates).toBe(0);
  });

  it('counts matches, reads them with UpdateStatistics, resets them, rate-limits, and raises one event per read', async () => {
    const { sim, c } = pc();
    const limit = await createFilter(c, { kind: 'ip', name: 'dns-limit', direction: 'out', action: 'rate-limit', rateLimit: 3, count: true, event: true, protocol: 17, dstPort: parsePort(53) });
    const p = await createPolicy(c, { name: 'limits', precedence: 1, in: NONE, out: NONE, filterHandles: [limit.handle] });
    await enablePolicy(c, 'wired', p.instanceId);
    const events: unknown[] = [];
    sim.on('defense', (e: { kind: string }) => e.kind === 'filter-match' && events.push(e));
    const verdicts = Array.from({ length: 5 }, () => sim.sendPacket({ direction: 'out', remote: '192.0.2.53', protocol: 'udp', remotePort: 53 }).verdict);
    expect(verdicts).toEqual(['passed', 'passed', 'passed', 'dropped', 'dropped']);
    expect(events).toHaveLength(1);
    expect(await readCounters(c, p.instanceId, 'wired', { reset: true })).toEqual([expect.objectContaining({ filter: 'dns-limit', count: 5, matched: true, instanceId: limit.instanceId })]);
    sim.sendPacket({ direction: 'out', remote: '192.0.2.53', protocol: 'udp', remotePort: 53 });
    expect(events).toHaveLength(2);
    expect((await readCounters(c, p.instanceId, 'wired'))[0]).toMatchObject({ count: 1 });
    expect((await readCounters(c, p.instanceId, 'wired'))[0]).toMatchObject({ count: 1 });
  });

  it('over a PC with its own policy linked: takes the link, gives it back on release, and relinks it when the apply fails part way', async () => {
    const { sim, c } = pc();
    const f = await createFilter(c, { kind: 'ip', name: 'no-smtp', direction: 'out', action: 'drop', count: false, event: false, protocol: 6, dstPort: parsePort(25) });
    const mine = await createPolicy(c, { name: 'mine', precedence: 50, in: NONE, out: NONE, filterHandles: [f.handle] });
    await enablePolicy(c, 'wired', mine.instanceId);
    const before = await readSnapshot(c);

    // The Create of OOBKit's link fails (HTTP 500 on the request after the Delete of the user's link).
    const trip = (r: { action?: string; resourceUri?: string }) => {
      if (r.action?.endsWith('/transfer/Delete') && r.resourceUri?.endsWith('AMT_NetworkPortSystemDefensePolicy')) {
        sim.injectFault({ kind: 'http500' });
        sim.off('request', trip);
      }
    };
    sim.on('request', trip);
    await expect(applyTemplate(c, 'isolate', { managementHosts: '192.0.2.100' })).rejects.toThrow(/\(enable oobkit-a-isolate\+w\d+ on wired\): .*HTTP 500; undid the \d+ step\(s\) done before it; nothing was left applied/);
    sim.off('request', trip);
    expect(await readSnapshot(c)).toEqual(before);
    expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.1', remotePort: 25 })).toMatchObject({ verdict: 'dropped', policy: 'mine' });

    const applied = await applyTemplate(c, 'isolate', { managementHosts: '192.0.2.100' });
    expect(applied.policy).toMatch(/^oobkit-a-isolate\+w\d+$/);
    expect(applied.after).toEqual({ wired: applied.policy });
    expect((await readSnapshot(c)).enabled).toEqual([{ interface: 'wired', policyInstanceId: expect.not.stringMatching(mine.instanceId) }]);
    const released = await releaseTemplate(c);
    expect(released.after).toEqual({ wired: 'mine' });
    expect(await readSnapshot(c)).toEqual(before);
  });

  it('a default policy is in force when no other is; OOBKit overrides it and release brings it back', async () => {
    const { sim, c } = pc();
    const f = await createFilter(c, { kind: 'ip', name: 'no-telnet', direction: 'in', action: 'drop', count: false, event: false, protocol: 6, dstPort: parsePort(23) });
    const p = await createPolicy(c, { name: 'baseline', precedence: 0, in: NONE, out: NONE, filterHandles: [f.handle] });
    await bind(c, 'AMT_NetworkPortDefaultSystemDefensePolicy', 'wired', p.instanceId);
    expect((await readStatus(c)).interfaces.wired).toEqual({ inForce: 'baseline', enabled: [], default: 'baseline' });
    expect(sim.sendPacket({ direction: 'in', remote: '203.0.113.2', localPort: 23 }).verdict).toBe('dropped');
    await applyTemplate(c, 'isolate', { managementHosts: '192.0.2.100' });
    expect((await readStatus(c)).state).toBe('isolated');
    const r = await releaseTemplate(c);
    expect(r.after).toEqual({ wired: 'baseline' });
    expect((await readStatus(c)).label).toBe('policy: baseline');
  });

  it('refuses a template that needs more filters than the PC has room for, before sending any', async () => {
    const { sim, c } = pc(14);
    let creates = 0;
    sim.on('request', (r: { action?: string }) => r.action?.endsWith('/Create') && creates++);
    await expect(applyTemplate(c, 'allow-only', { allow: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] })).rejects.toThrow(/needs 12 filters and .* has room for 10 \(it holds 0 of 10\)/);
    expect(creates).toBe(0);
    expect((await applyTemplate(c, 'allow-only', { allow: ['192.0.2.1', '192.0.2.2'] })).changed).toBe(true);
  });

  it('covers the wireless interface too when the PC has one, or only the one asked for', async () => {
    const { sim, c } = pc(15);
    let r = await applyTemplate(c, 'isolate', {});
    expect(r.interfaces).toEqual(['wired', 'wireless']);
    expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.3', interface: 'wireless' }).verdict).toBe('dropped');
    r = await applyTemplate(c, 'isolate', { interfaces: 'wired' });
    expect(r).toMatchObject({ changed: true, after: { wired: 'oobkit-b-isolate', wireless: null } });
    expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.3', interface: 'wireless' }).verdict).toBe('passed');
    await releaseTemplate(c);
  });

  it('serializes concurrent changes on one device', async () => {
    const { sim, c } = pc();
    const results = await Promise.all([applyTemplate(c, 'isolate', {}), releaseTemplate(c), applyTemplate(c, 'block-in', { ports: 22 })]);
    expect(results.map((r) => r.changed)).toEqual([true, true, true]);
    expect((await readStatus(c)).label).toBe('policy: block-inbound-port');
    expect(sim.sendPacket({ direction: 'in', remote: '203.0.113.4', localPort: 22 }).verdict).toBe('dropped');
  });

  it('the demo background traffic moves the counters of a PC that is on, and leaves a PC that is off alone', async () => {
    const { sim, c } = pc();
    const off = fleet.devices[next++];
    off.powerOff('test');
    await applyTemplate(c, 'isolate', { managementHosts: '192.168.1.10' });
    const seen: string[] = [];
    off.on('packet', (p: { verdict: string }) => seen.push(p.verdict));
    const traffic = startBackgroundTraffic([sim, off], 10);
    await new Promise((r) => setTimeout(r, 80));
    traffic.stop();
    const counts = Object.fromEntries((await readStatus(c, { counters: true })).counters!.map((x) => [x.filter, x.count]));
    expect(counts['oobkit-a-1']).toBeGreaterThan(0); // to the management host
    expect(counts['oobkit-a-5']).toBeGreaterThan(0); // dropped on its way out
    expect(counts['oobkit-a-6']).toBeGreaterThan(0); // dropped on its way in
    expect(seen).toEqual([]);
  });

  it('refuses changes with AccessDenied in client control mode, and ensureDefenseAvailable explains it', async () => {
    const { sim, c } = pc();
    sim.controlMode = 'client';
    expect(await c.enumerate('AMT_SystemDefensePolicy')).toEqual([]);
    expect(await faultOf(c.create('AMT_Hdr8021Filter', { Name: 'arp', FilterDirection: 0, FilterProfile: 3, ActionEventOnMatch: false, HdrProtocolID8021: 2054 }))).toMatch(/AccessDenied/);
    await expect(ensureDefenseAvailable(c)).rejects.toThrow(/client control mode; System Defense needs admin control mode/);
    sim.controlMode = 'admin';
    await expect(ensureDefenseAvailable(c)).resolves.toBeUndefined();
  });
});

describe('Agent presence against the simulator', () => {
  it('expires a watchdog whose agent never registers within the grace period', async () => {
    const { sim, c } = pc();
    const events: Array<Record<string, unknown>> = [];
    sim.on('agent-presence', (e) => events.push(e));
    await addWatchdog(c, { agentId: AGENT, description: 'edr', timeout: 10, grace: 3 });
    const expired = new Promise((r) => sim.once('agent-presence', r));
    await expired;
    expect(events).toEqual([expect.objectContaining({ agentId: AGENT, from: 'not-started', to: 'expired', description: 'edr' })]);
    expect((await readAgentPresence(c)).watchdogs[0]).toMatchObject({ state: 'expired', timeout: 10, grace: 3 });
  });

  it('a clean shutdown stops the watchdog with its own event; a reboot starts it over and the agent registers again', async () => {
    const { sim, c } = pc();
    await addWatchdog(c, { agentId: AGENT, timeout: 10, grace: 10 });
    const transitions: string[] = [];
    sim.on('watchdog', (e: { from: string; to: string }) => transitions.push(`${e.from}>${e.to}`));
    const alerts: string[] = [];
    sim.on('agent-presence', (e: { to: string }) => alerts.push(e.to));
    const agent = sim.agent(AGENT);
    agent.start();
    expect(agent.stop()).toBe(true);
    expect(alerts).toEqual(['stopped']);
    agent.start();
    const back = new Promise((r) => sim.on('watchdog', (e: { to: string }) => e.to === 'running' && transitions.length > 4 && r(e)));
    sim.reset('test');
    await back;
    expect(transitions).toEqual(['not-started>running', 'running>stopped', 'stopped>running', 'running>not-started', 'not-started>running']);
    expect((await readAgentPresence(c)).watchdogs[0].state).toBe('running');
    agent.crash();
  });

  it('ignores a presence assertion with the wrong sequence number, over WS-Man as a local agent would send it', async () => {
    const { c } = pc();
    await addWatchdog(c, { agentId: AGENT, timeout: 100, grace: 100 });
    const deviceId = (await c.enumerate('AMT_AgentPresenceWatchdog'))[0].props.DeviceID as string;
    const reg = await c.invoke('AMT_AgentPresenceWatchdog', 'RegisterAgent', {}, { DeviceID: deviceId });
    expect(reg).toMatchObject({ ReturnValue: 0, TimeoutInterval: 100 });
    const seq = reg.SessionSequenceNumber as number;
    expect((await c.invoke('AMT_AgentPresenceWatchdog', 'AssertPresence', { SequenceNumber: seq + 5 }, { DeviceID: deviceId })).ReturnValue).toBe(2);
    expect((await c.invoke('AMT_AgentPresenceWatchdog', 'AssertPresence', { SequenceNumber: (seq + 1) >>> 0 }, { DeviceID: deviceId })).ReturnValue).toBe(0);
    expect((await c.invoke('AMT_AgentPresenceWatchdog', 'AssertShutdown', { SequenceNumber: (seq + 2) >>> 0 }, { DeviceID: deviceId })).ReturnValue).toBe(0);
    expect((await readAgentPresence(c)).watchdogs[0].state).toBe('stopped');
  });

  it('refuses duplicates, unknown policies and a second agent-presence policy on an interface; adding the same watchdog twice changes nothing', async () => {
    const { c } = pc();
    const spec = { agentId: AGENT, timeout: 30, grace: 60 };
    expect((await addWatchdog(c, spec)).changed).toBe(true);
    expect((await addWatchdog(c, spec)).changed).toBe(false);
    await expect(addWatchdog(c, { ...spec, timeout: 31 })).rejects.toThrow(/exists already .* remove it first/);
    const other = '11111111-2222-4333-8444-555555555555';
    await expect(addWatchdog(c, { agentId: other, timeout: 5, onExpire: 'nope' })).rejects.toThrow(/no System Defense policy named "nope"/);
    await createPolicy(c, { name: 'q1', precedence: 1, in: { ...NONE, drop: true }, out: { ...NONE, drop: true }, filterHandles: [] });
    await createPolicy(c, { name: 'q2', precedence: 1, in: NONE, out: NONE, filterHandles: [] });
    await addWatchdog(c, { agentId: other, timeout: 5, onExpire: 'q1' });
    const third = '99999999-8888-4777-8666-555555555555';
    await expect(addWatchdog(c, { agentId: third, timeout: 5, onExpire: 'q2' })).rejects.toThrow(/already switches on policy "q1" on the wired interface/);
    expect((await readAgentPresence(c)).watchdogs.map((w) => w.agentId)).toEqual([AGENT, other]);
    expect((await removeWatchdog(c, other)).steps).toEqual([`delete watchdog ${other}`, 'stop agent presence switching policies on wired']);
    expect((await removeWatchdog(c, other)).changed).toBe(false);
    expect((await readSnapshot(c)).agentPresence).toEqual([]);
  });
});
