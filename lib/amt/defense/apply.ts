/**
 * Applying a template and releasing it.
 *
 * Apply adds OOBKit's own policy with a precedence above every other policy and links it to the
 * interfaces. An interface links one policy (docs/firmware-evidence.md): a link already there is
 * deleted first, then OOBKit's is created, and the policy it replaced is written into OOBKit's
 * policy name; release deletes OOBKit's link and links that policy again, so whatever was in
 * force before is in force again. OOBKit changes or deletes no policy or filter it did not make.
 * Both are idempotent: applying the same template with the same parameters again, or releasing
 * twice, sends no change.
 *
 * Only one OOBKit template can be in force at a time: applying a different one is refused unless
 * `replace` is set. A replacement, like a change of parameters, creates the new policy and its
 * filters first, then swaps the link (delete, create: two requests back to back), then deletes
 * the old policy.
 *
 * Every multi-step change runs in a Journal: if the device fails part way, what was done is
 * undone and the error says so. Removing the old policy after a successful change is clean-up:
 * its failures are reported as warnings and finished by the next apply or release.
 */
import { InputError, OobError, UnsupportedError } from '../../errors';
import type { WsmanClient } from '../../wsman/client';
import { ensureDefenseAvailable } from './availability';
import { createFilter, deleteFilter, DeviceFilter, sameFilter } from './filters';
import { Journal } from './journal';
import { exclusive } from './lock';
import { createPolicy, deletePolicy, DevicePolicy, MAX_PRECEDENCE } from './policies';
import { handleOf } from './filters';
import { Binding, disablePolicy, enablePolicy, InterfaceName } from './ports';
import { DefenseSnapshot, inForce, isOwnFilter, OwnedPolicy, ownedPolicies, ownFilterName, ownPolicyName, policyByHandle, readSnapshot, RestoreLink } from './state';
import { buildPlan, TemplateName, TemplatePlan } from './templates';

export interface ApplyOptions {
  /** Replace a different OOBKit template that is in force (otherwise that is refused). */
  replace?: boolean;
}

export interface DefenseChange {
  action: 'apply' | 'release';
  /** False when the device already was as asked and nothing was sent. */
  changed: boolean;
  template?: TemplateName;
  params?: Record<string, unknown>;
  /** The device policy OOBKit applied, or released. */
  policy?: string;
  interfaces: InterfaceName[];
  /** Policy in force per interface before and after (null: none, all traffic passes). */
  before: Partial<Record<InterfaceName, string | null>>;
  after: Partial<Record<InterfaceName, string | null>>;
  /** What was done, in order. */
  steps: string[];
  /** Clean-up that failed after the change itself succeeded. */
  warnings: string[];
}

function inForceNames(s: DefenseSnapshot): Partial<Record<InterfaceName, string | null>> {
  const out: Partial<Record<InterfaceName, string | null>> = {};
  for (const i of s.interfaces) out[i] = inForce(s, i)?.name ?? null;
  return out;
}

function bindingsOf(s: DefenseSnapshot, p: DevicePolicy): InterfaceName[] {
  return s.enabled.filter((b) => b.policyInstanceId === p.instanceId).map((b) => b.interface);
}

function filtersOf(s: DefenseSnapshot, p: DevicePolicy): DeviceFilter[] {
  const byHandle = new Map(s.filters.map((f) => [f.handle, f]));
  return p.filterHandles.map((h) => byHandle.get(h)).filter((f): f is DeviceFilter => f !== undefined);
}

/** One change of an interface's policy link. */
interface LinkStep {
  link: boolean;
  iface: InterfaceName;
  policy: DevicePolicy;
}

/** Runs link changes in a journal (each undone by its opposite) and keeps `enabled` as the device now has it. */
async function runLinks(client: WsmanClient, journal: Journal, steps: LinkStep[], enabled: Binding[]): Promise<void> {
  for (const { link, iface, policy } of steps) {
    const add = () => enablePolicy(client, iface, policy.instanceId);
    const remove = () => disablePolicy(client, iface, policy.instanceId);
    await journal.run(`${link ? 'enable' : 'disable'} ${policy.name} on ${iface}`, link ? add : remove, link ? remove : add);
    if (link) enabled.push({ interface: iface, policyInstanceId: policy.instanceId });
    else enabled.splice(enabled.findIndex((b) => b.interface === iface && b.policyInstanceId === policy.instanceId) >>> 0, 1);
  }
}

/** The policy an OOBKit policy replaced on an interface, if the device still holds it and nothing else is linked there. */
function restoreTarget(s: DefenseSnapshot, own: OwnedPolicy, iface: InterfaceName, enabled: Binding[]): DevicePolicy | undefined {
  const r = own.restore.find((x) => x.interface === iface);
  const p = r ? policyByHandle(s, r.handle) : undefined;
  if (!p || ownedPolicies(s).some((o) => o.policy.instanceId === p.instanceId)) return undefined;
  return enabled.some((b) => b.interface === iface) ? undefined : p;
}

/** The snapshot with some policies gone, one added, and the links as they are now. */
function after(s: DefenseSnapshot, removed: string[], enabled: Binding[], added?: DevicePolicy): DefenseSnapshot {
  const gone = new Set(removed);
  const policies = s.policies.filter((p) => !gone.has(p.instanceId));
  if (added) policies.push(added);
  return { ...s, policies, enabled: enabled.filter((b) => !gone.has(b.policyInstanceId)) };
}

/** The device already holds exactly this plan, in force on exactly these interfaces. */
function alreadyApplied(s: DefenseSnapshot, own: OwnedPolicy, plan: TemplatePlan, interfaces: InterfaceName[]): boolean {
  const p = own.policy;
  if (own.template !== plan.template) return false;
  if (JSON.stringify([p.in, p.out]) !== JSON.stringify([plan.in, plan.out])) return false;
  const filters = filtersOf(s, p);
  if (filters.length !== plan.filters.length || !filters.every((f, i) => sameFilter(f.spec, plan.filters[i]))) return false;
  const bound = bindingsOf(s, p);
  if (bound.length !== interfaces.length || !interfaces.every((i) => bound.includes(i))) return false;
  return interfaces.every((i) => inForce(s, i)?.instanceId === p.instanceId);
}

async function capacity(client: WsmanClient): Promise<{ filters?: number; policies?: number }> {
  try {
    const c = await client.get('AMT_GeneralSystemDefenseCapabilities');
    const f = c.props.GlobalMaxSupportedFilters;
    const p = c.props.GlobalMaxSupportedPolicies;
    return { filters: typeof f === 'number' ? f : undefined, policies: typeof p === 'number' ? p : undefined };
  } catch (e) {
    if (e instanceof OobError && e.code === 'WSMAN_FAULT') return {};
    throw e;
  }
}

/** Delete OOBKit policies that are out of force and filters of ours no policy uses; never throws. */
async function cleanUp(client: WsmanClient, s: DefenseSnapshot, policies: DevicePolicy[], steps: string[], warnings: string[]): Promise<void> {
  const keep = s.policies.filter((p) => !policies.includes(p));
  const usedByKept = new Set(keep.flatMap((p) => p.filterHandles));
  for (const p of policies) {
    try {
      await deletePolicy(client, p.instanceId);
      steps.push(`delete policy ${p.name}`);
    } catch (e) {
      warnings.push(`could not delete policy ${p.name}: ${(e as Error).message}`);
      for (const h of p.filterHandles) usedByKept.add(h);
    }
  }
  for (const f of s.filters) {
    if (!isOwnFilter(f) || usedByKept.has(f.handle)) continue;
    try {
      await deleteFilter(client, f);
      steps.push(`delete filter ${f.spec.name}`);
    } catch (e) {
      warnings.push(`could not delete filter ${f.spec.name}: ${(e as Error).message}`);
    }
  }
}

export async function applyTemplate(client: WsmanClient, template: unknown, params: Record<string, unknown> = {}, o: ApplyOptions = {}): Promise<DefenseChange> {
  const plan = buildPlan(template, params);
  return exclusive(client, () => apply(client, plan, o));
}

async function apply(client: WsmanClient, plan: TemplatePlan, o: ApplyOptions): Promise<DefenseChange> {
  await ensureDefenseAvailable(client, 'System Defense', { classCheck: false });
  const snap = await readSnapshot(client);
  const interfaces = plan.interfaces ?? snap.interfaces;
  const missing = interfaces.filter((i) => !snap.interfaces.includes(i));
  if (missing.length) throw new UnsupportedError(`${client.label} has no ${missing.join(' or ')} interface`);
  const owned = ownedPolicies(snap);
  const before = inForceNames(snap);
  const result: DefenseChange = { action: 'apply', changed: false, template: plan.template, params: plan.params, interfaces, before, after: before, steps: [], warnings: [] };

  const other = owned.find((x) => x.template !== plan.template);
  if (other && !o.replace) {
    throw new InputError(
      `overlapping templates: ${other.template} is applied on ${client.label} (policy ${other.policy.name}); AMT enforces one policy per interface, so release it first or set replace`,
    );
  }
  if (owned.length === 1 && alreadyApplied(snap, owned[0], plan, interfaces)) {
    result.policy = owned[0].policy.name;
    return result;
  }

  const generations = new Set(owned.map((x) => x.generation));
  if (generations.size > 1) throw new InputError(`${client.label} holds two OOBKit policies (${owned.map((x) => x.policy.name).join(', ')}); release first`);
  const generation = generations.has('a') ? 'b' : 'a';
  // What each interface links now: a policy of someone else's is remembered, to be linked again on release.
  const restore: RestoreLink[] = [];
  for (const iface of interfaces) {
    const linked = snap.enabled.find((b) => b.interface === iface);
    if (!linked) continue;
    const own = owned.find((x) => x.policy.instanceId === linked.policyInstanceId);
    const carried = own?.restore.find((r) => r.interface === iface);
    const handle = own ? carried?.handle : handleOf(linked.policyInstanceId);
    if (handle !== undefined) restore.push({ interface: iface, handle });
  }
  const policyName = ownPolicyName(generation, plan.template, restore);
  const baseName = ownPolicyName(generation, plan.template);
  if (snap.policies.some((p) => p.name === baseName || p.name.startsWith(`${baseName}+`))) {
    throw new InputError(`a System Defense policy named "${baseName}" exists already on ${client.label} and was not made by OOBKit from its own filters; rename or remove it`);
  }
  // Filters of ours left by an apply that could not undo everything: unused ones go, used ones block.
  const used = new Set(snap.policies.flatMap((p) => p.filterHandles));
  const stale = snap.filters.filter((f) => isOwnFilter(f) && f.spec.name.startsWith(`oobkit-${generation}-`));
  const staleUsed = stale.filter((f) => used.has(f.handle));
  if (staleUsed.length) throw new InputError(`filters ${staleUsed.map((f) => f.spec.name).join(', ')} on ${client.label} have OOBKit's names but another policy uses them; remove that policy first`);
  const cap = await capacity(client);
  const held = snap.filters.length - stale.length;
  if (cap.filters !== undefined && held + plan.filters.length > cap.filters) {
    throw new UnsupportedError(`${plan.template} needs ${plan.filters.length} filters and ${client.label} has room for ${Math.max(0, cap.filters - held)} (it holds ${held} of ${cap.filters})`);
  }
  for (const f of stale) {
    await deleteFilter(client, f);
    result.steps.push(`delete leftover filter ${f.spec.name}`);
  }
  if (cap.policies !== undefined && snap.policies.length + 1 > cap.policies) {
    throw new UnsupportedError(`${client.label} holds ${snap.policies.length} System Defense policies, its limit; remove one first`);
  }
  const precedence = Math.max(0, ...snap.policies.map((p) => p.precedence)) + 1;
  if (precedence > MAX_PRECEDENCE) throw new UnsupportedError(`a policy on ${client.label} has the highest precedence possible; OOBKit cannot take precedence over it`);

  // Per interface: delete what is linked, then link ours. An old OOBKit policy linked where the new
  // one will not be gives its place back to the policy it replaced.
  const ownedIds = new Set(owned.map((x) => x.policy.instanceId));
  const byId = new Map(snap.policies.map((p) => [p.instanceId, p]));
  const unlinks: LinkStep[] = snap.enabled
    .filter((b) => interfaces.includes(b.interface) || ownedIds.has(b.policyInstanceId))
    .map((b) => ({ link: false, iface: b.interface, policy: byId.get(b.policyInstanceId)! }))
    .filter((x) => x.policy !== undefined);
  const total = plan.filters.length + 1 + unlinks.length + interfaces.length + unlinks.filter((u) => !interfaces.includes(u.iface)).length;
  const journal = new Journal(`applying ${plan.template} to ${client.label}`, total);
  const handles: number[] = [];
  for (const [i, spec] of plan.filters.entries()) {
    const name = ownFilterName(generation, i + 1);
    const f = await journal.run(`create filter ${name}`, () => createFilter(client, { ...spec, name }), (made) => deleteFilter(client, made));
    handles.push(f.handle);
  }
  const policy = await journal.run(
    `create policy ${policyName}`,
    () => createPolicy(client, { name: policyName, precedence, in: plan.in, out: plan.out, filterHandles: handles }, snap.policies),
    (made) => deletePolicy(client, made.instanceId),
  );
  const enabled = [...snap.enabled];
  for (const iface of new Set([...interfaces, ...unlinks.map((u) => u.iface)])) {
    const steps: LinkStep[] = unlinks.filter((u) => u.iface === iface);
    if (interfaces.includes(iface)) steps.push({ link: true, iface, policy });
    await runLinks(client, journal, steps, enabled);
    if (interfaces.includes(iface)) continue;
    for (const x of owned) {
      const back = steps.some((u) => u.policy.instanceId === x.policy.instanceId) ? restoreTarget(snap, x, iface, enabled) : undefined;
      if (back) await runLinks(client, journal, [{ link: true, iface, policy: back }], enabled);
    }
  }
  result.steps.push(...journal.steps);
  await cleanUp(client, { ...snap, filters: snap.filters.filter((f) => !stale.includes(f)) }, owned.map((x) => x.policy), result.steps, result.warnings);
  result.changed = true;
  result.policy = policyName;
  result.after = inForceNames(after(snap, owned.map((x) => x.policy.instanceId), enabled, policy));
  return result;
}

export function releaseTemplate(client: WsmanClient): Promise<DefenseChange> {
  return exclusive(client, () => release(client));
}

async function release(client: WsmanClient): Promise<DefenseChange> {
  await ensureDefenseAvailable(client, 'System Defense', { classCheck: false });
  const snap = await readSnapshot(client);
  const owned = ownedPolicies(snap);
  const ownedIds = new Set(owned.map((x) => x.policy.instanceId));
  const used = new Set(snap.policies.filter((p) => !ownedIds.has(p.instanceId)).flatMap((p) => p.filterHandles));
  const orphans = snap.filters.filter((f) => isOwnFilter(f) && !used.has(f.handle));
  const before = inForceNames(snap);
  const result: DefenseChange = { action: 'release', changed: false, interfaces: snap.interfaces, before, after: before, steps: [], warnings: [] };
  if (owned.length) {
    result.template = owned[0].template;
    result.policy = owned[0].policy.name;
  }
  if (!owned.length && !orphans.length) return result;

  const links = owned.flatMap((x) => bindingsOf(snap, x.policy).map((iface) => [x, iface] as const));
  const journal = new Journal(`releasing ${result.template ?? 'System Defense'} on ${client.label}`, 2 * links.length);
  const enabled = [...snap.enabled];
  for (const [x, iface] of links) {
    await runLinks(client, journal, [{ link: false, iface, policy: x.policy }], enabled);
    const back = restoreTarget(snap, x, iface, enabled);
    if (back) await runLinks(client, journal, [{ link: true, iface, policy: back }], enabled);
  }
  result.steps = journal.steps;
  await cleanUp(client, snap, owned.map((x) => x.policy), result.steps, result.warnings);
  result.after = inForceNames(after(snap, [...ownedIds], enabled));
  result.changed = true;
  return result;
}
