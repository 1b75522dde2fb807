import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { ManagedDevice } from '../../lib/device';
import { slug } from '../../lib/mqtt/topics';
import { ActionClass, allowList, generateKeyPairText, parsePrivateKey, parsePublicKey, Refusal, RemoteResponder, RunRecord, driverExecutor } from '../../lib/remote';
import type { LinkStatus } from '../../lib/mqtt/link';
import { inputError, translatedError } from '../shared/errors';
import { MqttBrokerConfigNode, remoteLinkOptions } from '../shared/remote-broker';
import { recoverBoots } from '../shared/boot-journal';
import { statusHelper } from '../shared/status';
import type { OobDeviceNode } from '../shared/types';

const MAX_REFUSALS_SENT_PER_SECOND = 10;

interface GatewayDef extends NodeDef {
  broker: string;
  site: string;
  base?: string;
  allowRead?: boolean;
  allowPower?: boolean;
  allowBoot?: boolean;
  allowIsolate?: boolean;
  allowAcknowledge?: boolean;
  scope?: 'all' | 'site' | 'list';
  devices?: string[];
  /** Seconds a command's time may differ from ours. */
  window?: string | number;
}

interface GatewayCredentials {
  siteKey?: string;
  centreKey?: string;
}

export = function (RED: NodeAPI) {
  function OobRemoteGateway(this: Node & { credentials?: GatewayCredentials }, def: GatewayDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const show = statusHelper(RED, node);
    const site = slug(def.site || '');
    const scope = def.scope ?? 'site';
    const allowed: ActionClass[] = [];
    if (def.allowRead !== false) allowed.push('read');
    if (def.allowAcknowledge) allowed.push('acknowledge');
    if (def.allowPower) allowed.push('power');
    if (def.allowBoot) allowed.push('boot');
    if (def.allowIsolate) allowed.push('isolate');
    let devices = new Map<string, ManagedDevice>();
    let responder: RemoteResponder | undefined;
    let online = false;
    let flashUntil = 0;

    /** The oob-device config nodes served, by their topic segment (slug of name or host). */
    function collectDevices(): Map<string, ManagedDevice> {
      const ids: string[] = [];
      if (scope === 'list') ids.push(...(def.devices ?? []));
      else
        RED.nodes.eachNode((n: { id: string; type: string; site?: string; via?: string }) => {
          if (n.type === 'oob-device' && !n.via && (scope === 'all' || slug(n.site ?? '') === site)) ids.push(n.id);
        });
      const out = new Map<string, ManagedDevice>();
      for (const id of ids) {
        const n = RED.nodes.getNode(id) as OobDeviceNode | null;
        if (!n) continue;
        try {
          const d = n.device();
          if (d.remote) continue;
          out.set(slug(d.name ?? d.host), d);
        } catch (e) {
          node.error(translatedError(show._, e));
        }
      }
      return out;
    }

    const showState = () => {
      if (Date.now() < flashUntil) return;
      if (online) show('ok', 'oob-remote-gateway.status.online', { count: devices.size, allowed: allowed.join(', ') });
    };

    try {
      if (!site) throw inputError(show._, 'oob-remote-gateway.error.no-site');
      const link = remoteLinkOptions(RED.nodes.getNode(def.broker) as MqttBrokerConfigNode | null, `gw-${site}`);
      if (!link) throw inputError(show._, 'oob-remote-gateway.error.no-broker');
      const creds = node.credentials ?? {};
      if (!creds.siteKey) throw inputError(show._, 'oob-remote-gateway.error.no-site-key');
      if (!creds.centreKey) throw inputError(show._, 'oob-remote-gateway.error.no-centre-key');
      const windowSeconds = Number(def.window) > 0 ? Number(def.window) : 60;
      responder = new RemoteResponder({
        ...link,
        base: def.base || 'oobkit',
        site,
        siteKey: parsePrivateKey(creds.siteKey, 'site private key'),
        centreKey: parsePublicKey(creds.centreKey, 'centre public key'),
        allow: allowList(allowed),
        windowMs: windowSeconds * 1000,
        devices: (s) => devices.get(s),
        execute: driverExecutor,
      });
    } catch (e) {
      show.error(e);
      node.error(translatedError(show._, e));
    }

    if (responder) {
      const r = responder;
      show('waiting', 'oob-remote-gateway.status.connecting');
      setImmediate(() => {
        devices = collectDevices();
        showState();
        // A boot the centre started here that this runtime did not finish (killed, power lost): put back.
        recoverBoots(RED, node, show._, devices.values());
      });
      r.on('online', () => {
        online = true;
        showState();
      });
      r.on('status', (s: LinkStatus) => {
        if (s.state === 'connected') return;
        online = false;
        if (s.state === 'closed') return show('idle', 'oobkit.status.closed');
        show(s.state === 'connecting' ? 'waiting' : 'error', 'oob-remote-gateway.status.offline', { reason: s.reason ?? '' });
      });
      // A flood of refused commands (someone at the broker) shows once a second at most, and its
      // output messages are capped per second: the flow is not flooded with them.
      let refusedWindow = 0;
      let refusedInWindow = 0;
      r.on('refused', (x: Refusal) => {
        const now = Date.now();
        if (now - refusedWindow >= 1000) {
          refusedWindow = now;
          refusedInWindow = 0;
          flashUntil = now + 5000;
          // A command that could not be read (unsigned, forged) names no action we may trust.
          if (x.action) show('warning', 'oob-remote-gateway.status.refused', { reason: x.reason, action: x.action });
          else show('warning', 'oob-remote-gateway.status.refused-unread', { reason: x.reason });
          setTimeout(showState, 5000).unref?.();
        }
        if (++refusedInWindow <= MAX_REFUSALS_SENT_PER_SECOND) node.send({ topic: 'refused', payload: x } as NodeMessage);
      });
      r.on('ran', (x: RunRecord) => node.send({ topic: 'ran', payload: x } as NodeMessage));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      if (!responder) return done();
      responder.removeAllListeners();
      responder.close().then(done, done);
    });
  }

  RED.nodes.registerType('oob-remote-gateway', OobRemoteGateway as never, {
    credentials: { siteKey: { type: 'password' }, centreKey: { type: 'text' } },
  });

  // The editor's "new key pair" button (gateway and centre dialogs): the private key goes into the
  // credential field, the public key is shown for the other side to pin.
  RED.httpAdmin.post('/oobkit/remote/keypair', RED.auth.needsPermission('oob-device.write'), (_req, res) => {
    res.json(generateKeyPairText());
  });
};
