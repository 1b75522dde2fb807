/**
 * Runs a task for every member once a period, with one timer for all of them: the period is cut
 * into slots of about `tickMs`, each member has a slot, and the members of a slot start together.
 * A fleet of 250 polled every 10 s wakes the process 10 times a period instead of 250 times, and
 * their requests and answers share turns of the event loop.
 *
 * A member's first run comes at a random time within `firstWithinMs` (rounded to a tick), then it
 * runs when its slot comes round, at least half a period later. A member whose last run has not
 * ended is skipped that round.
 */
export interface PollWheelOptions<T> {
  periodMs: number;
  /** Slot length; the period is cut into whole slots of about this. Default 1,000 ms. */
  tickMs?: number;
  /** The first run of a member added comes within this. Default: the period, at most 2,000 ms. */
  firstWithinMs?: number;
  run: (member: T) => Promise<void>;
}

interface Member {
  slot: number;
  running: boolean;
  lastStart: number;
}

export class PollWheel<T> {
  private readonly slots: Array<Set<T>>;
  private readonly tickMs: number;
  private readonly periodMs: number;
  private readonly firstWithinMs: number;
  private readonly members = new Map<T, Member>();
  /** Members whose first run has not started yet, with the time it is due. */
  private readonly waitingFirst = new Map<T, number>();
  private timer?: NodeJS.Timeout;
  private origin = 0;
  /** The last tick whose slot was run. */
  private tick = 0;
  private closed = false;

  constructor(private readonly o: PollWheelOptions<T>) {
    const count = Math.max(1, Math.round(o.periodMs / (o.tickMs ?? 1000)));
    this.slots = Array.from({ length: count }, () => new Set<T>());
    this.tickMs = o.periodMs / count;
    this.periodMs = o.periodMs;
    this.firstWithinMs = o.firstWithinMs ?? Math.min(o.periodMs, 2000);
  }

  add(member: T): void {
    if (this.closed || this.members.has(member)) return;
    let slot = 0;
    for (let i = 1; i < this.slots.length; i++) if (this.slots[i].size < this.slots[slot].size) slot = i;
    this.slots[slot].add(member);
    this.members.set(member, { slot, running: false, lastStart: 0 });
    this.waitingFirst.set(member, Date.now() + Math.random() * this.firstWithinMs);
    if (!this.timer) {
      this.origin = Date.now();
      this.tick = 0;
      this.arm();
    }
  }

  remove(member: T): void {
    const m = this.members.get(member);
    if (!m) return;
    this.slots[m.slot].delete(member);
    this.members.delete(member);
    this.waitingFirst.delete(member);
    if (this.members.size === 0) this.stop();
  }

  close(): void {
    this.closed = true;
    this.stop();
    this.members.clear();
    this.waitingFirst.clear();
    for (const s of this.slots) s.clear();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const next = this.origin + (this.tick + 1) * this.tickMs;
    this.timer = setTimeout(() => this.onTick(), Math.max(0, next - Date.now()));
  }

  private onTick(): void {
    this.timer = undefined;
    const now = Date.now();
    const due = Math.floor((now - this.origin) / this.tickMs);
    // A late timer (a busy event loop) runs the slots it missed, each at most once.
    const from = Math.max(this.tick + 1, due - this.slots.length + 1);
    for (let t = from; t <= due; t++) {
      for (const member of this.slots[t % this.slots.length]) {
        const m = this.members.get(member)!;
        // Not right after the first run, which came at a random time.
        if (!this.waitingFirst.has(member) && now - m.lastStart >= this.periodMs / 2) this.start(member, m, now);
      }
    }
    for (const [member, dueAt] of this.waitingFirst) if (dueAt <= now) this.start(member, this.members.get(member)!, now);
    this.tick = Math.max(this.tick, due);
    if (!this.closed && this.members.size) this.arm();
  }

  private start(member: T, m: Member, now: number): void {
    if (m.running) return;
    m.running = true;
    m.lastStart = now;
    this.waitingFirst.delete(member);
    this.o.run(member).then(
      () => (m.running = false),
      () => (m.running = false),
    );
  }
}
