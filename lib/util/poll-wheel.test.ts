import { PollWheel } from './poll-wheel';

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

/** A wheel over `count` members that records when each run started; runs end at once unless held. */
function wheel(count: number, o: { periodMs?: number; tickMs?: number; hold?: Set<number> } = {}) {
  const runs = new Map<number, number[]>();
  const release = new Map<number, () => void>();
  const w = new PollWheel<number>({
    periodMs: o.periodMs ?? 10_000,
    tickMs: o.tickMs,
    run: (m) => {
      runs.set(m, [...(runs.get(m) ?? []), Date.now()]);
      if (!o.hold?.has(m)) return Promise.resolve();
      return new Promise<void>((r) => release.set(m, r));
    },
  });
  for (let i = 0; i < count; i++) w.add(i);
  return { w, runs, release };
}

describe('PollWheel', () => {
  it('runs every member within the first 2 s, then once a period, 250 members in 10 slots of 25', async () => {
    const { runs } = wheel(250);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(runs.size).toBe(250);
    const startsPerTick = new Map<number, number>();
    await jest.advanceTimersByTimeAsync(58_000);
    for (const [, times] of runs) {
      // First run, then one per period from its slot on: 6 or 7 in 60 s, never two in one period.
      expect(times.length).toBeGreaterThanOrEqual(6);
      expect(times.length).toBeLessThanOrEqual(7);
      for (let i = 2; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(10_000);
      for (const t of times.slice(1)) if (t >= 1_012_000) startsPerTick.set(t, (startsPerTick.get(t) ?? 0) + 1);
    }
    // Once every first run is a period behind: regular runs start together, 25 at a time, on 1 s ticks.
    expect(startsPerTick.size).toBe(49);
    expect(new Set(startsPerTick.values())).toEqual(new Set([25]));
    for (const t of startsPerTick.keys()) expect((t - 1_000_000) % 1_000).toBe(0);
  });

  it('wakes the process once a slot, not once a member', async () => {
    wheel(250);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(jest.getTimerCount()).toBe(1);
  });

  it('skips a member whose last run has not ended, and runs it again after it has', async () => {
    const { runs, release } = wheel(3, { periodMs: 3_000, hold: new Set([1]) });
    await jest.advanceTimersByTimeAsync(9_000);
    expect(runs.get(1)).toHaveLength(1);
    expect(runs.get(0)!.length).toBeGreaterThanOrEqual(3);
    release.get(1)!();
    await jest.advanceTimersByTimeAsync(3_000);
    expect(runs.get(1)).toHaveLength(2);
  });

  it('keeps running when a run fails', async () => {
    let calls = 0;
    const w = new PollWheel<string>({
      periodMs: 1_000,
      run: () => {
        calls++;
        return Promise.reject(new Error('no answer'));
      },
    });
    w.add('pc');
    await jest.advanceTimersByTimeAsync(5_000);
    expect(calls).toBeGreaterThanOrEqual(5);
  });

  it('a removed member runs no more; the last one gone stops the timer', async () => {
    const { w, runs } = wheel(2, { periodMs: 2_000 });
    await jest.advanceTimersByTimeAsync(4_000);
    const before = runs.get(0)!.length;
    w.remove(0);
    await jest.advanceTimersByTimeAsync(6_000);
    expect(runs.get(0)).toHaveLength(before);
    expect(runs.get(1)!.length).toBeGreaterThan(before);
    w.remove(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('spreads members added later into the emptiest slots', async () => {
    const { w, runs } = wheel(10, { periodMs: 5_000 });
    for (let i = 10; i < 15; i++) w.add(i);
    await jest.advanceTimersByTimeAsync(20_000);
    const perTick = new Map<number, number>();
    for (const times of runs.values()) for (const t of times.slice(1)) if (t >= 1_007_000) perTick.set(t, (perTick.get(t) ?? 0) + 1);
    expect(perTick.size).toBe(14);
    expect(new Set(perTick.values())).toEqual(new Set([3]));
  });

  it('a period shorter than a tick is one slot', async () => {
    const { runs } = wheel(4, { periodMs: 50 });
    await jest.advanceTimersByTimeAsync(500);
    for (const times of runs.values()) expect(times.length).toBeGreaterThanOrEqual(9);
  });

  it('after a stalled event loop, runs the slots it missed once each, not once per missed period', async () => {
    const { runs } = wheel(10, { periodMs: 10_000 });
    await jest.advanceTimersByTimeAsync(2_000);
    // Time jumps 35 s with no timer firing (a blocked event loop), then the timer fires once.
    jest.setSystemTime(Date.now() + 35_000);
    await jest.advanceTimersByTimeAsync(1_000);
    for (const times of runs.values()) expect(times.length).toBe(2);
  });

  it('closed: runs nothing more', async () => {
    const { w, runs } = wheel(5);
    w.close();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(runs.size).toBe(0);
    w.add(99);
    expect(jest.getTimerCount()).toBe(0);
  });
});
