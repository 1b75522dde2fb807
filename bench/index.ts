/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
import type { Bench } from './types';
import { fleetPowerRead, warmCalls } from './wsman';
import { discoverySweep, wolSendRate } from './wake'; // issue 3

export const BENCHES: Bench[] = [
  warmCalls,
  fleetPowerRead,
  // Wake-on-LAN and discovery (issue 3)
  wolSendRate,
  discoverySweep,
];
