/**
 * What a device's System Defense looks like now: every policy and filter, what each interface
 * enables, which policy is in force where, and which of it OOBKit put there.
 *
 * OOBKit owns exactly what it names: policies "oobkit-<a|b>-<template>" and filters
 * "oobkit-<a|b>-<n>". It never changes or deletes anything else. An interface links one policy
 * (docs/firmware-evidence.md), so to put its own in force OOBKit takes over the link; the policy
 * it replaced is written into its own policy's name ("+w<n>": wired, "+l<n>": wireless, n the
 * number that ends the replaced policy's InstanceID), and releasing links that policy again.
 */
import { OobError } from '../../errors';
import { isFault, noDefense } from './availability';
import type { WsmanClient } from '../../wsman/client';
import { formatAddress, formatPort } from './address';
import { DeviceFilter, FilterSpec, handleOf, listFilters } from './filters';
import { DevicePolicy, listPolicies } from './policies';
import { Binding, InterfaceName, listBindings, listInterfaces } from './ports';
import { TEMPLATE_NAMES, TEMPLATE_SHORT, TemplateName } from './templates';

export interface DefenseSnapshot {
  interfaces: InterfaceName[];
  policies: DevicePolicy[];
  filters: DeviceFilter[];
  enabled: Binding[];
  defaults: Binding[];
  agentPresence: Binding[];
}

const POLICY_RE = /^oobkit-([ab])-([^+]+)((?:\+[wl]\d+)*)$/;

/** A policy an OOBKit policy replaced on an interface, linked again on release. */
export interface RestoreLink {
  interface: InterfaceName;
  /** The number that ends the replaced policy's InstanceID. */
  handle: number;
}
const FILTER_RE = /^oobkit-([ab])-\d+$/;

export function ownPolicyName(generation: 'a' | 'b', template: TemplateName, restore: RestoreLink[] = []): string {
  return `oobkit-${generation}-${TEMPLATE_SHORT[template]}${restore.map((r) => `+${r.interface === 'wired' ? 'w' : 'l'}${r.handle}`).join('')}`;
}

/** The device's policy whose InstanceID ends with this number. */
export function policyByHandle(s: DefenseSnapshot, handle: number): DevicePolicy | undefined {
  return s.policies.find((p) => handleOf(p.instanceId) === handle);
}

export function ownFilterName(generation: 'a' | 'b', index: number): string {
  return `oobkit-${generation}-${index}`;
}

export interface OwnedPolicy {
  policy: DevicePolicy;
  template: TemplateName;
  generation: 'a' | 'b';
  restore: RestoreLink[];
}

/** The OOBKit policy behind a name, if the name is one OOBKit gives. */
export function parseOwnName(name: string): { generation: 'a' | 'b'; template: TemplateName; restore: RestoreLink[] } | undefined {
  const m = POLICY_RE.exec(name);
  if (!m) return undefined;
  const template = TEMPLATE_NAMES.find((t) => TEMPLATE_SHORT[t] === m[2]);
  const restore: RestoreLink[] = m[3]
    .split('+')
    .filter(Boolean)
    .map((x) => ({ interface: x[0] === 'w' ? 'wired' : 'wireless', handle: Number(x.slice(1)) }));
  return template ? { generation: m[1] as 'a' | 'b', template, restore } : undefined;
}

export function isOwnFilter(f: DeviceFilter): boolean {
  return FILTER_RE.test(f.spec.name);
}

/**
 * OOBKit's policies: named like ours and made only of our filters. A policy with our name but
 * someone else's filters is not ours (and blocks that name).
 */
export function ownedPolicies(s: DefenseSnapshot): OwnedPolicy[] {
  const byHandle = new Map(s.filters.map((f) => [f.handle, f]));
  const out: OwnedPolicy[] = [];
  for (const policy of s.policies) {
    const parsed = parseOwnName(policy.name);
    if (!parsed) continue;
    const filters = policy.filterHandles.map((h) => byHandle.get(h));
    if (filters.every((f) => f !== undefined && isOwnFilter(f))) out.push({ policy, ...parsed });
  }
  return out;
}

async function optionalBindings(client: WsmanClient, className: Parameters<typeof listBindings>[1]): Promise<Binding[]> {
  try {
    return await listBindings(client, className);
  } catch (e) {
    if (e instanceof OobError && e.code === 'WSMAN_FAULT') return [];
    throw e;
  }
}

export async function readSnapshot(client: WsmanClient): Promise<DefenseSnapshot> {
  let policies: DevicePolicy[];
  try {
    policies = await listPolicies(client);
  } catch (e) {
    throw isFault(e) ? noDefense(client, e) : e;
  }
  const interfaces = await listInterfaces(client);
  const filters = await listFilters(client);
  const enabled = await listBindings(client, 'AMT_NetworkPortSystemDefensePolicy');
  const defaults = await optionalBindings(client, 'AMT_NetworkPortDefaultSystemDefensePolicy');
  const agentPresence = await optionalBindings(client, 'AMT_AgentPresenceInterfacePolicy');
  return { interfaces, policies, filters, enabled, defaults, agentPresence };
}

/**
 * The policy in force on an interface: the enabled one with the highest precedence (the older
 * one on a tie), else the default. `agentActive` adds the agent-presence policy when a watchdog
 * action has switched it on (the device does not say so directly; see watchdogs.ts).
 */
export function inForce(s: DefenseSnapshot, iface: InterfaceName, agentActive = false): DevicePolicy | undefined {
  const ids = new Set(s.enabled.filter((b) => b.interface === iface).map((b) => b.policyInstanceId));
  if (agentActive) for (const b of s.agentPresence) if (b.interface === iface && b.enabled !== false) ids.add(b.policyInstanceId);
  const candidates = s.policies.filter((p) => ids.has(p.instanceId));
  if (candidates.length) return candidates.reduce((best, p) => (p.precedence > best.precedence ? p : best));
  const d = s.defaults.find((b) => b.interface === iface);
  return d ? s.policies.find((p) => p.instanceId === d.policyInstanceId) : undefined;
}

/** One line per filter, for people: "out pass 10.0.0.5 (counted)". */
export function describeFilter(f: FilterSpec): string {
  const parts: string[] = [f.direction, f.action === 'rate-limit' ? `rate-limit ${f.rateLimit}/s` : f.action];
  if (f.kind === 'ethernet') parts.push(f.etherType === 0x0806 ? 'arp' : `ethertype 0x${f.etherType.toString(16)}`);
  else {
    const proto = f.protocol === undefined ? undefined : ({ 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' } as Record<number, string>)[f.protocol] ?? `proto ${f.protocol}`;
    if (proto) parts.push(proto);
    if (f.src) parts.push(`from ${formatAddress(f.src)}`);
    if (f.dst) parts.push(`to ${formatAddress(f.dst)}`);
    if (f.srcPort) parts.push(`from port ${formatPort(f.srcPort)}`);
    if (f.dstPort) parts.push(`to port ${formatPort(f.dstPort)}`);
    if (!f.src && !f.dst && !f.protocol && f.version) parts.push(`all ipv${f.version}`);
  }
  if (f.count) parts.push('(counted)');
  if (f.event) parts.push('(event)');
  return parts.join(' ');
}

export interface PolicySummary {
  name: string;
  /** The OOBKit template, when OOBKit applied it. */
  template?: TemplateName;
  precedence: number;
  default: { in: 'drop' | 'pass'; out: 'drop' | 'pass' };
  filters: Array<{ name: string; rule: string }>;
}

export function summarizePolicy(s: DefenseSnapshot, p: DevicePolicy): PolicySummary {
  const byHandle = new Map(s.filters.map((f) => [f.handle, f]));
  const own = ownedPolicies(s).find((o) => o.policy.instanceId === p.instanceId);
  const summary: PolicySummary = {
    name: p.name,
    precedence: p.precedence,
    default: { in: p.in.drop ? 'drop' : 'pass', out: p.out.drop ? 'drop' : 'pass' },
    filters: p.filterHandles.map((h) => byHandle.get(h)).filter((f): f is DeviceFilter => f !== undefined).map((f) => ({ name: f.spec.name, rule: describeFilter(f.spec) })),
  };
  if (own) summary.template = own.template;
  return summary;
}
