/**
 * One System Defense change at a time per device: two flows isolating and releasing the same PC
 * at once would otherwise interleave their steps. Requests are already queued per client; this
 * queues whole multi-step operations.
 */
import type { WsmanClient } from '../../wsman/client';
import { Limiter } from '../../util/limiter';

const locks = new WeakMap<WsmanClient, Limiter>();

export function exclusive<T>(client: WsmanClient, task: () => Promise<T>): Promise<T> {
  let l = locks.get(client);
  if (!l) {
    l = new Limiter(1);
    locks.set(client, l);
  }
  return l.run(task);
}
