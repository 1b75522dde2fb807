import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import type { ManagedDevice } from '../../lib/device';
import { InputError } from '../../lib/errors';
import { BridgeStatus, CommandRequest, CommandResult, HaBridge, slug } from '../../lib/mqtt';
import { packageInfo } from '../../lib/version';
import { hideDeviceSecrets, resolveDevice } from '../shared/resolve-device';
import { errorStatus } from '../shared/status';
import type { OobDeviceNode, OobMessage } from '../shared/types';
import { linkOptionsFrom, MqttBrokerNode } from './broker';

interface HaDef extends NodeDef {
  broker: string;
  site: string;
  base?: string;
  prefix?: string;
  mode?: 'entity' | 'device';
  scope?: 'all' | 'site' | 'list';
  devices?: string[];
  poll?: string | number;
  offAction?: 'auto' | 'soft-off' | 'off';
  /** Hosts an isolated PC may still reach; empty: no isolation switch. */
  managementHosts?: string;
  approval?: boolean;
  approvalTimeout?: string | number;
}

interface Pending {
  resolve: (verdict: boolean | string) => void;
  timer: NodeJS.Timeout;
}

function linkStatus(s: BridgeStatus): NodeStatus {
  const devices = `${s.devices} PC${s.devices === 1 ? '' : 's'}`;
  switch (s.link.state) {
    case 'connected':
      return s.unreachable ? { fill: 'yellow', shape: 'dot', text: `${devices}, ${s.unreachable} unreachable` } : { fill: 'green', shape: 'dot', text: devices };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: s.link.reason ? `connecting (${s.link.reason})` : 'connecting' };
    case 'disconnected':
      return { fill: 'red', shape: 'ring', text: `${s.link.reason ?? 'disconnected'}, retry ${Math.ceil((s.link.retryInMs ?? 0) / 1000)} s` };
    default:
      return { fill: 'grey', shape: 'ring', text: 'closed' };
  }
}

export = function (RED: NodeAPI) {
  function OobHa(this: Node, def: HaDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const site = slug(def.site || '');
    const scope = def.scope ?? 'all';
    const approvalMs = Math.max(1, Number(def.approvalTimeout) || 30) * 1000;
    const pending = new Map<string, Pending>();
    let bridge: HaBridge | undefined;
    let restoreTimer: NodeJS.Timeout | undefined;

    // An input error shows for a few seconds before the connection status comes back.
    let errorShownUntil = 0;
    const showStatus = () => {
      if (bridge && Date.now() >= errorShownUntil) node.status(linkStatus(bridge.status));
    };
    const flashError = (e: unknown) => {
      node.status(errorStatus(e));
      errorShownUntil = Date.now() + 5000;
      clearTimeout(restoreTimer);
      restoreTimer = setTimeout(showStatus, 5000);
    };

    try {
      if (!site) throw new InputError('set the site name of this gateway');
      const { name, version, homepage } = packageInfo();
      bridge = new HaBridge({
        broker: linkOptionsFrom(RED.nodes.getNode(def.broker) as MqttBrokerNode | null, site),
        base: def.base || 'oobkit',
        site,
        discoveryPrefix: def.prefix || 'homeassistant',
        mode: def.mode === 'device' ? 'device' : 'entity',
        gatewayName: def.name || undefined,
        origin: { name: `OOBKit (${name})`, sw_version: version, support_url: homepage },
        pollSeconds: def.poll === undefined || def.poll === '' ? 30 : Number(def.poll),
        control: {
          offAction: def.offAction ?? 'auto',
          managementHosts: (def.managementHosts ?? '').split(/[\s,]+/).filter(Boolean),
        },
        approve: def.approval ? (cmd) => waitForApproval(cmd) : undefined,
      });
    } catch (e) {
      node.status(errorStatus(e));
      node.error(e);
    }

    function waitForApproval(cmd: CommandRequest): Promise<boolean | string> {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(cmd.id);
          resolve(`no approval within ${approvalMs / 1000} s`);
        }, approvalMs);
        pending.set(cmd.id, { resolve, timer });
      });
    }

    /** The oob-device config nodes this gateway publishes. */
    function configuredDevices(): ManagedDevice[] {
      const ids: string[] = [];
      if (scope === 'list') ids.push(...(def.devices ?? []));
      else {
        RED.nodes.eachNode((n: { id: string; type: string; site?: string }) => {
          if (n.type === 'oob-device' && (scope === 'all' || slug(n.site ?? '') === site)) ids.push(n.id);
        });
      }
      const out: ManagedDevice[] = [];
      for (const id of ids) {
        const n = RED.nodes.getNode(id) as OobDeviceNode | null;
        if (!n) {
          node.warn(`device ${id} is not deployed`);
          continue;
        }
        try {
          out.push(n.device());
        } catch (e) {
          node.error(e);
        }
      }
      return out;
    }

    if (bridge) {
      const b = bridge;
      b.on('status', showStatus);
      b.on('problem', (e: Error & { short?: string }) => {
        node.error(e, { payload: { error: e.message } } as NodeMessage);
      });
      b.on('command', (cmd: CommandRequest) => {
        node.send([{ topic: `${cmd.device.name ?? cmd.device.host}/${cmd.entity}`, payload: cmd, approvalRequired: Boolean(def.approval) } as NodeMessage, null]);
      });
      b.on('result', (r: CommandResult) => {
        const device = 'slug' in r.device ? r.device.slug : (r.device.name ?? r.device.host);
        node.send([null, { topic: `${device}/${r.entity}`, payload: r } as NodeMessage]);
      });
      node.status({ fill: 'yellow', shape: 'ring', text: 'connecting' });
      // Config nodes are all created before this one runs its first tick.
      setImmediate(() => b.setDevices(configuredDevices()));
    }

    async function handle(msg: OobMessage): Promise<void> {
      if (!bridge) throw new InputError('not running: see the node status');
      if (msg.approve !== undefined) {
        const id = (msg.payload as { id?: unknown } | undefined)?.id;
        const p = typeof id === 'string' ? pending.get(id) : undefined;
        if (!p) throw new InputError(`no command waiting for approval with id ${JSON.stringify(id)} (it may have timed out)`);
        clearTimeout(p.timer);
        pending.delete(id as string);
        p.resolve(msg.approve === true ? true : typeof msg.reason === 'string' && msg.reason ? msg.reason : 'vetoed by the flow');
        return;
      }
      const action = typeof msg.action === 'string' ? msg.action.trim().toLowerCase() : undefined;
      const payload = msg.payload as Record<string, unknown> | undefined;
      if (action === 'alert' || (!action && payload && typeof payload === 'object' && 'dedupKey' in payload)) {
        bridge.applyAlert(payload);
        return;
      }
      switch (action) {
        case 'add':
          bridge.addDevice(resolveDevice(RED, undefined, msg));
          return;
        case 'remove': {
          const ref = typeof msg.device === 'string' ? msg.device : (msg.device as { name?: string; host?: string } | undefined)?.name ?? (msg.device as { host?: string } | undefined)?.host;
          if (!ref) throw new InputError('remove needs msg.device: the name of the device');
          if (!bridge.removeDevice(ref)) throw new InputError(`no published device "${ref}"`);
          return;
        }
        case 'republish':
          await bridge.publishAll();
          return;
      }
      throw new InputError('send an alert (msg.payload with dedupKey), msg.action add/remove with msg.device, msg.action "republish", or a command message back with msg.approve');
    }

    node.on('input', (msg, _send, done) => {
      hideDeviceSecrets(msg);
      handle(msg as OobMessage).then(
        () => done(),
        (e: Error) => {
          flashError(e);
          done(e);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearTimeout(restoreTimer);
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.resolve('the node was stopped');
      }
      pending.clear();
      if (!bridge) return done();
      bridge.removeAllListeners('status');
      bridge.close().then(done, done);
    });
  }

  RED.nodes.registerType('oob-ha', OobHa as never);
};

