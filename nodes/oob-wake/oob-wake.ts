import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { deviceInfo, ManagedDevice } from '../../lib/device';
import { InputError } from '../../lib/errors';
import { ConfirmChoice, wakeAndConfirm, WakeOutcome } from '../../lib/wake';
import { resolveDevice } from '../shared/resolve-device';
import { busyStatus, errorStatus } from '../shared/status';
import type { OobDeviceNode, OobMessage } from '../shared/types';

interface WakeNodeDef extends NodeDef {
  device?: string;
  /** Broadcast/unicast address, port and interface for MACs without a device setting of their own. */
  address?: string;
  port?: string | number;
  interface?: string;
  repeat?: string | number;
  confirm?: ConfirmChoice;
  confirmPort?: string | number;
  /** Seconds. */
  timeout?: string | number;
  fallback?: boolean;
  /** Seconds. */
  fallbackAfter?: string | number;
}

interface WakeNodeCredentials {
  secureOn?: string;
}

const seconds = (v: unknown, dflt: number): number => (v === undefined || v === '' || v === null ? dflt : Number(v));

/** msg.mac: one MAC or a list of them. */
function macsOf(msg: OobMessage): string[] | undefined {
  const m = msg.mac;
  if (m === undefined || m === null || m === '') return undefined;
  if (typeof m === 'string') return [m];
  if (Array.isArray(m) && m.length > 0) return m.map((x) => (typeof x === 'string' ? x : String(x)));
  throw new InputError('msg.mac must be a MAC address or a list of them');
}

function statusFor(o: WakeOutcome): NodeStatus {
  if (o.woke === true) {
    if (o.alreadyOn) return { fill: 'green', shape: 'dot', text: 'already on' };
    const after = `on after ${((o.after_ms ?? 0) / 1000).toFixed(1)} s`;
    return { fill: 'green', shape: 'dot', text: o.fallback ? `${after} (${o.method === 'ipmi-power-on' ? 'BMC' : 'AMT'})` : after };
  }
  if (o.woke === false) return { fill: 'red', shape: 'ring', text: 'no answer' };
  return { fill: 'green', shape: 'ring', text: `sent ${o.packets} packet${o.packets === 1 ? '' : 's'}` };
}

export = function (RED: NodeAPI) {
  function OobWake(this: Node & { credentials?: WakeNodeCredentials }, def: WakeNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const running = new Set<AbortController>();

    async function handle(msg: OobMessage, abort: AbortController): Promise<NodeMessage> {
      const macs = macsOf(msg);
      // msg.mac alone wakes those MACs (nothing to watch); otherwise a device: msg.device or the configured one.
      let device: ManagedDevice | undefined;
      if (msg.device !== undefined && msg.device !== null && msg.device !== '') device = resolveDevice(RED, configured, msg);
      else if (!macs) device = resolveDevice(RED, configured, msg);
      const outcome = await wakeAndConfirm({
        device,
        macs,
        address: def.address || undefined,
        port: def.port === '' ? undefined : def.port,
        interface: def.interface || undefined,
        secureOn: node.credentials?.secureOn || undefined,
        repeat: def.repeat === '' ? undefined : def.repeat,
        confirm: def.confirm || 'auto',
        confirmPort: def.confirmPort === '' ? undefined : def.confirmPort,
        timeoutMs: seconds(def.timeout, 60) * 1000,
        fallback: def.fallback !== false,
        fallbackAfterMs: seconds(def.fallbackAfter, 20) * 1000,
        onStage: (stage, via) => node.status(busyStatus(stage === 'waking' ? 'waking…' : via === 'ipmi' ? 'BMC power-on…' : 'AMT power-on…')),
        signal: abort.signal,
      });
      node.status(statusFor(outcome));
      const info = device ? deviceInfo(device) : undefined;
      return Object.assign(msg, {
        topic: msg.topic ?? info?.name ?? info?.host ?? outcome.macs.join(','),
        payload: { ...outcome, ...(info ? { device: info } : {}) },
      });
    }

    node.on('input', (msg, send, done) => {
      const abort = new AbortController();
      running.add(abort);
      handle(msg as OobMessage, abort).then(
        (out) => {
          running.delete(abort);
          send(out);
          done();
        },
        (e: Error) => {
          running.delete(abort);
          if (abort.signal.aborted) return done(); // the node is closing
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

  RED.nodes.registerType('oob-wake', OobWake as never, { credentials: { secureOn: { type: 'password' } } });
};
