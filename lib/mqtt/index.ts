/** MQTT: the topic layout, Home Assistant discovery and the gateway bridge. */
export { HaBridge } from './bridge';
export type { BridgeOptions, BridgeStatus, CommandRequest, CommandResult } from './bridge';
export { controlFor } from './control';
export type { ActionOutcome, ControlOptions, DeviceControl, DeviceIdentity, PollResult } from './control';
export { ENTITIES, entitiesFor } from './entities';
export type { DeviceStateDoc, EntitySpec, Component } from './entities';
export { deviceDiscovery, gatewayDiscovery, ownConfigSubscription, birthTopic, uniqueIdOf, nodeIdOf } from './discovery';
export type { DiscoveryContext, DiscoveryMode, DiscoveredDevice, Origin } from './discovery';
export { MqttLink } from './link';
export type { LinkOptions, LinkStatus } from './link';
export * from './topics';
export { checkAlert, publishableAlert } from './alerts';
export type { AlertLike } from './alerts';
export { gatewayAclLines } from './acl';
export type { AclInput } from './acl';
