import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { RequestTracker } from '../../lib/tickets/request-tracker';
import { alertForTicket, TicketAction, TicketSync } from '../../lib/tickets/ticket-sync';
import { KeyValueFile } from '../../lib/util/key-value-file';
import { errorText, inputError } from '../shared/errors';
import { onInput } from '../shared/input';
import { statusHelper } from '../shared/status';

interface RtTicketDef extends NodeDef {
  url?: string;
  queue?: string;
  /** Take the queue from msg.route (alert-in's output name) when the message has one. */
  queueFromRoute?: boolean;
  incidentField?: string;
  timeout?: string | number;
}

const ACTION_STATUS: Record<TicketAction, string> = {
  opened: 'oob-rt-ticket.status.opened',
  found: 'oob-rt-ticket.status.found',
  commented: 'oob-rt-ticket.status.commented',
  escalated: 'oob-rt-ticket.status.escalated',
  resolved: 'oob-rt-ticket.status.resolved',
  replayed: 'oob-rt-ticket.status.replayed',
  'no-ticket': 'oob-rt-ticket.status.no-ticket',
};

interface RtCredentials {
  username?: string;
  password?: string;
  token?: string;
}

export = function (RED: NodeAPI) {
  function OobRtTicket(this: Node & { credentials?: RtCredentials }, def: RtTicketDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const show = statusHelper(RED, node);
    const creds = node.credentials ?? {};
    let sync: TicketSync | undefined;
    let failed: string | undefined;
    const base = (def.url ?? '').replace(/\/+$/, '');

    try {
      const backend = new RequestTracker({
        url: def.url ?? '',
        username: creds.username,
        password: creds.password,
        token: creds.token,
        incidentField: def.incidentField || 'OOBKit Incident',
        timeoutMs: (Number(def.timeout) || 15) * 1000,
      });
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
      const store = new KeyValueFile<never>(path.join(userDir, 'oobkit', `rt-ticket-${node.id}.json`), {
        maxEntries: 50_000,
        onCorrupt: (m) => node.warn(show._('oob-rt-ticket.warn.state-reset', { reason: m })),
      });
      sync = new TicketSync({
        backend,
        store: store as never,
        onOutcome: (o) => {
          const left = sync?.pending ?? 0;
          show(left ? 'busy' : 'ok', ACTION_STATUS[o.action], { id: o.ticket, left });
          node.send({ topic: o.alert.device.name ?? o.alert.device.host ?? '', payload: { ticket: o.ticket ?? null, action: o.action, queue: o.queue, url: o.ticket ? `${base}/Ticket/Display.html?id=${o.ticket}` : null }, alert: o.alert });
        },
        onRefused: (alert, e) => {
          show.error(e);
          node.error(show._('oob-rt-ticket.error.refused', { summary: alert.summary, reason: errorText(show._, e) }), { alert });
        },
        onWaiting: (pending, retryInMs, e) => show('waiting', 'oob-rt-ticket.status.waiting', { pending, seconds: Math.round(retryInMs / 1000), reason: errorText(show._, e) }),
      });
      const left = sync.pending;
      if (left) show('busy', 'oob-rt-ticket.status.resuming', { pending: left });
      else show('idle', 'oob-rt-ticket.status.ready');
      sync.start();
    } catch (e) {
      failed = errorText(show._, e);
      show.error(e);
      node.error(failed);
    }

    onInput(node, show, (msg) => {
      if (!sync) throw inputError(show._, 'oob-rt-ticket.error.not-running', { reason: failed ?? '' });
      const alert = alertForTicket(msg.alert ?? msg.payload);
      const route = def.queueFromRoute && typeof msg.route === 'string' ? msg.route : undefined;
      const queue = typeof msg.queue === 'string' && msg.queue ? msg.queue : route || def.queue || '';
      sync.accept(alert, queue);
      return null;
    });

    node.on('close', (done: () => void) => {
      sync?.close();
      done();
    });
  }

  RED.nodes.registerType('oob-rt-ticket', OobRtTicket as never, {
    credentials: { username: { type: 'text' }, password: { type: 'password' }, token: { type: 'password' } },
  });
};
