/**
 * Where remote commands travel, beside the bridge's layout (lib/mqtt/topics.ts):
 *
 *   <base>/<site>/_remote/cmd                 signed commands from the centre (MQTT 5: response
 *                                             topic + correlation data; over 3.1.1 the command
 *                                             names its reply topic and the nonce correlates)
 *   <base>/<site>/_remote/reply/<centre>      signed answers and progress for that centre
 *   <base>/<site>/_remote/availability        online | offline (retained; the responder's last will)
 *
 * Everything a site sends stays under its own `<base>/<site>/`, so a broker ACL per site user
 * (`write <base>/<site>/_remote/reply/#`, `read <base>/<site>/_remote/cmd`) keeps sites apart.
 * `_remote` cannot collide with a device: device segments never start with an underscore.
 */
import { requireSlug, SiteTopics } from '../mqtt/topics';

export const REMOTE_SEGMENT = '_remote';

export function remoteCommandTopic(t: SiteTopics): string {
  return `${t.base}/${t.site}/${REMOTE_SEGMENT}/cmd`;
}

export function remoteReplyPrefix(t: SiteTopics): string {
  return `${t.base}/${t.site}/${REMOTE_SEGMENT}/reply/`;
}

export function remoteReplyTopic(t: SiteTopics, centre: string): string {
  return remoteReplyPrefix(t) + centre;
}

export function remoteAvailabilityTopic(t: SiteTopics): string {
  return `${t.base}/${t.site}/${REMOTE_SEGMENT}/availability`;
}

/** The centre's subscriptions: its answers and every site's availability. */
export function centreSubscriptions(base: string, centre: string): string[] {
  return [`${base}/+/${REMOTE_SEGMENT}/reply/${centre}`, `${base}/+/${REMOTE_SEGMENT}/availability`];
}

/** The site and leaf of a topic under `<base>/<site>/_remote/`, or undefined. */
export function parseRemoteTopic(base: string, topic: string): { site: string; leaf: string[] } | undefined {
  if (!topic.startsWith(`${base}/`)) return undefined;
  const rest = topic.slice(base.length + 1).split('/');
  if (rest.length < 3 || rest[1] !== REMOTE_SEGMENT || !rest[0]) return undefined;
  return { site: rest[0], leaf: rest.slice(2) };
}

/** A response topic this site may answer on: one level under its own reply prefix, no wildcards. */
export function isOwnReplyTopic(t: SiteTopics, topic: unknown): topic is string {
  if (typeof topic !== 'string') return false;
  const prefix = remoteReplyPrefix(t);
  const rest = topic.slice(prefix.length);
  return topic.startsWith(prefix) && rest.length > 0 && rest.length <= 64 && !/[/#+\0]/.test(rest);
}

export { requireSlug };
