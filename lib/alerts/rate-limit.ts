/**
 * The policy's rate limits: per dedup key (kept on the key, so it survives a restart with it) and
 * over everything. What a limit holds back is not dropped: it is counted per output and summed
 * up in one "held back" alert per output when the limit's window ends.
 */
import { Alert, AlertFacts, deviceLabel, moreSevere, Severity } from './alert';
import type { PolicyConfig } from './policy';

interface Held {
  count: number;
  severity: Severity;
  byKind: Record<string, number>;
  devices: Set<string>;
  first: AlertFacts;
}

/** The per-key window a key carries: when it started and how many alerts it let through. */
export interface KeyRateWindow {
  rateStart?: number;
  rateN?: number;
}

export class RateLimits {
  private globalStart = 0;
  private globalN = 0;
  private readonly held = new Map<number, Held>();
  private heldWindowEnd = 0;
  /** The per-key window after the last alert allow() let through (undefined without a per-key limit). */
  rateStart?: number;
  rateN?: number;

  /**
   * Whether the limits let the alert through; if not it is held back (counted for the summary).
   * When they do, the key's window after this alert is left in rateStart and rateN.
   */
  allow(cfg: Pick<PolicyConfig, 'rateLimitPerKey' | 'rateLimitGlobal'>, alert: AlertFacts, severity: Severity, output: number, t: number, key?: KeyRateWindow): boolean {
    const perKey = cfg.rateLimitPerKey;
    const global = cfg.rateLimitGlobal;
    let start: number | undefined;
    let n = 0;
    if (perKey) {
      const fresh = key?.rateStart === undefined || t - key.rateStart >= perKey.seconds * 1000;
      start = fresh ? t : key!.rateStart!;
      n = fresh ? 0 : (key!.rateN ?? 0);
      if (n >= perKey.count) return this.hold(alert, severity, output, t, perKey.seconds);
    }
    if (global) {
      if (t - this.globalStart >= global.seconds * 1000) {
        this.globalStart = t;
        this.globalN = 0;
      }
      if (this.globalN >= global.count) return this.hold(alert, severity, output, t, global.seconds);
      this.globalN++;
    }
    this.rateStart = start;
    this.rateN = start === undefined ? undefined : n + 1;
    return true;
  }

  private hold(alert: AlertFacts, severity: Severity, output: number, t: number, seconds: number): false {
    let h = this.held.get(output);
    if (!h) {
      h = { count: 0, severity, byKind: {}, devices: new Set(), first: alert };
      this.held.set(output, h);
    }
    h.count++;
    h.severity = moreSevere(h.severity, severity);
    h.byKind[alert.kind] = (h.byKind[alert.kind] ?? 0) + 1;
    if (h.devices.size < 1000) h.devices.add(deviceLabel(alert.device));
    if (this.heldWindowEnd === 0) this.heldWindowEnd = t + seconds * 1000;
    return false;
  }

  /** When the window of what was held back has ended: one summary alert per output, and the count starts over. */
  takeSummaries(t: number): Array<{ output: number; alert: Alert }> {
    if (this.heldWindowEnd === 0 || t < this.heldWindowEnd) return [];
    this.heldWindowEnd = 0;
    const out: Array<{ output: number; alert: Alert }> = [];
    for (const [output, h] of this.held) {
      const kinds = Object.entries(h.byKind)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} ${k}`);
      const devices = [...h.devices];
      const shown = devices.slice(0, 3).join(', ') + (devices.length > 3 ? ` +${devices.length - 3} more` : '');
      out.push({
        output,
        alert: {
          id: `held-${t}-${output}`,
          dedupKey: `oobkit/held-back/${output}`,
          time: new Date(t).toISOString(),
          device: devices.length === 1 ? h.first.device : {},
          source: h.first.source,
          kind: 'held-back',
          severity: h.severity,
          state: 'trigger',
          summary: `Rate limit held back ${h.count} alert${h.count === 1 ? '' : 's'}: ${kinds.join(', ')} (${shown})`,
          details: { held: h.count, byKind: h.byKind, devices },
        },
      });
    }
    this.held.clear();
    return out;
  }
}
