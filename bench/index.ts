/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
import type { Bench } from './types';
import { fleetPowerRead, warmCalls } from './wsman';
// issue 7: Home Assistant over MQTT
import { mqttCommandLatency, mqttDiscovery } from './mqtt';

export const BENCHES: Bench[] = [warmCalls, fleetPowerRead, mqttDiscovery, mqttCommandLatency];
