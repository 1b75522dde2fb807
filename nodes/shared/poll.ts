import type { Node, NodeMessage } from 'node-red';
import { translatedError } from './errors';
import type { StatusHelper } from './status';

/**
 * Runs `tick` every `seconds` (first after a short delay) until the node closes, one tick at a
 * time. A failure shows in the status every time, and goes to node.error once when it starts,
 * not on every tick while a device stays away.
 */
export function startPoll(node: Node, status: StatusHelper, seconds: number, tick: () => Promise<void>): void {
  if (!(seconds > 0)) return;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  let closed = false;
  const run = async (): Promise<void> => {
    if (closed) return;
    try {
      await tick();
      failing = false;
    } catch (e) {
      if (closed) return;
      status.error(e);
      if (!failing) {
        const err = translatedError(status._, e);
        node.error(err, { payload: { error: err.message } } as NodeMessage);
      }
      failing = true;
    } finally {
      if (!closed) timer = setTimeout(run, seconds * 1000);
    }
  };
  timer = setTimeout(run, 100);
  node.on('close', () => {
    closed = true;
    clearTimeout(timer);
  });
}
