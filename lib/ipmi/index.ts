/** IPMI v2.0 (RMCP+) for servers: sessions, chassis and power, boot override, SEL, SDR and sensors. */
export { IpmiClient, IPMI_PORT, normalizeEndpoint } from './client';
export type { IpmiEndpoint, IpmiResponse, IpmiSessionInfo } from './client';
export { acquireIpmi, closeAllIpmi, withIpmi } from './connect';
export { BOOT_DEVICES, chassisControl, chassisIdentify, getBootOverride, getChassisStatus, setBootOverride } from './chassis';
export type { BootDevice, BootOverride, ChassisAction, ChassisStatus } from './chassis';
export { ipmiPowerAction, ipmiPowerOn, ipmiPowerStatus } from './power';
export { clearSel, getSelInfo, readNewSel, readSel } from './sel';
export type { SelCursor, SelInfo, SelRecord } from './sel';
export { readSensors, sensorRecords } from './sensors';
export type { SensorReading } from './sensors';
export { sensorTypeName } from './sdr';
export { selRecordToAlert } from './alert';
export type { Alert, SelAlertContext } from './alert';
export { IpmiCompletionError } from './errors';
export { CIPHER_SUITES, PRIVILEGE } from './constants';
