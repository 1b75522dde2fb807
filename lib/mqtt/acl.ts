/**
 * The broker ACL a gateway needs, as Mosquitto `acl_file` lines (other brokers take the same
 * topic filters): read and write under its own site's topics and its own discovery node id, and
 * read of HA's birth topic. Nothing of another site's.
 */
import { DiscoveryContext, nodeIdOf } from './discovery';
import { checkBaseTopic, checkDiscoveryPrefix, requireSlug } from './topics';

export interface AclInput {
  /** The gateway's MQTT user name; a placeholder when not known. */
  username?: string;
  site: string;
  base?: string;
  discoveryPrefix?: string;
}

/** The ACL lines of one gateway, `user` line first. */
export function gatewayAclLines(i: AclInput): string[] {
  const site = requireSlug(i.site, 'site');
  const base = checkBaseTopic(i.base ?? 'oobkit');
  const prefix = checkDiscoveryPrefix(i.discoveryPrefix ?? 'homeassistant');
  const nodeId = nodeIdOf({ topics: { base, site } } as DiscoveryContext);
  const user = i.username?.trim() && !/\s/.test(i.username.trim()) ? i.username.trim() : '<MQTT user of this gateway>';
  return [`user ${user}`, `topic readwrite ${base}/${site}/#`, `topic readwrite ${prefix}/+/${nodeId}/#`, `topic read ${prefix}/status`];
}
