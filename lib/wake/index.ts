/** Wake and confirm: Wake-on-LAN, then AMT power state / presence ping / TCP until up; AMT power-on as fallback. */
export { wakeAndConfirm, CONFIRM_DEFAULTS } from './wake-and-confirm';
export type { WakeAndConfirmOptions, WakeOutcome, ConfirmChoice } from './wake-and-confirm';
export { amtProbe, ipmiProbe, managementProbe, presenceProbe, tcpProbe } from './probes';
export type { Probe, ConfirmMethod } from './probes';
