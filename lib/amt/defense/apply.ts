/**
 * Applying a template and releasing it.
 *
 * Apply adds OOBKit's own policy with a precedence above every other policy and enables it on the
 * interfaces, without touching anything it did not make; release takes OOBKit's policy away, so
 * whatever was in force before is in force again. Both are idempotent: applying the same template
 * with the same parameters again, or releasing twice, sends no change.
 *
 * Only one OOBKit template can be in force at a time (AMT enforces one policy per interface, so a
 * second would silently shadow the first): applying a different one is refused unless `replace`
 * is set. A replacement, like a change of parameters, is made before the old one is broken: the
 * new policy is in force before the old one is disabled, so the PC is never left open between.
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
import { disablePolicy, enablePolicy, InterfaceName } from './ports';
import { DefenseSnapshot, inForce, isOwnFilter, OwnedPolicy, ownedPolicies, ownFilterName, ownPolicyName, readSnapshot } from './state';
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

/** The snapshot with some policies gone and, optionally, one added and enabled on interfaces. */
function without(s: DefenseSnapshot, removed: string[], added?: DevicePolicy, on: InterfaceName[] = []): DefenseSnapshot {
  const gone = new Set(removed);
  const policies = s.policies.filter((p) => !gone.has(p.instanceId));
  const enabled = s.enabled.filter((b) => !gone.has(b.policyInstanceId));
  if (added) {
    policies.push(added);
    for (const i of on) enabled.push({ interface: i, policyInstanceId: added.instanceId });
  }
  return { ...s, policies, enabled };
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
  const policyName = ownPolicyName(generation, plan.template);
  if (snap.policies.some((p) => p.name === policyName)) {
    throw new InputError(`a System Defense policy named "${policyName}" exists already on ${client.label} and was not made by OOBKit from its own filters; rename or remove it`);
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

  const toDisable = owned.flatMap((x) => bindingsOf(snap, x.policy).map((i) => [x.policy, i] as const));
  const total = plan.filters.length + 1 + interfaces.length + toDisable.length;
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
  for (const iface of interfaces) {
    await journal.run(`enable ${policyName} on ${iface}`, () => enablePolicy(client, iface, policy.instanceId), () => disablePolicy(client, iface, policy.instanceId));
  }
  for (const [old, iface] of toDisable) {
    await journal.run(`disable ${old.name} on ${iface}`, () => disablePolicy(client, iface, old.instanceId), () => enablePolicy(client, iface, old.instanceId));
  }
  result.steps.push(...journal.steps);
  await cleanUp(client, { ...snap, filters: snap.filters.filter((f) => !stale.includes(f)) }, owned.map((x) => x.policy), result.steps, result.warnings);
  result.changed = true;
  result.policy = policyName;
  result.after = inForceNames(without(snap, owned.map((x) => x.policy.instanceId), policy, interfaces));
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

  const toDisable = owned.flatMap((x) => bindingsOf(snap, x.policy).map((i) => [x.policy, i] as const));
  const journal = new Journal(`releasing ${result.template ?? 'System Defense'} on ${client.label}`, toDisable.length);
  for (const [p, iface] of toDisable) {
    await journal.run(`disable ${p.name} on ${iface}`, () => disablePolicy(client, iface, p.instanceId), () => enablePolicy(client, iface, p.instanceId));
  }
  result.steps = journal.steps;
  await cleanUp(client, snap, owned.map((x) => x.policy), result.steps, result.warnings);
  result.after = inForceNames(without(snap, [...ownedIds]));
  result.changed = true;
  return result;
}
