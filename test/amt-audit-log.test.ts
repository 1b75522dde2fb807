/**
 * Reading the audit log of simulated PCs with lib/amt/audit-log: page after page to the end,
 * only what is new since a remembered position, and what happens when the log was cleared or
 * wrapped, when a record is malformed and when the device stops answering halfway.
 */
import { openAmt } from '../lib/amt/connect';
import { AuditPosition, readAuditLog } from '../lib/amt/audit-log';
import type { AuditRecord } from '../lib/amt/audit-record';
import { auditEventId } from '../lib/amt/audit-events';
import type { WsmanClient } from '../lib/wsman/client';
import { addAuditRecord, addRawAuditRecord, clearAuditLog, Fleet, MAX_AUDIT_RECORDS, SimDevice, startFleet } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'Audit-P@ss1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: 6, port: 0, user: USER, password: PASSWORD, seed: 'audit-log-test' });
});
afterAll(async () => {
  await fleet.stop();
});

const clients: WsmanClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function clientFor(d: SimDevice, timeoutMs = 3000): WsmanClient {
  const c = openAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD, timeoutMs });
  clients.push(c);
  return c;
}

function add(d: SimDevice, action: string, user: string, n = 1): void {
  for (let i = 0; i < n; i++) addAuditRecord(d, { ...auditEventId(action), initiator: { type: 'digest', user: `${user}${n > 1 ? i : ''}` }, address: '192.0.2.77' });
}

/** Answers normally for `n` more requests, then never again (until faults are cleared). */
function hangAfter(d: SimDevice, n: number): void {
  let seen = 0;
  const onRequest = () => {
    if (++seen === n) {
      d.injectFault({ kind: 'hang', count: 1000 });
      d.off('request', onRequest);
    }
  };
  d.on('request', onRequest);
}

const good = (recs: unknown[]) => recs as AuditRecord[];

describe('reading the audit log', () => {
  it('reads every record of a fresh PC, oldest first, with who, what, when and from where', async () => {
    const res = await readAuditLog(clientFor(fleet.devices[0]), { mode: 'all' });
    expect(res.partial).toBe(false);
    expect(res.total).toBe(6);
    const recs = good(res.records);
    expect(recs.map((r) => r.action)).toEqual(['provisioning-started', 'provisioning-completed', 'firmware-updated', 'time-set', 'user-added', 'kvm-enabled']);
    expect(recs.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(recs[4]).toMatchObject({ who: 'admin', from: '192.0.2.10', event: 'User added', details: { user: 'helpdesk' } });
    expect(Date.parse(recs[0].time)).toBeLessThan(Date.parse(recs[5].time));
    expect(res.position).toEqual({ index: 6, last: recs[5].raw });
  });

  it('pages through a long log (ten records a page) to its end', async () => {
    const d = fleet.devices[1];
    add(d, 'reset', 'tech', 37);
    let pages = 0;
    d.on('request', (e: { action?: string }) => {
      if (e.action?.endsWith('/ReadRecords')) pages++;
    });
    const res = await readAuditLog(clientFor(d), { mode: 'all' });
    expect(res.total).toBe(43);
    expect(res.records).toHaveLength(43);
    expect(pages).toBe(5);
    expect(good(res.records).at(-1)).toMatchObject({ index: 43, who: 'tech36', action: 'reset', from: '192.0.2.77' });
  });

  it('gives only what is new since the remembered position, and nothing twice', async () => {
    const d = fleet.devices[2];
    const c = clientFor(d);
    const first = await readAuditLog(c);
    expect(first.records).toHaveLength(6);
    const again = await readAuditLog(c, { after: first.position });
    expect(again.records).toEqual([]);
    expect(again.position).toEqual(first.position);
    add(d, 'power-off', 'night', 12);
    const next = await readAuditLog(c, { after: first.position });
    expect(good(next.records).map((r) => r.who)).toEqual(Array.from({ length: 12 }, (_, i) => `night${i}`));
    expect(next.restarted).toBeUndefined();
    expect(next.position?.index).toBe(18);
  });

  it('starts again from the first record when the log was cleared', async () => {
    const d = fleet.devices[3];
    const c = clientFor(d);
    add(d, 'reset', 'before', 20);
    const first = await readAuditLog(c);
    clearAuditLog(d);
    add(d, 'power-on', 'after', 2);
    const next = await readAuditLog(c, { after: first.position });
    expect(next.restarted).toMatch(/cleared/);
    expect(good(next.records).map((r) => r.who)).toEqual(['after0', 'after1']);
  });

  it('finds its place again when the full log wrapped, and says so when its record is gone', async () => {
    const d = fleet.devices[4];
    const c = clientFor(d);
    add(d, 'reset', 'fill', MAX_AUDIT_RECORDS - 6);
    const full = await readAuditLog(c, { mode: 'all' });
    expect(full.total).toBe(MAX_AUDIT_RECORDS);
    // Three more: the three oldest go, every index shifts, the remembered record is still there.
    add(d, 'power-cycle', 'wrap', 3);
    const shifted = await readAuditLog(c, { after: full.position });
    expect(shifted.restarted).toBeUndefined();
    expect(good(shifted.records).map((r) => r.who)).toEqual(['wrap0', 'wrap1', 'wrap2']);
    // A whole log later the remembered record is gone: everything comes, with the reason.
    add(d, 'power-on', 'new', MAX_AUDIT_RECORDS);
    const lost = await readAuditLog(c, { after: shifted.position as AuditPosition });
    expect(lost.restarted).toMatch(/wrapped or was cleared/);
    expect(lost.records).toHaveLength(MAX_AUDIT_RECORDS);
  });

  it('delivers a malformed record as such, with the reason, and goes on', async () => {
    const d = fleet.devices[5];
    const c = clientFor(d);
    const start = await readAuditLog(c);
    add(d, 'reset', 'one');
    addRawAuditRecord(d, Buffer.from([0, 17, 0, 3, 0, 40, 0x61]).toString('base64'));
    add(d, 'reset', 'three');
    const res = await readAuditLog(c, { after: start.position });
    expect(res.partial).toBe(true);
    expect(res.missing).toEqual([{ section: 'audit', class: 'AMT_AuditLog', reason: expect.stringMatching(/^record 8: record ends at byte 7 inside user name/) }]);
    expect(res.records).toHaveLength(3);
    expect(res.records[1]).toEqual({ index: 8, error: expect.stringMatching(/inside user name/), raw: 'ABEAAwAoYQ==' });
    expect((res.records[2] as AuditRecord).who).toBe('three');
    expect(res.position?.index).toBe(9);
    // The bad record is not read again.
    expect((await readAuditLog(c, { after: res.position })).records).toEqual([]);
  });

  it('keeps what it read when the device stops answering halfway, and resumes from there', async () => {
    const d = fleet.devices[1];
    const c = clientFor(d, 400);
    const before = await readAuditLog(c, { mode: 'all' });
    const total = before.total;
    hangAfter(d, 2);
    const res = await readAuditLog(c, { mode: 'all' });
    expect(res.partial).toBe(true);
    expect(res.records).toHaveLength(20);
    expect(res.missing).toEqual([{ section: 'audit', class: 'AMT_AuditLog', reason: expect.stringMatching(new RegExp(`^stopped after record 20 of ${total}: .*did not answer within 400 ms`)) }]);
    expect(res.position?.index).toBe(20);
    d.clearFaults();
    const rest = await readAuditLog(c, { after: res.position });
    expect(rest.partial).toBe(false);
    expect(good(rest.records).map((r) => r.index)).toEqual(Array.from({ length: total - 20 }, (_, i) => 21 + i));
  });

  it('fails when the device does not answer at all', async () => {
    const d = fleet.devices[0];
    d.injectFault({ kind: 'hang', count: 10 });
    try {
      await expect(readAuditLog(clientFor(d, 300))).rejects.toThrow(/did not answer within 300 ms/);
    } finally {
      d.clearFaults();
    }
  });
});
