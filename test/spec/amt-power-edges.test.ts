/**
 * AMT power details a user reads: the actions a PC offers are listed in PowerState order (DSP1027
 * value order), whatever order the firmware lists them in, and codes without an action name of
 * ours (1 Other, 16, 17, vendor values) are left out.
 */
import { actionsFor, POWER_ACTIONS } from '../../lib/amt/power';

describe('actions offered', () => {
  it('are named in PowerState order, whatever order the firmware lists them in', () => {
    // AMT with the OS running lists 10, 8, 5, 11, 4, 7, 14, 12.
    expect(actionsFor([10, 8, 5, 11, 4, 7, 14, 12])).toEqual(['sleep', 'cycle', 'hibernate', 'off', 'reset', 'nmi', 'soft-off', 'graceful-reset']);
    expect(actionsFor([12, 2])).toEqual(['on', 'soft-off']);
    expect(actionsFor([1, 16, 17, 32768, Number.NaN])).toEqual([]);
  });

  it('every action name maps to its PowerState, in PowerState order', () => {
    expect(Object.entries(POWER_ACTIONS)).toEqual([
      ['on', 2],
      ['sleep-light', 3],
      ['sleep', 4],
      ['cycle', 5],
      ['off-hard', 6],
      ['hibernate', 7],
      ['off', 8],
      ['cycle-hard', 9],
      ['reset', 10],
      ['nmi', 11],
      ['soft-off', 12],
      ['graceful-off-hard', 13],
      ['graceful-reset', 14],
      ['graceful-cycle', 15],
    ]);
  });
});
