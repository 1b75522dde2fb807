/** Alerts: the one Alert shape, the policy engine, heartbeats, payload shapes for chat and ticketing. */
export * from './alert';
export { AlertEngine, OWN_ACTION_KINDS } from './engine';
export type { Emission, EngineCounts, EngineOptions, EngineState, SuppressReason } from './engine';
export { Policy, DEFAULT_POLICY } from './policy';
export type { PolicyConfig, Rule, RuleMatch, RateLimit, Decision } from './policy';
export { MaintenanceSchedule, parseWindows } from './maintenance';
export type { MaintenanceWindow } from './maintenance';
export { HeartbeatWatch, registerPresenceCheck } from './heartbeat';
export { AlertHub } from './hub';
export type { AlertHubOptions } from './hub';
export type { Durability } from '../util/snapshot-log';
export { shapeAlert, chatLine, shapePagerDuty, shapeOpsgenie } from './shape';
export type { PayloadShape } from './shape';
