/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
import type { Bench } from './types';
import { fleetIsolate } from './defense';
import { fleetPowerRead, warmCalls } from './wsman';

export const BENCHES: Bench[] = [
  warmCalls,
  fleetPowerRead,
  // System Defense (issue 5)
  fleetIsolate,
];
