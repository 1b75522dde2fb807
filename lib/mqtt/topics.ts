/**
 * The MQTT topic layout, in one place:
 *
 *   <base>/<site>/_gateway/availability        online | offline (retained; the gateway's last will)
 *   <base>/<site>/<device>/availability        online | offline (retained; AMT answered the last poll)
 *   <base>/<site>/<device>/state               JSON (retained): power, connected, amtVersion, problem...
 *   <base>/<site>/<device>/alert               JSON (retained): the latest alert of the device
 *   <base>/<site>/<device>/cmd/<entity>        commands: ON/OFF for switches, PRESS for buttons
 *   <base>/<site>/<device>/cmd/<entity>/result JSON (not retained): the outcome of each command
 *
 * Site and device segments are slugs ([a-z0-9-], no leading underscore), so `_gateway` never
 * collides with a device and no segment can contain MQTT wildcards.
 */
import { InputError } from '../errors';

export const GATEWAY_SEGMENT = '_gateway';
export const ONLINE = 'online';
export const OFFLINE = 'offline';

/** A topic segment from any name: lower case, [a-z0-9-] only, at most 64 characters. */
export function slug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}

/** Slug that must not be empty: an InputError naming `what` otherwise. */
export function requireSlug(name: unknown, what: string): string {
  const s = typeof name === 'string' ? slug(name) : '';
  if (!s) throw new InputError(`${what} "${String(name)}" gives an empty topic segment; use letters or digits`);
  return s;
}

/** A base topic: one or more levels, no wildcards, no leading or trailing slash. */
export function checkBaseTopic(base: unknown): string {
  if (typeof base !== 'string' || !base.trim()) throw new InputError('the base topic must not be empty');
  const b = base.trim().replace(/^\/+|\/+$/g, '');
  if (!b || /[#+\0]/.test(b) || b.split('/').some((level) => level === '')) {
    throw new InputError(`base topic "${base}" must be levels separated by "/", without "+", "#" or empty levels`);
  }
  return b;
}

/** HA's discovery prefix: one topic level is what HA expects, but any level list without wildcards works. */
export const checkDiscoveryPrefix = checkBaseTopic;

export interface SiteTopics {
  base: string;
  site: string;
}

export function gatewayAvailabilityTopic(t: SiteTopics): string {
  return `${t.base}/${t.site}/${GATEWAY_SEGMENT}/availability`;
}

export function deviceTopic(t: SiteTopics, device: string, leaf: 'availability' | 'state' | 'alert'): string {
  return `${t.base}/${t.site}/${device}/${leaf}`;
}

export function commandTopic(t: SiteTopics, device: string, entity: string): string {
  return `${t.base}/${t.site}/${device}/cmd/${entity}`;
}

export function commandResultTopic(t: SiteTopics, device: string, entity: string): string {
  return `${commandTopic(t, device, entity)}/result`;
}

/** The subscription that receives every command for this site. */
export function commandSubscription(t: SiteTopics): string {
  return `${t.base}/${t.site}/+/cmd/+`;
}

/** `{ device, entity }` of a command topic of this site, or undefined for any other topic. */
export function parseCommandTopic(t: SiteTopics, topic: string): { device: string; entity: string } | undefined {
  const prefix = `${t.base}/${t.site}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 3 || rest[1] !== 'cmd' || !rest[0] || !rest[2]) return undefined;
  return { device: rest[0], entity: rest[2] };
}
