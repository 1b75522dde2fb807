import type { Node, NodeAPI, NodeStatus } from 'node-red';
import { reasonText } from './errors';
import { Translate, translator } from './texts';

/** The states a node shows, each with one look, chosen here only. */
export type StatusState = 'idle' | 'busy' | 'ok' | 'warning' | 'waiting' | 'error' | 'alarm';

const LOOK: Record<StatusState, Pick<NodeStatus, 'fill' | 'shape'>> = {
  /** Nothing going on: off, stopped, closed. */
  idle: { fill: 'grey', shape: 'ring' },
  /** Working on a request. */
  busy: { fill: 'yellow', shape: 'dot' },
  /** Done, or running as it should. */
  ok: { fill: 'green', shape: 'dot' },
  /** Done in part, or running with something to look at. */
  warning: { fill: 'yellow', shape: 'ring' },
  /** Waiting for something outside (a broker, a device to answer). */
  waiting: { fill: 'blue', shape: 'ring' },
  /** The last request failed. */
  error: { fill: 'red', shape: 'ring' },
  /** A device in a state that needs a person: isolated, say. */
  alarm: { fill: 'red', shape: 'dot' },
};

export function statusLook(state: StatusState, text: string): NodeStatus {
  return { ...LOOK[state], text };
}

/** Power state names with a catalog text; any other name is shown as it is. */
const POWER_KEYS: Record<string, string> = {
  on: 'oobkit.power.on',
  off: 'oobkit.power.off',
  'off-hard': 'oobkit.power.off-hard',
  'soft-off': 'oobkit.power.soft-off',
  sleep: 'oobkit.power.sleep',
  'sleep-light': 'oobkit.power.sleep-light',
  hibernate: 'oobkit.power.hibernate',
  other: 'oobkit.power.other',
};

export interface StatusHelper {
  /** A catalog text in one of the states. */
  (state: StatusState, key: string, vars?: Record<string, unknown>): void;
  /** A text that is data (a model name, a template label), shown as it is. */
  show(state: StatusState, text: string): void;
  /** Red ring with the short reason of an error. */
  error(e: unknown): void;
  /** A power state: "on" as ok, "off" as idle, any other (sleeping...) as a warning. */
  power(state: string): void;
  clear(): void;
  /** The node's catalog. */
  readonly _: Translate;
}

export function powerText(_: Translate, state: string): string {
  return POWER_KEYS[state] ? _(POWER_KEYS[state]) : state;
}

export function statusHelper(RED: NodeAPI, node: Node): StatusHelper {
  const _ = translator(RED);
  const set = ((state: StatusState, key: string, vars?: Record<string, unknown>) => node.status(statusLook(state, _(key, vars)))) as StatusHelper;
  set.show = (state, text) => node.status(statusLook(state, text));
  set.error = (e) => node.status(statusLook('error', reasonText(_, e)));
  set.power = (state) => node.status(statusLook(state === 'on' ? 'ok' : state === 'off' || state === 'off-hard' ? 'idle' : 'warning', powerText(_, state)));
  set.clear = () => node.status({});
  Object.defineProperty(set, '_', { value: _ });
  return set;
}
