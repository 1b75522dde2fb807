/**
 * The bad-input list, each against the real listeners, and the parsers fuzzed with
 * fast-check: garbage datagrams, huge or deeply nested XML, a wrong community, a sender not on
 * the list, a subscription path that does not exist, a flood. Counted, dropped or answered with
 * an error; never a crash, never an unbounded queue.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Alert } from '../lib/alerts/alert';
import { AlertHub } from '../lib/alerts/hub';
import { Policy } from '../lib/alerts/policy';
import { EventListener, newRegistration } from '../lib/amt/event-listener';
import { decodeEventRecord, decodeRecordArray, eventRecordToAlert, newSince } from '../lib/amt/event-log';
import { alertIndicationToAlert, readAlertIndication } from '../lib/amt/events';
import { decodePet, encodePet, petToAlert } from '../lib/asf/pet';
import { parseTrap } from '../lib/asf/trap-parse';
import { ReceivedTrap, TrapReceiver } from '../lib/asf/trap-receiver';
import { XmlError } from '../lib/errors';
import { DigestSession, parseDigestChallenge } from '../lib/wsman/digest';
import { SCENARIOS, sendPetTrap, SimDevice } from '../packages/sim/src';

const CAPTURE = fs.readFileSync(path.join(__dirname, 'fixtures/amt/CIM_AlertIndication-Event.xml'), 'utf8');
/** A real SNMPv1 PET trap datagram (community "public"), as our simulator sends it with net-snmp. */
let PET_V1_TRAP: Buffer;
beforeAll(async () => {
  const sink = dgram.createSocket('udp4');
  const got = new Promise<Buffer>((resolve) => sink.once('message', (m) => resolve(m)));
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const dev = new SimDevice({ name: 'pc-01', uuid: '8c8bc53a-4b6e-4f55-9b8c-2c4a1f0b5e01', mac: '02:00:86:00:00:01', user: 'a', password: 'b' });
  await sendPetTrap(dev, { host: '127.0.0.1', port: sink.address().port }, SCENARIOS['chassis-opened'].event!);
  PET_V1_TRAP = await got;
  sink.close();
});

function send(port: number, datagrams: Buffer[], from = '127.0.0.1'): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.bind(0, from, async () => {
      for (const d of datagrams) await new Promise<void>((r) => s.send(d, port, '127.0.0.1', () => r()));
      s.close(() => resolve());
    });
  });
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 20) await new Promise((r) => setTimeout(r, 20));
}

describe('PET receiver under bad input', () => {
  it('counts and drops garbage, oversized datagrams and SNMPv3, and still works afterwards', async () => {
    const got: ReceivedTrap[] = [];
    const r = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['public'], onTrap: (t) => got.push(t), maxBytes: 512, perSenderPerSecond: 100_000, globalPerSecond: 100_000 });
    await r.start();
    try {
      const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 400 }), { numRuns: 150, seed: 42 }).map((a) => Buffer.from(a));
      // SNMP-shaped garbage: a SEQUENCE with version 0 and junk after it.
      const shaped = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 120 }), { numRuns: 100, seed: 7 }).map((a) => Buffer.concat([Buffer.from([0x30, a.length + 3, 0x02, 0x01, 0x00]), Buffer.from(a)]));
      const v3 = Buffer.from('303e020103301102040000000102030004010402030100', 'hex');
      await send(r.port, [...garbage, ...shaped]);
      await until(() => r.counts.datagrams >= 250, 1000);
      await send(r.port, [Buffer.alloc(2000, 0x30), v3]);
      await until(() => r.counts.dropped['too-big'] === 1 && r.counts.dropped['unsupported-version'] === 1, 1000);
      expect(r.counts.dropped['too-big']).toBe(1);
      await until(() => r.counts.datagrams >= 252, 1000);
      // Loopback UDP may lose a datagram or two when its socket buffer is full; count what arrived.
      expect(r.counts.datagrams).toBeGreaterThan(240);
      expect(r.counts.dropped['unsupported-version']).toBeGreaterThanOrEqual(1);
      expect(r.counts.dropped.garbage).toBeGreaterThan(200);
      expect(r.counts.accepted + Object.values(r.counts.dropped).reduce((a, b) => a + b, 0)).toBe(r.counts.datagrams);
      // Still alive: a well-formed trap goes through.
      const before = got.length;
      await send(r.port, [PET_V1_TRAP]);
      await until(() => got.length > before);
      expect(got.length).toBe(before + 1);
    } finally {
      await r.close();
    }
  });

  it('drops a sender that is not on the list, and a wrong community, before anything is delivered', async () => {
    const got: ReceivedTrap[] = [];
    const r = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['other'], allow: ['10.9.9.0/24'], onTrap: (t) => got.push(t) });
    await r.start();
    const r2 = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['other'], allow: ['127.0.0.1'], onTrap: (t) => got.push(t) });
    await r2.start();
    try {
      await send(r.port, [PET_V1_TRAP]);
      await send(r2.port, [PET_V1_TRAP]);
      await until(() => r.counts.dropped['not-allowed'] === 1 && r2.counts.dropped['wrong-community'] === 1);
      expect(r.counts.dropped['not-allowed']).toBe(1);
      expect(r2.counts.dropped['wrong-community']).toBe(1);
      expect(got).toEqual([]);
    } finally {
      await r.close();
      await r2.close();
    }
  });

  it('delivers a trap its own reader takes and the same trap left to net-snmp alike, and checks the community on both ways', async () => {
    const got: ReceivedTrap[] = [];
    const r = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['public'], onTrap: (t) => got.push(t) });
    await r.start();
    const r2 = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['other'], onTrap: (t) => got.push(t) });
    await r2.start();
    try {
      // A byte after the message: the quick reader leaves it to net-snmp, which reads the message and ignores the byte.
      const padded = Buffer.concat([PET_V1_TRAP, Buffer.from([0])]);
      expect(parseTrap(PET_V1_TRAP)).toBeDefined();
      expect(parseTrap(padded)).toBeUndefined();
      await send(r.port, [PET_V1_TRAP]);
      await until(() => got.length === 1);
      await send(r.port, [padded]);
      await until(() => got.length === 2);
      expect(got).toHaveLength(2);
      const [quick, parsed] = got.map(({ receivedAt: _r, fromPort: _p, raw: _raw, ...rest }) => rest);
      expect(quick.varbinds.length).toBeGreaterThan(0);
      expect(quick).toEqual(parsed);
      expect(got[1].raw).toEqual(padded);
      await send(r2.port, [PET_V1_TRAP, padded]);
      await until(() => r2.counts.dropped['wrong-community'] === 2);
      expect(r2.counts.dropped['wrong-community']).toBe(2);
      expect(got).toHaveLength(2);
    } finally {
      await r.close();
      await r2.close();
    }
  });

  it('a flood from one sender is rate limited (counted), the others still get through', async () => {
    const got: ReceivedTrap[] = [];
    const r = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['public'], perSenderPerSecond: 20, globalPerSecond: 1000, onTrap: (t) => got.push(t) });
    await r.start();
    try {
      await send(r.port, Array.from({ length: 300 }, () => PET_V1_TRAP));
      await until(() => r.counts.datagrams >= 300, 1000);
      // What the kernel let through (its socket buffer is bounded too) is either delivered or counted.
      expect(r.counts.dropped['rate-limited']).toBeGreaterThan(150);
      expect(got.length).toBeLessThan(60);
      expect(got.length + r.counts.dropped['rate-limited']).toBe(r.counts.datagrams);
    } finally {
      await r.close();
    }
  });
});

describe('PET senders and rates, as alert-in sets them', () => {
  it('a sender keeps the allow-list\'s answer when it sends again (remembered, not looked up each time)', async () => {
    const got: ReceivedTrap[] = [];
    const r = new TrapReceiver({ port: 0, address: '127.0.0.1', communities: ['public'], allow: ['127.0.0.0/30'], onTrap: (t) => got.push(t) });
    await r.start();
    try {
      for (let round = 0; round < 2; round++) {
        await send(r.port, [PET_V1_TRAP], '127.0.0.2');
        await send(r.port, [PET_V1_TRAP], '127.0.0.9');
      }
      await until(() => r.counts.datagrams === 4);
      expect(got.map((t) => t.from)).toEqual(['127.0.0.2', '127.0.0.2']);
      expect(r.counts.dropped['not-allowed']).toBe(2);
    } finally {
      await r.close();
    }
  });

  it('the hub\'s PET options set the listener\'s rate limits: past them, traps are counted as dropped', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-hub-'));
    const emitted: Alert[] = [];
    const hub = new AlertHub({
      id: 'rates',
      stateDir,
      devices: [{ name: 'pc-01', host: '127.0.0.1' }],
      policy: new Policy({ dedupSeconds: 0, rateLimitPerKey: undefined, rateLimitGlobal: undefined }),
      pet: { port: 0, address: '127.0.0.1', communities: ['public'], allow: [], perSenderPerSecond: 1000, globalPerSecond: 3 },
      emit: (e) => emitted.push(e.alert),
    });
    await hub.start();
    try {
      await send(hub.pet!.port, Array.from({ length: 10 }, () => PET_V1_TRAP));
      await until(() => hub.pet!.counts.datagrams === 10);
      await hub.saveState();
      // 3 a second (4 when sending took over a third of a second): the default, 2000, would take all ten.
      expect(emitted.length).toBeGreaterThanOrEqual(3);
      expect(emitted.length).toBeLessThanOrEqual(5);
      expect(emitted[0]).toMatchObject({ kind: 'chassis-intrusion', device: { name: 'pc-01' } });
      expect(emitted.length + hub.dropped['pet:rate-limited']).toBe(10);
    } finally {
      await hub.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('AMT event listener under bad input', () => {
  let listener: EventListener;
  const alerts: Alert[] = [];
  const reg = newRegistration({ name: 'pc-01', host: '127.0.0.1' });
  beforeAll(async () => {
    listener = new EventListener({ port: 0, address: '127.0.0.1', onAlert: (a) => alerts.push(a), perSenderPerSecond: 30, maxConnectionsPerAddress: 100, maxConnections: 100 });
    listener.register(reg);
    await listener.start();
  });
  afterAll(() => listener.close());

  async function push(body: string, p = reg.path): Promise<number> {
    const url = `http://127.0.0.1:${listener.port}${p}`;
    const first = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/soap+xml' } });
    await first.arrayBuffer();
    if (first.status !== 401) return first.status;
    const s = new DigestSession(reg.username, reg.password);
    s.accept(parseDigestChallenge(first.headers.get('www-authenticate') ?? '')!);
    const second = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/soap+xml', Authorization: s.authorize('POST', p, body)!.header } });
    await second.arrayBuffer();
    return second.status;
  }

  it('accepts the real capture with the right Digest answer, and answers a wrong password with 401', async () => {
    expect(await push(CAPTURE)).toBe(200);
    expect(alerts.at(-1)).toMatchObject({ kind: 'agent-stopped', time: '2017-01-31T15:40:09.000Z', device: { name: 'pc-01' } });
    const s = new DigestSession(reg.username, 'wrong');
    const url = `http://127.0.0.1:${listener.port}${reg.path}`;
    const first = await fetch(url, { method: 'POST', body: CAPTURE });
    s.accept(parseDigestChallenge(first.headers.get('www-authenticate') ?? '')!);
    const r = await fetch(url, { method: 'POST', body: CAPTURE, headers: { Authorization: s.authorize('POST', reg.path, CAPTURE)!.header } });
    expect(r.status).toBe(401);
    expect(listener.counts.rejected.unauthorized).toBe(1);
  });

  it.each([
    ['huge XML', () => CAPTURE.replace('<g:Message></g:Message>', `<g:Message>${'x'.repeat(200_000)}</g:Message>`), 413],
    ['deeply nested XML', () => CAPTURE.replace('<g:Message></g:Message>', `${'<g:M>'.repeat(200)}${'</g:M>'.repeat(200)}`), 400],
    ['a DOCTYPE with entities', () => `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]>${CAPTURE.slice(CAPTURE.indexOf('<a:Envelope'))}`, 400],
    ['not XML at all', () => 'hello', 400],
    ['another SOAP body', () => CAPTURE.replace(/CIM_AlertIndication>/g, 'CIM_Foo>'), 400],
  ])('refuses %s (HTTP %i), emits nothing, keeps serving', async (_what, body, status) => {
    const before = alerts.length;
    expect(await push(body())).toBe(status);
    expect(alerts.length).toBe(before);
    expect(await push(CAPTURE)).toBe(200);
  });

  it('answers 404 for a subscription path that does not exist, without asking for credentials', async () => {
    const r = await fetch(`http://127.0.0.1:${listener.port}/oobkit/events/deadbeef`, { method: 'POST', body: CAPTURE });
    expect(r.status).toBe(404);
    expect(listener.counts.rejected['unknown-path']).toBeGreaterThanOrEqual(1);
  });

  it('answers a flood with 429 instead of queueing it', async () => {
    const statuses = await Promise.all(Array.from({ length: 80 }, () => fetch(`http://127.0.0.1:${listener.port}${reg.path}`, { method: 'POST', body: CAPTURE }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(20);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });
});

describe('parsers fuzzed with fast-check: no exception escapes, no hang', () => {
  it('PET bytes of any length with any specific trap', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer(), (bytes, specific) => {
        const ev = decodePet(specific, Buffer.from(bytes));
        const a = petToAlert(ev, { device: { host: 'h' } });
        expect(typeof a.summary).toBe('string');
        expect(a.summary.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('PET bytes with random fields round-trip through encode and decode', () => {
    fc.assert(
      fc.property(fc.record({ sequence: fc.nat(0xffff), severity: fc.nat(255), entity: fc.nat(255), sensorNumber: fc.nat(255), iana: fc.nat(0xffffff), systemId: fc.nat(0xffff) }), (f) => {
        const ev = decodePet(0x056f00, encodePet(f));
        expect(ev).toMatchObject({ sequence: f.sequence, severityCode: f.severity, entity: f.entity, sensorNumber: f.sensorNumber, iana: f.iana, systemId: f.systemId, truncated: false });
      }),
      { numRuns: 500 },
    );
  });

  it('event-log records: any base64 text, any bytes, any sequence of polls', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.base64String(), fc.uint8Array({ minLength: 21, maxLength: 21 }).map((a) => Buffer.from(a).toString('base64')))), (items) => {
        const { records, bad } = decodeRecordArray(items);
        expect(records.length + bad).toBe(items.length);
        for (const r of records) expect(eventRecordToAlert(r, { name: 'x' }).kind).toBeTruthy();
        const first = newSince(records, undefined, 'all');
        expect(first.records.length).toBe(records.length);
        expect(newSince(records, first.position).records).toEqual([]);
      }),
      { numRuns: 500 },
    );
    expect(decodeEventRecord(Buffer.alloc(20))).toBeUndefined();
  });

  it('event XML: random text and mutations of the real capture throw nothing but XmlError', () => {
    const check = (xml: string) => {
      try {
        alertIndicationToAlert(readAlertIndication(xml), { name: 'pc' });
      } catch (e) {
        if (!(e instanceof XmlError)) throw e;
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), check), { numRuns: 1000 });
    fc.assert(
      fc.property(fc.nat(CAPTURE.length), fc.nat(CAPTURE.length), fc.string({ maxLength: 40 }), (a, b, insert) => {
        const [from, to] = a < b ? [a, b] : [b, a];
        check(CAPTURE.slice(0, from) + insert + CAPTURE.slice(to));
      }),
      { numRuns: 2000 },
    );
  });
});
