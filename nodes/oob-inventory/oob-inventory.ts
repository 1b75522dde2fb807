import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { AuditPosition } from '../../lib/amt/audit-log';
import { inventoryRow, ROW_COLUMNS } from '../../lib/amt/inventory';
import { deviceInfo, ManagedDevice } from '../../lib/device';
import { withCapability } from '../../lib/drivers';
import { KeyValueFile } from '../../lib/util/key-value-file';
import { inputError } from '../shared/errors';
import { onInput } from '../shared/input';
import { resolveDevice } from '../shared/resolve-device';
import { statusHelper } from '../shared/status';
import type { Translate } from '../shared/texts';
import { replyTopic } from '../shared/topic';
import type { OobDeviceNode, OobMessage } from '../shared/types';

interface InventoryDef extends NodeDef {
  device?: string;
  action?: string;
  format?: string;
  auditMode?: string;
}

const ACTIONS = ['inventory', 'audit', 'audit-new', 'audit-all'];

/** The action a message asks for: msg.action, else a text msg.payload, else the node's setting. */
function actionOf(_: Translate, msg: OobMessage, configured: string): string {
  const given = typeof msg.action === 'string' && msg.action.trim() ? msg.action : typeof msg.payload === 'string' && msg.payload.trim() ? msg.payload : undefined;
  if (given === undefined) return configured;
  const a = given.trim().toLowerCase();
  if (!ACTIONS.includes(a)) throw inputError(_, 'oobkit.error.unknown-action', { action: given, actions: ACTIONS.join(', ') });
  return a;
}

/** One position file per Node-RED user directory, shared by every oob-inventory node. */
const stores = new Map<string, KeyValueFile<AuditPosition>>();

export = function (RED: NodeAPI) {
  function OobInventory(this: Node, def: InventoryDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? ((RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined) : undefined;
    const defaultAction = ACTIONS.includes(def.action ?? '') ? (def.action as string) : 'inventory';
    const show = statusHelper(RED, node);
    const format = def.format === 'row' ? 'row' : 'object';
    const auditMode = def.auditMode === 'all' ? 'all' : 'new';

    const userDir = (RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
    const file = path.join(userDir, 'oobkit', 'audit-positions.json');
    let store = stores.get(file);
    if (!store) {
      store = new KeyValueFile<AuditPosition>(file, { onCorrupt: (m) => node.warn(m) });
      stores.set(file, store);
    }
    const positions = store;

    async function inventory(msg: OobMessage, device: ManagedDevice): Promise<NodeMessage> {
      const info = deviceInfo(device);
      show('busy', 'oobkit.status.reading');
      const inv = await withCapability(device, 'inventory', (d) => d.readInventory!());
      if (inv.partial) show('warning', 'oob-inventory.status.partial', { missing: inv.missing.length });
      else if (inv.platform.model) show.show('ok', inv.platform.model);
      else show('ok', 'oob-inventory.status.read');
      const out: Record<string, unknown> = { topic: replyTopic(msg, info.name, info.host), partial: inv.partial, missing: inv.missing };
      if (format === 'row') {
        out.payload = inventoryRow(inv, info);
        out.columns = ROW_COLUMNS.join(',');
      } else {
        out.payload = { device: info, ...inv };
      }
      return Object.assign(msg, out) as NodeMessage;
    }

    async function audit(msg: OobMessage, device: ManagedDevice, mode: 'new' | 'all'): Promise<NodeMessage> {
      const info = deviceInfo(device);
      const amt = device.amt;
      const key = `${node.id}|${device.host}:${amt?.port ?? (amt?.tls ? 16993 : 16992)}`;
      show('busy', 'oob-inventory.status.reading-log');
      const res = await withCapability(device, 'audit-log', (d) => d.readAuditLog!({ mode, after: positions.get(key) }));
      if (res.position) positions.set(key, res.position);
      const count = { count: res.records.length };
      if (res.partial) show('warning', mode === 'new' ? 'oob-inventory.status.new-partial' : 'oob-inventory.status.records-partial', count);
      else show('ok', mode === 'new' ? 'oob-inventory.status.new' : 'oob-inventory.status.records', count);
      const meta: Record<string, unknown> = { device: info, mode, total: res.total };
      if (res.restarted) meta.restarted = res.restarted;
      return Object.assign(msg, {
        topic: replyTopic(msg, info.name, info.host),
        payload: res.records.map((r) => ({ ...r, device: info.name ?? info.host })),
        audit: meta,
        partial: res.partial,
        missing: res.missing,
      }) as NodeMessage;
    }

    // One read at a time per node, so two audit reads never race for the same position.
    let queue: Promise<unknown> = Promise.resolve();

    onInput(node, show, (msg) => {
      const run = async (): Promise<NodeMessage> => {
        const action = actionOf(show._, msg, defaultAction);
        const device = resolveDevice(RED, configured, msg);
        if (action === 'inventory') return inventory(msg, device);
        return audit(msg, device, action === 'audit-all' ? 'all' : action === 'audit-new' ? 'new' : auditMode);
      };
      const job = queue.then(run);
      queue = job.catch(() => undefined);
      return job;
    });
  }

  RED.nodes.registerType('oob-inventory', OobInventory as never);
};
