import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Alert } from '../alerts/alert';
import { HttpStatusError, ConnectionError } from '../errors';
import { KeyValueFile } from '../util/key-value-file';
import type { FoundTicket, TicketFields } from './request-tracker';
import { alertForTicket, incidentKey, TicketBackend, TicketOutcome, TicketSync } from './ticket-sync';

/** A ticketing system in memory, which can be down, lose create answers, or refuse a queue. */
class MemoryTickets implements TicketBackend {
  tickets: Array<{ id: number; key: string; fields: TicketFields; status: string; comments: string[] }> = [];
  down = false;
  loseNextCreateAnswer = false;
  calls: string[] = [];
  private check(what: string) {
    this.calls.push(what);
    if (this.down) throw new ConnectionError('down');
  }
  async findActive(key: string): Promise<FoundTicket | undefined> {
    this.check('find');
    const t = this.tickets.find((x) => x.key === key && x.status !== 'resolved');
    return t && { id: t.id, status: t.status, priority: t.fields.Priority };
  }
  async create(fields: TicketFields, key: string): Promise<number> {
    this.check('create');
    if (fields.Queue === 'Nope') throw new HttpStatusError(400, 'no such queue');
    const id = this.tickets.length + 1;
    this.tickets.push({ id, key, fields: { ...fields }, status: 'new', comments: [] });
    if (this.loseNextCreateAnswer) {
      this.loseNextCreateAnswer = false;
      throw new ConnectionError('answer lost');
    }
    return id;
  }
  async comment(id: number, content: string): Promise<void> {
    this.check('comment');
    this.tickets[id - 1].comments.push(content);
  }
  async update(id: number, fields: { Priority?: number; Status?: string }): Promise<void> {
    this.check('update');
    const t = this.tickets[id - 1];
    if (fields.Priority !== undefined) t.fields.Priority = fields.Priority;
    if (fields.Status) t.status = fields.Status;
  }
}

const alert = (o: Partial<Alert> = {}): Alert =>
  ({
    id: `a-${Math.random()}`,
    dedupKey: 'guid-1/pet/fan-failure',
    time: '2026-12-04T05:00:00.000Z',
    device: { name: 'pc-01', host: '10.0.0.1' },
    source: 'pet',
    kind: 'fan-failure',
    severity: 'major',
    state: 'trigger',
    summary: 'Fan failed',
    details: { sensorNumber: 49 },
    ...o,
  }) as Alert;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-tickets-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(backend: MemoryTickets, o: { maxPending?: number } = {}) {
  const outcomes: TicketOutcome[] = [];
  const refused: string[] = [];
  const waits: number[] = [];
  const file = path.join(dir, 'state.json');
  const sync = new TicketSync({
    backend,
    store: new KeyValueFile(file),
    retryMinMs: 20,
    retryMaxMs: 40,
    maxPending: o.maxPending,
    onOutcome: (x) => outcomes.push(x),
    onRefused: (_a, e) => refused.push(e.message),
    onWaiting: (n) => waits.push(n),
  });
  sync.start();
  return { sync, outcomes, refused, waits, file };
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(f()).toBe(true);
};

describe('TicketSync', () => {
  it('opens, comments on repeats, raises the priority on escalation and resolves: one ticket', async () => {
    const b = new MemoryTickets();
    const { sync, outcomes } = setup(b);
    sync.accept(alert({ id: 't1' }), 'Hardware');
    sync.accept(alert({ id: 'r1', summary: 'Fan failed (repeated 3 more times in 1 min)', details: { repeats: 3, count: 4 } }), 'Hardware');
    sync.accept(alert({ id: 'e1', summary: 'Escalated, unresolved for 30 min: Fan failed', details: { escalated: true } }), 'Hardware');
    sync.accept(alert({ id: 'x1', state: 'resolve', severity: 'ok', summary: 'Fan back to normal' }), 'Hardware');
    await until(() => outcomes.length === 4);
    expect(outcomes.map((o) => o.action)).toEqual(['opened', 'commented', 'escalated', 'resolved']);
    expect(b.tickets).toHaveLength(1);
    const t = b.tickets[0];
    expect(t).toMatchObject({ key: incidentKey('guid-1/pet/fan-failure'), status: 'resolved', fields: { Queue: 'Hardware', Subject: 'Fan failed', Priority: 90 } });
    expect(t.fields.Content).toContain('Device:   pc-01 (10.0.0.1)');
    expect(t.comments).toHaveLength(3);
    expect(t.comments[1]).toContain('Priority raised to 90');
    // A new trigger of the same condition after the resolve is a new incident: a new ticket.
    sync.accept(alert({ id: 't2' }), 'Hardware');
    await until(() => outcomes.length === 5);
    expect(b.tickets).toHaveLength(2);
  });

  it('a create whose answer was lost is found again, not repeated', async () => {
    const b = new MemoryTickets();
    b.loseNextCreateAnswer = true;
    const { sync, outcomes, waits } = setup(b);
    sync.accept(alert({ id: 't1' }), 'Hardware');
    await until(() => outcomes.length === 1);
    expect(waits.length).toBeGreaterThan(0);
    expect(outcomes[0].action).toBe('found');
    expect(b.tickets).toHaveLength(1);
    expect(b.tickets[0].comments).toEqual([]);
  });

  it('keeps the outbox across a restart while the ticketing system is away, and skips what was applied', async () => {
    const b = new MemoryTickets();
    const first = setup(b);
    first.sync.accept(alert({ id: 't1' }), 'Hardware');
    await until(() => first.outcomes.length === 1);
    b.down = true;
    first.sync.accept(alert({ id: 'r1', details: { repeats: 1 } }), 'Hardware');
    first.sync.accept(alert({ id: 'x1', state: 'resolve' }), 'Hardware');
    await until(() => first.waits.length > 0);
    first.sync.close();
    expect(first.sync.pending).toBe(2);

    b.down = false;
    const second = setup(b);
    await until(() => second.outcomes.length === 2);
    expect(second.outcomes.map((o) => o.action)).toEqual(['commented', 'resolved']);
    expect(b.tickets).toHaveLength(1);
    expect(b.tickets[0].status).toBe('resolved');
    // The same trigger delivered again (a retry upstream) while its incident is open is skipped.
    const third = setup(b);
    third.sync.accept(alert({ id: 't9' }), 'Hardware');
    third.sync.accept(alert({ id: 't9' }), 'Hardware');
    await until(() => third.outcomes.length === 2);
    expect(third.outcomes.map((o) => o.action)).toEqual(['opened', 'replayed']);
  });

  it('drops what the system refuses for good, says so, and goes on', async () => {
    const b = new MemoryTickets();
    const { sync, outcomes, refused } = setup(b);
    sync.accept(alert({ id: 'bad', dedupKey: 'k-bad' }), 'Nope');
    sync.accept(alert({ id: 'good', dedupKey: 'k-good' }), 'Hardware');
    await until(() => outcomes.length === 1);
    expect(refused).toEqual(['no such queue']);
    expect(sync.pending).toBe(0);
  });

  it('refuses more than its cap while waiting, and bad alerts before writing anything', () => {
    const b = new MemoryTickets();
    b.down = true;
    const { sync } = setup(b, { maxPending: 2 });
    sync.accept(alert({ id: '1', dedupKey: 'a' }), 'Q');
    sync.accept(alert({ id: '2', dedupKey: 'b' }), 'Q');
    expect(() => sync.accept(alert({ id: '3', dedupKey: 'c' }), 'Q')).toThrow(/2 alerts are already waiting/);
    expect(() => sync.accept(alert(), '')).toThrow(/no queue/);
    sync.close();
    expect(() => alertForTicket({ ...alert(), severity: 'huge' })).toThrow(/severity "huge"/);
    expect(() => alertForTicket({ ...alert(), state: 'maybe' })).toThrow(/state/);
    expect(() => alertForTicket('text')).toThrow(/no alert/);
    expect(alertForTicket({ ...alert(), details: { raw: 'abcd', n: 1 } }).details).toEqual({ n: 1 });
  });
});
