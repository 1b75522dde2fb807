/**
 * IPMI/ASF sensor-event facts shared by PET traps and the AMT event log (both carry the same
 * sensor type, event type, offset, severity and entity bytes): the sensor type and entity names
 * of IPMI 2.0 (tables 42-3 and 43-13), the threshold offsets (table 42-2), the PET severity
 * codes of the ASF/PET specification, and our translation of common sensor/offset pairs into
 * readable alert kinds with a sentence a person understands.
 */
import { moreSevere, Severity } from '../alerts/vocabulary';

export const SENSOR_TYPES: Readonly<Record<number, string>> = {
  0x01: 'temperature',
  0x02: 'voltage',
  0x03: 'current',
  0x04: 'fan',
  0x05: 'physical security',
  0x06: 'platform security',
  0x07: 'processor',
  0x08: 'power supply',
  0x09: 'power unit',
  0x0a: 'cooling device',
  0x0b: 'other units-based sensor',
  0x0c: 'memory',
  0x0d: 'drive slot',
  0x0e: 'POST memory resize',
  0x0f: 'system firmware progress',
  0x10: 'event logging disabled',
  0x11: 'watchdog 1',
  0x12: 'system event',
  0x13: 'critical interrupt',
  0x14: 'button/switch',
  0x15: 'module/board',
  0x16: 'microcontroller',
  0x17: 'add-in card',
  0x18: 'chassis',
  0x19: 'chip set',
  0x1a: 'other FRU',
  0x1b: 'cable/interconnect',
  0x1c: 'terminator',
  0x1d: 'system boot initiated',
  0x1e: 'boot error',
  0x1f: 'OS boot',
  0x20: 'OS stop/shutdown',
  0x21: 'slot/connector',
  0x22: 'ACPI power state',
  0x23: 'watchdog 2',
  0x24: 'platform alert',
  0x25: 'entity presence',
  0x26: 'monitor ASIC',
  0x27: 'LAN',
  0x28: 'management subsystem health',
  0x29: 'battery',
  0x2a: 'session audit',
  0x2b: 'version change',
  0x2c: 'FRU state',
};

export const ENTITIES: Readonly<Record<number, string>> = {
  0x00: 'unspecified',
  0x01: 'other',
  0x02: 'unknown',
  0x03: 'processor',
  0x04: 'disk or disk bay',
  0x05: 'peripheral bay',
  0x06: 'system management module',
  0x07: 'system board',
  0x08: 'memory module',
  0x09: 'processor module',
  0x0a: 'power supply',
  0x0b: 'add-in card',
  0x0c: 'front panel board',
  0x0d: 'back panel board',
  0x0e: 'power system board',
  0x0f: 'drive backplane',
  0x10: 'system internal expansion board',
  0x11: 'other system board',
  0x12: 'processor board',
  0x13: 'power unit',
  0x14: 'power module',
  0x15: 'power management',
  0x16: 'chassis back panel board',
  0x17: 'system chassis',
  0x18: 'sub-chassis',
  0x19: 'other chassis board',
  0x1a: 'disk drive bay',
  0x1b: 'peripheral bay',
  0x1c: 'device bay',
  0x1d: 'fan',
  0x1e: 'cooling unit',
  0x1f: 'cable/interconnect',
  0x20: 'memory device',
  0x21: 'system management software',
  0x22: 'BIOS',
  0x23: 'operating system',
  0x24: 'system bus',
  0x25: 'group',
  0x26: 'remote management communication device',
  0x27: 'external environment',
  0x28: 'battery',
  0x29: 'processing blade',
  0x2a: 'connectivity switch',
  0x2b: 'processor/memory module',
  0x2c: 'I/O module',
  0x2d: 'processor/IO module',
  0x2e: 'management controller firmware',
  0x2f: 'IPMI channel',
  0x30: 'PCI bus',
  0x31: 'PCI Express bus',
  0x32: 'SCSI bus (parallel)',
  0x33: 'SATA/SAS bus',
  0x34: 'processor/front-side bus',
  0x35: 'real time clock',
  0x37: 'air inlet',
  // 40h-42h: DCMI's additions.
  0x40: 'air inlet',
  0x41: 'processor',
  0x42: 'baseboard',
};

/** Entity instances 60h-7Fh are relative to the management controller that reports them (IPMI 2.0, 39.1). */
export const DEVICE_RELATIVE_INSTANCE = 0x60;

/** Threshold event offsets (event type 0x01). */
export const THRESHOLD_OFFSETS: readonly string[] = [
  'lower non-critical going low',
  'lower non-critical going high',
  'lower critical going low',
  'lower critical going high',
  'lower non-recoverable going low',
  'lower non-recoverable going high',
  'upper non-critical going low',
  'upper non-critical going high',
  'upper critical going low',
  'upper critical going high',
  'upper non-recoverable going low',
  'upper non-recoverable going high',
];

/** The PET "event severity" byte. */
export const PET_SEVERITIES: Readonly<Record<number, { name: string; severity?: Severity }>> = {
  0x00: { name: 'unspecified' },
  0x01: { name: 'monitor', severity: 'info' },
  0x02: { name: 'information', severity: 'info' },
  0x04: { name: 'OK', severity: 'ok' },
  0x08: { name: 'non-critical', severity: 'warning' },
  0x10: { name: 'critical', severity: 'critical' },
  0x20: { name: 'non-recoverable', severity: 'critical' },
};

export interface SensorEvent {
  sensorType: number;
  eventType: number;
  offset: number;
  /** Deassertion (the condition went away). */
  deassert: boolean;
  /** PET/IPMI severity byte, when the event carries one. */
  severityCode?: number;
  entity?: number;
  entityInstance?: number;
  eventData?: number[];
}

export interface Interpretation {
  kind: string;
  /** Severity when the event carries none (or "unspecified"). */
  defaultSeverity: Severity;
  /** One line: "Chassis opened (general chassis intrusion)". */
  summary: string;
  /** Distinguishes conditions of the same kind on one device (which fan, which threshold...). */
  qualifier?: string;
}

type Row = [kind: string, severity: Severity, text: string];

/** Sensor-specific offsets (event type 0x6F) we translate, by sensor type. */
const SPECIFIC: Readonly<Record<number, Readonly<Record<number, Row>>>> = {
  0x05: {
    0: ['chassis-intrusion', 'critical', 'Chassis opened (general chassis intrusion)'],
    1: ['chassis-intrusion', 'critical', 'Drive bay opened'],
    2: ['chassis-intrusion', 'critical', 'I/O card area opened'],
    3: ['chassis-intrusion', 'critical', 'Processor area opened'],
    4: ['lan-leash-lost', 'major', 'Network cable unplugged (LAN leash lost)'],
    5: ['chassis-intrusion', 'major', 'Unauthorized dock or undock'],
    6: ['chassis-intrusion', 'critical', 'Fan area opened'],
  },
  0x06: {
    0: ['security-violation', 'major', 'Secure mode violation attempt'],
    1: ['security-violation', 'major', 'Wrong pre-boot user password'],
    2: ['security-violation', 'major', 'Wrong BIOS setup password'],
    3: ['security-violation', 'major', 'Wrong network boot password'],
    4: ['security-violation', 'major', 'Other pre-boot password violation'],
    5: ['security-violation', 'major', 'Out-of-band access password violation'],
  },
  0x07: {
    0: ['processor-error', 'critical', 'Processor internal error (IERR)'],
    1: ['processor-thermal-trip', 'critical', 'Processor over-temperature shutdown (thermal trip)'],
    5: ['processor-error', 'major', 'Processor configuration error'],
    10: ['processor-throttled', 'warning', 'Processor throttled (too hot)'],
  },
  0x08: {
    0: ['power-supply-present', 'info', 'Power supply present (inserted)'],
    1: ['power-supply-failure', 'critical', 'Power supply failed'],
    2: ['power-supply-failure', 'warning', 'Power supply predicts failure'],
    3: ['power-supply-ac-lost', 'major', 'Power supply lost its AC input'],
  },
  0x09: {
    0: ['power-change', 'info', 'Power unit off'],
    4: ['power-supply-ac-lost', 'major', 'AC power lost'],
    5: ['power-failure', 'critical', 'Soft power control failure'],
    6: ['power-failure', 'critical', 'Power unit failure'],
  },
  0x0c: {
    0: ['memory-ecc-correctable', 'warning', 'Correctable memory error (ECC)'],
    1: ['memory-ecc-uncorrectable', 'critical', 'Uncorrectable memory error (ECC)'],
    2: ['memory-error', 'major', 'Memory parity error'],
    3: ['memory-error', 'critical', 'Memory scrub failed'],
    5: ['memory-error', 'warning', 'Correctable memory error logging limit reached'],
  },
  0x0d: {
    1: ['drive-fault', 'critical', 'Drive fault'],
    2: ['drive-fault', 'warning', 'Drive predicts failure'],
  },
  0x0f: {
    0: ['bios-post-error', 'major', 'BIOS POST error'],
    1: ['firmware-hang', 'critical', 'System firmware hang during start-up'],
    2: ['firmware-progress', 'info', 'System firmware progress'],
  },
  0x10: {
    2: ['event-log-cleared', 'info', 'Event log cleared'],
    4: ['event-log-full', 'warning', 'Event log full'],
  },
  // Watchdog 1 (IPMI 2.0 table 42-3): offset 0 is the BIOS's watchdog, the others the OS's.
  0x11: {
    0: ['bios-watchdog', 'critical', 'BIOS watchdog reset the system'],
    1: ['os-watchdog', 'critical', 'OS watchdog reset the system (OS hang)'],
    2: ['os-watchdog', 'critical', 'OS watchdog shut the system down (OS hang)'],
    3: ['os-watchdog', 'critical', 'OS watchdog powered the system down (OS hang)'],
    4: ['os-watchdog', 'critical', 'OS watchdog power-cycled the system (OS hang)'],
    5: ['os-watchdog', 'critical', 'OS watchdog NMI / diagnostic interrupt (OS hang)'],
    6: ['os-watchdog', 'major', 'OS watchdog expired (status only)'],
    7: ['os-watchdog', 'warning', 'OS watchdog pre-timeout interrupt'],
  },
  0x12: {
    0: ['system-reconfigured', 'info', 'System reconfigured'],
    2: ['system-event', 'warning', 'Undetermined system hardware failure'],
  },
  0x13: {
    0: ['critical-interrupt', 'critical', 'Front panel NMI'],
    4: ['critical-interrupt', 'critical', 'PCI PERR'],
    5: ['critical-interrupt', 'critical', 'PCI SERR'],
    7: ['critical-interrupt', 'critical', 'Bus correctable error'],
    8: ['critical-interrupt', 'critical', 'Bus uncorrectable error'],
    9: ['critical-interrupt', 'critical', 'Fatal NMI'],
  },
  0x1d: {
    0: ['system-restart', 'info', 'System powered up'],
    1: ['system-restart', 'info', 'System restarted (hard reset)'],
    2: ['system-restart', 'info', 'System restarted (warm reset)'],
    3: ['system-restart', 'info', 'Network boot requested by a user'],
    4: ['system-restart', 'info', 'Automatic boot to diagnostics'],
    5: ['system-restart', 'info', 'System restarted by the OS (hard reset)'],
    6: ['system-restart', 'info', 'System restarted by the OS (warm reset)'],
    7: ['system-restart', 'info', 'System restarted'],
  },
  0x1e: {
    0: ['boot-failure', 'critical', 'Boot failed: no bootable media'],
    1: ['boot-failure', 'critical', 'Boot failed: non-bootable diskette'],
    2: ['boot-failure', 'major', 'Network boot failed: PXE server not found'],
    3: ['boot-failure', 'critical', 'Boot failed: invalid boot sector'],
    4: ['boot-failure', 'warning', 'Boot waits for a user selection (timeout)'],
  },
  0x1f: {
    0: ['os-boot', 'info', 'Boot from floppy (A:) completed'],
    1: ['os-boot', 'info', 'Boot from hard disk (C:) completed'],
    2: ['os-boot', 'info', 'Network (PXE) boot completed'],
    3: ['os-boot', 'info', 'Diagnostic boot completed'],
    4: ['os-boot', 'info', 'Boot from CD completed'],
    5: ['os-boot', 'info', 'Boot from ROM completed'],
    6: ['os-boot', 'info', 'Boot completed'],
  },
  0x20: {
    0: ['os-stop', 'critical', 'OS crashed while loading'],
    1: ['os-stop', 'critical', 'OS crashed (blue screen / kernel panic)'],
    2: ['os-shutdown', 'info', 'OS stopped'],
    3: ['os-shutdown', 'info', 'OS shut down'],
    4: ['os-shutdown', 'info', 'Soft shutdown requested by the management controller'],
    5: ['agent-stopped', 'major', 'OS agent not responding'],
  },
  0x21: {
    0: ['slot-fault', 'major', 'Slot/connector fault'],
    1: ['slot-identify', 'info', 'Slot/connector identify'],
    2: ['slot-device', 'info', 'Device installed in slot/connector'],
    3: ['slot-device', 'info', 'Slot/connector ready for device installation'],
    4: ['slot-device', 'info', 'Slot/connector ready for device removal'],
    5: ['slot-power', 'info', 'Slot power is off'],
    6: ['slot-device', 'info', 'Device removal requested from slot/connector'],
    7: ['slot-interlock', 'info', 'Slot/connector interlock asserted'],
    8: ['slot-disabled', 'warning', 'Slot/connector disabled'],
    9: ['slot-device', 'info', 'Slot holds a spare device'],
  },
  0x22: {
    0: ['power-change', 'info', 'Powered on (S0, working)'],
    3: ['power-change', 'info', 'Asleep (S3)'],
    4: ['power-change', 'info', 'Hibernating (S4)'],
    5: ['power-change', 'info', 'Soft off (S5)'],
    6: ['power-change', 'info', 'Off (S4/S5)'],
    7: ['power-change', 'info', 'Mechanical off (G3)'],
    10: ['power-change', 'info', 'Soft off (S5, forced)'],
    14: ['power-change', 'info', 'Power state unknown'],
  },
  0x23: {
    0: ['os-watchdog', 'critical', 'OS watchdog expired (OS hang)'],
    1: ['os-watchdog', 'critical', 'OS watchdog reset the system (OS hang)'],
    2: ['os-watchdog', 'critical', 'OS watchdog powered the system down (OS hang)'],
    3: ['os-watchdog', 'critical', 'OS watchdog power-cycled the system (OS hang)'],
    8: ['os-watchdog', 'warning', 'OS watchdog pre-timeout interrupt'],
  },
  0x25: {
    0: ['entity-present', 'info', 'Entity present'],
    1: ['entity-absent', 'major', 'Entity absent'],
    2: ['entity-disabled', 'warning', 'Entity disabled'],
  },
  0x27: {
    0: ['lan-heartbeat-lost', 'major', 'LAN heartbeat lost'],
    1: ['lan-heartbeat', 'ok', 'LAN heartbeat'],
  },
  0x28: {
    0: ['management-health', 'warning', 'Management controller: sensor access degraded'],
    1: ['management-health', 'warning', 'Management controller: controller access degraded'],
    2: ['management-health', 'major', 'Management controller offline'],
    3: ['management-health', 'major', 'Management controller unavailable'],
    4: ['management-health', 'major', 'Management controller: sensor failure'],
    5: ['management-health', 'major', 'Management controller: FRU failure'],
  },
  0x29: {
    0: ['battery-low', 'warning', 'Battery low'],
    1: ['battery-failed', 'major', 'Battery failed'],
    2: ['battery-present', 'info', 'Battery present'],
  },
  0x2a: {
    0: ['session-audit', 'info', 'Session activated'],
    1: ['session-audit', 'info', 'Session deactivated'],
    2: ['security-violation', 'major', 'Invalid user name or password'],
    3: ['security-violation', 'major', 'User disabled after invalid passwords'],
  },
  0x2b: {
    0: ['version-change', 'info', 'Hardware change detected'],
    1: ['version-change', 'info', 'Firmware or software change detected'],
    2: ['version-incompatible', 'major', 'Hardware incompatibility detected'],
    3: ['version-incompatible', 'major', 'Firmware or software incompatibility detected'],
    4: ['version-incompatible', 'major', 'Invalid or unsupported hardware version'],
    5: ['version-incompatible', 'major', 'Invalid or unsupported firmware or software version'],
    6: ['version-change', 'info', 'Hardware change succeeded'],
    7: ['version-change', 'info', 'Firmware or software change succeeded'],
  },
  0x2c: {
    0: ['fru-state', 'info', 'FRU not installed'],
    1: ['fru-state', 'info', 'FRU inactive'],
    2: ['fru-state', 'info', 'FRU activation requested'],
    3: ['fru-state', 'info', 'FRU activation in progress'],
    4: ['fru-state', 'info', 'FRU active'],
    5: ['fru-state', 'info', 'FRU deactivation requested'],
    6: ['fru-state', 'info', 'FRU deactivation in progress'],
    7: ['fru-state', 'major', 'FRU communication lost'],
  },
};

/**
 * Generic discrete event types 02h-0Ch (IPMI 2.0 table 42-2): what each offset means, and how
 * severe it is whatever the sensor (a transition to critical and a lost redundancy are critical).
 */
const GENERIC: Readonly<Record<number, ReadonlyArray<readonly [text: string, severity: Severity]>>> = {
  0x02: [
    ['transition to idle', 'info'],
    ['transition to active', 'info'],
    ['transition to busy', 'info'],
  ],
  0x03: [
    ['state deasserted', 'info'],
    ['state asserted', 'info'],
  ],
  0x04: [
    ['predictive failure deasserted', 'ok'],
    ['predictive failure asserted', 'warning'],
  ],
  0x05: [
    ['limit not exceeded', 'ok'],
    ['limit exceeded', 'warning'],
  ],
  0x06: [
    ['performance met', 'ok'],
    ['performance lags', 'warning'],
  ],
  0x07: [
    ['transition to OK', 'ok'],
    ['transition to non-critical from OK', 'warning'],
    ['transition to critical from less severe', 'critical'],
    ['transition to non-recoverable from less severe', 'critical'],
    ['transition to non-critical from more severe', 'warning'],
    ['transition to critical from non-recoverable', 'critical'],
    ['transition to non-recoverable', 'critical'],
    ['monitor', 'info'],
    ['informational', 'info'],
  ],
  0x08: [
    ['device removed / device absent', 'info'],
    ['device inserted / device present', 'info'],
  ],
  0x09: [
    ['device disabled', 'info'],
    ['device enabled', 'info'],
  ],
  0x0a: [
    ['transition to running', 'info'],
    ['transition to in test', 'info'],
    ['transition to power off', 'info'],
    ['transition to on line', 'info'],
    ['transition to off line', 'warning'],
    ['transition to off duty', 'info'],
    ['transition to degraded', 'warning'],
    ['transition to power save', 'info'],
    ['install error', 'major'],
  ],
  0x0b: [
    ['fully redundant', 'ok'],
    ['redundancy lost', 'critical'],
    ['redundancy degraded', 'warning'],
    ['non-redundant: sufficient resources from redundant', 'warning'],
    ['non-redundant: sufficient resources from insufficient resources', 'warning'],
    ['non-redundant: insufficient resources', 'major'],
    ['redundancy degraded from fully redundant', 'warning'],
    ['redundancy degraded from non-redundant', 'warning'],
  ],
  0x0c: [
    ['D0 power state', 'info'],
    ['D1 power state', 'info'],
    ['D2 power state', 'info'],
    ['D3 power state', 'info'],
  ],
};

/** The text of a generic (02h-0Ch) or threshold (01h) offset as IPMI names it; undefined otherwise. */
export function genericOffsetText(eventType: number, offset: number): string | undefined {
  if (eventType === 0x01) return THRESHOLD_OFFSETS[offset];
  return GENERIC[eventType]?.[offset]?.[0];
}

/**
 * What IPMI calls each offset of the sensor-specific event type (6Fh), by sensor type (IPMI 2.0
 * table 42-3): carried in the details, so an alert can be matched with the specification and
 * with other tools, and used as the summary where we have no sentence of our own.
 */
export const SENSOR_SPECIFIC_OFFSETS: Readonly<Record<number, readonly string[]>> = {
  0x05: ['general chassis intrusion', 'drive bay intrusion', 'I/O card area intrusion', 'processor area intrusion', 'LAN leash lost', 'unauthorized dock/undock', 'fan area intrusion'],
  0x06: [
    'secure mode violation attempt',
    'pre-boot password violation - user password',
    'pre-boot password violation attempt - setup password',
    'pre-boot password violation - network boot password',
    'other pre-boot password violation',
    'out-of-band access password violation',
  ],
  0x07: [
    'IERR',
    'thermal trip',
    'FRB1/BIST failure',
    'FRB2/hang in POST failure',
    'FRB3/processor startup/initialization failure',
    'configuration error',
    'SM BIOS uncorrectable CPU-complex error',
    'processor presence detected',
    'processor disabled',
    'terminator presence detected',
    'processor automatically throttled',
    'machine check exception',
    'correctable machine check error',
  ],
  0x08: ['presence detected', 'power supply failure detected', 'predictive failure', 'power supply input lost (AC/DC)', 'power supply input lost or out-of-range', 'power supply input out-of-range, but present', 'configuration error'],
  0x09: ['power off/power down', 'power cycle', '240VA power down', 'interlock power down', 'AC lost', 'soft power control failure', 'power unit failure detected', 'predictive failure'],
  0x0c: [
    'correctable ECC / other correctable memory error',
    'uncorrectable ECC / other uncorrectable memory error',
    'parity',
    'memory scrub failed',
    'memory device disabled',
    'correctable ECC / other correctable memory error logging limit reached',
    'presence detected',
    'configuration error',
    'spare',
    'memory automatically throttled',
    'critical overtemperature',
  ],
  0x0d: ['drive presence', 'drive fault', 'predictive failure', 'hot spare', 'consistency check/parity check in progress', 'in critical array', 'in failed array', 'rebuild/remap in progress', 'rebuild/remap aborted'],
  0x0f: ['system firmware error (POST error)', 'system firmware hang', 'system firmware progress'],
  0x10: ['correctable memory error logging disabled', 'event type logging disabled', 'log area reset/cleared', 'all event logging disabled', 'SEL full', 'SEL almost full', 'correctable machine check error logging disabled'],
  0x11: ['BIOS watchdog reset', 'OS watchdog reset', 'OS watchdog shut down', 'OS watchdog power down', 'OS watchdog power cycle', 'OS watchdog NMI/diagnostic interrupt', 'OS watchdog expired, status only', 'OS watchdog pre-timeout interrupt, non-NMI'],
  0x12: ['system reconfigured', 'OEM system boot event', 'undetermined system hardware failure', 'entry added to auxiliary log', 'PEF action', 'timestamp clock synch'],
  0x13: [
    'front panel NMI/diagnostic interrupt',
    'bus timeout',
    'I/O channel check NMI',
    'software NMI',
    'PCI PERR',
    'PCI SERR',
    'EISA fail safe timeout',
    'bus correctable error',
    'bus uncorrectable error',
    'fatal NMI',
    'bus fatal error',
    'bus degraded',
  ],
  0x1d: ['initiated by power up', 'initiated by hard reset', 'initiated by warm reset', 'user requested PXE boot', 'automatic boot to diagnostic', 'OS/run-time software initiated hard reset', 'OS/run-time software initiated warm reset', 'system restart'],
  0x1e: ['no bootable media', 'non-bootable diskette left in drive', 'PXE server not found', 'invalid boot sector', 'timeout waiting for user selection of boot source'],
  0x1f: ['A: boot completed', 'C: boot completed', 'PXE boot completed', 'diagnostic boot completed', 'CD-ROM boot completed', 'ROM boot completed', 'boot completed - boot device not specified'],
  0x20: ['critical stop during OS load/initialization', 'run-time critical stop', 'OS graceful stop', 'OS graceful shutdown', 'soft shutdown initiated by PEF', 'agent not responding'],
  0x21: [
    'fault status asserted',
    'identify status asserted',
    'slot/connector device installed/attached',
    'slot/connector ready for device installation',
    'slot/connector ready for device removal',
    'slot power is off',
    'slot/connector device removal request',
    'interlock asserted',
    'slot is disabled',
    'slot holds spare device',
  ],
  0x22: [
    'S0/G0 working',
    'S1 sleeping with system h/w and processor context maintained',
    'S2 sleeping, processor context lost',
    'S3 sleeping, processor and h/w context lost, memory retained',
    'S4 non-volatile sleep/suspend-to-disk',
    'S5/G2 soft-off',
    'S4/S5 soft-off, particular S4/S5 state cannot be determined',
    'G3/mechanical off',
    'sleeping in an S1, S2, or S3 states',
    'G1 sleeping',
    'S5 entered by override',
    'legacy ON state',
    'legacy OFF state',
    '',
    'unknown',
  ],
  0x23: ['timer expired, status only', 'hard reset', 'power down', 'power cycle', '', '', '', '', 'timer interrupt'],
  0x25: ['entity present', 'entity absent', 'entity disabled'],
  0x27: ['LAN heartbeat lost', 'LAN heartbeat'],
  0x28: ['sensor access degraded or unavailable', 'controller access degraded or unavailable', 'management controller off-line', 'management controller unavailable', 'sensor failure', 'FRU failure'],
  0x29: ['battery low', 'battery failed', 'battery presence detected'],
  0x2a: ['session activated', 'session deactivated', 'invalid username or password', 'invalid password disable'],
  0x2b: [
    'hardware change detected with associated entity',
    'firmware or software change detected with associated entity',
    'hardware incompatibility detected with associated entity',
    'firmware or software incompatibility detected with associated entity',
    'entity is of an invalid or unsupported hardware version',
    'entity contains an invalid or unsupported firmware or software version',
    'hardware change detected with associated entity was successful',
    'software or F/W change detected with associated entity was successful',
  ],
  0x2c: ['FRU not installed', 'FRU inactive', 'FRU activation requested', 'FRU activation in progress', 'FRU active', 'FRU deactivation requested', 'FRU deactivation in progress', 'FRU communication lost'],
};

/** What IPMI calls an event's offset (threshold, generic or sensor-specific); undefined for OEM and unknown ones. */
export function ipmiEventName(e: Pick<SensorEvent, 'sensorType' | 'eventType' | 'offset'>): string | undefined {
  if (e.eventType === 0x6f) return SENSOR_SPECIFIC_OFFSETS[e.sensorType]?.[e.offset] || undefined;
  return genericOffsetText(e.eventType, e.offset);
}

/** Progress/error codes in event data 2 of system firmware progress (0x0F) events. */
export const FIRMWARE_PROGRESS: Readonly<Record<number, string>> = {
  0x00: 'unspecified',
  0x01: 'memory initialization',
  0x02: 'hard-disk initialization',
  0x03: 'secondary processor initialization',
  0x04: 'user authentication',
  0x05: 'user-initiated system setup',
  0x06: 'USB resource configuration',
  0x07: 'PCI resource configuration',
  0x08: 'option ROM initialization',
  0x09: 'video initialization',
  0x0a: 'cache initialization',
  0x0b: 'SM bus initialization',
  0x0c: 'keyboard controller initialization',
  0x0d: 'embedded controller initialization',
  0x0e: 'docking station attachment',
  0x0f: 'enabling docking station',
  0x10: 'docking station ejection',
  0x11: 'disabling docking station',
  0x12: 'calling operating system wake-up vector',
  0x13: 'starting operating system boot process',
  0x14: 'baseboard initialization',
  0x16: 'floppy initialization',
  0x17: 'keyboard test',
  0x18: 'pointing device test',
  0x19: 'primary processor initialization',
};

export const FIRMWARE_ERRORS: Readonly<Record<number, string>> = {
  0x00: 'unspecified',
  0x01: 'no system memory installed',
  0x02: 'no usable system memory',
  0x03: 'unrecoverable hard-disk failure',
  0x04: 'unrecoverable system-board failure',
  0x05: 'unrecoverable diskette subsystem failure',
  0x06: 'unrecoverable hard-disk controller failure',
  0x07: 'unrecoverable keyboard failure',
  0x08: 'removable boot media not found',
  0x09: 'unrecoverable video controller failure',
  0x0a: 'no video device detected',
  0x0b: 'firmware (BIOS) ROM corruption detected',
  0x0c: 'CPU voltage mismatch',
  0x0d: 'CPU speed matching failure',
};

function hex(n: number, digits = 2): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}

function thresholdKind(sensorType: number, offset: number): Interpretation | undefined {
  const names: Record<number, string> = { 0x01: 'temperature', 0x02: 'voltage', 0x03: 'current', 0x04: 'fan' };
  const base = names[sensorType];
  const what = THRESHOLD_OFFSETS[offset];
  if (!base || !what) return undefined;
  const high = /going high$/.test(what) && what.startsWith('upper');
  const low = /going low$/.test(what) && what.startsWith('lower');
  const level = what.includes('non-recoverable') ? 'non-recoverable' : what.includes('non-critical') ? 'non-critical' : 'critical';
  const severity: Severity = level === 'non-critical' ? 'warning' : 'critical';
  if (base === 'fan') {
    if (low) return { kind: 'fan-failure', defaultSeverity: severity, summary: level === 'non-critical' ? 'Fan slowing down (predicted failure)' : 'Fan failed (speed below critical threshold)', qualifier: level };
    return { kind: 'fan', defaultSeverity: 'warning', summary: `Fan speed ${what}`, qualifier: level };
  }
  const label = base[0].toUpperCase() + base.slice(1);
  if (high) return { kind: `${base}-high`, defaultSeverity: severity, summary: base === 'temperature' ? `Overheating: temperature above ${level} threshold` : `${label} above ${level} threshold`, qualifier: level };
  if (low) return { kind: `${base}-low`, defaultSeverity: severity, summary: `${label} below ${level} threshold`, qualifier: level };
  return { kind: base, defaultSeverity: 'info', summary: `${label} ${what}`, qualifier: level };
}

/** Our reading of an event: kind, default severity and a sentence. Never throws. */
export function interpret(e: SensorEvent): Interpretation {
  const sensorName = SENSOR_TYPES[e.sensorType] ?? `sensor type ${hex(e.sensorType)}`;
  if (e.sensorType === 0 && e.eventType === 0 && e.offset === 0) {
    return { kind: 'test', defaultSeverity: 'info', summary: 'Test alert' };
  }
  let found: Interpretation | undefined;
  if (e.eventType === 0x01) found = thresholdKind(e.sensorType, e.offset);
  else if (e.eventType === 0x6f) {
    const row = SPECIFIC[e.sensorType]?.[e.offset];
    if (row) found = { kind: row[0], defaultSeverity: row[1], summary: row[2], qualifier: String(e.offset) };
    else {
      const name = SENSOR_SPECIFIC_OFFSETS[e.sensorType]?.[e.offset];
      if (name) found = { kind: 'sensor-event', defaultSeverity: 'info', summary: `${sensorName[0].toUpperCase()}${sensorName.slice(1)}: ${name}`, qualifier: `${e.sensorType}-${e.eventType}-${e.offset}` };
    }
  } else if (e.eventType >= 0x02 && e.eventType <= 0x0c) {
    const row = GENERIC[e.eventType]?.[e.offset];
    const text = row ? row[0] : `generic event ${hex(e.eventType)} offset ${e.offset}`;
    found = { kind: sensorName.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), defaultSeverity: row ? row[1] : 'warning', summary: `${sensorName[0].toUpperCase()}${sensorName.slice(1)}: ${text}`, qualifier: `${e.eventType}-${e.offset}` };
  }
  if (!found) {
    found = {
      kind: e.eventType >= 0x70 ? 'oem-event' : 'sensor-event',
      defaultSeverity: 'info',
      summary: `${sensorName[0].toUpperCase()}${sensorName.slice(1)} event (type ${hex(e.eventType)}, offset ${e.offset})`,
      qualifier: `${e.sensorType}-${e.eventType}-${e.offset}`,
    };
  }
  if (e.sensorType === 0x0f && e.eventData && e.eventData.length > 1) {
    const code = e.eventData[1];
    const table = e.offset === 2 ? FIRMWARE_PROGRESS : FIRMWARE_ERRORS;
    const text = table[code];
    if (text && e.offset !== 1) found = { ...found, summary: `${found.summary}: ${text}` };
  }
  return found;
}

export function entityName(id: number | undefined): string | undefined {
  return id === undefined ? undefined : (ENTITIES[id] ?? `entity ${hex(id)}`);
}

/** An entity instance as a person reads it: "3", or "2 (device-relative)" for 60h-7Fh. */
export function entityInstanceText(instance: number): string {
  return instance >= DEVICE_RELATIVE_INSTANCE && instance <= 0x7f ? `${instance - DEVICE_RELATIVE_INSTANCE} (device-relative)` : String(instance);
}

/**
 * The severity to report. A deassertion is ok. An assertion: the more severe of the sender's own
 * severity byte (when it gives one) and what the event means to us, so a sender that marks
 * everything "information" cannot hide a failed power supply, and one that knows better than our
 * table is heard.
 */
export function severityOf(e: SensorEvent, i: Interpretation): Severity {
  if (e.deassert) return 'ok';
  const s = e.severityCode === undefined ? undefined : PET_SEVERITIES[e.severityCode]?.severity;
  return s === undefined ? i.defaultSeverity : moreSevere(s, i.defaultSeverity);
}
