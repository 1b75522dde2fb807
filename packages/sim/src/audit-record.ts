/**
 * AMT_AuditLog records as the simulated firmware writes them (the bytes ReadRecords returns in
 * base64), laid out as Intel's AMT SDK documents them and MeshCommander reads them:
 *
 *   AuditAppID (2, big-endian) EventID (2) InitiatorType (1: 0 HTTP Digest, 1 Kerberos, 2 local,
 *   3 KVM default port) then for Digest: user length (1) + user; for Kerberos: user-in-domain RID
 *   (4) + SID length (1) + SID. TimeStamp (4, Unix seconds) MCLocationType (1: 0 IPv4, 1 IPv6,
 *   2 none) NetAddress length (1) + address text, ExtendedData length (1) + data.
 */

/** The events the simulator writes: [AuditAppID, EventID] (AMT SDK "Auditable Events"). */
const SIM_AUDIT_EVENTS: Readonly<Record<string, readonly [number, number]>> = {
  'provisioning-started': [16, 0],
  'provisioning-completed': [16, 1],
  'user-added': [16, 2],
  'power-on': [17, 0],
  'power-off': [17, 1],
  'power-cycle': [17, 2],
  reset: [17, 3],
  'boot-options-set': [17, 4],
  'graceful-power-off': [17, 5],
  'graceful-reset': [17, 6],
  standby: [17, 7],
  hibernate: [17, 8],
  nmi: [17, 9],
  'kvm-enabled': [18, 10],
  'firmware-updated': [19, 0],
  'audit-log-cleared': [20, 0],
  'time-set': [21, 0],
};

export function simAuditEvent(action: string): { appId: number; eventId: number } {
  const ids = Object.prototype.hasOwnProperty.call(SIM_AUDIT_EVENTS, action) ? SIM_AUDIT_EVENTS[action] : undefined;
  if (!ids) throw new Error(`the simulator writes no audit event "${action}"`);
  return { appId: ids[0], eventId: ids[1] };
}

export interface SimAuditRecord {
  appId: number;
  eventId: number;
  initiator: { type: 'digest'; user: string } | { type: 'kerberos'; rid: number; domainSid: Buffer } | { type: 'local' } | { type: 'kvm-default-port' };
  /** Unix seconds. */
  time: number;
  address?: string;
  ipv6?: boolean;
  extended?: Buffer;
}

const INITIATOR_TYPE = { digest: 0, kerberos: 1, local: 2, 'kvm-default-port': 3 } as const;

/** A one-byte length, then the bytes. */
function withLength(b: Buffer): Buffer {
  if (b.length > 0xff) throw new Error('an audit record field holds at most 255 bytes');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

export function encodeSimAuditRecord(r: SimAuditRecord): string {
  const head = Buffer.alloc(5);
  head.writeUInt16BE(r.appId, 0);
  head.writeUInt16BE(r.eventId, 2);
  head[4] = INITIATOR_TYPE[r.initiator.type];
  const parts: Buffer[] = [head];
  const i = r.initiator;
  if (i.type === 'digest') parts.push(withLength(Buffer.from(i.user, 'latin1')));
  if (i.type === 'kerberos') {
    const rid = Buffer.alloc(4);
    rid.writeUInt32BE(i.rid >>> 0);
    parts.push(rid, withLength(i.domainSid));
  }
  const time = Buffer.alloc(4);
  time.writeUInt32BE(r.time >>> 0);
  parts.push(time, Buffer.from([r.address === undefined || r.address === '' ? 2 : r.ipv6 ? 1 : 0]));
  parts.push(withLength(Buffer.from(r.address ?? '', 'latin1')), withLength(r.extended ?? Buffer.alloc(0)));
  return Buffer.concat(parts).toString('base64');
}
