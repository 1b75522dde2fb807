/** ASF: RMCP presence ping/pong and discovery sweeps. */
export * from './rmcp';
export { Pinger, presencePing, resolveHost, PING_DEFAULTS } from './ping';
export type { PongInfo, PresenceResult, PingOptions, PingerStats } from './ping';
export { discover, expandTargets, DISCOVER_DEFAULTS } from './discover';
export type { DiscoverOptions, DiscoverResult, Target } from './discover';
