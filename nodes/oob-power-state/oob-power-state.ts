import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { deviceInfo } from '../../lib/device';
import { canonicalPowerAction, DevicePowerStatus, withDriver } from '../../lib/drivers';
import { InputError } from '../../lib/errors';
import { resolveDevice } from '../shared/resolve-device';
import { busyStatus, errorStatus, powerStatus } from '../shared/status';
import type { OobDeviceNode, OobMessage } from '../shared/types';

interface PowerStateDef extends NodeDef {
  device?: string;
  action?: string;
  poll?: string | number;
}

/** The action a message asks for: msg.action, else a text msg.payload, else the node's setting. */
function actionOf(msg: OobMessage, configured: string): string {
  if (typeof msg.action === 'string' && msg.action.trim()) return msg.action.trim().toLowerCase();
  if (typeof msg.payload === 'string' && msg.payload.trim()) return msg.payload.trim().toLowerCase();
  return configured;
}

export = function (RED: NodeAPI) {
  function OobPowerState(this: Node, def: PowerStateDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const defaultAction = (def.action || 'status').toLowerCase();
    const pollSeconds = Number(def.poll) || 0;
    let last: DevicePowerStatus | undefined;
    let pollTimer: NodeJS.Timeout | undefined;
    let pollFailing = false;
    let closed = false;

    async function handle(msg: OobMessage): Promise<NodeMessage> {
      const asked = actionOf(msg, defaultAction);
      const action = asked === 'status' ? asked : canonicalPowerAction(asked);
      const device = resolveDevice(RED, configured, msg);
      const info = deviceInfo(device);
      if (action === 'status') {
        node.status(busyStatus('reading…'));
        const status = await withDriver(device, (d) => d.readPower());
        node.status(powerStatus(status.state));
        return Object.assign(msg, { topic: msg.topic ?? info.name ?? info.host, payload: { ...status, device: info } });
      }
      node.status(busyStatus(`${action}…`));
      const { before, after } = await withDriver(device, (d) => d.changePower(action));
      node.status(powerStatus(after.state));
      return Object.assign(msg, {
        topic: msg.topic ?? info.name ?? info.host,
        payload: { ...after, previous: before.state, action, device: info },
      });
    }

    node.on('input', (msg, send, done) => {
      handle(msg as OobMessage).then(
        (out) => {
          send(out);
          done();
        },
        (e: Error) => {
          node.status(errorStatus(e));
          done(e);
        },
      );
    });

    async function poll(): Promise<void> {
      if (closed) return;
      try {
        if (!configured) throw new InputError('polling needs a device chosen in the node');
        const device = configured.device();
        const status = await withDriver(device, (d) => d.readPower());
        pollFailing = false;
        node.status(powerStatus(status.state));
        if (!last || last.state !== status.state) {
          const info = deviceInfo(device);
          node.send({ topic: info.name ?? info.host, payload: { ...status, previous: last?.state, device: info } } as NodeMessage);
        }
        last = status;
      } catch (e) {
        node.status(errorStatus(e));
        // Report a failure once when it starts, not on every poll while the device stays away.
        if (!pollFailing) node.error(e, { payload: { error: (e as Error).message } } as NodeMessage);
        pollFailing = true;
      } finally {
        if (!closed) pollTimer = setTimeout(poll, pollSeconds * 1000);
      }
    }

    if (pollSeconds > 0) pollTimer = setTimeout(poll, 100);

    node.on('close', () => {
      closed = true;
      clearTimeout(pollTimer);
    });
  }

  RED.nodes.registerType('oob-power-state', OobPowerState as never);
};
