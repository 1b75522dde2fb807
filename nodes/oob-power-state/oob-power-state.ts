import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { deviceInfo } from '../../lib/device';
import { canonicalPowerAction, DevicePowerStatus, withDriver } from '../../lib/drivers';
import { inputError } from '../shared/errors';
import { onInput } from '../shared/input';
import { startPoll } from '../shared/poll';
import { resolveDevice } from '../shared/resolve-device';
import { statusHelper } from '../shared/status';
import { replyTopic } from '../shared/topic';
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
    const show = statusHelper(RED, node);
    let last: DevicePowerStatus | undefined;

    async function handle(msg: OobMessage): Promise<NodeMessage> {
      const asked = actionOf(msg, defaultAction);
      const action = asked === 'status' ? asked : canonicalPowerAction(asked);
      const device = resolveDevice(RED, configured, msg);
      const info = deviceInfo(device);
      if (action === 'status') {
        show('busy', 'oobkit.status.reading');
        const status = await withDriver(device, (d) => d.readPower());
        show.power(status.state);
        return Object.assign(msg, { topic: replyTopic(msg, info.name, info.host), payload: { ...status, device: info } });
      }
      show('busy', 'oobkit.status.doing', { action });
      const { before, after } = await withDriver(device, (d) => d.changePower(action));
      show.power(after.state);
      return Object.assign(msg, {
        topic: replyTopic(msg, info.name, info.host),
        payload: { ...after, previous: before.state, action, device: info },
      });
    }

    onInput(node, show, handle);

    startPoll(node, show, pollSeconds, async () => {
      if (!configured) throw inputError(show._, 'oob-power-state.error.poll-no-device');
      const device = configured.device();
      const status = await withDriver(device, (d) => d.readPower());
      show.power(status.state);
      if (!last || last.state !== status.state) {
        const info = deviceInfo(device);
        node.send({ topic: info.name ?? info.host, payload: { ...status, previous: last?.state, device: info } } as NodeMessage);
      }
      last = status;
    });
  }

  RED.nodes.registerType('oob-power-state', OobPowerState as never);
};
