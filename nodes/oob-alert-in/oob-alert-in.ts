import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { Alert, ALERT_SOURCES, isSeverity, isSource, makeAlert, SEVERITIES } from '../../lib/alerts/alert';
import { AlertHub, AlertHubOptions } from '../../lib/alerts/hub';
import { compileWindow, MaintenanceWindow, untilAfterMinutes } from '../../lib/alerts/maintenance';
import { Policy } from '../../lib/alerts/policy';
import { PayloadShape, shapeAlert } from '../../lib/alerts/shape';
import { ManagedDevice } from '../../lib/device';
import { InputError } from '../../lib/errors';
import { PolicyDef, policyFromDef } from '../shared/policy-def';
import type { OobAlertPolicyNode, OobDeviceNode, OobMessage } from '../shared/types';

interface AlertInDef extends NodeDef, PolicyDef {
  /** Device names, comma-separated; empty = every oob-device. */
  devices?: string;
  site?: string;
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
}

const num = (v: string | number | undefined, dflt: number) => (v === undefined || v === '' ? dflt : Number(v));
const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The first non-internal IPv4 address: where devices on the LAN can reach us. */
function guessPublicUrl(port: number, tls: boolean): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return `${tls ? 'https' : 'http'}://${a.address}:${port}`;
  }
  return `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
}

/** An alert given in a message (msg.alert, or msg.payload with at least kind and summary). */
function alertFromMessage(msg: OobMessage): Alert | undefined {
  const given = (msg.alert ?? msg.payload) as Record<string, unknown> | undefined;
  if (!given || typeof given !== 'object' || Array.isArray(given) || !('kind' in given)) return undefined;
  const source = given.source ?? 'power';
  if (!isSource(source)) throw new InputError(`alert source "${String(source)}" is not one of ${ALERT_SOURCES.join(', ')}`);
  const severity = given.severity ?? 'warning';
  if (!isSeverity(severity)) throw new InputError(`alert severity "${String(severity)}" is not one of ${SEVERITIES.join(', ')}`);
  if (typeof given.kind !== 'string' || !given.kind) throw new InputError('alert kind must be a non-empty text');
  const device = (typeof given.device === 'object' && given.device) || (typeof msg.device === 'object' && msg.device) || { name: typeof msg.topic === 'string' ? msg.topic : undefined };
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
    details: typeof given.details === 'object' && given.details ? plainDetails(given.details) : {},
  });
}

/** Biggest details of an alert given in a message, written as JSON. */
const MAX_DETAILS_BYTES = 65_536;

/**
 * The details of an alert given in a message, as a JSON copy: they are written to the state file
 * and into every payload shape, so cycles, too deep nesting (JSON.stringify's RangeError) and
 * oversized values are refused here, with a clear error, instead of failing later.
 */
function plainDetails(details: object): Record<string, unknown> {
  let text: string | undefined;
  try {
    text = JSON.stringify(details);
  } catch (e) {
    throw new InputError(`alert details must be plain JSON data (${e instanceof RangeError ? 'nested too deep or too big' : 'no cycles, no BigInt'})`);
  }
  if (text === undefined || text.length > MAX_DETAILS_BYTES) throw new InputError(`alert details must be a JSON object of at most ${MAX_DETAILS_BYTES} characters`);
  const copy = JSON.parse(text) as unknown;
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) throw new InputError('alert details must be an object');
  return copy as Record<string, unknown>;
}

export = function (RED: NodeAPI) {
  function OobAlertIn(this: Node, def: AlertInDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const shape: PayloadShape = def.shape ?? 'alert';
    let hub: AlertHub | undefined;
    let failed: string | undefined;
    /** Why the state cannot be written, while it cannot. */
    let stateError: string | undefined;
    let statusTimer: NodeJS.Timeout | undefined;

    const showCounts = () => {
      if (!hub || failed) return;
      if (stateError) {
        node.status({ fill: 'red', shape: 'ring', text: `cannot save state: ${stateError}` });
        return;
      }
      const c = hub.engine.counts;
      const missing = hub.heartbeat?.watched.filter((w) => w.missing).length ?? 0;
      node.status({ fill: missing ? 'yellow' : 'green', shape: 'dot', text: `rx ${c.received} · tx ${c.emitted} · held ${c.suppressed}${missing ? ` · ${missing} silent` : ''}` });
    };
    const fail = (text: string, e: Error) => {
      failed = text;
      node.status({ fill: 'red', shape: 'ring', text });
      node.error(e.message);
    };

    function setup(): AlertHubOptions {
      let policy: Policy;
      if (def.policy) {
        const p = RED.nodes.getNode(def.policy) as OobAlertPolicyNode | null;
        if (!p) throw new InputError('the chosen alert policy does not exist');
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
          node.warn(`device ${n.name ?? n.id} skipped: ${(e as Error).message}`);
          return;
        }
        if (names.length && !names.includes((d.name ?? '').toLowerCase()) && !names.includes(d.host.toLowerCase())) return;
        if (def.site && (d.site ?? '') !== def.site) return;
        devices.push(d);
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
        heartbeat: def.heartbeat ? { intervalSeconds: Math.max(0.5, num(def.heartbeatSeconds, 60)), misses: Math.max(1, num(def.heartbeatMisses, 2)), check: def.heartbeatCheck || 'amt' } : undefined,
        emit: ({ output, alert }) => {
          const shaped = shapeAlert(alert, shape);
          const msg: Record<string, unknown> = { topic: alert.device.name ?? alert.device.host ?? '', payload: shaped.payload, alert };
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
          if (e && !was) node.error(`cannot save the alert state (alerts still go out, but a restart may page again or forget open alerts): ${e.message}`);
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
        (e: Error) => fail(/PET/.test(e.message) ? 'PET port busy' : /events/.test(e.message) ? 'event port busy' : 'cannot start', e),
      );
    } catch (e) {
      fail(e instanceof InputError ? 'bad config' : 'cannot start', e as Error);
    }

    node.on('input', (raw, _send, done) => {
      const msg = raw as OobMessage;
      try {
        if (!hub) throw new InputError(`alert-in is not running${failed ? ` (${failed})` : ''}`);
        if (msg.maintenance !== undefined) {
          const m = msg.maintenance as Record<string, unknown>;
          if (typeof m !== 'object' || m === null) throw new InputError('msg.maintenance must be an object: { device?, site?, minutes | until | cron+minutes } or { clear: true }');
          if (m.clear) hub.engine.clearMaintenance(typeof m.device === 'string' ? m.device : undefined, typeof m.site === 'string' ? m.site : undefined);
          else {
            const w: MaintenanceWindow = { ...(m as MaintenanceWindow) };
            if (!w.cron && !w.until && typeof m.minutes === 'number') w.until = untilAfterMinutes(m.minutes);
            compileWindow(w);
            hub.addMaintenance(w);
          }
        } else if (msg.heartbeat !== undefined) {
          if (typeof msg.heartbeat !== 'string') throw new InputError('msg.heartbeat must be the name or host of a watched device');
          if (!hub.beat(msg.heartbeat)) throw new InputError(`no heartbeat watch for "${msg.heartbeat}" (turn heartbeats on and include that device)`);
        } else {
          const a = alertFromMessage(msg);
          if (!a) throw new InputError('send msg.alert (or a payload with kind, severity, summary), msg.maintenance or msg.heartbeat');
          hub.process(a);
        }
        showCounts();
        done();
      } catch (e) {
        node.status({ fill: 'red', shape: 'ring', text: 'bad input' });
        done(e as Error);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      const h = hub;
      hub = undefined;
      // The flow is stopping: what the hub still holds can reach no node now.
      (h ? h.close({ heldCanBeDelivered: false }) : Promise.resolve()).then(
        () => done(),
        (e: Error) => {
          node.status({ fill: 'red', shape: 'ring', text: 'state not saved' });
          node.error(`alert state not saved at close: ${e.message}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType('oob-alert-in', OobAlertIn as never);
};
