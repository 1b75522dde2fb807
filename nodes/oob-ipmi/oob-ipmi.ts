import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { deviceInfo, ManagedDevice } from '../../lib/device';
import { EventCursor, withCapability } from '../../lib/drivers';
import { InputError } from '../../lib/errors';
import { checkIpmiAction, IpmiActionName, IpmiActionResult } from '../../lib/ipmi/actions';
import type { SelCursor } from '../../lib/ipmi/sel';
import { KeyValueFile } from '../../lib/util/key-value-file';
import { resolveDevice } from '../shared/resolve-device';
import { busyStatus, errorStatus, powerStatus } from '../shared/status';
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

function doneStatus(action: IpmiActionName, r: IpmiActionResult): NodeStatus {
  const p = r.payload;
  switch (action) {
    case 'status':
      return powerStatus(String(p.power));
    case 'sensors': {
      const sensors = p.sensors as Array<{ status: string }>;
      const bad = sensors.filter((s) => s.status !== 'ok' && s.status !== 'unavailable').length;
      return bad ? { fill: 'yellow', shape: 'dot', text: `${bad} of ${sensors.length} sensors out of range` } : { fill: 'green', shape: 'dot', text: `${sensors.length} sensors ok` };
    }
    case 'sel':
    case 'sel-new':
      return { fill: 'green', shape: 'dot', text: `${String(p.count)} events` };
    case 'sel-clear':
      return { fill: 'green', shape: 'dot', text: 'log cleared' };
    case 'identify':
      return { fill: 'blue', shape: 'dot', text: `identify ${String(p.identify)} s` };
    case 'identify-off':
      return { fill: 'grey', shape: 'ring', text: 'identify off' };
    case 'boot':
      return { fill: 'green', shape: 'dot', text: `next boot: ${(p.bootOverride as { device: string }).device}` };
  }
}

/** One SEL position file per Node-RED user directory. */
const stores = new Map<string, KeyValueFile<SelCursor>>();

export = function (RED: NodeAPI) {
  function OobIpmi(this: Node, def: IpmiDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? ((RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined) : undefined;
    let defaultAction: IpmiActionName = 'status';
    try {
      defaultAction = checkIpmiAction(def.action || 'status');
    } catch (e) {
      node.error((e as Error).message);
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
    const cursorKey = (d: ManagedDevice) => `${node.id}|${d.ipmi?.host ?? d.host}:${d.ipmi?.port ?? 623}`;

    async function handle(msg: OobMessage): Promise<NodeMessage> {
      const action = actionOf(msg, defaultAction);
      const device = resolveDevice(RED, configured, msg);
      const info = deviceInfo(device);
      node.status(busyStatus(`${action}…`));
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
      node.status(doneStatus(action, r));
      return Object.assign(msg, { topic: msg.topic ?? info.name ?? info.host, payload: r.payload }) as NodeMessage;
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

    // Watch mode: read the event log on an interval and send each new entry as an Alert.
    let timer: NodeJS.Timeout | undefined;
    let failing = false;
    let closed = false;
    async function watch(): Promise<void> {
      if (closed) return;
      try {
        if (!configured) throw new InputError('watching the event log needs a device chosen in the node');
        const device = configured.device();
        const key = cursorKey(device);
        const cursor = cursors.get(key);
        // The first look only marks where the log stands: old entries are not news.
        const r = await withCapability(device, 'bmc', (d) => d.readNewEvents(cursor as EventCursor | undefined, { initial: 'skip' }));
        cursors.set(key, r.cursor as SelCursor);
        if (!cursor) {
          node.status({ fill: 'green', shape: 'dot', text: 'watching' });
        } else {
          for (const alert of r.alerts) node.send({ topic: alert.device.name ?? alert.device.host, payload: alert } as NodeMessage);
          node.status({ fill: 'green', shape: 'dot', text: `watching: ${r.alerts.length} new` });
        }
        failing = false;
      } catch (e) {
        node.status(errorStatus(e));
        if (!failing) node.error(e, { payload: { error: (e as Error).message } } as NodeMessage);
        failing = true;
      } finally {
        if (!closed) timer = setTimeout(watch, watchSeconds * 1000);
      }
    }
    if (watchSeconds > 0) timer = setTimeout(watch, 100);

    node.on('close', () => {
      closed = true;
      clearTimeout(timer);
    });
  }

  RED.nodes.registerType('oob-ipmi', OobIpmi as never);
};
