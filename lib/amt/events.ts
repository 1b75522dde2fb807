/**
 * AMT WS-Eventing pushes: the CIM_AlertIndication a device sends (see
 * test/fixtures/amt/CIM_AlertIndication-Event.xml), read into an Alert. AMT names its events by
 * MessageID in its own registry (iAMT0001...); the first MessageArgument often refines it
 * (iAMT0050 with argument 48 = an SOL session started). Descriptions follow Intel's default alert
 * texts; kinds and severities are ours: AMT marks nearly everything "information", so the
 * severity of a known message comes from what it means, PerceivedSeverity only serves for
 * messages we do not know.
 */
import { Alert, AlertDevice, makeAlert, Severity, stableId } from '../alerts/alert';
import { clip, XmlError } from '../errors';
import { readEnvelope, WsmanEnvelope } from '../wsman/envelope';
import { ACTION } from '../wsman/namespaces';
import { toPlain, XmlLimits } from '../wsman/xml';

export interface AlertIndication {
  messageId: string;
  args: string[];
  time?: string;
  perceivedSeverity?: number;
  indicationId?: string;
  filterName?: string;
  alertingElement?: string;
  systemName?: string;
  message?: string;
  /** WS-Addressing MessageID of the push (for the Ack). */
  pushMessageId?: string;
  ackRequested: boolean;
}

type Row = [kind: string, severity: Severity, text: string, state?: 'resolve'];

/** By "MessageID" or "MessageID-firstArgument". */
const MESSAGES: Readonly<Record<string, Row>> = {
  iAMT0001: ['defense-triggered', 'major', 'System Defense policy triggered'],
  iAMT0002: ['agent-stopped', 'major', 'OS agent did not start (agent presence)'],
  iAMT0003: ['agent-stopped', 'major', 'OS agent stopped (agent presence)'],
  iAMT0004: ['agent-stopped', 'ok', 'OS agent running again (agent presence)', 'resolve'],
  iAMT0005: ['agent-stopped', 'major', 'OS agent stopped: agent presence watchdog expired'],
  iAMT0006: ['agent-suspended', 'info', 'OS agent suspended (agent presence)'],
  iAMT0007: ['network-link-tamper', 'major', 'Host software tried to disable the AMT network link'],
  iAMT0008: ['network-link-tamper', 'major', 'Host software tried to disable the AMT network link; host link blocked'],
  iAMT0009: ['amt-protection-disabled', 'warning', 'AMT clock or flash wear-out protection disabled'],
  iAMT0010: ['heuristics-defense', 'major', 'Network heuristics: slow threshold exceeded (worm-like traffic)'],
  iAMT0011: ['heuristics-defense', 'major', 'Network heuristics: fast threshold exceeded (worm-like traffic)'],
  iAMT0012: ['heuristics-defense', 'major', 'Network heuristics: factory threshold exceeded'],
  iAMT0013: ['heuristics-defense', 'info', 'Network heuristics: encounter timeout expired'],
  iAMT0014: ['certificate-error', 'warning', 'Certificate error'],
  iAMT0015: ['certificate-error', 'warning', 'Certificate expired'],
  iAMT0016: ['certificate-error', 'warning', 'No trusted root certificate'],
  iAMT0017: ['certificate-error', 'warning', 'Not configured to work with the server certificate'],
  iAMT0018: ['certificate-error', 'warning', 'Certificate revoked'],
  iAMT0024: ['tls-error', 'warning', 'TLS handshake error'],
  iAMT0025: ['8021x-error', 'warning', '802.1x error'],
  iAMT0029: ['audit-log-filling', 'info', 'Audit log 50% full'],
  iAMT0030: ['audit-log-filling', 'warning', 'Audit log 75% full'],
  iAMT0031: ['audit-log-filling', 'warning', 'Audit log 85% full'],
  iAMT0032: ['audit-log-filling', 'major', 'Audit log 95% full'],
  iAMT0033: ['audit-log-full', 'major', 'Audit log full'],
  iAMT0034: ['firmware-update', 'warning', 'Firmware update partly done'],
  iAMT0035: ['firmware-update', 'major', 'Firmware update failed'],
  iAMT0036: ['remote-connectivity', 'info', 'Remote connection initiated'],
  iAMT0037: ['me-presence', 'info', 'Management engine present'],
  iAMT0038: ['unprovisioning', 'major', 'AMT is being unprovisioned'],
  'iAMT0050-16': ['defense-filter-hit', 'warning', 'System Defense: drop filter hit (outgoing)'],
  'iAMT0050-17': ['defense-filter-hit', 'warning', 'System Defense: rate-limit filter hit (outgoing)'],
  'iAMT0050-18': ['defense-filter-hit', 'warning', 'System Defense: drop filter hit (incoming)'],
  'iAMT0050-19': ['defense-filter-hit', 'warning', 'System Defense: rate-limit filter hit (incoming)'],
  'iAMT0050-48': ['redirection-session', 'info', 'Serial-over-LAN session started'],
  'iAMT0050-49': ['redirection-session', 'info', 'Serial-over-LAN session stopped'],
  'iAMT0050-50': ['redirection-session', 'info', 'IDE redirection session started'],
  'iAMT0050-51': ['redirection-session', 'info', 'IDE redirection session stopped'],
  iAMT0050: ['amt-notification', 'info', 'AMT notification'],
  'iAMT0052-0': ['kvm-session', 'info', 'KVM session requested'],
  'iAMT0052-1': ['kvm-session', 'info', 'KVM session started'],
  'iAMT0052-2': ['kvm-session', 'info', 'KVM session stopped'],
  iAMT0055: ['provisioning-state', 'info', 'Provisioning state changed'],
  iAMT0056: ['defense-change', 'info', 'System Defense configuration changed'],
  iAMT0057: ['network-state', 'info', 'Network state changed'],
  iAMT0058: ['remote-access', 'info', 'Remote access state changed'],
  iAMT0059: ['kvm-enabled', 'info', 'KVM enabled state changed'],
  iAMT0061: ['me-reset', 'warning', 'Management engine firmware reset'],
  'iAMT0064-1': ['user-consent', 'info', 'User consent granted'],
  'iAMT0064-2': ['user-consent', 'info', 'User consent ended'],
};

const PERCEIVED: Readonly<Record<number, Severity>> = { 2: 'info', 3: 'warning', 4: 'minor', 5: 'major', 6: 'critical', 7: 'critical' };

/** Pushes are small; anything bigger or deeper than this is refused before it is read further. */
export const EVENT_XML_LIMITS: XmlLimits = { maxBytes: 64 * 1024, maxDepth: 24, maxElements: 1000, maxAttributes: 32, maxTextLength: 16 * 1024 };

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Reads a pushed event envelope; throws XmlError when it is not a CIM_AlertIndication push. */
export function readAlertIndication(xml: string): AlertIndication {
  const env: WsmanEnvelope = readEnvelope(xml, EVENT_XML_LIMITS);
  if (env.header.action && env.header.action !== ACTION.event) throw new XmlError(`not an event push (Action ${clip(env.header.action, 120)})`);
  const p = env.payload;
  if (!p || !/AlertIndication$/.test(p.name)) throw new XmlError(`event body holds <${clip(p?.name ?? 'nothing', 60)}>, not an alert indication`);
  const props = toPlain(p);
  if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new XmlError('empty alert indication');
  const o = props as Record<string, unknown>;
  const messageId = text(o.MessageID)?.trim();
  if (!messageId) throw new XmlError('alert indication without a MessageID');
  const rawArgs = o.MessageArguments;
  const args = (Array.isArray(rawArgs) ? rawArgs : rawArgs === undefined ? [] : [rawArgs]).map((a) => (typeof a === 'string' ? a : ''));
  const sev = Number(text(o.PerceivedSeverity));
  const ackRequested = env.header.ackRequested;
  return {
    messageId,
    args,
    time: text(o.IndicationTime),
    perceivedSeverity: Number.isInteger(sev) ? sev : undefined,
    indicationId: text(o.IndicationIdentifier),
    filterName: text(o.IndicationFilterName),
    alertingElement: text(o.AlertingManagedElement),
    systemName: text(o.SystemName),
    message: text(o.Message) || undefined,
    pushMessageId: env.header.messageId,
    ackRequested,
  };
}

export function alertIndicationToAlert(ind: AlertIndication, device: AlertDevice, raw?: string): Alert {
  const row = MESSAGES[`${ind.messageId}-${ind.args[0] ?? ''}`] ?? MESSAGES[ind.messageId];
  const isAgent = /^iAMT000[2-6]$/.test(ind.messageId);
  const kind = row?.[0] ?? 'amt-event';
  const severity: Severity = row?.[1] ?? PERCEIVED[ind.perceivedSeverity ?? -1] ?? 'info';
  let summary = row?.[2] ?? (ind.message || `AMT event ${ind.messageId}${ind.args.length ? ` (${ind.args.join(', ')})` : ''}`);
  if (isAgent && ind.args[0] !== undefined) summary = `${summary}, agent ${ind.args[0]}`;
  const details: Record<string, unknown> = {
    messageId: ind.messageId,
    messageArguments: ind.args,
    perceivedSeverity: ind.perceivedSeverity,
    indicationId: ind.indicationId,
    filterName: ind.filterName,
    alertingElement: ind.alertingElement,
    message: ind.message,
  };
  if (raw !== undefined) details.raw = raw;
  for (const k of Object.keys(details)) if (details[k] === undefined) delete details[k];
  return makeAlert({
    id: stableId('wsevent', device.host ?? device.name, ind.indicationId, ind.pushMessageId, ind.messageId, ind.time),
    qualifier: isAgent ? `agent-${ind.args[0] ?? '0'}` : row ? undefined : ind.messageId,
    time: ind.time,
    device,
    source: 'wsevent',
    kind,
    severity,
    state: row?.[3] ?? 'trigger',
    summary,
    details,
  });
}
