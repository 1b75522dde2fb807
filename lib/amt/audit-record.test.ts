/**
 * Audit records from real devices (test/fixtures/amt: the go-wsman-messages ReadRecords capture
 * and ten records from Intel's MPS tests) decoded into who, what, when and from where; malformed
 * records refused with a reason; our encoder and decoder agree on any record.
 */
import * as fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvelope, readMethodOutput } from '../wsman/envelope';
import { applySchema } from '../wsman/typing';
import { AUDIT_APPS, auditEventId, auditEventName, slug } from './audit-events';
import { AuditRecordError, decodeAuditRecord, encodeAuditRecord, sidToString } from './audit-record';
import { amtSchemaFor } from './schema';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures', 'amt');

function capturedRecords(): string[] {
  const env = readEnvelope(readFileSync(join(FIXTURES, 'AMT_AuditLog-ReadRecords.xml'), 'utf8'));
  const out = applySchema(readMethodOutput(env, 'ReadRecords'), amtSchemaFor('AMT_AuditLog.ReadRecords'));
  expect(out.TotalRecordCount).toBe(2);
  return out.EventRecords as string[];
}

describe('audit records captured from real firmware', () => {
  it('decodes the two records of the ReadRecords capture: a local firmware update', () => {
    const [first, second] = capturedRecords().map((r, i) => decodeAuditRecord(r, i + 1));
    expect(first).toMatchObject({
      index: 1,
      appId: 19,
      app: 'Firmware Update',
      eventId: 0,
      event: 'Firmware updated',
      action: 'firmware-updated',
      initiator: 'local',
      who: 'local',
      // The RTC was not set yet when this PC was updated.
      time: '2004-01-02T01:46:22.000Z',
      details: { oldVersion: '12.0.40.1433', newVersion: '12.0.36.1428' },
      extendedData: '000c000000280599000c000000240594',
    });
    expect(first.from).toBeUndefined();
    expect(first.summary).toBe('2004-01-02 01:46 UTC local: Firmware Update: Firmware updated (12.0.40.1433 -> 12.0.36.1428)');
    expect(second.time).toBe('2004-01-02T01:46:23.000Z');
    expect(second.index).toBe(2);
  });

  it('decodes the MPS records: users, addresses, extended data', () => {
    const page = JSON.parse(readFileSync(join(FIXTURES, 'AMT_AuditLog-ReadRecords-mps.json'), 'utf8')) as { EventRecords: string[] };
    const recs = page.EventRecords.map((r, i) => decodeAuditRecord(r, i + 1));
    expect(recs.map((r) => r.action)).toEqual([
      'unprovisioned',
      'provisioning-started',
      'provisioning-started',
      'upgraded-from-client-to-admin-control-mode',
      'unprovisioned',
      'provisioning-started',
      'provisioning-started',
      'time-set',
      'unprovisioned',
      'provisioning-started',
    ]);
    expect(recs[0]).toMatchObject({ app: 'Security Admin', initiator: 'local', details: { source: 'MEBx' } });
    expect(recs[3]).toMatchObject({ initiator: 'digest', who: 'admin', user: 'admin', from: '127.0.0.1', time: '2020-06-29T11:54:55.000Z' });
    expect(recs[7]).toMatchObject({ app: 'Network Time', who: '$$OsAdmin', from: '127.0.0.1', details: { newTime: '2020-06-29T19:29:22.000Z' } });
    expect(recs[7].time).toBe('2020-06-29T12:29:54.000Z');
    expect(recs[7].summary).toBe('2020-06-29 12:29 UTC $$OsAdmin from 127.0.0.1: Network Time: Time set (to 2020-06-29T19:29:22.000Z)');
  });
});

describe('malformed records', () => {
  const good = 'ABAAEgAFYWRtaW5e+daPAAkxMjcuMC4wLjEA';

  it.each([
    ['cut inside the user name', Buffer.from(good, 'base64').subarray(0, 8).toString('base64'), /inside user name/],
    ['cut before the time stamp', Buffer.from([0, 16, 0, 1, 2]).toString('base64'), /inside TimeStamp/],
    ['a network address longer than the record', Buffer.from([0, 17, 0, 3, 2, 0, 0, 0, 1, 0, 40, 0x31]).toString('base64'), /inside network address/],
    ['bytes after the extended data', Buffer.concat([Buffer.from(good, 'base64'), Buffer.from([1, 2])]).toString('base64'), /left over/],
    ['an unknown initiator type', Buffer.from([0, 17, 0, 3, 9, 0, 0, 0, 1, 2, 0, 0]).toString('base64'), /unknown initiator type 9/],
    ['text that is not base64', 'not base64!', /not base64/],
    ['an empty record', '', /inside AuditAppID/],
  ])('refuses %s with the reason', (_what, raw, reason) => {
    expect(() => decodeAuditRecord(raw)).toThrow(AuditRecordError);
    expect(() => decodeAuditRecord(raw)).toThrow(reason);
  });

  it('names an event it does not know without failing', () => {
    const rec = decodeAuditRecord(encodeAuditRecord({ appId: 99, eventId: 7, initiator: { type: 'local' }, time: 0 }));
    expect(rec).toMatchObject({ app: 'Application 99', event: 'Event 7', action: 'app-99-event-7' });
  });
});

describe('Kerberos initiators', () => {
  it('writes the user as a SID: domain SID then the user RID', () => {
    // S-1-5-21-1004336348-1177238915-682003330 as a binary SID.
    const domain = Buffer.from('010400000000000515000000dcf4dc3b833d2b46828ba628', 'hex');
    expect(sidToString(domain)).toBe('S-1-5-21-1004336348-1177238915-682003330');
    const rec = decodeAuditRecord(encodeAuditRecord({ appId: 17, eventId: 3, initiator: { type: 'kerberos', rid: 1104, domainSid: domain }, time: 1714554720, address: '10.0.0.5' }));
    expect(rec).toMatchObject({ initiator: 'kerberos', sid: 'S-1-5-21-1004336348-1177238915-682003330-1104', who: 'S-1-5-21-1004336348-1177238915-682003330-1104', event: 'Reset', from: '10.0.0.5' });
  });
});

describe('event names', () => {
  it('gives every event a distinct slug that maps back to its numbers', () => {
    const seen = new Set<string>();
    for (const [appId, app] of Object.entries(AUDIT_APPS)) {
      for (const [eventId, name] of Object.entries(app.events)) {
        const s = slug(name);
        expect(seen.has(s)).toBe(false);
        seen.add(s);
        expect(auditEventId(s)).toEqual({ appId: Number(appId), eventId: Number(eventId) });
        expect(auditEventName(Number(appId), Number(eventId)).action).toBe(s);
      }
    }
    expect(seen.size).toBeGreaterThan(100);
  });
});

describe('encoder and decoder', () => {
  it('agree on any record', () => {
    const initiator = fc.oneof(
      fc.record({ type: fc.constant('digest' as const), user: fc.string({ minLength: 1, maxLength: 32 }).filter((s) => /^[\x21-\x7e]+$/.test(s)) }),
      fc.constant({ type: 'local' as const }),
      fc.constant({ type: 'kvm-default-port' as const }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 33 }),
        fc.integer({ min: 0, max: 25 }),
        initiator,
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.option(fc.ipV4(), { nil: undefined }),
        fc.uint8Array({ maxLength: 40 }),
        (appId, eventId, who, time, address, ext) => {
          const rec = decodeAuditRecord(encodeAuditRecord({ appId, eventId, initiator: who, time, address, extended: Buffer.from(ext) }));
          expect(rec.appId).toBe(appId);
          expect(rec.eventId).toBe(eventId);
          expect(rec.time).toBe(new Date(time * 1000).toISOString());
          expect(rec.from).toBe(address);
          expect(rec.who).toBe(who.type === 'digest' ? who.user : who.type);
          expect(rec.extendedData).toBe(Buffer.from(ext).toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
