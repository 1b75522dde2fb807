/**
 * Editor option lists that come from lib's tables, so a dialog offers exactly what the runtime
 * takes. A built editor file says where a list goes with `<!-- oobkit:options <list> <i18n prefix> -->`
 * inside its <select>; scripts/build-editor.js puts one <option> per value there, labelled through
 * the node's message catalog (`<prefix>.<value>`).
 */
import { BOOT_TARGETS } from '../../lib/amt/boot';
import { POWER_ACTION_NAMES } from '../../lib/drivers/power-actions';
import { OFF_ACTIONS } from '../../lib/mqtt/control';

export const OPTION_LISTS: Readonly<Record<string, readonly string[]>> = {
  /** oob-power-state: read the state, or one of the power actions. */
  'power-actions': ['status', ...POWER_ACTION_NAMES],
  'boot-targets': BOOT_TARGETS,
  /** oob-ha: what the power switch's OFF does. */
  'ha-off-actions': OFF_ACTIONS,
};

const MARKER = /<!--\s*oobkit:options\s+([a-z-]+)\s+([A-Za-z0-9_.-]+)\s*-->/g;

const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The editor file with every option-list marker replaced by its options; unknown lists are an error. */
export function fillOptionLists(html: string): string {
  return html.replace(MARKER, (_m, list: string, prefix: string) => {
    const values = OPTION_LISTS[list];
    if (!values) throw new Error(`unknown option list "${list}" (known: ${Object.keys(OPTION_LISTS).join(', ')})`);
    return values.map((v) => `<option value="${attr(v)}" data-i18n="${attr(prefix)}.${attr(v)}"></option>`).join('\n      ');
  });
}
