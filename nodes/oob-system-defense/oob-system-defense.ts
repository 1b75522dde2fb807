import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { DefenseStatus, isTemplateName, templateName } from '../../lib/amt/defense';
import { deviceInfo } from '../../lib/device';
import { withCapability } from '../../lib/drivers';
import { inputError } from '../shared/errors';
import { onInput } from '../shared/input';
import { resolveDevice } from '../shared/resolve-device';
import { StatusHelper, statusHelper } from '../shared/status';
import type { Translate } from '../shared/texts';
import { replyTopic } from '../shared/topic';
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

function showDefense(show: StatusHelper, s: DefenseStatus): void {
  if (s.state === 'isolated') return show('alarm', 'oob-system-defense.status.isolated');
  if (s.state === 'policy') return show('warning', 'oob-system-defense.status.policy', { name: s.template ?? s.policy?.name ?? '' });
  show('ok', 'oob-system-defense.status.open');
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

function objectOf(_: Translate, v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw inputError(_, 'oob-system-defense.error.not-object', { what });
  return v as Record<string, unknown>;
}


export = function (RED: NodeAPI) {
  function OobSystemDefense(this: Node, def: DefenseDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const defaultAction = (def.action || 'status').toLowerCase();
    const withCounters = def.counters !== false;
    const show = statusHelper(RED, node);

    /** What the message asks for: an action, or a template name meaning "apply it". */
    function request(msg: OobMessage): { action: string; template?: string } {
      const asked = text(msg.action) ?? text(msg.payload) ?? defaultAction;
      const a = asked.toLowerCase();
      if (ACTIONS.includes(a)) return { action: a, template: text(msg.template) ?? def.template };
      if (isTemplateName(a)) return { action: 'apply', template: a };
      throw inputError(show._, 'oob-system-defense.error.unknown-action', { action: asked, actions: ACTIONS.join(', ') });
    }

    async function handle(msg: OobMessage): Promise<NodeMessage> {
      const { action, template } = request(msg);
      const device = resolveDevice(RED, configured, msg);
      const info = deviceInfo(device);
      let payload: Record<string, unknown>;
      if (action === 'apply') {
        if (!template) throw inputError(show._, 'oob-system-defense.error.no-template');
        const t = templateName(template);
        const params = { ...(def.template && templateName(def.template) === t ? configuredParams(def) : {}), ...objectOf(show._, msg.params, 'msg.params') };
        const replace = typeof msg.replace === 'boolean' ? msg.replace : params.replace === true || def.replace === true;
        delete params.replace;
        if (t === 'isolate') show('busy', 'oob-system-defense.status.isolating');
        else show('busy', 'oob-system-defense.status.applying', { template: t });
        const change = await withCapability(device, 'defense', async (d) => {
          const ch = await d.defense!.apply(t, params, { replace });
          return { ch, status: await d.defense!.status({ counters: withCounters }) };
        });
        payload = { action, changed: change.ch.changed, template: t, params: change.ch.params, ...change.status, before: change.ch.before, steps: change.ch.steps };
        if (change.ch.warnings.length) payload.warnings = change.ch.warnings;
      } else if (action === 'release') {
        show('busy', 'oob-system-defense.status.releasing');
        const change = await withCapability(device, 'defense', async (d) => {
          const ch = await d.defense!.release();
          return { ch, status: await d.defense!.status({ counters: withCounters }) };
        });
        payload = { action, changed: change.ch.changed, released: change.ch.policy ?? null, ...change.status, before: change.ch.before, steps: change.ch.steps };
        if (change.ch.warnings.length) payload.warnings = change.ch.warnings;
      } else if (action === 'watchdog-add' || action === 'watchdog-remove') {
        const w = { ...configuredWatchdog(def), ...objectOf(show._, msg.watchdog, 'msg.watchdog') };
        show('busy', action === 'watchdog-add' ? 'oob-system-defense.status.adding-watchdog' : 'oob-system-defense.status.removing-watchdog');
        const change = await withCapability(device, 'defense', async (d) => {
          const ch = action === 'watchdog-add' ? await d.defense!.addWatchdog(w) : await d.defense!.removeWatchdog(w.agentId ?? msg.agentId);
          return { ch, status: await d.defense!.status({ watchdogs: true }) };
        });
        payload = { action, changed: change.ch.changed, agentId: change.ch.agentId, ...change.status, steps: change.ch.steps };
        if (change.ch.warnings.length) payload.warnings = change.ch.warnings;
      } else {
        show('busy', 'oobkit.status.reading');
        const status = await withCapability(device, 'defense', (d) => d.defense!.status({ counters: action === 'status' && withCounters, watchdogs: action === 'watchdog-status' }));
        payload = { action, ...status };
      }
      showDefense(show, payload as unknown as DefenseStatus);
      return Object.assign(msg, { topic: replyTopic(msg, info.name, info.host), payload: { ...payload, device: info } });
    }

    onInput(node, show, handle);
  }

  RED.nodes.registerType('oob-system-defense', OobSystemDefense as never);
};
