import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { AckRequest, ackRequest } from '../../lib/alerts/acknowledge';
import { Alert, AlertDevice, isSeverity, isSource, makeAlert } from '../../lib/alerts/alert';
import { OPEN_KEYS_MAX, OPEN_KEYS_MIN } from '../../lib/alerts/engine';
import { AlertHub, AlertHubOptions, deviceKey } from '../../lib/alerts/hub';
import type { Durability } from '../../lib/alerts';
import { compileWindow, MaintenanceWindow, untilAfterMinutes } from '../../lib/alerts/maintenance';
import { Policy } from '../../lib/alerts/policy';
import { PayloadShape, shapeAlert } from '../../lib/alerts/shape';
import { ManagedDevice, withoutSecrets } from '../../lib/device';
import { OobError } from '../../lib/errors';
import { slug } from '../../lib/mqtt/topics';
import { acknowledgeRemote } from '../../lib/remote/acknowledge';
import { errorText, inputError } from '../shared/errors';
import { onInput } from '../shared/input';
import { PolicyDef, policyFromDef } from '../shared/policy-def';
import { statusHelper } from '../shared/status';
import type { Translate } from '../shared/texts';
import { givenTopic } from '../shared/topic';
import { remoteDeviceAt } from '../shared/remote-device';
import type { OobAlertPolicyNode, OobDeviceNode, OobMessage, OobRemoteCentreNode } from '../shared/types';

interface AlertInDef extends NodeDef, PolicyDef {
  /** Device names, comma-separated; empty = every oob-device. */
  devices?: string;
  site?: string;
  /** An oob-remote-centre: acknowledgements of other sites' alerts go through it. */
  centre?: string;
  policy?: string;
  shape?: PayloadShape;
  pet?: boolean;
  petPort?: string | number;
  petAddress?: string;
  communities?: string;
  allow?: string;
  allowAny?: boolean;
  wsevent?: boolean;
  eventPort?: string | number;
  eventAddress?: string;
  publicUrl?: string;
  eventAuth?: 'digest' | 'basic' | 'none';
  tlsCert?: string;
  tlsKey?: string;
  eventlog?: boolean;
  eventlogSeconds?: string | number;
  heartbeat?: boolean;
  heartbeatSeconds?: string | number;
  heartbeatMisses?: string | number;
  heartbeatCheck?: string;
  /** What a new alert's state write survives before it is sent (AlertHubOptions.durability). */
  durability?: Durability;
  /** Open conditions kept at most (AlertHubOptions.maxOpen); empty for the default. */
  maxOpen?: string | number;
}

const num = (v: string | number | undefined, dflt: number) => (v === undefined || v === '' ? dflt : Number(v));
const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The open-conditions setting: undefined (the default) when empty; a clear error outside its bounds. */
function maxOpenOf(_: Translate, v: string | number | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < OPEN_KEYS_MIN || n > OPEN_KEYS_MAX) throw inputError(_, 'oob-alert-in.error.bad-max-open', { value: String(v).slice(0, 40), min: OPEN_KEYS_MIN, max: OPEN_KEYS_MAX });
  return n;
}

/** The first non-internal IPv4 address: where devices on the LAN can reach us. */
function guessPublicUrl(port: number, tls: boolean): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return `${tls ? 'https' : 'http'}://${a.address}:${port}`;
  }
  return `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
}

/** An alert given in a message (msg.alert, or msg.payload with at least kind and summary). */
function alertFromMessage(_: Translate, msg: OobMessage): Alert | undefined {
  const given = (msg.alert ?? msg.payload) as Record<string, unknown> | undefined;
  if (!given || typeof given !== 'object' || Array.isArray(given) || !('kind' in given)) return undefined;
  const source = given.source ?? 'power';
  if (!isSource(source)) throw inputError(_, 'oob-alert-in.error.bad-source', { source: String(source) });
  const severity = given.severity ?? 'warning';
  if (!isSeverity(severity)) throw inputError(_, 'oob-alert-in.error.bad-severity', { severity: String(severity) });
  if (typeof given.kind !== 'string' || !given.kind) throw inputError(_, 'oob-alert-in.error.no-kind');
  const device = withoutSecrets((typeof given.device === 'object' && given.device) || (typeof msg.device === 'object' && msg.device) || { name: givenTopic(msg) });
  return makeAlert({
    id: typeof given.id === 'string' ? given.id : undefined,
    dedupKey: typeof given.dedupKey === 'string' ? given.dedupKey : undefined,
    time: typeof given.time === 'string' ? given.time : undefined,
    device: device as Alert['device'],
    source,
    kind: given.kind,
    severity,
    state: given.state === 'resolve' ? 'resolve' : 'trigger',
    summary: typeof given.summary === 'string' ? given.summary : given.kind,
    details: typeof given.details === 'object' && given.details ? plainDetails(_, given.details) : {},
  });
}

/** Biggest details of an alert given in a message, written as JSON. */
const MAX_DETAILS_CHARS = 65_536;

/**
 * The details of an alert given in a message, as a JSON copy: they are written to the state file
 * and into every payload shape, so cycles, too deep nesting (JSON.stringify's RangeError) and
 * oversized values are refused here, with a clear error, instead of failing later.
 */
function plainDetails(_: Translate, details: object): Record<string, unknown> {
  let text: string | undefined;
  try {
    text = JSON.stringify(details);
  } catch (e) {
    throw inputError(_, e instanceof RangeError ? 'oob-alert-in.error.details-too-deep' : 'oob-alert-in.error.details-not-json');
  }
  if (text === undefined || text.length > MAX_DETAILS_CHARS) throw inputError(_, 'oob-alert-in.error.details-too-big', { max: MAX_DETAILS_CHARS });
  const copy = JSON.parse(text) as unknown;
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) throw inputError(_, 'oob-alert-in.error.details-not-object');
  return copy as Record<string, unknown>;
}

/** What an acknowledge message says: which alert, who, and the device it is about when it names one. */
function acknowledgeFromMessage(msg: OobMessage): { request: AckRequest; device?: unknown } {
  const given = msg.acknowledge;
  const alert = typeof msg.alert === 'object' && msg.alert !== null ? (msg.alert as Partial<Alert>) : undefined;
  const o = typeof given === 'object' && given !== null ? (given as Record<string, unknown>) : {};
  const request = ackRequest(given === true ? {} : given, { key: alert?.dedupKey, by: typeof msg.user === 'string' ? msg.user : undefined });
  return { request, device: o.device ?? alert?.device };
}

export = function (RED: NodeAPI) {
  /**
   * The oob-device here that stands for an alert's device at another site: an "at site S via
   * centre" device whose site and name there match, or an oob-device named as given.
   */
  function remoteDeviceFor(given: unknown): ManagedDevice | undefined {
    const d = (typeof given === 'string' ? { name: given } : given) as AlertDevice | undefined;
    if (!d || typeof d !== 'object') return undefined;
    const site = d.site ? slug(d.site) : undefined;
    const names = [d.name, d.host].filter((x): x is string => typeof x === 'string' && x !== '');
    let found: ManagedDevice | undefined;
    RED.nodes.eachNode((n: { id: string; type: string; via?: string; name?: string }) => {
      if (found || n.type !== 'oob-device' || !n.via) return;
      const cfg = RED.nodes.getNode(n.id) as OobDeviceNode | null;
      let md: ManagedDevice;
      try {
        if (!cfg) return;
        md = cfg.device();
      } catch {
        return;
      }
      const r = md.remote;
      if (!r) return;
      const atSite = site !== undefined && r.site === site && names.some((x) => slug(x) === r.device);
      if (atSite || (site === undefined && names.includes(md.name ?? ''))) found = md;
    });
    return found;
  }

  function OobAlertIn(this: Node, def: AlertInDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const shape: PayloadShape = def.shape ?? 'alert';
    const show = statusHelper(RED, node);
    let hub: AlertHub | undefined;
    /** Watched devices by their heartbeat key, for naming the silent ones. */
    const namesByKey = new Map<string, string>();
    /** Why the hub did not start, as the status says it. */
    let failed: string | undefined;
    /** Why the state cannot be written, while it cannot. */
    let stateError: string | undefined;
    let statusTimer: NodeJS.Timeout | undefined;

    const showCounts = () => {
      if (!hub || failed) return;
      if (stateError) return show('error', 'oob-alert-in.status.state-not-saved', { reason: stateError });
      const c = hub.engine.counts;
      const counts = { rx: c.received, tx: c.emitted, held: c.suppressed };
      const silent = (hub.heartbeat?.watched ?? []).filter((w) => w.missing).map((w) => namesByKey.get(w.key) ?? w.key);
      if (!silent.length) return show('ok', 'oob-alert-in.status.counts', counts);
      const more = silent.length - 1;
      show('warning', more ? 'oob-alert-in.status.counts-silent-more' : 'oob-alert-in.status.counts-silent', { ...counts, device: silent[0], more });
    };
    const fail = (key: string, e: Error) => {
      failed = show._(key);
      show.show('error', failed);
      node.error(errorText(show._, e));
    };

    function setup(): AlertHubOptions {
      let policy: Policy;
      if (def.policy) {
        const p = RED.nodes.getNode(def.policy) as OobAlertPolicyNode | null;
        if (!p) throw inputError(show._, 'oob-alert-in.error.no-policy');
        policy = p.policy();
      } else policy = new Policy(policyFromDef(def));
      const names = list(def.devices).map((n) => n.toLowerCase());
      const devices: ManagedDevice[] = [];
      RED.nodes.eachNode((n: { id: string; type: string; name?: string }) => {
        if (n.type !== 'oob-device') return;
        const cfg = RED.nodes.getNode(n.id) as OobDeviceNode | null;
        if (!cfg) return;
        let d: ManagedDevice;
        try {
          d = cfg.device();
        } catch (e) {
          node.warn(show._('oob-alert-in.warn.device-skipped', { device: n.name ?? n.id, reason: errorText(show._, e) }));
          return;
        }
        if (names.length && !names.includes((d.name ?? '').toLowerCase()) && !names.includes(d.host.toLowerCase())) return;
        if (def.site && (d.site ?? '') !== def.site) return;
        devices.push(d);
        namesByKey.set(deviceKey(d), d.name ?? d.host);
      });
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
      const tls = def.tlsCert && def.tlsKey ? { cert: fs.readFileSync(def.tlsCert), key: fs.readFileSync(def.tlsKey) } : undefined;
      const eventPort = num(def.eventPort, 16997);
      return {
        id: node.id,
        stateDir: path.join(userDir, 'oobkit'),
        devices,
        policy,
        pet: def.pet ? { port: num(def.petPort, 162), address: def.petAddress || undefined, communities: list(def.communities ?? 'public'), allow: list(def.allow), allowAny: def.allowAny === true } : undefined,
        wsevent: def.wsevent
          ? { port: eventPort, address: def.eventAddress || undefined, publicUrl: def.publicUrl || guessPublicUrl(eventPort, Boolean(tls)), auth: def.eventAuth ?? 'digest', tls }
          : undefined,
        eventLog: def.eventlog ? { intervalSeconds: Math.max(0.5, num(def.eventlogSeconds, 60)) } : undefined,
        durability: def.durability === 'power-loss' ? 'power-loss' : 'process-crash',
        maxOpen: maxOpenOf(show._, def.maxOpen),
        heartbeat: def.heartbeat ? { intervalSeconds: Math.max(0.5, num(def.heartbeatSeconds, 60)), misses: Math.max(1, num(def.heartbeatMisses, 2)), check: def.heartbeatCheck || 'amt' } : undefined,
        emit: ({ output, alert }) => {
          const shaped = shapeAlert(alert, shape);
          const msg: Record<string, unknown> = { topic: alert.device.name ?? alert.device.host ?? '', payload: shaped.payload, alert, route: policy.outputName(output) };
          if (shaped.url) {
            msg.url = shaped.url;
            msg.method = shaped.method;
          }
          const out: Array<NodeMessage | null> = new Array(policy.outputCount).fill(null);
          out[output - 1] = msg as NodeMessage;
          node.send(out);
        },
        onProblem: (what, e) => node.warn(`${what}${e ? `: ${e.message}` : ''}`),
        onStateError: (e) => {
          const was = stateError;
          stateError = e ? ((e as NodeJS.ErrnoException).code ?? e.message) : undefined;
          if (e && !was) node.error(show._('oob-alert-in.error.state-not-saved', { reason: e.message }));
          showCounts();
        },
      };
    }

    try {
      hub = new AlertHub(setup());
      hub.start().then(
        () => {
          showCounts();
          statusTimer = setInterval(showCounts, 1000);
          statusTimer.unref();
        },
        (e: Error) => fail(/PET/.test(e.message) ? 'oob-alert-in.status.pet-port-busy' : /events/.test(e.message) ? 'oob-alert-in.status.event-port-busy' : 'oob-alert-in.status.cannot-start', e),
      );
    } catch (e) {
      fail(e instanceof OobError && e.code === 'BAD_INPUT' ? 'oob-alert-in.status.bad-config' : 'oob-alert-in.status.cannot-start', e as Error);
    }

    /** The alert's device at its site, through the centre chosen in the node. */
    const viaCentre = (given: unknown): ManagedDevice | undefined => {
      const d = given as AlertDevice | undefined;
      if (!def.centre || !d || typeof d !== 'object' || !d.site) return undefined;
      const centre = RED.nodes.getNode(def.centre) as OobRemoteCentreNode | null;
      if (!centre) throw inputError(show._, 'oob-alert-in.error.no-centre');
      return remoteDeviceAt(show._, centre, d.site, d.name ?? d.host);
    };

    onInput(node, show, (msg) => {
      if (!hub) throw failed ? inputError(show._, 'oob-alert-in.error.not-running-because', { reason: failed }) : inputError(show._, 'oob-alert-in.error.not-running');
      if (msg.acknowledge !== undefined && msg.acknowledge !== false) {
        const { request, device } = acknowledgeFromMessage(msg);
        // Open here: acknowledged here. Otherwise, for a device at another site, that site's alert-in.
        if (hub.engine.findOpen(request.key)) hub.acknowledge(request);
        else {
          const remote = viaCentre(device) ?? remoteDeviceFor(device);
          if (!remote) throw inputError(show._, 'oob-alert-in.error.nothing-to-acknowledge', { key: request.key.slice(0, 200) });
          return acknowledgeRemote(remote, request).then(() => {
            showCounts();
          });
        }
      } else if (msg.maintenance !== undefined) {
        const m = msg.maintenance as Record<string, unknown>;
        if (typeof m !== 'object' || m === null) throw inputError(show._, 'oob-alert-in.error.bad-maintenance');
        if (m.clear) hub.engine.clearMaintenance(typeof m.device === 'string' ? m.device : undefined, typeof m.site === 'string' ? m.site : undefined);
        else {
          const w: MaintenanceWindow = { ...(m as MaintenanceWindow) };
          if (!w.cron && !w.until && typeof m.minutes === 'number') w.until = untilAfterMinutes(m.minutes);
          compileWindow(w);
          hub.addMaintenance(w);
        }
      } else if (msg.heartbeat !== undefined) {
        if (typeof msg.heartbeat !== 'string') throw inputError(show._, 'oob-alert-in.error.bad-heartbeat');
        if (!hub.beat(msg.heartbeat)) throw inputError(show._, 'oob-alert-in.error.no-watch', { device: msg.heartbeat });
      } else {
        const a = alertFromMessage(show._, msg);
        if (!a) throw inputError(show._, 'oob-alert-in.error.no-request');
        hub.process(a);
      }
      showCounts();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      const h = hub;
      hub = undefined;
      // The flow is stopping: what the hub still holds can reach no node now.
      (h ? h.close({ heldCanBeDelivered: false }) : Promise.resolve()).then(
        () => done(),
        (e: Error) => {
          show('error', 'oob-alert-in.status.state-not-saved', { reason: (e as NodeJS.ErrnoException).code ?? e.message });
          node.error(show._('oob-alert-in.error.state-not-saved-at-close', { reason: e.message }));
          done();
        },
      );
    });
  }

  RED.nodes.registerType('oob-alert-in', OobAlertIn as never);
};
