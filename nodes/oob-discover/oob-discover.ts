import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { discover, DISCOVER_DEFAULTS } from '../../lib/asf/discover';
import { inputError } from '../shared/errors';
import { onInput } from '../shared/input';
import { statusHelper } from '../shared/status';
import { Translate } from '../shared/texts';
import { replyTopic } from '../shared/topic';
import type { OobMessage } from '../shared/types';

interface DiscoverNodeDef extends NodeDef {
  /** Addresses, host names, CIDR blocks, ranges; separated by commas, spaces or new lines. */
  targets?: string;
  port?: string | number;
  rate?: string | number;
  concurrency?: string | number;
  /** Seconds per attempt. */
  timeout?: string | number;
  retries?: string | number;
}

const num = (v: unknown, dflt: number): number => (v === undefined || v === null || v === '' ? dflt : Number(v));

/** Targets from msg.payload (text or a list of text) when given, else the node's. */
function targetsOf(_: Translate, msg: OobMessage, configured: string | undefined): string | string[] {
  const p = msg.payload;
  if (typeof p === 'string' && p.trim()) return p;
  if (Array.isArray(p) && p.length) {
    if (!p.every((x) => typeof x === 'string')) throw inputError(_, 'oob-discover.error.bad-targets');
    return p as string[];
  }
  if (!configured?.trim()) throw inputError(_, 'oob-discover.error.no-targets');
  return configured;
}

export = function (RED: NodeAPI) {
  function OobDiscover(this: Node, def: DiscoverNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const show = statusHelper(RED, node);

    onInput(
      node,
      show,
      async (m, { signal }) => {
        const targets = targetsOf(show._, m, def.targets);
        show('busy', 'oob-discover.status.sweeping');
        const result = await discover({
          targets,
          port: num(def.port, 623),
          packetsPerSecond: num(def.rate, DISCOVER_DEFAULTS.packetsPerSecond),
          concurrency: num(def.concurrency, DISCOVER_DEFAULTS.concurrency),
          timeoutMs: num(def.timeout, DISCOVER_DEFAULTS.timeoutMs / 1000) * 1000,
          retries: num(def.retries, DISCOVER_DEFAULTS.retries),
          signal,
        });
        show('ok', 'oob-discover.status.found', { found: result.found.length, scanned: result.scanned });
        return Object.assign(m, { topic: replyTopic(m, 'discovery'), payload: result }) as NodeMessage;
      },
      { abortOnClose: true },
    );
  }

  RED.nodes.registerType('oob-discover', OobDiscover as never);
};
