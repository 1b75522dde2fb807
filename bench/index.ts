/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
import type { Bench } from './types';
import { fleetPowerRead, warmCalls } from './wsman';
// inventory and audit log (issue 9)
import { fleetInventory } from './inventory';
// IPMI (issue 8)
import { ipmiPowerStatusReads } from './ipmi';

export const BENCHES: Bench[] = [
  warmCalls,
  fleetPowerRead,
  // inventory and audit log (issue 9)
  fleetInventory,
  // IPMI (issue 8)
  ipmiPowerStatusReads,
];
