import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { ManagedDevice } from '../../lib/device';
import { BridgeStatus, CommandRequest, CommandResult, gatewayAclLines, HaBridge, slug } from '../../lib/mqtt';
import { packageInfo } from '../../lib/version';
import { errorText, inputError, translatedError } from '../shared/errors';
import { onInput } from '../shared/input';
import { resolveDevice } from '../shared/resolve-device';
import { StatusHelper, statusHelper } from '../shared/status';
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
  /** Link on HA's device pages (the editor, a console page). */
  configUrl?: string;
}

interface Pending {
  resolve: (verdict: boolean | string) => void;
  timer: NodeJS.Timeout;
}

function showLink(show: StatusHelper, s: BridgeStatus): void {
  const count = s.devices;
  switch (s.link.state) {
    case 'connected':
      // A broker ACL that refuses us is the first thing to fix: nothing reaches HA until it is.
      if (s.denied.length) return show('error', 'oob-ha.status.denied', { what: s.denied[0] });
      if (s.unreachable) return show('warning', 'oob-ha.status.pcs-unreachable', { count, unreachable: s.unreachable });
      return show('ok', 'oob-ha.status.pcs', { count });
    case 'connecting':
      if (s.link.reason) return show('waiting', 'oob-ha.status.connecting-reason', { reason: s.link.reason });
      return show('waiting', 'oob-ha.status.connecting');
    case 'disconnected': {
      const seconds = Math.ceil((s.link.retryInMs ?? 0) / 1000);
      if (s.link.reason) return show('error', 'oob-ha.status.retry-reason', { reason: s.link.reason, seconds });
      return show('error', 'oob-ha.status.retry', { seconds });
    }
    default:
      return show('idle', 'oobkit.status.closed');
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
    const show = statusHelper(RED, node);
    let bridge: HaBridge | undefined;
    let restoreTimer: NodeJS.Timeout | undefined;

    // An input error shows for a few seconds before the connection status comes back.
    let errorShownUntil = 0;
    const showStatus = () => {
      if (bridge && Date.now() >= errorShownUntil) showLink(show, bridge.status);
    };
    const flashError = (e: unknown) => {
      show.error(e);
      errorShownUntil = Date.now() + 5000;
      clearTimeout(restoreTimer);
      restoreTimer = setTimeout(showStatus, 5000);
    };

    try {
      if (!site) throw inputError(show._, 'oob-ha.error.no-site');
      const { name, version, homepage } = packageInfo();
      bridge = new HaBridge({
        broker: linkOptionsFrom(show._, RED.nodes.getNode(def.broker) as MqttBrokerNode | null, site),
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
        configurationUrl: def.configUrl || undefined,
      });
    } catch (e) {
      show.error(e);
      node.error(translatedError(show._, e));
    }

    function waitForApproval(cmd: CommandRequest): Promise<boolean | string> {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(cmd.id);
          resolve(show._('oob-ha.error.no-approval', { seconds: approvalMs / 1000 }));
        }, approvalMs);
        pending.set(cmd.id, { resolve, timer });
      });
    }

    /** The oob-device config nodes this gateway publishes. */
    function configuredDevices(): ManagedDevice[] {
      const ids: string[] = [];
      if (scope === 'list') ids.push(...(def.devices ?? []));
      else {
        // A device at another site (via a remote centre) is that site's gateway's to publish.
        RED.nodes.eachNode((n: { id: string; type: string; site?: string; via?: string }) => {
          if (n.type === 'oob-device' && !n.via && (scope === 'all' || slug(n.site ?? '') === site)) ids.push(n.id);
        });
      }
      const out: ManagedDevice[] = [];
      for (const id of ids) {
        const n = RED.nodes.getNode(id) as OobDeviceNode | null;
        if (!n) {
          node.warn(show._('oob-ha.warn.not-deployed', { id }));
          continue;
        }
        try {
          out.push(n.device());
        } catch (e) {
          node.error(translatedError(show._, e));
        }
      }
      return out;
    }

    if (bridge) {
      const b = bridge;
      b.on('status', showStatus);
      b.on('problem', (e: Error & { short?: string }) => {
        node.error(translatedError(show._, e), { payload: { error: errorText(show._, e) } } as NodeMessage);
      });
      b.on('command', (cmd: CommandRequest) => {
        node.send([{ topic: `${cmd.device.name ?? cmd.device.host}/${cmd.entity}`, payload: cmd, approvalRequired: Boolean(def.approval) } as NodeMessage, null]);
      });
      b.on('result', (r: CommandResult) => {
        const device = 'slug' in r.device ? r.device.slug : (r.device.name ?? r.device.host);
        node.send([null, { topic: `${device}/${r.entity}`, payload: r } as NodeMessage]);
      });
      show('waiting', 'oob-ha.status.connecting');
      // Config nodes are all created before this one runs its first tick.
      setImmediate(() => b.setDevices(configuredDevices()));
    }

    async function handle(msg: OobMessage): Promise<void> {
      if (!bridge) throw inputError(show._, 'oob-ha.error.not-running');
      if (msg.approve !== undefined) {
        const id = (msg.payload as { id?: unknown } | undefined)?.id;
        const p = typeof id === 'string' ? pending.get(id) : undefined;
        if (!p) throw inputError(show._, 'oob-ha.error.no-pending', { id: JSON.stringify(id) });
        clearTimeout(p.timer);
        pending.delete(id as string);
        p.resolve(msg.approve === true ? true : typeof msg.reason === 'string' && msg.reason ? msg.reason : show._('oob-ha.error.vetoed'));
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
          if (!ref) throw inputError(show._, 'oob-ha.error.remove-no-device');
          if (!bridge.removeDevice(ref)) throw inputError(show._, 'oob-ha.error.not-published', { device: ref });
          return;
        }
        case 'republish':
          await bridge.publishAll();
          return;
      }
      throw inputError(show._, 'oob-ha.error.no-request');
    }

    onInput(node, show, handle, { showError: flashError });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearTimeout(restoreTimer);
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.resolve(show._('oob-ha.error.stopped'));
      }
      pending.clear();
      if (!bridge) return done();
      bridge.removeAllListeners('status');
      bridge.close().then(done, done);
    });
  }

  RED.nodes.registerType('oob-ha', OobHa as never);

  // The broker ACL lines of a gateway, for the edit dialog: the user name of its broker node (when
  // deployed), its site, base topic and discovery prefix.
  RED.httpAdmin.get('/oobkit/ha-acl', RED.auth.needsPermission('oob-ha.read'), (req, res) => {
    const q = req.query as Record<string, unknown>;
    const text = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
    const broker = text('broker') ? (RED.nodes.getNode(text('broker')!) as (MqttBrokerNode & { credentials?: { user?: string } }) | null) : null;
    try {
      res.json({ lines: gatewayAclLines({ username: broker?.credentials?.user, site: text('site') ?? '', base: text('base') || undefined, discoveryPrefix: text('prefix') || undefined }) });
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
    }
  });
};

