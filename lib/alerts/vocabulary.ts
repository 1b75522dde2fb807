/**
 * The words an alert and a policy are made of: where alerts come from and how severe they are.
 * Kept apart from alert.ts (which needs node:crypto) so the policy checks also run in the
 * Node-RED editor.
 */
export const ALERT_SOURCES = ['pet', 'wsevent', 'eventlog', 'presence', 'heartbeat', 'defense', 'power'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** Most severe first. */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info', 'ok'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(v: unknown): v is Severity {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
}

export function isSource(v: unknown): v is AlertSource {
  return typeof v === 'string' && (ALERT_SOURCES as readonly string[]).includes(v);
}

/** 0 = critical ... 5 = ok; lower is more severe. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function moreSevere(a: Severity, b: Severity): Severity {
  return severityRank(a) <= severityRank(b) ? a : b;
}
