/** A simulated server BMC (IPMI v2.0 / RMCP+) for demos and tests. */
export { SimBmc } from './bmc';
export type { SimBmcOptions, SimBmcUser } from './bmc';
export { BmcState } from './state';
export type { BmcStateOptions, SimSelEvent } from './state';
export { defaultSensors, sensorRecord } from './sensors';
export type { SimSensor, SimAnalogSensor, SimDiscreteSensor } from './sensors';
