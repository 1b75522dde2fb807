/**
 * What an IPMI platform event means (IPMI v2.0 tables 36-1 to 36-3 and 42-3): sensor type names,
 * event/reading type codes and the meaning of each offset, turned into an OOBKit alert kind, a
 * severity and a line a person can read. The same tables describe SEL records and PET traps.
 */

export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info' | 'ok';

/** Sensor types (table 42-3), as kebab-case names. */
export const SENSOR_TYPES: Readonly<Record<number, string>> = {
  0x01: 'temperature',
  0x02: 'voltage',
  0x03: 'current',
  0x04: 'fan',
  0x05: 'physical-security',
  0x06: 'platform-security',
  0x07: 'processor',
  0x08: 'power-supply',
  0x09: 'power-unit',
  0x0a: 'cooling-device',
  0x0b: 'other-units',
  0x0c: 'memory',
  0x0d: 'drive-slot',
  0x0e: 'post-memory-resize',
  0x0f: 'system-firmware-progress',
  0x10: 'event-logging',
  0x11: 'watchdog-1',
  0x12: 'system-event',
  0x13: 'critical-interrupt',
  0x14: 'button',
  0x15: 'module-board',
  0x16: 'microcontroller',
  0x17: 'add-in-card',
  0x18: 'chassis',
  0x19: 'chip-set',
  0x1a: 'other-fru',
  0x1b: 'cable',
  0x1c: 'terminator',
  0x1d: 'system-boot',
  0x1e: 'boot-error',
  0x1f: 'os-boot',
  0x20: 'os-stop',
  0x21: 'slot-connector',
  0x22: 'acpi-power-state',
  0x23: 'watchdog',
  0x24: 'platform-alert',
  0x25: 'entity-presence',
  0x26: 'monitor-asic',
  0x27: 'lan',
  0x28: 'management-subsystem-health',
  0x29: 'battery',
  0x2a: 'session-audit',
  0x2b: 'version-change',
  0x2c: 'fru-state',
};

export function sensorTypeName(type: number): string {
  return SENSOR_TYPES[type] ?? (type >= 0xc0 ? `oem-sensor-0x${type.toString(16)}` : `sensor-type-0x${type.toString(16)}`);
}

/** One offset's meaning: text for people, a kind slug, and the severity of its assertion. */
interface OffsetMeaning {
  text: string;
  kind: string;
  severity: Severity;
}

const m = (text: string, kind: string, severity: Severity): OffsetMeaning => ({ text, kind, severity });

/** Threshold offsets (event/reading type 0x01). */
const THRESHOLD: OffsetMeaning[] = [
  m('lower non-critical going low', 'low', 'warning'),
  m('lower non-critical going high', 'low', 'warning'),
  m('lower critical going low', 'low', 'major'),
  m('lower critical going high', 'low', 'major'),
  m('lower non-recoverable going low', 'low', 'critical'),
  m('lower non-recoverable going high', 'low', 'critical'),
  m('upper non-critical going low', 'high', 'warning'),
  m('upper non-critical going high', 'high', 'warning'),
  m('upper critical going low', 'high', 'major'),
  m('upper critical going high', 'high', 'major'),
  m('upper non-recoverable going low', 'high', 'critical'),
  m('upper non-recoverable going high', 'high', 'critical'),
];

/** Generic discrete event/reading types 0x02-0x0C (table 42-2). */
const GENERIC: Readonly<Record<number, OffsetMeaning[]>> = {
  0x02: [m('transition to idle', 'idle', 'info'), m('transition to active', 'active', 'info'), m('transition to busy', 'busy', 'info')],
  0x03: [m('state deasserted', 'deasserted', 'info'), m('state asserted', 'asserted', 'warning')],
  0x04: [m('predictive failure deasserted', 'predictive-failure-cleared', 'info'), m('predictive failure asserted', 'predictive-failure', 'warning')],
  0x05: [m('limit not exceeded', 'limit-ok', 'info'), m('limit exceeded', 'limit-exceeded', 'warning')],
  0x06: [m('performance met', 'performance-met', 'info'), m('performance lags', 'performance-lags', 'warning')],
  0x07: [
    m('transition to OK', 'ok', 'info'),
    m('transition to non-critical from OK', 'non-critical', 'warning'),
    m('transition to critical from less severe', 'critical', 'major'),
    m('transition to non-recoverable from less severe', 'non-recoverable', 'critical'),
    m('transition to non-critical from more severe', 'non-critical', 'warning'),
    m('transition to critical from non-recoverable', 'critical', 'major'),
    m('transition to non-recoverable', 'non-recoverable', 'critical'),
    m('monitor', 'monitor', 'info'),
    m('informational', 'informational', 'info'),
  ],
  0x08: [m('device removed or absent', 'absent', 'warning'), m('device inserted or present', 'present', 'info')],
  0x09: [m('device disabled', 'disabled', 'warning'), m('device enabled', 'enabled', 'info')],
  0x0a: [
    m('transition to running', 'running', 'info'),
    m('transition to in test', 'in-test', 'info'),
    m('transition to power off', 'power-off', 'info'),
    m('transition to on line', 'on-line', 'info'),
    m('transition to off line', 'off-line', 'warning'),
    m('transition to off duty', 'off-duty', 'info'),
    m('transition to degraded', 'degraded', 'warning'),
    m('transition to power save', 'power-save', 'info'),
    m('install error', 'install-error', 'major'),
  ],
  0x0b: [
    m('fully redundant', 'redundancy-regained', 'info'),
    m('redundancy lost', 'redundancy-lost', 'major'),
    m('redundancy degraded', 'redundancy-degraded', 'warning'),
    m('non-redundant: sufficient resources from redundant', 'non-redundant', 'warning'),
    m('non-redundant: sufficient resources from insufficient', 'non-redundant', 'warning'),
    m('non-redundant: insufficient resources', 'insufficient-resources', 'critical'),
    m('redundancy degraded from fully redundant', 'redundancy-degraded', 'warning'),
    m('redundancy degraded from non-redundant', 'redundancy-degraded', 'warning'),
  ],
  0x0c: [m('D0 power state', 'd0', 'info'), m('D1 power state', 'd1', 'info'), m('D2 power state', 'd2', 'info'), m('D3 power state', 'd3', 'info')],
};

/** Sensor-specific offsets (event/reading type 0x6F), by sensor type (table 42-3). */
const SPECIFIC: Readonly<Record<number, OffsetMeaning[]>> = {
  0x05: [
    m('general chassis intrusion', 'chassis-intrusion', 'major'),
    m('drive bay intrusion', 'chassis-intrusion', 'major'),
    m('I/O card area intrusion', 'chassis-intrusion', 'major'),
    m('processor area intrusion', 'chassis-intrusion', 'major'),
    m('LAN leash lost (network cable unplugged)', 'lan-disconnected', 'warning'),
    m('unauthorized dock or undock', 'unauthorized-dock', 'warning'),
    m('fan area intrusion', 'chassis-intrusion', 'major'),
  ],
  0x06: [
    m('secure mode violation attempt', 'security-violation', 'major'),
    m('pre-boot user password violation', 'password-violation', 'warning'),
    m('pre-boot setup password violation', 'password-violation', 'warning'),
    m('pre-boot network boot password violation', 'password-violation', 'warning'),
    m('other pre-boot password violation', 'password-violation', 'warning'),
    m('out-of-band access password violation', 'password-violation', 'warning'),
  ],
  0x07: [
    m('internal error (IERR)', 'processor-ierr', 'critical'),
    m('thermal trip', 'processor-thermal-trip', 'critical'),
    m('FRB1/BIST failure', 'processor-failure', 'critical'),
    m('FRB2 hang in POST', 'processor-failure', 'critical'),
    m('FRB3 processor startup failure', 'processor-failure', 'critical'),
    m('configuration error', 'processor-config-error', 'major'),
    m('uncorrectable CPU-complex error', 'processor-failure', 'critical'),
    m('processor presence detected', 'processor-present', 'info'),
    m('processor disabled', 'processor-disabled', 'major'),
    m('terminator presence detected', 'terminator-present', 'info'),
    m('processor automatically throttled', 'processor-throttled', 'warning'),
    m('machine check exception', 'processor-mce', 'critical'),
    m('correctable machine check error', 'processor-mce-correctable', 'warning'),
  ],
  0x08: [
    m('power supply present', 'power-supply-present', 'info'),
    m('power supply failure', 'power-supply-failure', 'critical'),
    m('power supply predictive failure', 'power-supply-predictive-failure', 'warning'),
    m('power supply input lost (AC/DC)', 'power-supply-input-lost', 'major'),
    m('power supply input lost or out of range', 'power-supply-input-lost', 'major'),
    m('power supply input out of range', 'power-supply-input-range', 'warning'),
    m('power supply configuration error', 'power-supply-config-error', 'major'),
    m('power supply inactive (standby)', 'power-supply-standby', 'info'),
  ],
  0x09: [
    m('power off / power down', 'power-down', 'info'),
    m('power cycle', 'power-cycle', 'info'),
    m('240VA power down', 'power-down', 'major'),
    m('interlock power down', 'power-down', 'major'),
    m('AC lost', 'ac-lost', 'major'),
    m('soft power control failure', 'power-control-failure', 'major'),
    m('power unit failure', 'power-unit-failure', 'critical'),
    m('power unit predictive failure', 'power-unit-predictive-failure', 'warning'),
  ],
  0x0c: [
    m('correctable ECC error', 'memory-ecc-correctable', 'warning'),
    m('uncorrectable ECC error', 'memory-ecc-uncorrectable', 'critical'),
    m('memory parity error', 'memory-parity', 'critical'),
    m('memory scrub failed', 'memory-scrub-failed', 'major'),
    m('memory device disabled', 'memory-disabled', 'major'),
    m('correctable ECC logging limit reached', 'memory-ecc-limit', 'warning'),
    m('memory presence detected', 'memory-present', 'info'),
    m('memory configuration error', 'memory-config-error', 'major'),
    m('spare memory', 'memory-spare', 'info'),
    m('memory automatically throttled', 'memory-throttled', 'warning'),
    m('memory critical overtemperature', 'memory-overtemperature', 'critical'),
  ],
  0x0d: [
    m('drive present', 'drive-present', 'info'),
    m('drive fault', 'drive-fault', 'major'),
    m('drive predictive failure', 'drive-predictive-failure', 'warning'),
    m('hot spare', 'drive-hot-spare', 'info'),
    m('consistency check in progress', 'drive-check', 'info'),
    m('drive in critical array', 'drive-array-critical', 'major'),
    m('drive in failed array', 'drive-array-failed', 'critical'),
    m('rebuild in progress', 'drive-rebuild', 'info'),
    m('rebuild aborted', 'drive-rebuild-aborted', 'major'),
  ],
  0x0f: [
    m('system firmware error (POST error)', 'post-error', 'major'),
    m('system firmware hang', 'firmware-hang', 'critical'),
    m('system firmware progress', 'firmware-progress', 'info'),
  ],
  0x10: [
    m('correctable memory error logging disabled', 'logging-disabled', 'warning'),
    m('event type logging disabled', 'logging-disabled', 'warning'),
    m('event log cleared', 'sel-cleared', 'info'),
    m('all event logging disabled', 'logging-disabled', 'warning'),
    m('event log full', 'sel-full', 'warning'),
    m('event log almost full', 'sel-almost-full', 'warning'),
    m('correctable machine check error logging disabled', 'logging-disabled', 'warning'),
  ],
  0x11: [
    m('BIOS watchdog reset', 'watchdog', 'major'),
    m('OS watchdog reset', 'watchdog', 'major'),
    m('OS watchdog shut down', 'watchdog', 'major'),
    m('OS watchdog power down', 'watchdog', 'major'),
    m('OS watchdog power cycle', 'watchdog', 'major'),
    m('OS watchdog NMI', 'watchdog', 'major'),
    m('OS watchdog expired', 'watchdog', 'major'),
    m('OS watchdog pre-timeout interrupt', 'watchdog', 'warning'),
  ],
  0x12: [
    m('system reconfigured', 'system-reconfigured', 'info'),
    m('OEM system boot event', 'system-boot', 'info'),
    m('undetermined system hardware failure', 'hardware-failure', 'critical'),
    m('entry added to auxiliary log', 'aux-log', 'info'),
    m('PEF action', 'pef-action', 'info'),
    m('timestamp clock synchronized', 'clock-sync', 'info'),
  ],
  0x13: [
    m('front panel NMI / diagnostic interrupt', 'diagnostic-interrupt', 'warning'),
    m('bus timeout', 'bus-error', 'major'),
    m('I/O channel check NMI', 'bus-error', 'critical'),
    m('software NMI', 'software-nmi', 'warning'),
    m('PCI PERR', 'pci-error', 'critical'),
    m('PCI SERR', 'pci-error', 'critical'),
    m('EISA fail-safe timeout', 'bus-error', 'major'),
    m('bus correctable error', 'bus-error-correctable', 'warning'),
    m('bus uncorrectable error', 'bus-error', 'critical'),
    m('fatal NMI', 'fatal-nmi', 'critical'),
    m('bus fatal error', 'bus-error', 'critical'),
    m('bus degraded', 'bus-degraded', 'warning'),
  ],
  0x14: [
    m('power button pressed', 'power-button', 'info'),
    m('sleep button pressed', 'sleep-button', 'info'),
    m('reset button pressed', 'reset-button', 'info'),
    m('FRU latch open', 'fru-latch-open', 'warning'),
    m('FRU service request button pressed', 'service-request', 'warning'),
  ],
  0x1d: [
    m('system boot initiated by power up', 'system-boot', 'info'),
    m('system boot initiated by hard reset', 'system-boot', 'info'),
    m('system boot initiated by warm reset', 'system-boot', 'info'),
    m('user requested PXE boot', 'system-boot', 'info'),
    m('automatic boot to diagnostic', 'system-boot', 'info'),
    m('OS initiated hard reset', 'system-boot', 'info'),
    m('OS initiated warm reset', 'system-boot', 'info'),
    m('system restart', 'system-boot', 'info'),
  ],
  0x1e: [
    m('no bootable media', 'boot-failure', 'major'),
    m('non-bootable diskette left in drive', 'boot-failure', 'major'),
    m('PXE server not found', 'boot-failure', 'major'),
    m('invalid boot sector', 'boot-failure', 'major'),
    m('timeout waiting for boot source selection', 'boot-failure', 'warning'),
  ],
  0x1f: [
    m('A: boot completed', 'os-boot', 'info'),
    m('C: boot completed', 'os-boot', 'info'),
    m('PXE boot completed', 'os-boot', 'info'),
    m('diagnostic boot completed', 'os-boot', 'info'),
    m('CD-ROM boot completed', 'os-boot', 'info'),
    m('ROM boot completed', 'os-boot', 'info'),
    m('boot completed', 'os-boot', 'info'),
    m('base OS installation started', 'os-install', 'info'),
    m('base OS installation completed', 'os-install', 'info'),
    m('base OS installation aborted', 'os-install', 'warning'),
    m('base OS installation failed', 'os-install', 'major'),
  ],
  0x20: [
    m('critical stop during OS load', 'os-stop', 'critical'),
    m('run-time critical stop (panic, blue screen)', 'os-stop', 'critical'),
    m('OS graceful stop', 'os-shutdown', 'info'),
    m('OS graceful shutdown', 'os-shutdown', 'info'),
    m('soft shutdown initiated by PEF', 'os-shutdown', 'info'),
    m('agent not responding', 'agent-stopped', 'major'),
  ],
  0x23: [
    m('watchdog timer expired', 'watchdog', 'major'),
    m('watchdog hard reset', 'watchdog', 'major'),
    m('watchdog power down', 'watchdog', 'major'),
    m('watchdog power cycle', 'watchdog', 'major'),
    m('reserved', 'watchdog', 'major'),
    m('reserved', 'watchdog', 'major'),
    m('reserved', 'watchdog', 'major'),
    m('reserved', 'watchdog', 'major'),
    m('watchdog timer interrupt', 'watchdog', 'warning'),
  ],
  0x25: [m('entity present', 'entity-present', 'info'), m('entity absent', 'entity-absent', 'warning'), m('entity disabled', 'entity-disabled', 'warning')],
  0x27: [m('LAN heartbeat lost', 'lan-heartbeat-lost', 'major'), m('LAN heartbeat', 'lan-heartbeat', 'info')],
  0x28: [
    m('sensor access degraded or unavailable', 'bmc-degraded', 'warning'),
    m('controller access degraded or unavailable', 'bmc-degraded', 'warning'),
    m('management controller off-line', 'bmc-offline', 'major'),
    m('management controller unavailable', 'bmc-offline', 'major'),
    m('sensor failure', 'sensor-failure', 'warning'),
    m('FRU failure', 'fru-failure', 'major'),
  ],
  0x29: [m('battery low', 'battery-low', 'warning'), m('battery failed', 'battery-failed', 'major'), m('battery present', 'battery-present', 'info')],
  0x2a: [
    m('session activated', 'session-activated', 'info'),
    m('session deactivated', 'session-deactivated', 'info'),
    m('invalid user name or password', 'login-failed', 'warning'),
    m('user disabled after failed logins', 'login-lockout', 'major'),
  ],
  0x2b: [
    m('hardware change detected', 'hardware-change', 'info'),
    m('firmware or software change detected', 'firmware-change', 'info'),
    m('hardware incompatibility detected', 'hardware-incompatible', 'major'),
    m('firmware or software incompatibility detected', 'firmware-incompatible', 'major'),
    m('invalid or unsupported hardware version', 'hardware-incompatible', 'major'),
    m('invalid or unsupported firmware or software version', 'firmware-incompatible', 'major'),
    m('hardware change successful', 'hardware-change', 'info'),
    m('firmware or software change successful', 'firmware-change', 'info'),
  ],
};

/** Sensor types whose threshold events read as "<type>-high" / "<type>-low". */
const THRESHOLD_BASE: Readonly<Record<number, string>> = { 0x01: 'temperature', 0x02: 'voltage', 0x03: 'current', 0x04: 'fan' };

export interface EventMeaning {
  /** OOBKit alert kind, e.g. "temperature-high", "chassis-intrusion", "power-supply-failure". */
  kind: string;
  /** Severity of the assertion; a deassertion of a condition is "ok". */
  severity: Severity;
  /** What happened, for people: "upper critical going high". */
  description: string;
  /** The event ends a condition (a deassertion). */
  resolves: boolean;
  sensorType: string;
}

/**
 * Meaning of one event: sensor type, event/reading type code (bit 7 = deassertion) and offset
 * (event data 1, bits 3:0). Unknown combinations still get a kind and a description.
 */
export function describeEvent(sensorType: number, eventDirType: number, offset: number): EventMeaning {
  const deassert = (eventDirType & 0x80) !== 0;
  const readingType = eventDirType & 0x7f;
  const typeName = sensorTypeName(sensorType);
  let meaning: OffsetMeaning | undefined;
  if (readingType === 0x01) {
    const t = THRESHOLD[offset];
    if (t) meaning = { ...t, kind: `${THRESHOLD_BASE[sensorType] ?? typeName}-${t.kind}` };
  } else if (readingType >= 0x02 && readingType <= 0x0c) {
    const g = GENERIC[readingType]?.[offset];
    if (g) meaning = { ...g, kind: `${typeName}-${g.kind}` };
  } else if (readingType === 0x6f) {
    meaning = SPECIFIC[sensorType]?.[offset];
  }
  if (!meaning) {
    const oem = readingType >= 0x70 && readingType <= 0x7f;
    meaning = m(`${oem ? 'OEM ' : ''}event type 0x${readingType.toString(16)} offset ${offset}`, typeName, 'info');
  }
  return {
    kind: meaning.kind,
    severity: deassert ? 'ok' : meaning.severity,
    description: deassert ? `${meaning.text} (deasserted)` : meaning.text,
    resolves: deassert,
    sensorType: typeName,
  };
}
