/**
 * Home Assistant MQTT discovery messages, with full option names (HA also accepts abbreviations).
 *
 * Two forms, both retained:
 *  - 'entity' (every HA version with MQTT discovery): one config per entity at
 *    `<prefix>/<component>/<nodeId>/<uniqueId>/config`, each with the device and origin blocks;
 *  - 'device' (HA 2024.11 and later): one config per PC at `<prefix>/device/<nodeId>/<deviceId>/config`
 *    with its entities under `components`.
 * `nodeId` is this gateway's (oobkit_<site with "_" for "-">), so a gateway can find every config
 * it published earlier with one subscription and clear those of devices no longer in its flows.
 *
 * Ids are `oobkit_<site>_<device key>[_<entity>]`: the site slug and the device key never contain
 * "_" (slugs are [a-z0-9-]; a MAC key is "M" and upper-case hex, which no slug can be), so no two
 * sites or devices can give the same id, and the same PC seen by two gateways gets two ids.
 * Gateways before this scheme used `oobkit_<MAC hex>_<entity>` or `oobkit_<site>_<name>_<entity>`
 * with "-" as "_": `legacyUniqueIdOf` gives them, for the migration on connect.
 */
import type { DeviceIdentity } from './control';
import type { EntitySpec } from './entities';
import { commandTopic, deviceTopic, gatewayAvailabilityTopic, OFFLINE, ONLINE, SiteTopics } from './topics';

export type DiscoveryMode = 'entity' | 'device';

export interface Origin {
  name: string;
  sw_version?: string;
  support_url?: string;
}

export interface DiscoveryContext {
  prefix: string;
  topics: SiteTopics;
  mode: DiscoveryMode;
  origin: Origin;
  /** The page a user opens from HA's device page (the Node-RED editor, a console page). */
  configurationUrl?: string;
}

/** What discovery needs to know of a managed PC. */
export interface DiscoveredDevice {
  /** Stable identity within the site: `M<MAC hex, upper case>`, or the slug. */
  key: string;
  /** The key of gateways before site-scoped ids: MAC hex (lower case), or `<site>_<slug>` with "_" for "-". */
  legacyKey?: string;
  /** Also name the device by its legacy identifier, so HA keeps the device (area, name) it had. */
  keepLegacyIdentifier?: boolean;
  /** HA area suggested for a new device. */
  area?: string;
  /** Topic segment under the site. */
  slug: string;
  name: string;
  mac?: string;
  identity?: DeviceIdentity;
}

export interface RetainedMessage {
  topic: string;
  /** JSON text; '' removes the config. */
  payload: string;
}

export const nodeIdOf = (ctx: DiscoveryContext) => `oobkit_${ctx.topics.site.replace(/-/g, '_')}`;
export const gatewayIdentifier = (ctx: DiscoveryContext) => `${nodeIdOf(ctx)}_gateway`;
export const deviceIdentifier = (ctx: DiscoveryContext, d: DiscoveredDevice) => `oobkit_${ctx.topics.site}_${d.key}`;
export const uniqueIdOf = (ctx: DiscoveryContext, d: DiscoveredDevice, e: Pick<EntitySpec, 'id'>) => `${deviceIdentifier(ctx, d)}_${e.id}`;
export const legacyDeviceIdentifier = (d: DiscoveredDevice) => (d.legacyKey ? `oobkit_${d.legacyKey}` : undefined);
export const legacyUniqueIdOf = (d: DiscoveredDevice, e: Pick<EntitySpec, 'id'>) => (d.legacyKey ? `oobkit_${d.legacyKey}_${e.id}` : undefined);

/** The device key of a PC: its MAC (`M` + upper-case hex) when known, else its slug. */
export function deviceKeyOf(slug: string, macHex?: string): string {
  return macHex ? `M${macHex.toUpperCase()}` : slug;
}

/** The entity id HA should give an entity: domain, site, device and entity, so two sites' PCs of one name stay apart. */
export function defaultEntityIdOf(ctx: DiscoveryContext, d: DiscoveredDevice, e: Pick<EntitySpec, 'id' | 'component'>): string {
  return `${e.component}.${`${ctx.topics.site}_${d.slug}_${e.id}`.replace(/-/g, '_')}`;
}

/** What HA takes on an old discovery topic to unload its entity while keeping its registry entry. */
export const MIGRATE_PAYLOAD = JSON.stringify({ migrate_discovery: true });

/** The subscription that finds every config this gateway has published (its node_id level). */
export function ownConfigSubscription(ctx: DiscoveryContext): string {
  return `${ctx.prefix}/+/${nodeIdOf(ctx)}/+/config`;
}

export function birthTopic(ctx: Pick<DiscoveryContext, 'prefix'>): string {
  return `${ctx.prefix}/status`;
}

function deviceBlock(ctx: DiscoveryContext, d: DiscoveredDevice): Record<string, unknown> {
  const identifiers = [deviceIdentifier(ctx, d)];
  const legacy = legacyDeviceIdentifier(d);
  if (d.keepLegacyIdentifier && legacy) identifiers.push(legacy);
  const block: Record<string, unknown> = { identifiers, name: d.name };
  if (d.mac) block.connections = [['mac', d.mac]];
  const id = d.identity ?? {};
  if (id.manufacturer) block.manufacturer = id.manufacturer;
  if (id.model) block.model = id.model;
  if (id.amtVersion) block.sw_version = `AMT ${id.amtVersion}`;
  if (id.serial) block.serial_number = id.serial;
  if (d.area) block.suggested_area = d.area;
  if (ctx.configurationUrl) block.configuration_url = ctx.configurationUrl;
  block.via_device = gatewayIdentifier(ctx);
  return block;
}

function availabilityOf(ctx: DiscoveryContext, d: DiscoveredDevice, e: EntitySpec): Record<string, unknown> {
  const list = [{ topic: gatewayAvailabilityTopic(ctx.topics), payload_available: ONLINE, payload_not_available: OFFLINE }];
  if (e.availability === 'device') list.push({ topic: deviceTopic(ctx.topics, d.slug, 'availability'), payload_available: ONLINE, payload_not_available: OFFLINE });
  return { availability: list, availability_mode: 'all' };
}

/** The component-specific options of one entity (no device or origin block). */
export function entityOptions(ctx: DiscoveryContext, d: DiscoveredDevice, e: EntitySpec): Record<string, unknown> {
  const o: Record<string, unknown> = { name: e.name, unique_id: uniqueIdOf(ctx, d, e), default_entity_id: defaultEntityIdOf(ctx, d, e) };
  if (e.deviceClass) o.device_class = e.deviceClass;
  if (e.disabledByDefault) o.enabled_by_default = false;
  if (e.entityCategory) o.entity_category = e.entityCategory;
  if (e.icon) o.icon = e.icon;
  Object.assign(o, availabilityOf(ctx, d, e));
  if (e.source) {
    o.state_topic = deviceTopic(ctx.topics, d.slug, e.source);
    if (e.valueTemplate) o.value_template = e.valueTemplate;
    if (e.jsonAttributes) o.json_attributes_topic = o.state_topic;
  }
  switch (e.component) {
    case 'switch':
      Object.assign(o, { command_topic: commandTopic(ctx.topics, d.slug, e.id), payload_on: 'ON', payload_off: 'OFF', state_on: 'ON', state_off: 'OFF', optimistic: false, retain: false, qos: 1 });
      break;
    case 'button':
      Object.assign(o, { command_topic: commandTopic(ctx.topics, d.slug, e.id), payload_press: 'PRESS', retain: false, qos: 1 });
      break;
    case 'binary_sensor':
      Object.assign(o, { payload_on: 'ON', payload_off: 'OFF', qos: 1 });
      break;
    case 'sensor':
      // Measured values (a BMC's sensors) carry their unit and state class.
      if (e.unit) o.unit_of_measurement = e.unit;
      if (e.stateClass) o.state_class = e.stateClass;
      o.qos = 1;
      break;
  }
  return o;
}

/**
 * The retained config messages of one PC. `removed` lists entity ids published before and no
 * longer offered: in 'entity' mode their configs are emptied, in 'device' mode they are sent
 * once with only their platform, as HA asks.
 */
export function deviceDiscovery(ctx: DiscoveryContext, d: DiscoveredDevice, entities: EntitySpec[], removed: EntitySpec[] = []): RetainedMessage[] {
  const device = deviceBlock(ctx, d);
  if (ctx.mode === 'device') {
    const components: Record<string, unknown> = {};
    for (const e of entities) components[e.id] = { platform: e.component, ...entityOptions(ctx, d, e) };
    for (const e of removed) components[e.id] = { platform: e.component };
    return [{ topic: deviceConfigTopic(ctx, d), payload: JSON.stringify({ device, origin: ctx.origin, components }) }];
  }
  const out: RetainedMessage[] = entities.map((e) => ({
    topic: entityConfigTopic(ctx, e.component, uniqueIdOf(ctx, d, e)),
    payload: JSON.stringify({ ...entityOptions(ctx, d, e), device, origin: ctx.origin }),
  }));
  for (const e of removed) out.push({ topic: entityConfigTopic(ctx, e.component, uniqueIdOf(ctx, d, e)), payload: '' });
  return out;
}

/** Every config topic of a PC (for removing it). */
export function deviceConfigTopics(ctx: DiscoveryContext, d: DiscoveredDevice, entities: EntitySpec[]): string[] {
  if (ctx.mode === 'device') return [deviceConfigTopic(ctx, d)];
  return entities.map((e) => entityConfigTopic(ctx, e.component, uniqueIdOf(ctx, d, e)));
}

/** The unique_ids a config payload we published announces (one, or one per component). */
export function uniqueIdsIn(payload: string): string[] {
  try {
    const p = JSON.parse(payload) as Record<string, unknown>;
    if (p && typeof p === 'object' && p.components && typeof p.components === 'object') {
      return Object.values(p.components as Record<string, { unique_id?: unknown }>).flatMap((c) => (typeof c?.unique_id === 'string' ? [c.unique_id] : []));
    }
    return typeof p?.unique_id === 'string' ? [p.unique_id] : [];
  } catch {
    return [];
  }
}

export function deviceConfigTopic(ctx: DiscoveryContext, d: DiscoveredDevice): string {
  return `${ctx.prefix}/device/${nodeIdOf(ctx)}/${deviceIdentifier(ctx, d)}/config`;
}

export function entityConfigTopic(ctx: DiscoveryContext, component: string, uniqueId: string): string {
  return `${ctx.prefix}/${component}/${nodeIdOf(ctx)}/${uniqueId}/config`;
}

/**
 * The gateway as an HA device of its own (the PCs name it as via_device), with one connectivity
 * sensor fed by the gateway's availability topic: it shows "disconnected" when the gateway's
 * last will fires, while the PCs' entities become unavailable.
 */
export function gatewayDiscovery(ctx: DiscoveryContext, gatewayName: string): RetainedMessage {
  const device: Record<string, unknown> = { identifiers: [gatewayIdentifier(ctx)], name: gatewayName, manufacturer: 'OOBKit', model: 'Node-RED gateway', sw_version: ctx.origin.sw_version };
  if (ctx.configurationUrl) device.configuration_url = ctx.configurationUrl;
  const sensor = {
    name: 'Gateway connection',
    unique_id: `${gatewayIdentifier(ctx)}_status`,
    device_class: 'connectivity',
    entity_category: 'diagnostic',
    state_topic: gatewayAvailabilityTopic(ctx.topics),
    payload_on: ONLINE,
    payload_off: OFFLINE,
    qos: 1,
    default_entity_id: `binary_sensor.${gatewayIdentifier(ctx)}_status`,
  };
  if (ctx.mode === 'device') {
    return { topic: `${ctx.prefix}/device/${nodeIdOf(ctx)}/${gatewayIdentifier(ctx)}/config`, payload: JSON.stringify({ device, origin: ctx.origin, components: { status: { platform: 'binary_sensor', ...sensor } } }) };
  }
  return { topic: entityConfigTopic(ctx, 'binary_sensor', sensor.unique_id), payload: JSON.stringify({ ...sensor, device, origin: ctx.origin }) };
}
