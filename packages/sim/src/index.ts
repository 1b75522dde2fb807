/**
 * Simulated Intel AMT PCs: importable for tests and benchmarks, and behind the oob-sim CLI.
 *
 *   const fleet = await startFleet({ devices: 3, port: 0, user: 'admin', password: 'P@ssw0rd' });
 *   fleet.devices[0].url; fleet.devices[0].on('power', (e) => ...); await fleet.stop();
 */
export { SimDevice, realmFor } from './device';
export type { SimDeviceOptions, TlsMaterial, FaultKind, InjectedFault, FirmwareInfo, Subscription, Enumeration } from './device';
export { startFleet, deviceName, deviceMac, deviceUuid, describeDevice } from './fleet';
export type { Fleet, FleetOptions } from './fleet';
export { PowerMachine, PowerState, PowerRequest, REQUEST_NAMES } from './power';
export type { PowerEvent, BootEvent, BootDetails, OsEvent, OsState, PowerTimings, PowerStateValue } from './power';
export { DigestAuthenticator, parseDigestHeader } from './digest-server';
export { dispatch } from './dispatch';
export type { SimAnswer } from './dispatch';
export { SimFault, faults } from './sim-fault';
export { defaultClasses } from './classes';
export type { ClassHandler, MethodContext, MethodResult } from './classes';
export { applyWritable, inputInt, inputText } from './classes/types';
export { addEventLogRecord, encodeEventRecord } from './classes/logs';
export type { EventLogRecord } from './classes/logs';
export { redirectionState } from './classes/setup';
export { consentState, consentState as optInState, consentRequired, consentGiven, OPT_IN_STATE, OPT_IN_REQUIRED_ALL, USER_CONSENT_REQUIRED } from './consent';
export type { ConsentEvent, SimConsentOptions } from './consent';
export { alarmClockState, runAlarmClock } from './alarm-clock';
export type { AlarmEvent, SimAlarm } from './alarm-clock';
export { bootState, BOOT_SOURCES } from './classes/boot';
export { ref, datetime, managedSystemRef, serviceSelectors } from './values';
export type { SimProps, SimValue, SimRef, SimDate } from './values';
export { writeEvent } from './response-writer';
export { makeCertificate, generateKeyPair, fingerprint256 } from './cert';
// Wake-on-LAN listener and RMCP presence responder
export { WolListener } from './wol-listener';
export type { WolListenerOptions, WolStats, WolEvent } from './wol-listener';
export { RmcpResponder, amtPong } from './rmcp-responder';
export type { RmcpResponderOptions, RmcpStats } from './rmcp-responder';
export { UdpGuard, isLoopback } from './udp-guard';
export { hardwareFor, HARDWARE_MODELS } from './hardware';
export type { HardwareProfile, SimCpu, SimDimm, SimDisk } from './hardware';
export { addAuditRecord, addRawAuditRecord, auditAction, clearAuditLog, MAX_AUDIT_RECORDS } from './classes/logs';
export { kvmState, setActiveDefensePolicies } from './classes/inventory';
export type { SimPeer } from './classes/types';
export { setBootCapabilities, bootCapabilityValue } from './classes/boot';
export { firmwareState, lastBoot, httpsBootUrl } from './firmware';
export type { BootRecord, FirmwareOptions, FirmwareState, FirmwareTarget } from './firmware';
export { SimIderSession } from './redirection';
export type { SimRedirectionOptions, AtapiResult, IderWireStats } from './redirection';
export { demoIso, writeDemoIso } from './demo-media';
// alerts: PET traps, WS-Eventing pushes, event-log scenarios, heartbeats
export { SCENARIOS, runScenario, clearScenario, playScenarios, sendPetTrap, petBytes, pushEvent, alertIndicationXml, startHeartbeats, goSilent, comeBack } from './alerts';
export type { Scenario, SensorEventSpec, PetTarget, PushResult, ScenarioTargets } from './alerts';
export { sendPacket, hostAddresses, policyInForce, defenseState } from './defense';
export type { PacketSpec, PacketResult, SimDefenseOptions } from './defense';
export { SimAgent, guidToDeviceId, deviceIdToGuid, WATCHDOG_STATES, watchdogByAgent } from './agent-presence';
export { startBackgroundTraffic } from './background-traffic';
// IPMI: a simulated server BMC
export { SimBmc, BmcState, defaultSensors } from './ipmi';
export type { SimBmcOptions, SimBmcUser, SimSelEvent, SimSensor } from './ipmi';
// --- firmware generations and accounts ---
export { FIRMWARE_PROFILES, FirmwareProfile, firmwareProfile, DEFAULT_AMT_VERSION } from './firmware-profile';
export { ACL_STATUS } from './classes/accounts';
// --- remote console: the PC's screen for SOL and KVM ---
export { SimScreen, simScreen, ansiFrame, COLUMNS, ROWS } from './screen';
export type { ScreenImage, ScreenKey, ScreenRow } from './screen';
export { kvmEnabled } from './classes/kvm';
export { KVM_WIDTH, KVM_HEIGHT, drawScreen, kvmSessionOf, SimKvmSession } from './kvm';
export { solSessionOf, SimSolSession } from './sol';
export { INTEL_RLE, RLE_TILE, intelRleRectData, intelRleTileBody } from './intel-rle';
