import type { NodeStatus } from 'node-red';
import { shortReason } from '../../lib/errors';

export function errorStatus(e: unknown): NodeStatus {
  return { fill: 'red', shape: 'ring', text: shortReason(e) };
}

export function busyStatus(text: string): NodeStatus {
  return { fill: 'yellow', shape: 'dot', text };
}

/** Green dot for on, grey ring for off, yellow ring for sleeping states. */
export function powerStatus(state: string, suffix = ''): NodeStatus {
  const text = suffix ? `${state} ${suffix}` : state;
  if (state === 'on') return { fill: 'green', shape: 'dot', text };
  if (state === 'off' || state === 'off-hard') return { fill: 'grey', shape: 'ring', text };
  return { fill: 'yellow', shape: 'ring', text };
}
