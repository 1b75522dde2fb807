/**
 * Home Assistant MQTT discovery messages, with full option names (HA also accepts abbreviations).
 *
 * Two forms, both retained:
 *  - 'entity' (every HA version with MQTT discovery): one config per entity at
 *    `<prefix>/<component>/<nodeId>/<uniqueId>/config`, each with the device and origin blocks;
 *  - 'device' (HA 2024.11 and later): one config per PC at `<prefix>/device/<nodeId>/<deviceId>/config`
 *    with its entities under `components`.
 * `nodeId` is this gateway's (oobkit_<site>), so a gateway can find every config it published
 * earlier with one subscription and clear those of devices no longer in its flows.
 *
 * unique_id is `oobkit_<device key>_<entity>`, the device key being the MAC address (hex) when
 * known, else site and name: it survives restarts, renames of the Node-RED node and redeploys.
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
}

/** What discovery needs to know of a managed PC. */
export interface DiscoveredDevice {
  /** Stable identity: MAC hex, or `<site>_<slug>`. */
  key: string;
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
export const deviceIdentifier = (d: DiscoveredDevice) => `oobkit_${d.key}`;
export const uniqueIdOf = (d: DiscoveredDevice, e: EntitySpec) => `${deviceIdentifier(d)}_${e.id}`;

/** The subscription that finds every config this gateway has published (its node_id level). */
export function ownConfigSubscription(ctx: DiscoveryContext): string {
  return `${ctx.prefix}/+/${nodeIdOf(ctx)}/+/config`;
}

export function birthTopic(ctx: Pick<DiscoveryContext, 'prefix'>): string {
  return `${ctx.prefix}/status`;
}

function deviceBlock(ctx: DiscoveryContext, d: DiscoveredDevice): Record<string, unknown> {
  const block: Record<string, unknown> = { identifiers: [deviceIdentifier(d)], name: d.name };
  if (d.mac) block.connections = [['mac', d.mac]];
  const id = d.identity ?? {};
  if (id.manufacturer) block.manufacturer = id.manufacturer;
  if (id.model) block.model = id.model;
  if (id.amtVersion) block.sw_version = `AMT ${id.amtVersion}`;
  if (id.serial) block.serial_number = id.serial;
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
  const o: Record<string, unknown> = { name: e.name, unique_id: uniqueIdOf(d, e) };
  if (e.deviceClass) o.device_class = e.deviceClass;
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
      // IPMI (issue 8): measured values carry their unit and state class.
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
    topic: entityConfigTopic(ctx, e.component, uniqueIdOf(d, e)),
    payload: JSON.stringify({ ...entityOptions(ctx, d, e), device, origin: ctx.origin }),
  }));
  for (const e of removed) out.push({ topic: entityConfigTopic(ctx, e.component, uniqueIdOf(d, e)), payload: '' });
  return out;
}

/** Every config topic of a PC (for removing it). */
export function deviceConfigTopics(ctx: DiscoveryContext, d: DiscoveredDevice, entities: EntitySpec[]): string[] {
  if (ctx.mode === 'device') return [deviceConfigTopic(ctx, d)];
  return entities.map((e) => entityConfigTopic(ctx, e.component, uniqueIdOf(d, e)));
}

export function deviceConfigTopic(ctx: DiscoveryContext, d: DiscoveredDevice): string {
  return `${ctx.prefix}/device/${nodeIdOf(ctx)}/${deviceIdentifier(d)}/config`;
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
  const device = { identifiers: [gatewayIdentifier(ctx)], name: gatewayName, manufacturer: 'OOBKit', model: 'Node-RED gateway', sw_version: ctx.origin.sw_version };
  const sensor = {
    name: 'Gateway connection',
    unique_id: `${gatewayIdentifier(ctx)}_status`,
    device_class: 'connectivity',
    entity_category: 'diagnostic',
    state_topic: gatewayAvailabilityTopic(ctx.topics),
    payload_on: ONLINE,
    payload_off: OFFLINE,
    qos: 1,
  };
  if (ctx.mode === 'device') {
    return { topic: `${ctx.prefix}/device/${nodeIdOf(ctx)}/${gatewayIdentifier(ctx)}/config`, payload: JSON.stringify({ device, origin: ctx.origin, components: { status: { platform: 'binary_sensor', ...sensor } } }) };
  }
  return { topic: entityConfigTopic(ctx, 'binary_sensor', sensor.unique_id), payload: JSON.stringify({ ...sensor, device, origin: ctx.origin }) };
}
