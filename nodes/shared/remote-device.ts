import type { NodeAPI } from 'node-red';
import type { ManagedDevice } from '../../lib/device';
import { slug } from '../../lib/mqtt/topics';
import { inputError } from './errors';
import type { Translate } from './texts';
import type { OobRemoteCentreNode } from './types';

/** An oob-remote-centre by its id, or by its name when exactly one has it. */
export function centreNode(RED: NodeAPI, ref: string): OobRemoteCentreNode | undefined {
  const byId = RED.nodes.getNode(ref) as OobRemoteCentreNode | null;
  if (byId && (byId as unknown as { type?: string }).type === 'oob-remote-centre') return byId;
  const ids: string[] = [];
  RED.nodes.eachNode((n: { id: string; type: string; name?: string }) => {
    if (n.type === 'oob-remote-centre' && n.name === ref) ids.push(n.id);
  });
  return ids.length === 1 ? ((RED.nodes.getNode(ids[0]) as OobRemoteCentreNode | null) ?? undefined) : undefined;
}

/**
 * Device `name` at `site`, reached through that centre: what an oob-device set to "at site S via
 * centre C" is, made from a message (a fleet view knows its sites' devices from the broker, not from
 * config nodes).
 */
export function remoteDeviceAt(_: Translate, centre: OobRemoteCentreNode, site: unknown, name: unknown): ManagedDevice {
  const s = typeof site === 'string' ? slug(site) : '';
  const d = typeof name === 'string' ? slug(name) : '';
  if (!s || !d) throw inputError(_, 'oobkit.error.no-remote-site');
  return { name: typeof name === 'string' ? name : d, host: `${d}@${s}`, site: s, remote: { site: s, device: d, via: centre.requester(), timeoutMs: centre.timeoutMs } };
}
