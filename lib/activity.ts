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
const recent = new Map<string, OwnAction>();

export function recordOwnAction(host: string, kind: OwnAction['kind'], action: string): void {
  const a: OwnAction = { host: host.toLowerCase(), kind, action, at: Date.now() };
  recent.set(a.host, a);
  bus.emit('action', a);
}

/** The last action taken on this host within `withinMs`, if any. */
export function lastOwnAction(host: string, withinMs: number, now = Date.now()): OwnAction | undefined {
  const a = recent.get(host.toLowerCase());
  return a && now - a.at <= withinMs ? a : undefined;
}

export function onOwnAction(listener: (a: OwnAction) => void): () => void {
  bus.on('action', listener);
  return () => bus.off('action', listener);
}
