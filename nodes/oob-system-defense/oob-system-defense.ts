import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { DefenseStatus, isTemplateName, templateName } from '../../lib/amt/defense';
import { deviceInfo } from '../../lib/device';
import { withCapability } from '../../lib/drivers';
import { InputError } from '../../lib/errors';
import { resolveDevice } from '../shared/resolve-device';
import { busyStatus, errorStatus } from '../shared/status';
import type { OobDeviceNode, OobMessage } from '../shared/types';

interface DefenseDef extends NodeDef {
  device?: string;
  action?: string;
  template?: string;
  managementHosts?: string;
  ports?: string;
  protocol?: string;
  hosts?: string;
  allow?: string;
  interfaces?: string;
  event?: boolean;
  replace?: boolean;
  counters?: boolean;
  agentId?: string;
  agentDescription?: string;
  agentTimeout?: string | number;
  agentGrace?: string | number;
  agentPolicy?: string;
}

const ACTIONS = ['status', 'apply', 'release', 'watchdog-add', 'watchdog-remove', 'watchdog-status'];

/** Red dot isolated, yellow dot under a policy, green dot open. */
function defenseStatusDot(s: DefenseStatus): NodeStatus {
  if (s.state === 'isolated') return { fill: 'red', shape: 'dot', text: 'isolated' };
  if (s.state === 'policy') return { fill: 'yellow', shape: 'dot', text: s.label };
  return { fill: 'green', shape: 'dot', text: 'open' };
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** The template parameters set in the node, for its own template only. */
function configuredParams(def: DefenseDef): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  const t = def.template ? templateName(def.template) : undefined;
  if (t === 'isolate' && text(def.managementHosts)) p.managementHosts = def.managementHosts;
  if ((t === 'block-inbound-port' || t === 'block-outbound-port') && text(def.ports)) p.ports = def.ports;
  if ((t === 'block-inbound-port' || t === 'block-outbound-port') && text(def.protocol)) p.protocol = def.protocol;
  if ((t === 'block-inbound-port' || t === 'block-outbound-port') && text(def.hosts)) p.hosts = def.hosts;
  if (t === 'allow-only' && text(def.allow)) p.allow = def.allow;
  if (text(def.interfaces)) p.interfaces = def.interfaces;
  if (def.event === true) p.event = true;
  return p;
}

function configuredWatchdog(def: DefenseDef): Record<string, unknown> {
  const w: Record<string, unknown> = {};
  if (text(def.agentId)) w.agentId = def.agentId;
  if (text(def.agentDescription)) w.description = def.agentDescription;
  if (def.agentTimeout !== undefined && def.agentTimeout !== '') w.timeout = def.agentTimeout;
  if (def.agentGrace !== undefined && def.agentGrace !== '') w.grace = def.agentGrace;
  if (text(def.agentPolicy)) w.onExpire = w.onStop = { event: true, policy: def.agentPolicy };
  return w;
}

function objectOf(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${what} must be an object`);
  return v as Record<string, unknown>;
}


export = function (RED: NodeAPI) {
  function OobSystemDefense(this: Node, def: DefenseDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const defaultAction = (def.action || 'status').toLowerCase();
    const withCounters = def.counters !== false;

    /** What the message asks for: an action, or a template name meaning "apply it". */
    function request(msg: OobMessage): { action: string; template?: string } {
      const asked = text(msg.action) ?? text(msg.payload) ?? defaultAction;
      const a = asked.toLowerCase();
      if (ACTIONS.includes(a)) return { action: a, template: text(msg.template) ?? def.template };
      if (isTemplateName(a)) return { action: 'apply', template: a };
      throw new InputError(`unknown action "${asked}"; use ${ACTIONS.join(', ')} or a template name (isolate, block-inbound-port, block-outbound-port, allow-only)`);
    }

    async function handle(msg: OobMessage): Promise<NodeMessage> {
      const { action, template } = request(msg);
      const device = resolveDevice(RED, configured, msg);
      const info = deviceInfo(device);
      let payload: Record<string, unknown>;
      if (action === 'apply') {
        if (!template) throw new InputError('apply needs a template: set one in the node or in msg.template');
        const t = templateName(template);
        const params = { ...(def.template && templateName(def.template) === t ? configuredParams(def) : {}), ...objectOf(msg.params, 'msg.params') };
        const replace = typeof msg.replace === 'boolean' ? msg.replace : params.replace === true || def.replace === true;
        delete params.replace;
        node.status(busyStatus(`${t === 'isolate' ? 'isolating' : `applying ${t}`}…`));
        const change = await withCapability(device, 'defense', async (d) => {
          const ch = await d.defense!.apply(t, params, { replace });
          return { ch, status: await d.defense!.status({ counters: withCounters }) };
        });
        payload = { action, changed: change.ch.changed, template: t, params: change.ch.params, ...change.status, before: change.ch.before, steps: change.ch.steps };
        if (change.ch.warnings.length) payload.warnings = change.ch.warnings;
      } else if (action === 'release') {
        node.status(busyStatus('releasing…'));
        const change = await withCapability(device, 'defense', async (d) => {
          const ch = await d.defense!.release();
          return { ch, status: await d.defense!.status({ counters: withCounters }) };
        });
        payload = { action, changed: change.ch.changed, released: change.ch.policy ?? null, ...change.status, before: change.ch.before, steps: change.ch.steps };
        if (change.ch.warnings.length) payload.warnings = change.ch.warnings;
      } else if (action === 'watchdog-add' || action === 'watchdog-remove') {
        const w = { ...configuredWatchdog(def), ...objectOf(msg.watchdog, 'msg.watchdog') };
        node.status(busyStatus(action === 'watchdog-add' ? 'adding watchdog…' : 'removing watchdog…'));
        const change = await withCapability(device, 'defense', async (d) => {
          const ch = action === 'watchdog-add' ? await d.defense!.addWatchdog(w) : await d.defense!.removeWatchdog(w.agentId ?? msg.agentId);
          return { ch, status: await d.defense!.status({ watchdogs: true }) };
        });
        payload = { action, changed: change.ch.changed, agentId: change.ch.agentId, ...change.status, steps: change.ch.steps };
        if (change.ch.warnings.length) payload.warnings = change.ch.warnings;
      } else {
        node.status(busyStatus('reading…'));
        const status = await withCapability(device, 'defense', (d) => d.defense!.status({ counters: action === 'status' && withCounters, watchdogs: action === 'watchdog-status' }));
        payload = { action, ...status };
      }
      node.status(defenseStatusDot(payload as unknown as DefenseStatus));
      return Object.assign(msg, { topic: msg.topic ?? info.name ?? info.host, payload: { ...payload, device: info } });
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
  }

  RED.nodes.registerType('oob-system-defense', OobSystemDefense as never);
};
