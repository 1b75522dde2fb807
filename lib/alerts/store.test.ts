import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeAlert, Alert } from './alert';
import { AlertEngine } from './engine';
import { AlertHub } from './hub';
import { Policy } from './policy';
import { Journal } from './store';
import { frameRecord } from '../util/record-log';
import { decodePet, encodePet, PET_ENTERPRISE, PET_VARBIND_OID, petToAlert, specificTrapOf } from '../asf/pet';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

/** Sends a PET trap (fan failure, sensor 4) with this sequence number from 127.0.0.1 to a port on loopback. */
function sendFanTrap(port: number, sequence: number): Promise<{ specific: number; bytes: Buffer }> {
  const specific = specificTrapOf({ sensorType: 0x04, eventType: 0x01, offset: 2 });
  const bytes = encodePet({ sequence, sensorNumber: 4, severity: 0x10, time: Math.floor(Date.now() / 1000) - 60, guid: Buffer.alloc(16, 0x42) });
  const session = snmp.createSession('127.0.0.1', 'public', { trapPort: port, version: snmp.Version1 });
  return new Promise((resolve, reject) =>
    session.trap(`${PET_ENTERPRISE}.${specific}`, [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: bytes }], { agentAddr: '127.0.0.1' }, (e?: Error) => {
      session.close();
      if (e) reject(e);
      else resolve({ specific, bytes });
    }),
  );
}

const fan = (device: string, o: Partial<Alert> = {}) =>
  makeAlert({ device: { name: device, host: '10.0.0.1' }, source: 'pet', kind: 'fan-failure', severity: 'critical', summary: 'Fan failed', ...o } as never);

describe('alert-in state on disk', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-state-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function hub(id = 'a') {
    const emitted: Alert[] = [];
    const problems: string[] = [];
    const h = new AlertHub({
      id,
      stateDir: dir,
      devices: [],
      policy: new Policy({ dedupSeconds: 300, rateLimitPerKey: undefined, rateLimitGlobal: undefined }),
      emit: (e) => emitted.push(e.alert),
      onProblem: (what, e) => problems.push(`${what}${e ? `: ${e.message}` : ''}`),
    });
    return { h, emitted, problems };
  }

  it('open conditions survive a restart: a repeat is not paged again, and the resolve counts it', async () => {
    const first = hub();
    first.h.process(fan('pc-01', { id: 'trigger-1' }));
    first.h.process(fan('pc-02'));
    await first.h.close();
    const second = hub();
    expect(second.h.engine.openKeys).toBe(2);
    second.h.process(fan('pc-01', { id: 'trigger-2' }));
    await second.h.saveState();
    expect(second.emitted).toEqual([]);
    second.h.process(fan('pc-01', { state: 'resolve', severity: 'ok', id: 'clear' }));
    await second.h.saveState();
    // The latest trigger of the condition, and both occurrences counted.
    expect(second.emitted.map((a) => [a.id, a.details.triggerId, a.details.count])).toEqual([['clear', 'trigger-2', 2]]);
    await second.h.close();
    expect(hub().h.engine.openKeys).toBe(1);
  });

  it('with 2,000 open conditions, a repeat writes that condition, not the whole state', async () => {
    const first = hub();
    for (let i = 0; i < 2000; i++) first.h.process(fan(`pc-${i}`));
    await first.h.close();
    const statSize = (f: string) => fs.statSync(path.join(dir, f)).size;
    const changesBefore = statSize('alert-in-a.changes');
    const snapshotBefore = fs.existsSync(path.join(dir, 'alert-in-a.json')) ? statSize('alert-in-a.json') : 0;
    expect(changesBefore + snapshotBefore).toBeGreaterThan(300_000);
    // Compacted on close: a snapshot of KeyRecords (engine state version 3), read back alone.
    const snapshot = JSON.parse(fs.readFileSync(path.join(dir, 'alert-in-a.json'), 'utf8'));
    expect(snapshot.engine.version).toBe(3);
    expect(snapshot.engine.keys[0].slice(0, 2)).toEqual([1, 'pc-0/pet/fan-failure']);
    const reread = hub();
    expect(reread.h.engine.openKeys).toBe(2000);
    expect(reread.h.engine.snapshot().keys[0][1]).toMatchObject({ device: { name: 'pc-0', host: '10.0.0.1' }, kind: 'fan-failure', count: 1, held: 0 });
    await reread.h.close();
    const second = hub();
    second.h.process(fan('pc-7'));
    await second.h.close();
    const written = statSize('alert-in-a.changes') - changesBefore;
    expect(written).toBeGreaterThan(100);
    expect(written).toBeLessThan(2000);
    const third = hub();
    expect(third.h.engine.openKeys).toBe(2000);
    await third.h.close();
  });

  it('reads a state file written before there was a log (engine state version 2, event-log positions)', async () => {
    const now = Date.now();
    const key = { id: 'old-trigger', device: { name: 'pc-01' }, source: 'pet', kind: 'fan-failure', severity: 'critical', summary: 'Fan failed', output: 1, firstAt: now - 60_000, lastAt: now - 30_000, count: 1, held: 0, windowEnd: now + 240_000 };
    const doc = { engine: { version: 2, keys: [['pc-01/pet/fan-failure', key]], maintenance: [] }, eventLog: { 'pc-01': { newest: 1700000000, atNewest: { abc: 1 } } } };
    fs.writeFileSync(path.join(dir, 'alert-in-a.json'), JSON.stringify(doc));
    const { h, emitted, problems } = hub();
    expect(problems).toEqual([]);
    h.process(fan('pc-01', { state: 'resolve', severity: 'ok' }));
    await h.saveState();
    expect(emitted[0].details).toMatchObject({ triggerId: 'old-trigger', count: 1 });
    await h.close();
    // The positions stay as they were, through the change log.
    const again = hub();
    expect(again.h.engine.openKeys).toBe(0);
    expect((again.h as unknown as { eventLogPositions: unknown }).eventLogPositions).toEqual(doc.eventLog);
    await again.h.close();
  });

  it('reads a snapshot and a log written before KeyRecords (open keys as objects), then goes on in the new form', async () => {
    // What an earlier version wrote: the engine's snapshot() as the snapshot, and {k, v} records after it.
    let now = Date.now();
    const engine = new AlertEngine(new Policy({ dedupSeconds: 300, escalateMinutes: 60 }), { emit: () => undefined, now: () => now, timer: false, trackChanges: true });
    engine.takeChanges();
    engine.process(fan('pc-01', { id: 'one' }));
    engine.process(fan('pc-02', { id: 'two' }));
    const snapshot = { ...JSON.parse(JSON.stringify({ engine: engine.snapshot(), eventLog: {}, sel: {}, subscriptions: {} })), logGeneration: 1 };
    now += 1000;
    engine.process(fan('pc-02', { id: 'two-again' }));
    engine.acknowledge('pc-01/pet/fan-failure', 'Dana');
    engine.process(fan('pc-03', { id: 'three' }));
    engine.process(fan('pc-04', { id: 'four' }));
    engine.process(fan('pc-04', { state: 'resolve', severity: 'ok' }));
    const records = [{ logOf: 1 }, ...engine.takeChanges().map((c) => JSON.parse(JSON.stringify(c)))];
    expect(records.some((r) => 'k' in r && r.v.ack?.by === 'Dana')).toBe(true);
    expect(records.some((r) => 'forgotten' in r)).toBe(true);
    fs.writeFileSync(path.join(dir, 'alert-in-a.json'), JSON.stringify(snapshot));
    fs.writeFileSync(path.join(dir, 'alert-in-a.changes'), Buffer.concat(records.map((r) => frameRecord(r))));
    const expected = JSON.parse(JSON.stringify(engine.snapshot()));
    const sorted = <T,>(keys: Array<[string, T]>) => [...keys].sort(([a], [b]) => a.localeCompare(b));

    const first = hub();
    expect(first.problems).toEqual([]);
    expect(sorted(JSON.parse(JSON.stringify(first.h.engine.snapshot())).keys)).toEqual(sorted(expected.keys));
    // Appended now in the new form, to the same log: both forms in one file.
    first.h.process(fan('pc-05', { id: 'five' }));
    first.h.process(fan('pc-02', { state: 'resolve', severity: 'ok', id: 'two-cleared' }));
    await first.h.close();
    expect(first.emitted.map((a) => [a.id, a.details.count, a.details.triggerId])).toEqual([
      ['five', undefined, undefined],
      ['two-cleared', 2, 'two-again'],
    ]);
    const log = fs.readFileSync(path.join(dir, 'alert-in-a.changes'), 'utf8');
    expect(log).toContain('"v":{"id":"one"');
    expect(log).toContain('[1,"pc-05/pet/fan-failure","five",');

    const second = hub();
    expect(second.problems).toEqual([]);
    expect(sorted(second.h.engine.snapshot().keys).map(([k, v]) => [k, v.id, v.count, v.ack?.by])).toEqual([
      ['pc-01/pet/fan-failure', 'one', 1, 'Dana'],
      ['pc-03/pet/fan-failure', 'three', 1, undefined],
      ['pc-05/pet/fan-failure', 'five', 1, undefined],
    ]);
    await second.h.close();
  });

  it('sets a state file it cannot read aside, says so, and starts empty', async () => {
    const file = path.join(dir, 'alert-in-a.json');
    fs.writeFileSync(file, '{"engine": {"keys": [');
    const { h, problems } = hub();
    expect(h.engine.openKeys).toBe(0);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('alert-in-a.json.corrupt-'))).toBe(true);
    expect(problems).toEqual([expect.stringMatching(/^alert state: .*alert-in-a\.json is not a state file/)]);
    await h.close();
  });

  it('PET repeats only counted on arrival are kept whole in the state: after a restart the key has the latest one', async () => {
    const device = { name: 'pc-01', host: '127.0.0.1' };
    const start = () =>
      new AlertHub({
        id: 'pet',
        stateDir: dir,
        devices: [device],
        policy: new Policy({ dedupSeconds: 300 }),
        pet: { port: 0, address: '127.0.0.1', communities: ['public'], allow: [] },
        emit: () => undefined,
      });
    const first = start();
    await first.start();
    let last: { specific: number; bytes: Buffer } | undefined;
    for (let seq = 1; seq <= 5; seq++) last = await sendFanTrap(first.pet!.port, seq);
    for (let i = 0; i < 200 && first.engine.counts.received < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(first.engine.counts).toMatchObject({ received: 5, emitted: 1, byReason: { duplicate: 4 } });
    await first.close();
    const latest = petToAlert(decodePet(last!.specific, last!.bytes), { device, from: '127.0.0.1' });
    const second = start();
    const [[, key]] = second.engine.snapshot().keys;
    expect(key).toMatchObject({ id: latest.id, count: 5, held: 4, alert: { id: latest.id, details: { sequence: 5, raw: expect.any(String) } } });
    await second.close();
  });

  it('a change log cut short by a crash: the changes before the cut are kept, the rest ignored', async () => {
    const first = hub();
    first.h.process(fan('pc-01'));
    await first.h.close();
    fs.appendFileSync(path.join(dir, 'alert-in-a.changes'), frameRecord({ k: 'pc-02/pet/fan-failure', v: null }).subarray(0, 12));
    const second = hub();
    expect(second.h.engine.openKeys).toBe(1);
    expect(second.problems).toEqual([expect.stringMatching(/ignored the last 12 bytes of .*alert-in-a\.changes/)]);
    await second.h.close();
  });
});

describe('Journal', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-journal-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives back what was acknowledged and not emitted, past a torn line, and reads lines written before there were checksums', () => {
    const file = path.join(dir, 'a.journal');
    const j = new Journal(file);
    expect(j.start()).toEqual([]);
    j.append(fan('pc-01', { id: 'one' }));
    j.append(fan('pc-02', { id: 'two' }));
    j.done('one');
    j.close();
    // An earlier version's line, then an append torn by a crash (never acknowledged).
    fs.appendFileSync(file, `${JSON.stringify({ a: fan('pc-03', { id: 'three' }) })}\n`);
    fs.appendFileSync(file, frameRecord({ a: fan('pc-04', { id: 'four' }) }).subarray(0, 40));
    const again = new Journal(file);
    expect(again.start().map((a) => a.id)).toEqual(['two', 'three']);
    expect(again.pendingCount).toBe(2);
    again.done('two');
    again.done('three');
    again.close();
    expect(new Journal(file).start()).toEqual([]);
  });
});
