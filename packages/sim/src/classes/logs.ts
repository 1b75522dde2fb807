/**
 * Logs: AMT_MessageLog (the platform event log: PositionToFirstRecord + GetRecords, 21-byte records)
 * and AMT_AuditLog (ReadRecords, ClearLog; the record layout lives in ../audit-record.ts).
 * `addEventLogRecord` is the hook for later features (alerts, boot progress) to put records in the
 * event log; a new device starts with two boot-progress records. `auditAction` records what a
 * console did (power actions and boot settings are audited with the console's user and address).
 */
import { encodeSimAuditRecord as encodeAuditRecord, simAuditEvent as auditEventId, SimAuditRecord as AuditRecordInput } from '../audit-record';
import type { SimDevice } from '../device';
import { datetime } from '../values';
import { ClassHandler, inputInt, SimPeer } from './types';

export interface EventLogRecord {
  /** Seconds since 1970 (AMT writes it little-endian). */
  time: number;
  deviceAddress?: number;
  sensorType: number;
  eventType: number;
  eventOffset: number;
  eventSourceType?: number;
  severity: number;
  sensorNumber?: number;
  entity: number;
  entityInstance?: number;
  eventData?: number[];
}

/** The 21-byte record as AMT_MessageLog.GetRecords returns it (before base64). */
export function encodeEventRecord(r: EventLogRecord): Buffer {
  const b = Buffer.alloc(21);
  b.writeUInt32LE(r.time >>> 0, 0);
  b[4] = r.deviceAddress ?? 0xff;
  b[5] = r.sensorType;
  b[6] = r.eventType;
  b[7] = r.eventOffset;
  b[8] = r.eventSourceType ?? 0x68;
  b[9] = r.severity;
  b[10] = r.sensorNumber ?? 0xff;
  b[11] = r.entity;
  b[12] = r.entityInstance ?? 0;
  (r.eventData ?? []).slice(0, 8).forEach((x, i) => (b[13 + i] = x));
  return b;
}

const MAX_EVENT_RECORDS = 390;

function eventLog(d: SimDevice): Buffer[] {
  return d.classState<Buffer[]>('AMT_MessageLog', () => {
    const t = Math.floor(Date.now() / 1000) - 60;
    // System firmware progress (sensor type 0x0F): memory init, then hard-disk init.
    return [
      encodeEventRecord({ time: t, sensorType: 0x0f, eventType: 0x6f, eventOffset: 2, severity: 0x08, entity: 0x22, eventData: [0x40, 0x01] }),
      encodeEventRecord({ time: t + 5, sensorType: 0x0f, eventType: 0x6f, eventOffset: 2, severity: 0x08, entity: 0x22, eventData: [0x40, 0x07] }),
    ];
  });
}

/** Append a record; the log keeps the newest 390 like AMT. */
export function addEventLogRecord(d: SimDevice, r: EventLogRecord): void {
  const log = eventLog(d);
  log.push(encodeEventRecord(r));
  if (log.length > MAX_EVENT_RECORDS) log.shift();
}

/** The event log as AMT 12 describes it (test/fixtures/amt/gwm/amt/messagelog/pull.xml). */
export const messageLog: ClassHandler = {
  className: 'AMT_MessageLog',
  commonNs: true,
  instances: (d) => [
    {
      Capabilities: [5, 6, 8, 7],
      CharacterSet: 10,
      CreationClassName: 'AMT_MessageLog',
      CurrentNumberOfRecords: eventLog(d).length,
      ElementName: 'Intel(r) AMT:MessageLog 1',
      EnabledDefault: 2,
      EnabledState: 2,
      HealthState: 5,
      IsFrozen: false,
      LastChange: 0,
      LogState: 4,
      MaxLogSize: 0,
      MaxNumberOfRecords: MAX_EVENT_RECORDS,
      MaxRecordSize: 21,
      Name: 'Intel(r) AMT:MessageLog 1',
      OperationalStatus: 2,
      OverwritePolicy: 2,
      PercentageNearFull: Math.floor((eventLog(d).length * 100) / MAX_EVENT_RECORDS),
      RequestedState: 12,
      SizeOfHeader: 0,
      SizeOfRecordHeader: 0,
      Status: 'OK',
    },
  ],
  methods: {
    PositionToFirstRecord: () => ({ out: { IterationIdentifier: 1 }, returnValue: 0 }),
    /** Newest first; IterationIdentifier is the 1-based position of the next record. */
    GetRecords: ({ device, input }) => {
      const start = inputInt(input, 'IterationIdentifier') ?? 1;
      const max = Math.max(1, Math.min(inputInt(input, 'MaxReadRecords') ?? 390, 390));
      const newestFirst = [...eventLog(device)].reverse();
      if (start < 1 || start > newestFirst.length + 1) return { returnValue: 2 };
      const page = newestFirst.slice(start - 1, start - 1 + max);
      const next = start + page.length;
      return {
        out: { IterationIdentifier: next, NoMoreRecords: next > newestFirst.length, RecordArray: page.map((b) => b.toString('base64')) },
        returnValue: 0,
      };
    },
  },
};

/** Newest records kept; older ones are overwritten (OverwritePolicy 2: wrap when full). */
export const MAX_AUDIT_RECORDS = 1000;

interface AuditState {
  records: string[];
  /** Seconds since 1970 of the newest record (TimeOfLastRecord). */
  lastTime: number;
}

/**
 * The audit log a provisioned PC has after a few months: provisioning, a firmware update (the
 * record of test/fixtures/amt/AMT_AuditLog-ReadRecords.xml, time moved), the OS agent setting
 * the clock, a help-desk user added and KVM enabled.
 */
function auditLog(d: SimDevice): AuditState {
  return d.classState<AuditState>('AMT_AuditLog', () => {
    const t = Math.floor(Date.now() / 1000) - 90 * 86400;
    const local = { type: 'local' as const };
    const admin = { type: 'digest' as const, user: 'admin' };
    const at = (action: string, time: number, initiator: AuditRecordInput['initiator'], address?: string, extended?: Buffer): string =>
      encodeAuditRecord({ ...auditEventId(action), initiator, time, address, extended });
    const fw = (v: number[]) => Buffer.concat(v.map((x) => Buffer.from([x >> 8, x & 0xff])));
    const helpdesk = Buffer.concat([Buffer.from([0, 8]), Buffer.from('helpdesk', 'latin1')]);
    const clock = Buffer.alloc(4);
    clock.writeUInt32BE(t + 3700);
    return {
      records: [
        at('provisioning-started', t, local),
        at('provisioning-completed', t + 40, local, undefined, Buffer.from([5])),
        at('firmware-updated', t + 3600, local, undefined, Buffer.concat([fw([12, 0, 40, 1433]), fw([12, 0, 36, 1428])])),
        at('time-set', t + 3700, { type: 'digest', user: '$$OsAdmin' }, '127.0.0.1', clock),
        at('user-added', t + 86400, admin, '192.0.2.10', helpdesk),
        at('kvm-enabled', t + 86460, admin, '192.0.2.10'),
      ],
      lastTime: t + 86460,
    };
  });
}

/** Append a record (the newest); the oldest is dropped once the log is full. */
export function addAuditRecord(d: SimDevice, r: Omit<AuditRecordInput, 'time'> & { time?: number }): void {
  const state = auditLog(d);
  const log = state.records;
  const time = r.time ?? Math.floor(Date.now() / 1000);
  log.push(encodeAuditRecord({ ...r, time }));
  state.lastTime = Math.max(state.lastTime, time);
  if (log.length > MAX_AUDIT_RECORDS) log.splice(0, log.length - MAX_AUDIT_RECORDS);
}

/** Append a record exactly as given (base64), well-formed or not: for tests of firmware quirks. */
export function addRawAuditRecord(d: SimDevice, base64: string): void {
  auditLog(d).records.push(base64);
}

/** Record an action a console took (by its audit action slug: "reset", "boot-options-set"...). */
export function auditAction(d: SimDevice, action: string, peer: SimPeer | undefined, extended?: Buffer): void {
  addAuditRecord(d, {
    ...auditEventId(action),
    initiator: peer ? { type: 'digest', user: peer.user } : { type: 'local' },
    address: peer?.address,
    ipv6: peer?.address?.includes(':'),
    extended,
  });
}

/** CIM PowerState requested -> the Remote Control audit event AMT writes for it. */
const POWER_AUDIT: Readonly<Record<number, string>> = {
  2: 'power-on',
  3: 'standby',
  4: 'standby',
  5: 'power-cycle',
  6: 'power-off',
  7: 'hibernate',
  8: 'power-off',
  9: 'power-cycle',
  10: 'reset',
  11: 'nmi',
  12: 'graceful-power-off',
  13: 'graceful-power-off',
  14: 'graceful-reset',
};

export function auditPowerAction(d: SimDevice, powerState: number, peer: SimPeer | undefined): void {
  const action = POWER_AUDIT[powerState];
  if (action) auditAction(d, action, peer);
}

/** Empty the log (as AMT_AuditLog.ClearLog does). */
export function clearAuditLog(d: SimDevice): void {
  auditLog(d).records.length = 0;
}

/**
 * As AMT 12 describes its audit log (test/fixtures/amt/gwm/amt/auditlog/pull.xml): AuditState 16
 * (no signing key set), MaxNumberOfRecords 0 (firmware sizes the log in bytes, not records).
 */
export const auditLogClass: ClassHandler = {
  className: 'AMT_AuditLog',
  commonNs: true,
  instances: (d) => [
    {
      AuditState: 16,
      CurrentNumberOfRecords: auditLog(d).records.length,
      ElementName: 'Intel(r) AMT Audit Log',
      EnabledState: 2,
      MaxAllowedAuditors: 1,
      MaxNumberOfRecords: 0,
      Name: 'Intel(r) AMT:Audit Log',
      OverwritePolicy: 2,
      PercentageFree: Math.max(0, 100 - Math.ceil((auditLog(d).records.length * 100) / MAX_AUDIT_RECORDS)),
      RequestedState: 2,
      StoragePolicy: 1,
      TimeOfLastRecord: datetime(new Date(auditLog(d).lastTime * 1000).toISOString().replace(/\.\d+Z$/, 'Z')),
    },
  ],
  methods: {
    /** Up to 10 records from StartIndex (1-based), oldest first. */
    ReadRecords: ({ device, input }) => {
      const log = auditLog(device).records;
      const start = inputInt(input, 'StartIndex') ?? 1;
      if (start < 1 || start > log.length + 1) return { returnValue: 2 };
      const page = log.slice(start - 1, start - 1 + 10);
      return {
        out: { TotalRecordCount: log.length, RecordsReturned: page.length, EventRecords: page },
        returnValue: 0,
      };
    },
    ClearLog: ({ device, peer }) => {
      clearAuditLog(device);
      auditAction(device, 'audit-log-cleared', peer);
      return { returnValue: 0 };
    },
  },
};

export const logClasses = [messageLog, auditLogClass];
