/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
import type { Bench } from './types';
import { fleetIsolate } from './defense';
import { fleetPowerRead, warmCalls } from './wsman';
import { discoverySweep, wolSendRate } from './wake';
import { fleetInventory } from './inventory';
import { iderThroughput } from './boot';
import { dedupMemory, petCpu, petLatency, petRepeats, petThroughput, stateWrites } from './alerts';
import { mqttCommandLatency, mqttDiscovery } from './mqtt';
import { ipmiPowerStatusReads } from './ipmi';
import { gatewayCost } from './gateway';
// hostile LAN
import { eventListenerIdle, xmlWorstCase } from './hostile-lan';
// client cost against MeshCentral's AMT stack
import { firstContact, warmReadsVsMeshCentral } from './meshcentral';
// remote console
import { consoleKvm, consoleMemory, consoleSol } from './console';
// the MSP's central console through the broker
import { centralPowerRead } from './central';

export const BENCHES: Bench[] = [
  warmCalls,
  fleetPowerRead,
  wolSendRate,
  discoverySweep,
  fleetInventory,
  iderThroughput,
  petThroughput,
  petRepeats,
  petLatency,
  petCpu,
  dedupMemory,
  stateWrites,
  fleetIsolate,
  mqttDiscovery,
  mqttCommandLatency,
  ipmiPowerStatusReads,
  gatewayCost,
  // hostile LAN
  xmlWorstCase,
  eventListenerIdle,
  // client cost against MeshCentral's AMT stack
  warmReadsVsMeshCentral,
  firstContact,
  // remote console
  consoleKvm,
  consoleSol,
  consoleMemory,
  // the MSP's central console through the broker
  centralPowerRead,
];
