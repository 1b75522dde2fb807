/**
 * The "these devices" checklist of the HA bridge's and the remote gateway's dialogs: one checkbox
 * per oob-device config node, ticked for the ids the node already has. Inlined into both editor
 * files by scripts/build-editor.js (window.OOBKitDevicePicker).
 */

/* The editor's globals: jQuery and RED. */
declare const $: any;
declare const RED: any;

export interface PickerOptions {
  /** Prefix of the checkbox ids, unique per dialog. */
  idPrefix: string;
  /** Leave out devices reached through another site (`via` set): a gateway serves its own LAN. */
  localOnly: boolean;
  /** Shown in place of the list when there is no device to pick. */
  emptyText: string;
}

/** Fill `list` (a jQuery element) with a checkbox per device; `chosen` are the ticked ids. */
export function fill(list: any, chosen: string[] | undefined, o: PickerOptions): void {
  const ticked = chosen ?? [];
  RED.nodes.eachConfig((n: any) => {
    if (n.type !== 'oob-device' || (o.localOnly && n.via)) return;
    const id = `${o.idPrefix}${String(n.id).replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const row = $('<div>').appendTo(list);
    $('<input type="checkbox" style="width:auto;margin:0 6px 0 0;vertical-align:middle">')
      .attr('id', id)
      .val(n.id)
      .prop('checked', ticked.indexOf(n.id) >= 0)
      .appendTo(row);
    $('<label style="width:auto">')
      .attr('for', id)
      .text((n.name || n.host) + (n.site ? ` (${n.site})` : ''))
      .appendTo(row);
  });
  if (!list.children().length) $('<i>').text(o.emptyText).appendTo(list);
}

/** The ids ticked in `list`. */
export function chosen(list: any): string[] {
  const ids: string[] = [];
  list.find('input:checked').each(function (this: any) {
    ids.push($(this).val());
  });
  return ids;
}
