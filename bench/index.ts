/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
import type { Bench } from './types';
import { fleetPowerRead, warmCalls } from './wsman';
// --- boot from media (issue 4) ---
import { iderThroughput } from './boot';

export const BENCHES: Bench[] = [
  warmCalls,
  fleetPowerRead,
  // --- boot from media (issue 4) ---
  iderThroughput,
];
