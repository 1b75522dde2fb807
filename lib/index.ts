/**
 * OOBKit's protocol core, usable without Node-RED (a CLI, a service, another automation host).
 * Grouped by area. The simulator is not part of this package: it lives in the repository's
 * packages/sim workspace (the `oob-sim` command).
 */
export * from './errors';
export * from './device';
export { recordOwnAction, lastOwnAction, onOwnAction } from './activity';
export type { OwnAction } from './activity';

// What any managed device can do, through its driver (AMT or a server's BMC), chosen in one place.
export * as drivers from './drivers';
export { driverFor, withDriver, withCapability } from './drivers';
export type { DeviceDriver } from './drivers';
export * from './power';

// WS-Management and Intel AMT.
export { WsmanClient, fleetLimiter } from './wsman/client';
export type { WsmanClientOptions, TypedInstance } from './wsman/client';
export { normalizeFingerprint, fetchFingerprint } from './wsman/transport';
export { openAmt, acquireAmt, withAmt, closeAllAmt } from './amt/connect';
export type { AmtEndpoint } from './amt/connect';
export { readPowerStatus, requestPowerAction, POWER_ACTIONS, POWER_STATE_NAMES, canonicalPowerAction } from './amt/power';
export type { PowerStatus } from './amt/power';
export { readIdentity, uuidFromPlatformGuid } from './amt/identity';
export type { AmtIdentity } from './amt/identity';
export { bootFromMedia } from './amt/boot-media';
export type { MediaBootOptions, MediaBootOutcome } from './amt/boot-media';
export { readOptInPolicy, consentNeeded, obtainConsent, startOptIn, sendOptInCode, cancelOptIn } from './amt/opt-in';
export type { OptInPolicy, ConsentOptions, ConsentPrompt, ConsentResult, ConsentScope } from './amt/opt-in';
export { listAlarms, addAlarm, deleteAlarm } from './amt/alarm-clock';
export type { Alarm, AlarmSpec } from './amt/alarm-clock';
export * as defense from './amt/defense';
export { readInventory, inventoryRow, ROW_COLUMNS } from './amt/inventory';
export { readAuditLog } from './amt/audit-log';
export { readEventLog, decodeEventRecord } from './amt/event-log';

// IPMI 2.0 (RMCP+) for servers' BMCs.
export * as ipmi from './ipmi';

// Wake-on-LAN, ASF presence and discovery.
export * as wol from './wol';
export * as asf from './asf';
export { wakeAndConfirm } from './wake';
export type { WakeAndConfirmOptions, WakeOutcome } from './wake';

// Alerts and their policy engine; Home Assistant over MQTT.
export * as alerts from './alerts';
export * as mqtt from './mqtt';

// Devices at other sites through the MSP's broker: signed commands, a site's responder, the centre.
export * as remote from './remote';
