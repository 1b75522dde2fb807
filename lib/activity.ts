/**
 * What OOBKit itself just did to a device (power, wake, boot). The alert policy reads this to
 * suppress the alerts those actions cause, such as a heartbeat lost during a reset we asked for.
 */
import { EventEmitter } from 'node:events';

export interface OwnAction {
  /** host of the device, lower case: the key every feature can compute. */
  host: string;
  kind: 'power' | 'wake' | 'boot' | 'defense';
  action: string;
  at: number;
}

const bus = new EventEmitter();
bus.setMaxListeners(0);
/** host -> kind -> the last action of that kind. */
const recent = new Map<string, Map<OwnAction['kind'], OwnAction>>();

export function recordOwnAction(host: string, kind: OwnAction['kind'], action: string): void {
  const a: OwnAction = { host: host.toLowerCase(), kind, action, at: Date.now() };
  let byKind = recent.get(a.host);
  if (!byKind) recent.set(a.host, (byKind = new Map()));
  byKind.set(kind, a);
  bus.emit('action', a);
}

/** The latest action (of the given kinds, default any) taken on this host within `withinMs`. */
export function lastOwnAction(host: string, withinMs: number, now = Date.now(), kinds?: ReadonlyArray<OwnAction['kind']>): OwnAction | undefined {
  let latest: OwnAction | undefined;
  for (const a of recent.get(host.toLowerCase())?.values() ?? []) {
    if (kinds && !kinds.includes(a.kind)) continue;
    if (now - a.at <= withinMs && (!latest || a.at > latest.at)) latest = a;
  }
  return latest;
}

export function onOwnAction(listener: (a: OwnAction) => void): () => void {
  bus.on('action', listener);
  return () => bus.off('action', listener);
}
