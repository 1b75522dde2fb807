/**
 * Payload shapes for the places alerts go: PagerDuty Events API v2, Opsgenie's Alert API, and a
 * chat line (Slack, Teams, Mattermost, Telegram, Matrix... all take a text). Each returns what an
 * http request node (or a chat node) sends; secrets (routing key, API key) are not ours to put
 * in a message: the flow adds them (see the node's help).
 */
import { Alert, deviceLabel, Severity } from './alert';

export type PayloadShape = 'alert' | 'pagerduty' | 'opsgenie' | 'chat';

const PAGERDUTY_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  major: 'error',
  minor: 'warning',
  warning: 'warning',
  info: 'info',
  ok: 'info',
};

const OPSGENIE_PRIORITY: Record<Severity, string> = { critical: 'P1', major: 'P2', minor: 'P3', warning: 'P4', info: 'P5', ok: 'P5' };

const CHAT_MARK: Record<Severity, string> = { critical: '🔴', major: '🟠', minor: '🟡', warning: '🟡', info: '🔵', ok: '🟢' };

function where(a: Alert): string {
  const name = deviceLabel(a.device);
  return a.device.site ? `${name} @ ${a.device.site}` : name;
}

/** Details without the raw capture, values as text (Opsgenie wants a string map). */
function flatDetails(a: Alert): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.details)) {
    if (k === 'raw' || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

export interface Shaped {
  payload: unknown;
  /** Where an http request node with an empty URL sends it. */
  url?: string;
  method?: string;
}

export function shapePagerDuty(a: Alert): Shaped {
  const base = { event_action: a.state, dedup_key: a.dedupKey };
  if (a.state !== 'trigger') return { payload: base, url: 'https://events.pagerduty.com/v2/enqueue', method: 'POST' };
  return {
    payload: {
      ...base,
      payload: {
        summary: `${where(a)}: ${a.summary}`.slice(0, 1024),
        source: a.device.host ?? deviceLabel(a.device),
        severity: PAGERDUTY_SEVERITY[a.severity],
        timestamp: a.time,
        component: a.device.name ?? a.device.host,
        group: a.device.site,
        class: a.kind,
        custom_details: { ...flatDetails(a), alertId: a.id, source: a.source },
      },
    },
    url: 'https://events.pagerduty.com/v2/enqueue',
    method: 'POST',
  };
}

export function shapeOpsgenie(a: Alert): Shaped {
  const alias = a.dedupKey.slice(0, 512);
  if (a.state === 'acknowledge') {
    const by = typeof a.details.acknowledgedBy === 'string' ? a.details.acknowledgedBy.slice(0, 100) : undefined;
    return {
      payload: { source: 'OOBKit', note: a.summary.slice(0, 25000), ...(by ? { user: by } : {}) },
      url: `https://api.opsgenie.com/v2/alerts/${encodeURIComponent(alias)}/acknowledge?identifierType=alias`,
      method: 'POST',
    };
  }
  if (a.state === 'resolve') {
    return {
      payload: { source: 'OOBKit', note: a.summary },
      url: `https://api.opsgenie.com/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
      method: 'POST',
    };
  }
  return {
    payload: {
      message: `${where(a)}: ${a.summary}`.slice(0, 130),
      alias,
      description: `${a.summary}\n\nDevice: ${where(a)}${a.device.host ? ` (${a.device.host})` : ''}\nSource: ${a.source}, kind: ${a.kind}, time: ${a.time}`.slice(0, 15000),
      priority: OPSGENIE_PRIORITY[a.severity],
      source: 'OOBKit',
      entity: deviceLabel(a.device),
      tags: [a.source, a.kind, a.severity, ...(a.device.site ? [a.device.site] : [])],
      details: flatDetails(a),
    },
    url: 'https://api.opsgenie.com/v2/alerts',
    method: 'POST',
  };
}

/** "🔴 CRITICAL pc-07 @ branch-2: Chassis opened (general chassis intrusion) · 14:02:11" */
export function chatLine(a: Alert): string {
  const time = a.time.slice(11, 19);
  if (a.state === 'resolve') return `${CHAT_MARK.ok} RESOLVED ${where(a)}: ${a.summary} · ${time}`;
  if (a.state === 'acknowledge') return `👀 ACKNOWLEDGED ${where(a)}: ${a.summary} · ${time}`;
  const mark = a.details.escalated === true ? `${CHAT_MARK[a.severity]}⏫` : CHAT_MARK[a.severity];
  return `${mark} ${a.severity.toUpperCase()} ${where(a)}: ${a.summary} · ${time}`;
}

export function shapeAlert(a: Alert, shape: PayloadShape): Shaped {
  switch (shape) {
    case 'pagerduty':
      return shapePagerDuty(a);
    case 'opsgenie':
      return shapeOpsgenie(a);
    case 'chat':
      return { payload: chatLine(a) };
    default:
      return { payload: a };
  }
}
