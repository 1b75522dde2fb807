import fc from 'fast-check';
import { guidToDeviceId } from '../packages/sim/src/agent-presence';
import { filterToWire } from '../lib/amt/defense/filters';
import { describeFilter } from '../lib/amt/defense/state';
import { buildPlan, samePlan } from '../lib/amt/defense/templates';
import { actionsFor, agentDeviceId, agentIdOf, parseWatchdog } from '../lib/amt/defense/watchdogs';

const rules = (template: string, params: Record<string, unknown>) => buildPlan(template, params).filters.map(describeFilter);

describe('templates', () => {
  it('isolate: pass the management hosts both ways, then ARP, then count and drop all IP', () => {
    const plan = buildPlan('isolate', { managementHosts: '10.0.0.5, 2001:db8::7' });
    expect(plan.in).toEqual({ drop: true, count: false, event: false });
    expect(plan.out).toEqual({ drop: true, count: false, event: false });
    expect(plan.filters.map(describeFilter)).toEqual([
      'out pass to 10.0.0.5 (counted)',
      'in pass from 10.0.0.5 (counted)',
      'out pass to 2001:db8::7 (counted)',
      'in pass from 2001:db8::7 (counted)',
      'out pass arp (counted)',
      'in pass arp (counted)',
      'out pass icmpv6 (counted)',
      'in pass icmpv6 (counted)',
      'out drop all ipv4 (counted)',
      'in drop all ipv4 (counted)',
      'out drop all ipv6 (counted)',
      'in drop all ipv6 (counted)',
    ]);
    expect(plan.params).toEqual({ managementHosts: ['10.0.0.5', '2001:db8::7'], event: false });
  });

  it('isolate with no management host cuts the PC off completely', () => {
    expect(rules('quarantine', {})).toEqual(['out pass arp (counted)', 'in pass arp (counted)', 'out drop all ipv4 (counted)', 'in drop all ipv4 (counted)', 'out drop all ipv6 (counted)', 'in drop all ipv6 (counted)']);
  });

  it('block-inbound-port: one counting drop filter per protocol, port range and host', () => {
    expect(rules('block-inbound-port', { ports: [3389, '135-139'], hosts: ['203.0.113.0/24'], event: true })).toEqual([
      'in drop tcp from 203.0.113.0/24 to port 3389 (counted) (event)',
      'in drop tcp from 203.0.113.0/24 to port 135-139 (counted) (event)',
      'in drop udp from 203.0.113.0/24 to port 3389 (counted) (event)',
      'in drop udp from 203.0.113.0/24 to port 135-139 (counted) (event)',
    ]);
    const plan = buildPlan('block-in', { ports: 22 });
    expect(plan.in.drop || plan.out.drop).toBe(false);
  });

  it('block-outbound-port blocks the remote port, optionally only towards some hosts', () => {
    expect(rules('block-outbound-port', { ports: '25', protocol: 'tcp', hosts: '198.51.100.1' })).toEqual(['out drop tcp to 198.51.100.1 to port 25 (counted)']);
  });

  it('allow-only: hosts, hosts with ports (tcp and udp unless said), duplicates once', () => {
    const plan = buildPlan('allow-only', { allow: ['10.0.0.0/8', '10.0.0.0/8', { host: '192.0.2.10', ports: [443], protocol: 'tcp' }, { host: '192.0.2.53', port: 53 }] });
    expect(plan.params.allow).toEqual([{ host: '10.0.0.0/8' }, { host: '192.0.2.10', protocol: 'tcp', ports: ['443'] }, { host: '192.0.2.53', protocol: 'both', ports: ['53'] }]);
    expect(plan.filters.map(describeFilter).slice(0, 8)).toEqual([
      'out pass to 10.0.0.0/8 (counted)',
      'in pass from 10.0.0.0/8 (counted)',
      'out pass tcp to 192.0.2.10 to port 443 (counted)',
      'in pass tcp from 192.0.2.10 from port 443 (counted)',
      'out pass tcp to 192.0.2.53 to port 53 (counted)',
      'in pass tcp from 192.0.2.53 from port 53 (counted)',
      'out pass udp to 192.0.2.53 to port 53 (counted)',
      'in pass udp from 192.0.2.53 from port 53 (counted)',
    ]);
  });

  it('the same parameters written differently make the same plan', () => {
    expect(samePlan(buildPlan('isolate', { managementHosts: ['10.0.0.5', '10.0.0.5/32'] }), buildPlan('isolate', { managementHosts: '10.0.0.5' }))).toBe(true);
    expect(samePlan(buildPlan('block-inbound-port', { ports: [22, 22] }), buildPlan('block-in', { ports: '22' }))).toBe(true);
    expect(samePlan(buildPlan('block-inbound-port', { ports: [22] }), buildPlan('block-inbound-port', { ports: [23] }))).toBe(false);
  });

  it.each([
    ['allow-only', {}, /needs at least one allowed host/],
    ['allow-only', { allow: [{ host: '10.0.0.1', ports: [80], protocol: 'icmp' }] }, /ports need the tcp or udp protocol/],
    ['allow-only', { allow: [42] }, /must be an address or/],
    ['block-inbound-port', { ports: 80, protocol: 'icmp' }, /blocks tcp, udp or both/],
    ['block-inbound-port', { ports: 80, protocol: 'sctp' }, /is not tcp, udp, both/],
    ['isolate', { interfaces: 'bluetooth' }, /neither wired nor wireless/],
    ['isolate', { event: 'yes' }, /event must be true or false/],
    ['isolate', [], /parameters must be an object/],
  ])('%s %j is refused', (t, params, message) => {
    expect(() => buildPlan(t, params as never)).toThrow(message);
  });

  it('every filter a template makes can be written as request properties (names aside)', () => {
    const plans = [buildPlan('isolate', { managementHosts: '10.0.0.5,2001:db8::/48' }), buildPlan('allow-only', { allow: [{ host: '192.0.2.1-192.0.2.9', ports: '1-1024' }] }), buildPlan('block-out', { ports: '1-65535', hosts: '::1' })];
    for (const p of plans) for (const f of p.filters) expect(() => filterToWire({ ...f, name: 'x' })).not.toThrow();
  });
});

describe('watchdogs', () => {
  it('the agent GUID becomes the DeviceID the simulator (written separately) keys by, and back', () => {
    fc.assert(
      fc.property(fc.uuid(), (guid) => {
        expect(agentDeviceId(guid)).toBe(guidToDeviceId(guid));
        expect(agentIdOf(agentDeviceId(guid))).toBe(guid.toLowerCase());
      }),
    );
  });

  it('expiry and stop raise events; a policy is switched on with them and off when the agent runs again', () => {
    expect(actionsFor(parseWatchdog({ agentId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', timeout: 30 }))).toEqual([
      { OldState: 5, NewState: 8, EventOnTransition: true },
      { OldState: 4, NewState: 2, EventOnTransition: true },
    ]);
    expect(actionsFor(parseWatchdog({ agentId: '{6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B}', timeout: 30, onExpire: 'quarantine', onStop: 'none' }))).toEqual([
      { OldState: 5, NewState: 8, EventOnTransition: true, ActionSd: 0 },
      { OldState: 10, NewState: 4, EventOnTransition: true, ActionSd: 1 },
      { OldState: 1, NewState: 4, EventOnTransition: false, ActionSd: 1 },
    ]);
  });

  it.each([
    [{ agentId: 'antivirus', timeout: 30 }, /is not a GUID/],
    [{ agentId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', timeout: 0 }, /timeout must be 1 to 65535 seconds/],
    [{ agentId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', timeout: 30, grace: 70000 }, /grace must be 1 to 65535/],
    [{ agentId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', timeout: 30, onExpire: 'a', onStop: 'b' }, /name different policies/],
    [{ agentId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', timeout: 30, onExpire: { event: 'yes' } }, /onExpire.event must be true or false/],
    ['x', /must be an object/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseWatchdog(raw)).toThrow(message);
  });
});
