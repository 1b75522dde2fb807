/**
 * Properties of apply and release, checked with fast-check against simulated PCs that already
 * carry policies of their own (made with the same building blocks MeshCommander would use):
 *
 *  - after any sequence of applies (same or other templates, with or without replace) and
 *    releases, the device is in the state the last successful action asked for, and a refused
 *    action (an overlapping template) leaves it as it was; while a template is applied, the one
 *    policy link of the interface is OOBKit's (a user's policy linked before is unlinked, and
 *    remembered);
 *  - whatever came before, a release leaves the device exactly as it was before OOBKit touched it:
 *    the same policies, filters and bindings, the same policy in force, the same verdict for
 *    every packet.
 */
import fc from 'fast-check';
import { openAmt } from '../lib/amt/connect';
import {
  applyTemplate,
  bind,
  buildPlan,
  createFilter,
  createPolicy,
  DefenseSnapshot,
  enablePolicy,
  inForce,
  isOwnFilter,
  ownedPolicies,
  parsePort,
  readSnapshot,
  readStatus,
  releaseTemplate,
  sameFilter,
  TemplatePlan,
} from '../lib/amt/defense';
import { InputError } from '../lib/errors';
import { PacketSpec, SimDevice, startFleet } from '../packages/sim/src';
import type { WsmanClient } from '../lib/wsman/client';

const USER = 'admin';
const PASS = 'Sim-P@ss1';

interface UserPolicy {
  ports: number[];
  precedence: number;
  enabled: boolean;
  asDefault: boolean;
  dropIn: boolean;
}

const userPolicy = fc.record({
  ports: fc.uniqueArray(fc.constantFrom(21, 23, 25, 445, 3389), { maxLength: 2 }),
  precedence: fc.integer({ min: 0, max: 40 }),
  enabled: fc.boolean(),
  asDefault: fc.boolean(),
  dropIn: fc.boolean(),
});

const HOSTS = ['192.0.2.10', '198.51.100.0/24', '2001:db8::5', '203.0.113.7-203.0.113.9'];
type Action = { kind: 'apply'; template: string; params: Record<string, unknown>; replace: boolean } | { kind: 'release' };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('apply' as const), template: fc.constant('isolate'), params: fc.record({ managementHosts: fc.subarray(HOSTS, { maxLength: 2 }) }), replace: fc.boolean() }),
  fc.record({ kind: fc.constant('apply' as const), template: fc.constantFrom('block-inbound-port', 'block-outbound-port'), params: fc.record({ ports: fc.subarray([22, 25, 3389, '135-139'], { minLength: 1, maxLength: 2 }), protocol: fc.constantFrom('tcp', 'udp', 'both') }), replace: fc.boolean() }),
  fc.record({ kind: fc.constant('apply' as const), template: fc.constant('allow-only'), params: fc.record({ allow: fc.subarray(HOSTS, { minLength: 1, maxLength: 2 }) }), replace: fc.boolean() }),
  fc.constant({ kind: 'release' as const }),
);

/** Packets from and to the PC that the policies above would treat differently. */
const PROBES: PacketSpec[] = [
  { direction: 'out', remote: '192.0.2.10', remotePort: 443 },
  { direction: 'out', remote: '203.0.113.50', remotePort: 25 },
  { direction: 'out', remote: '203.0.113.8', remotePort: 22, protocol: 'udp' },
  { direction: 'in', remote: '198.51.100.20', localPort: 3389 },
  { direction: 'in', remote: '203.0.113.50', localPort: 137 },
  { direction: 'out', remote: '2001:db8::5', remotePort: 80 },
  { direction: 'in', remote: '2001:db8::99', localPort: 21 },
  { direction: 'out', kind: 'arp' },
];

async function setUp(c: WsmanClient, users: UserPolicy[]): Promise<void> {
  for (const [i, u] of users.entries()) {
    const handles: number[] = [];
    for (const port of u.ports) {
      handles.push((await createFilter(c, { kind: 'ip', name: `u${i}-${port}`, direction: 'in', action: 'drop', count: true, event: false, protocol: 6, dstPort: parsePort(port) })).handle);
    }
    const none = { drop: false, count: false, event: false };
    const p = await createPolicy(c, { name: `user-${i}`, precedence: u.precedence, in: { ...none, drop: u.dropIn }, out: none, filterHandles: handles });
    // One policy linked per interface (the firmware rule MeshCommander follows).
    if (u.enabled && !users.slice(0, i).some((x) => x.enabled)) await enablePolicy(c, 'wired', p.instanceId);
    if (u.asDefault && !users.slice(0, i).some((x) => x.asDefault)) await bind(c, 'AMT_NetworkPortDefaultSystemDefensePolicy', 'wired', p.instanceId);
  }
}

/** Everything not OOBKit's, by name, so instance ids do not matter. */
function foreign(s: DefenseSnapshot): string {
  const own = new Set(ownedPolicies(s).map((o) => o.policy.instanceId));
  const name = (id: string) => s.policies.find((p) => p.instanceId === id)?.name;
  const handleName = new Map(s.filters.map((f) => [f.handle, f.spec.name]));
  return JSON.stringify({
    policies: s.policies.filter((p) => !own.has(p.instanceId)).map((p) => ({ ...p, instanceId: undefined, filterHandles: p.filterHandles.map((h) => handleName.get(h)) })),
    filters: s.filters.filter((f) => !isOwnFilter(f)).map((f) => f.spec),
    enabled: s.enabled.filter((b) => !own.has(b.policyInstanceId)).map((b) => [b.interface, name(b.policyInstanceId)]),
    defaults: s.defaults.map((b) => [b.interface, name(b.policyInstanceId)]),
  });
}

function verdicts(sim: SimDevice): string[] {
  return PROBES.map((p) => sim.sendPacket(p).verdict);
}

async function checkApplied(c: WsmanClient, sim: SimDevice, plan: TemplatePlan, pre: string): Promise<void> {
  const s = await readSnapshot(c);
  const owned = ownedPolicies(s);
  expect(owned).toHaveLength(1);
  const [own] = owned;
  expect(own.template).toBe(plan.template);
  const byHandle = new Map(s.filters.map((f) => [f.handle, f.spec]));
  const filters = own.policy.filterHandles.map((h) => byHandle.get(h)!);
  expect(filters).toHaveLength(plan.filters.length);
  filters.forEach((f, i) => expect(sameFilter(f, plan.filters[i])).toBe(true));
  expect(inForce(s, 'wired')?.instanceId).toBe(own.policy.instanceId);
  // No stray filter of ours outside the applied policy.
  expect(s.filters.filter(isOwnFilter).length).toBe(plan.filters.length);
  expect(foreign(s)).toBe(pre);
  const status = await readStatus(c);
  expect(status.label).toBe(plan.template === 'isolate' ? 'isolated' : `policy: ${plan.template}`);
  if (plan.template === 'isolate') expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.200' }).verdict).toBe('dropped');
}

describe('apply and release, as properties', () => {
  it('leave the device as the last action asked, and release restores what was there before', async () => {
    let seed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(userPolicy, { maxLength: 2 }), fc.array(action, { minLength: 1, maxLength: 6 }), async (users, actions) => {
        const fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASS, seed: `prop-${seed++}` });
        const sim = fleet.devices[0];
        const c = openAmt({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
        try {
          await setUp(c, users);
          const preSnap = await readSnapshot(c);
          const pre = foreign(preSnap);
          // While OOBKit's policy is in force it holds the wired link; the user's link comes back on release.
          const preApplied = foreign({ ...preSnap, enabled: preSnap.enabled.filter((b) => b.interface !== 'wired') });
          const preInForce = inForce(preSnap, 'wired')?.name ?? null;
          const preVerdicts = verdicts(sim);
          let applied: TemplatePlan | undefined;
          for (const a of actions) {
            if (a.kind === 'release') {
              await releaseTemplate(c);
              applied = undefined;
            } else {
              const plan = buildPlan(a.template, a.params);
              const overlaps = applied !== undefined && applied.template !== plan.template && !a.replace;
              if (overlaps) {
                await expect(applyTemplate(c, a.template, a.params, { replace: a.replace })).rejects.toThrow(InputError);
              } else {
                await applyTemplate(c, a.template, a.params, { replace: a.replace });
                applied = plan;
              }
            }
            if (applied) await checkApplied(c, sim, applied, preApplied);
            else {
              const s = await readSnapshot(c);
              expect(foreign(s)).toBe(pre);
              expect(ownedPolicies(s)).toEqual([]);
              expect(s.filters.filter(isOwnFilter)).toEqual([]);
            }
          }
          await releaseTemplate(c);
          const post = await readSnapshot(c);
          expect(foreign(post)).toBe(pre);
          expect(post.policies.length).toBe(preSnap.policies.length);
          expect(post.filters.length).toBe(preSnap.filters.length);
          expect(inForce(post, 'wired')?.name ?? null).toBe(preInForce);
          expect(verdicts(sim)).toEqual(preVerdicts);
        } finally {
          c.close();
          await fleet.stop();
        }
      }),
      { numRuns: 30 },
    );
  });
});
