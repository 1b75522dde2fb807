import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { isAlarmAction, runAlarmAction } from '../../lib/amt/alarm-clock';
import { acquireAmt } from '../../lib/amt/connect';
import { deviceInfo, deviceLabel, ManagedDevice } from '../../lib/device';
import { ConfirmChoice, wakeAndConfirm, WakeOutcome } from '../../lib/wake';
import { inputError, nodeError } from '../shared/errors';
import { onInput } from '../shared/input';
import { resolveDevice } from '../shared/resolve-device';
import { StatusHelper, statusHelper } from '../shared/status';
import type { Translate } from '../shared/texts';
import { replyTopic } from '../shared/topic';
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
function macsOf(_: Translate, msg: OobMessage): string[] | undefined {
  const m = msg.mac;
  if (m === undefined || m === null || m === '') return undefined;
  if (typeof m === 'string') return [m];
  if (Array.isArray(m) && m.length > 0) return m.map((x) => (typeof x === 'string' ? x : String(x)));
  throw inputError(_, 'oob-wake.error.bad-mac');
}

function showOutcome(show: StatusHelper, o: WakeOutcome): void {
  if (o.woke === true) {
    if (o.alreadyOn) return show('ok', 'oob-wake.status.already-on');
    const seconds = ((o.after_ms ?? 0) / 1000).toFixed(1);
    if (!o.fallback) return show('ok', 'oob-wake.status.on-after', { seconds });
    return show('ok', 'oob-wake.status.on-after-fallback', { seconds, by: o.method === 'ipmi-power-on' ? 'BMC' : 'AMT' });
  }
  if (o.woke === false) return show('error', 'oob-wake.status.no-answer');
  show('ok', 'oob-wake.status.sent', { count: o.packets });
}

export = function (RED: NodeAPI) {
  function OobWake(this: Node & { credentials?: WakeNodeCredentials }, def: WakeNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const show = statusHelper(RED, node);

    /** Firmware wake-ups (AMT's alarm clock): set, list or delete them on the device. */
    async function alarm(msg: OobMessage, action: string): Promise<NodeMessage> {
      const device = resolveDevice(RED, configured, msg);
      if (!device.amt) throw nodeError('UNSUPPORTED', show._('oob-wake.error.alarm-needs-amt', { device: deviceLabel(device) }));
      const act = action.trim().toLowerCase() as Parameters<typeof runAlarmAction>[1];
      show('busy', 'oobkit.status.doing', { action: act });
      const lease = acquireAmt(device.amt);
      try {
        const result = await runAlarmAction(lease.client, act, msg.alarm ?? msg.payload);
        show('ok', 'oob-wake.status.alarms', { count: result.alarms.length });
        const info = deviceInfo(device);
        return Object.assign(msg, { topic: replyTopic(msg, info.name, info.host), payload: { ...result, device: info } });
      } finally {
        lease.release();
      }
    }

    async function handle(msg: OobMessage, signal: AbortSignal): Promise<NodeMessage> {
      if (isAlarmAction(msg.action)) return alarm(msg, msg.action);
      const macs = macsOf(show._, msg);
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
        onStage: (stage, via) => show('busy', stage === 'waking' ? 'oob-wake.status.waking' : via === 'ipmi' ? 'oob-wake.status.bmc-power-on' : 'oob-wake.status.amt-power-on'),
        signal,
      });
      showOutcome(show, outcome);
      const info = device ? deviceInfo(device) : undefined;
      return Object.assign(msg, {
        topic: replyTopic(msg, info?.name, info?.host, outcome.macs.join(',')),
        payload: { ...outcome, ...(info ? { device: info } : {}) },
      });
    }

    onInput(node, show, (msg, { signal }) => handle(msg, signal), { abortOnClose: true });
  }

  RED.nodes.registerType('oob-wake', OobWake as never, { credentials: { secureOn: { type: 'password' } } });
};
