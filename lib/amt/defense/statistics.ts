/**
 * Filter counters. AMT_SystemDefensePolicy.UpdateStatistics(NetworkInterface, ResetOnRead) copies
 * the live counters of an interface into AMT_ActiveFilterStatistics instances (Antecedent = the
 * port, Dependent = the AMT_FilterInSystemDefensePolicy linking policy and filter), which are then
 * enumerated; ResetOnRead starts the counters again. This is how MeshCommander reads them.
 */
import type { WsmanClient } from '../../wsman/client';
import { EndpointReference, isEndpointReference } from '../../wsman/xml';
import { InterfaceName, portRef } from './ports';

export interface FilterCounter {
  interface: InterfaceName;
  /** Filter Name and InstanceID, as the statistics reference them. */
  filter: string;
  instanceId?: string;
  /** Matches since the last reset. */
  count: number;
  matched: boolean;
  /** ISO time the policy in force became active, and of the last reset, when the device says. */
  activatedAt?: string;
  resetAt?: string;
}

function nested(r: EndpointReference, key: string): EndpointReference | undefined {
  const v = r.selectors[key];
  if (!v || !v.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(v) as unknown;
    return isEndpointReference(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The filter a statistics row is about: inside AMT_FilterInSystemDefensePolicy, or named directly. */
function filterOf(dep: EndpointReference): { name?: string; instanceId?: string } {
  const target = dep.resourceUri.endsWith('/AMT_FilterInSystemDefensePolicy') ? nested(dep, 'Dependent') : dep;
  return { name: target?.selectors.Name, instanceId: target?.selectors.InstanceID };
}

export async function readCounters(client: WsmanClient, policyInstanceId: string, iface: InterfaceName, o: { reset?: boolean } = {}): Promise<FilterCounter[]> {
  await client.invoke('AMT_SystemDefensePolicy', 'UpdateStatistics', { NetworkInterface: portRef(iface), ResetOnRead: o.reset === true }, { InstanceID: policyInstanceId });
  const wanted = portRef(iface).selectors.DeviceID;
  const out: FilterCounter[] = [];
  for (const row of await client.enumerate('AMT_ActiveFilterStatistics')) {
    const port = row.props.Antecedent;
    const dep = row.props.Dependent;
    if (!isEndpointReference(port) || port.selectors.DeviceID !== wanted || !isEndpointReference(dep)) continue;
    const f = filterOf(dep);
    const c: FilterCounter = {
      interface: iface,
      filter: f.name ?? f.instanceId ?? '?',
      count: typeof row.props.ReadCount === 'number' ? row.props.ReadCount : 0,
      matched: row.props.FilterMatched === true,
    };
    if (f.instanceId) c.instanceId = f.instanceId;
    if (typeof row.props.ActivationTime === 'string') c.activatedAt = row.props.ActivationTime;
    if (typeof row.props.LastResetTime === 'string') c.resetAt = row.props.LastResetTime;
    out.push(c);
  }
  return out;
}
