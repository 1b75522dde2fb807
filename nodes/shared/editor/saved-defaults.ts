/**
 * A node saved before one of its drop-down settings existed has no value for it: the drop-down
 * would open empty, and Done would mark the node changed. The runtime reads a missing setting as
 * its default, so the dialog shows (and keeps) that default. Inlined into the editor files of the
 * nodes with drop-downs by scripts/build-editor.js (window.OOBKitSavedDefaults).
 */

/* The editor's global: jQuery. */
declare const $: any;

/**
 * For each of `node`'s settings with no value whose drop-down (`<prefix>-<name>`) has nothing
 * chosen: the setting's default, in the node and in the drop-down. Call at the end of oneditprepare.
 */
export function show(node: any, prefix: string): void {
  const defaults = node._def?.defaults ?? {};
  for (const name of Object.keys(defaults)) {
    if (node[name] !== undefined || defaults[name].value === undefined) continue;
    const el = document.getElementById(`${prefix}-${name}`) as HTMLSelectElement | null;
    if (!el || el.tagName !== 'SELECT' || el.selectedIndex !== -1) continue;
    node[name] = defaults[name].value;
    $(el).val(node[name]).trigger('change');
  }
}
