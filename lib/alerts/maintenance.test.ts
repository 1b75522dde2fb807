/** When a cron window opens next: what the editor shows agrees with when the runtime holds alerts back. */
import { compileWindow, nextOpenings } from './maintenance';

describe('nextOpenings', () => {
  const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();

  it('lists the next times a cron expression fires, in local time', () => {
    // 2025-05-01 was a Thursday.
    expect(nextOpenings('0 22 * * 6', at(2025, 5, 1, 9), 3)).toEqual([new Date(2025, 4, 3, 22), new Date(2025, 4, 10, 22), new Date(2025, 4, 17, 22)]);
    expect(nextOpenings('*/15 8 * * 1-5', at(2025, 5, 2, 8, 20), 3)).toEqual([new Date(2025, 4, 2, 8, 30), new Date(2025, 4, 2, 8, 45), new Date(2025, 4, 5, 8, 0)]);
    // Both day fields restricted: either one is enough, as in cron.
    expect(nextOpenings('0 6 13 * 5', at(2025, 6, 1), 2)).toEqual([new Date(2025, 5, 6, 6), new Date(2025, 5, 13, 6)]);
    // The opening itself counts when it is now.
    expect(nextOpenings('30 7 * * *', at(2025, 1, 1, 7, 30), 1)).toEqual([new Date(2025, 0, 1, 7, 30)]);
  });

  it('finds rare dates years ahead, and nothing for a date that never comes', () => {
    expect(nextOpenings('0 0 29 2 *', at(2025, 3, 1), 1)).toEqual([new Date(2028, 1, 29)]);
    expect(nextOpenings('0 0 31 4 *', at(2025, 1, 1), 1)).toEqual([]);
  });

  it('opens when the runtime starts holding alerts back, and not a minute before', () => {
    const cron = '45 23 * * 0';
    const w = compileWindow({ cron, minutes: 30 });
    for (const t of nextOpenings(cron, at(2025, 1, 1), 5)) {
      expect(w.activeAt(t.getTime())).toBe(true);
      expect(w.activeAt(t.getTime() - 60_000)).toBe(false);
    }
  });

  it('says what is wrong with a bad expression, as the runtime does', () => {
    expect(() => nextOpenings('0 24 * * *', 0)).toThrow('cron hour "24" is outside 0-23');
  });
});
