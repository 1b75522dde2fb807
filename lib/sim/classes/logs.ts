/**
 * Logs: AMT_MessageLog (the platform event log: PositionToFirstRecord + GetRecords, 21-byte records)
 * and AMT_AuditLog (ReadRecords). `addEventLogRecord` is the hook for later features (alerts, boot
 * progress) to put records in the log; a new device starts with two boot-progress records.
 */
import type { SimDevice } from '../device';
import { ClassHandler, inputInt } from './types';

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

export const messageLog: ClassHandler = {
  className: 'AMT_MessageLog',
  commonNs: true,
  instances: (d) => [
    {
      Capabilities: [3, 4, 7],
      CharacterSet: 10,
      CreationClassName: 'AMT_MessageLog',
      CurrentNumberOfRecords: eventLog(d).length,
      ElementName: 'Intel(r) AMT:MessageLog',
      EnabledDefault: 2,
      EnabledState: 2,
      HealthState: 5,
      IsFrozen: false,
      LastChange: 0,
      MaxNumberOfRecords: MAX_EVENT_RECORDS,
      Name: 'Intel(r) AMT:MessageLog',
      OverWritePolicy: 2,
      PercentageNearFull: 0,
      RequestedState: 12,
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

function auditLog(d: SimDevice): Buffer[] {
  return d.classState<Buffer[]>('AMT_AuditLog', () => {
    const t = Math.floor(Date.now() / 1000) - 3600;
    // Same layout as the captured records: AuditAppID 19 (Security Admin), EventID 0 (provisioning
    // started), initiator local, time, then a network-address block.
    const rec = (time: number): Buffer => {
      const b = Buffer.from('ABMAAAI/9M1uAgAQAAwAAAAoBZkADAAAACQFlA==', 'base64');
      b.writeUInt32BE(time >>> 0, 5);
      return b;
    };
    return [rec(t), rec(t + 1)];
  });
}

export const auditLogClass: ClassHandler = {
  className: 'AMT_AuditLog',
  commonNs: true,
  instances: (d) => [
    {
      CreationClassName: 'AMT_AuditLog',
      CurrentNumberOfRecords: auditLog(d).length,
      ElementName: 'Intel(r) AMT:Audit Log',
      EnabledState: 2,
      MaxAllowedAuditors: 1,
      MaxNumberOfRecords: 0,
      Name: 'Intel(r) AMT:Audit Log',
      OverwritePolicy: 2,
      PercentageFree: 99,
      RequestedState: 2,
      StoragePolicy: 1,
    },
  ],
  methods: {
    /** Up to 10 records from StartIndex (1-based), oldest first. */
    ReadRecords: ({ device, input }) => {
      const log = auditLog(device);
      const start = inputInt(input, 'StartIndex') ?? 1;
      if (start < 1 || start > log.length + 1) return { returnValue: 2 };
      const page = log.slice(start - 1, start - 1 + 10);
      return {
        out: { TotalRecordCount: log.length, RecordsReturned: page.length, EventRecords: page.map((b) => b.toString('base64')) },
        returnValue: 0,
      };
    },
  },
};

export const logClasses = [messageLog, auditLogClass];
