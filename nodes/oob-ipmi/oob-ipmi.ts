import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { deviceInfo, deviceLabel, ManagedDevice } from '../../lib/device';
import { EventCursor, withCapability } from '../../lib/drivers';
import { checkIpmiAction, IpmiActionName, IpmiActionResult } from '../../lib/ipmi/actions';
import type { SelCursor } from '../../lib/ipmi/sel';
import { KeyValueFile } from '../../lib/util/key-value-file';
import { errorText, inputError, nodeError } from '../shared/errors';
import { onInput } from '../shared/input';
import { startPoll } from '../shared/poll';
import { resolveDevice } from '../shared/resolve-device';
import { StatusHelper, statusHelper } from '../shared/status';
import type { Translate } from '../shared/texts';
import { replyTopic } from '../shared/topic';
import type { OobDeviceNode, OobMessage } from '../shared/types';

interface IpmiDef extends NodeDef {
  device?: string;
  action?: string;
  seconds?: string | number;
  bootDevice?: string;
  persistent?: boolean;
  efi?: boolean;
  sensorTypes?: string;
  /** Seconds between event log reads; 0 = off. */
  watch?: string | number;
}

/** The action a message asks for: msg.action, else a text msg.payload, else the node's setting. */
function actionOf(msg: OobMessage, configured: IpmiActionName): IpmiActionName {
  const given = typeof msg.action === 'string' && msg.action.trim() ? msg.action : typeof msg.payload === 'string' && msg.payload.trim() ? msg.payload : undefined;
  return given === undefined ? configured : checkIpmiAction(given);
}

/** A server with IPMI settings here, or one at another site (its gateway has them). */
function ipmiOf(_: Translate, device: ManagedDevice): void {
  if (!device.ipmi && !device.remote) throw nodeError('UNSUPPORTED', _('oob-ipmi.error.no-ipmi', { device: deviceLabel(device) }));
}

function showDone(show: StatusHelper, action: IpmiActionName, r: IpmiActionResult): void {
  const p = r.payload;
  switch (action) {
    case 'status':
      return show.power(String(p.power));
    case 'sensors': {
      const sensors = p.sensors as Array<{ status: string }>;
      const bad = sensors.filter((s) => s.status !== 'ok' && s.status !== 'unavailable').length;
      if (bad) return show('warning', 'oob-ipmi.status.sensors-out', { bad, total: sensors.length });
      return show('ok', 'oob-ipmi.status.sensors-ok', { total: sensors.length });
    }
    case 'sel':
    case 'sel-new':
      return show('ok', 'oob-ipmi.status.events', { count: Number(p.count) });
    case 'sel-clear':
      return show('ok', 'oob-ipmi.status.log-cleared');
    case 'identify':
      return show('ok', 'oob-ipmi.status.identify', { seconds: String(p.identify) });
    case 'identify-off':
      return show('idle', 'oob-ipmi.status.identify-off');
    case 'boot':
      return show('ok', 'oob-ipmi.status.next-boot', { device: (p.bootOverride as { device: string }).device });
  }
}

/** One SEL position file per Node-RED user directory. */
const stores = new Map<string, KeyValueFile<SelCursor>>();

export = function (RED: NodeAPI) {
  function OobIpmi(this: Node, def: IpmiDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? ((RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined) : undefined;
    const show = statusHelper(RED, node);
    let defaultAction: IpmiActionName = 'status';
    try {
      defaultAction = checkIpmiAction(def.action || 'status');
    } catch (e) {
      node.error(errorText(show._, e));
    }
    const watchSeconds = Number(def.watch) || 0;

    const userDir = (RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
    const file = path.join(userDir, 'oobkit', 'sel-positions.json');
    let store = stores.get(file);
    if (!store) {
      store = new KeyValueFile<SelCursor>(file, { onCorrupt: (m) => node.warn(m) });
      stores.set(file, store);
    }
    const cursors = store;
    // Per node and BMC: two nodes reading the same log each see every entry.
    const cursorKey = (d: ManagedDevice) => `${node.id}|${d.ipmi ? `${d.ipmi.host}:${d.ipmi.port ?? 623}` : d.host}`;

    async function handle(msg: OobMessage): Promise<NodeMessage> {
      const action = actionOf(msg, defaultAction);
      const device = resolveDevice(RED, configured, msg);
      ipmiOf(show._, device);
      const info = deviceInfo(device);
      show('busy', 'oobkit.status.doing', { action });
      const r = await withCapability(device, 'bmc', (d) =>
        d.bmc!.run(action, {
          device: info,
          seconds: msg.seconds ?? def.seconds,
          bootDevice: msg.bootDevice ?? def.bootDevice,
          persistent: msg.persistent ?? def.persistent,
          efi: msg.efi ?? def.efi,
          types: msg.types ?? def.sensorTypes,
          cursor: action === 'sel-new' ? cursors.get(cursorKey(device)) : undefined,
        }),
      );
      if (r.cursor) cursors.set(cursorKey(device), r.cursor);
      showDone(show, action, r);
      return Object.assign(msg, { topic: replyTopic(msg, info.name, info.host), payload: r.payload }) as NodeMessage;
    }

    onInput(node, show, handle);

    // Watch mode: read the event log on an interval and send each new entry as an Alert.
    startPoll(node, show, watchSeconds, async () => {
      if (!configured) throw inputError(show._, 'oob-ipmi.error.watch-no-device');
      const device = configured.device();
      ipmiOf(show._, device);
      const key = cursorKey(device);
      const cursor = cursors.get(key);
      // The first look only marks where the log stands: old entries are not news.
      const r = await withCapability(device, 'bmc', (d) => d.readNewEvents(cursor as EventCursor | undefined, { initial: 'skip' }));
      cursors.set(key, r.cursor as SelCursor);
      if (!cursor) {
        show('ok', 'oob-ipmi.status.watching');
      } else {
        for (const alert of r.alerts) node.send({ topic: alert.device.name ?? alert.device.host, payload: alert } as NodeMessage);
        show('ok', 'oob-ipmi.status.watching-new', { count: r.alerts.length });
      }
    });
  }

  RED.nodes.registerType('oob-ipmi', OobIpmi as never);
};
