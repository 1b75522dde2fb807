/**
 * The System Defense state of a device as a person (and a flow) wants it: isolated, under a
 * policy, or open; what is in force on each interface; counters; agent-presence watchdogs.
 */
import type { WsmanClient } from '../../wsman/client';
import { ensureDefenseAvailable } from './availability';
import { exclusive } from './lock';
import { DevicePolicy } from './policies';
import { InterfaceName } from './ports';
import { DefenseSnapshot, inForce, ownedPolicies, PolicySummary, readSnapshot, summarizePolicy } from './state';
import { FilterCounter, readCounters } from './statistics';
import type { TemplateName } from './templates';
import { readAgentPresence, WatchdogInfo } from './watchdogs';

export type DefenseStateName = 'isolated' | 'policy' | 'open';

export interface InterfaceState {
  inForce: string | null;
  enabled: string[];
  default: string | null;
  /** The policy agent-presence actions switch on here, and whether they have. */
  agentPresence?: { policy: string; active: boolean };
}

export interface DefenseStatus {
  state: DefenseStateName;
  /** Status text: "isolated", "policy: <name>" or "open". */
  label: string;
  /** The OOBKit template in force, if it is one. */
  template?: TemplateName;
  /** The policy in force (on the wired interface when both have one). */
  policy?: PolicySummary;
  interfaces: Partial<Record<InterfaceName, InterfaceState>>;
  counters?: FilterCounter[];
  watchdogs?: WatchdogInfo[];
}

export interface StatusOptions {
  counters?: boolean;
  /** Reset the counters after reading them. */
  resetCounters?: boolean;
  watchdogs?: boolean;
}

function isolating(s: DefenseSnapshot, p: DevicePolicy): { isolated: boolean; template?: TemplateName } {
  const own = ownedPolicies(s).find((o) => o.policy.instanceId === p.instanceId);
  if (own) return { isolated: own.template === 'isolate', template: own.template };
  return { isolated: p.in.drop && p.out.drop };
}

export function readStatus(client: WsmanClient, o: StatusOptions = {}): Promise<DefenseStatus> {
  return exclusive(client, () => read(client, o));
}

async function read(client: WsmanClient, o: StatusOptions): Promise<DefenseStatus> {
  await ensureDefenseAvailable(client, 'System Defense', { classCheck: false });
  const snap = await readSnapshot(client);
  const presence = snap.agentPresence.length || o.watchdogs ? await readAgentPresence(client) : undefined;
  const names = new Map(snap.policies.map((p) => [p.instanceId, p.name]));
  const interfaces: DefenseStatus['interfaces'] = {};
  let shown: DevicePolicy | undefined;
  for (const iface of snap.interfaces) {
    const ap = presence?.policy[iface];
    const p = inForce(snap, iface, ap?.active === true);
    shown = shown ?? p;
    const st: InterfaceState = {
      inForce: p?.name ?? null,
      enabled: snap.enabled.filter((b) => b.interface === iface).map((b) => names.get(b.policyInstanceId) ?? b.policyInstanceId),
      default: names.get(snap.defaults.find((b) => b.interface === iface)?.policyInstanceId ?? '') ?? null,
    };
    if (ap) st.agentPresence = { policy: ap.name, active: ap.active };
    interfaces[iface] = st;
  }
  const status: DefenseStatus = { state: 'open', label: 'open', interfaces };
  if (shown) {
    const { isolated, template } = isolating(snap, shown);
    status.state = isolated ? 'isolated' : 'policy';
    status.label = isolated ? 'isolated' : `policy: ${template ?? shown.name}`;
    if (template) status.template = template;
    status.policy = summarizePolicy(snap, shown);
  }
  if (o.counters) {
    status.counters = [];
    for (const iface of snap.interfaces) {
      const p = snap.policies.find((x) => x.name === interfaces[iface]?.inForce);
      if (p) status.counters.push(...(await readCounters(client, p.instanceId, iface, { reset: o.resetCounters })));
    }
  }
  if (o.watchdogs) status.watchdogs = presence?.watchdogs ?? [];
  return status;
}
