/**
 * Waking a device at another site: the magic packets must leave on that site's LAN, so the whole
 * "wake and confirm" runs at the site's gateway; its stages come back as progress.
 */
import type { WakeAndConfirmOptions, WakeOutcome } from '../wake/wake-and-confirm';
import type { RemoteEndpoint } from './endpoint';

/** Past the wake's own limit, how long the centre waits for the site's answer. */
const ANSWER_MARGIN_MS = 30_000;
const DEFAULT_WAKE_MS = 60_000;

export async function wakeRemote(r: RemoteEndpoint, o: WakeAndConfirmOptions): Promise<WakeOutcome> {
  const args: Record<string, unknown> = {};
  for (const k of ['confirm', 'timeoutMs', 'pollMs', 'fallback', 'fallbackAfterMs', 'repeat'] as const) if (o[k] !== undefined) args[k] = o[k];
  const limit = (typeof o.timeoutMs === 'number' ? o.timeoutMs : DEFAULT_WAKE_MS) + ANSWER_MARGIN_MS;
  const result = await r.via.request(r.site, r.device, 'wake', args, {
    timeoutMs: Math.max(limit, r.timeoutMs ?? 0),
    signal: o.signal,
    onProgress: (e) => {
      const stage = (e as { stage?: unknown; via?: unknown } | null)?.stage;
      const via = (e as { via?: unknown }).via;
      if (stage === 'waking' || stage === 'fallback') o.onStage?.(stage, via === 'amt' || via === 'ipmi' ? via : undefined);
    },
  });
  return result as WakeOutcome;
}
