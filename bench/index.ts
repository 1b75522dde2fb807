/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
import type { Bench } from './types';
import { fleetIsolate } from './defense';
import { fleetPowerRead, warmCalls } from './wsman';
import { discoverySweep, wolSendRate } from './wake'; // issue 3
// inventory and audit log (issue 9)
import { fleetInventory } from './inventory';
// --- boot from media (issue 4) ---
import { iderThroughput } from './boot';
// --- alerts (issue 6) ---
import { dedupMemory, petCpu, petLatency, petRepeats, petThroughput, stateWrites } from './alerts';
// --- Home Assistant over MQTT (issue 7) ---
import { mqttCommandLatency, mqttDiscovery } from './mqtt';
// IPMI (issue 8)
import { ipmiPowerStatusReads } from './ipmi';
import { gatewayCost } from './gateway';
// hostile LAN
import { eventListenerIdle, xmlWorstCase } from './hostile-lan';
// client cost against MeshCentral's AMT stack
import { firstContact, warmReadsVsMeshCentral } from './meshcentral';
// the MSP's central console through the broker
import { centralPowerRead } from './central';

export const BENCHES: Bench[] = [
  warmCalls,
  fleetPowerRead,
  // Wake-on-LAN and discovery (issue 3)
  wolSendRate,
  discoverySweep,
  // inventory and audit log (issue 9)
  fleetInventory,
  // --- boot from media (issue 4) ---
  iderThroughput,
  // --- alerts (issue 6) ---
  petThroughput,
  petRepeats,
  petLatency,
  petCpu,
  dedupMemory,
  stateWrites,
  // System Defense (issue 5)
  fleetIsolate,
  // --- Home Assistant over MQTT (issue 7) ---
  mqttDiscovery,
  mqttCommandLatency,
  // IPMI (issue 8)
  ipmiPowerStatusReads,
  gatewayCost,
  // hostile LAN
  xmlWorstCase,
  eventListenerIdle,
  // client cost against MeshCentral's AMT stack
  warmReadsVsMeshCentral,
  firstContact,
  centralPowerRead,
];
