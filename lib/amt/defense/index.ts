/**
 * System Defense (policies and filters that fence a PC off the network) and Agent Presence
 * (watchdogs on the PC's security agents), on Intel AMT.
 */
export * from './address';
export * from './filters';
export * from './policies';
export * from './ports';
export * from './statistics';
export * from './state';
export * from './templates';
export * from './apply';
export * from './status';
export * from './watchdogs';
export { ensureDefenseAvailable } from './availability';
export { RolledBackError } from './journal';
