import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { discover, DISCOVER_DEFAULTS } from '../../lib/asf/discover';
import { InputError } from '../../lib/errors';
import { busyStatus, errorStatus } from '../shared/status';
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
function targetsOf(msg: OobMessage, configured: string | undefined): string | string[] {
  const p = msg.payload;
  if (typeof p === 'string' && p.trim()) return p;
  if (Array.isArray(p) && p.length) {
    if (!p.every((x) => typeof x === 'string')) throw new InputError('msg.payload must be text or a list of text (addresses, CIDR blocks, ranges)');
    return p as string[];
  }
  if (!configured?.trim()) throw new InputError('nothing to discover: set targets in the node or send them in msg.payload');
  return configured;
}

export = function (RED: NodeAPI) {
  function OobDiscover(this: Node, def: DiscoverNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const running = new Set<AbortController>();

    node.on('input', (msg, send, done) => {
      const abort = new AbortController();
      running.add(abort);
      const m = msg as OobMessage;
      (async () => {
        const targets = targetsOf(m, def.targets);
        node.status(busyStatus('sweeping…'));
        const result = await discover({
          targets,
          port: num(def.port, 623),
          packetsPerSecond: num(def.rate, DISCOVER_DEFAULTS.packetsPerSecond),
          concurrency: num(def.concurrency, DISCOVER_DEFAULTS.concurrency),
          timeoutMs: num(def.timeout, DISCOVER_DEFAULTS.timeoutMs / 1000) * 1000,
          retries: num(def.retries, DISCOVER_DEFAULTS.retries),
          signal: abort.signal,
        });
        node.status({ fill: 'green', shape: 'dot', text: `found ${result.found.length} of ${result.scanned}` });
        return Object.assign(m, { topic: m.topic ?? 'discovery', payload: result }) as NodeMessage;
      })().then(
        (out) => {
          running.delete(abort);
          send(out);
          done();
        },
        (e: Error) => {
          running.delete(abort);
          if (abort.signal.aborted) return done();
          node.status(errorStatus(e));
          done(e);
        },
      );
    });

    node.on('close', () => {
      for (const a of running) a.abort();
      running.clear();
    });
  }

  RED.nodes.registerType('oob-discover', OobDiscover as never);
};
