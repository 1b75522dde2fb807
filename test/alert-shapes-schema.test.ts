/**
 * The PagerDuty and Opsgenie shapes of alert-in, checked against the vendors' published request
 * schemas (test/fixtures/tickets) over a whole incident: trigger, repeat report, escalation,
 * resolve. One incident keeps one dedup_key / alias from its trigger to its resolve, and the
 * resolve closes exactly that one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { Alert, makeAlert, SEVERITIES } from '../lib/alerts/alert';
import { shapeAlert } from '../lib/alerts/shape';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const schema = (f: string) => ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'tickets', f), 'utf8')));
const pagerDuty = schema('pagerduty-events-v2.schema.json');
const opsgenieCreate = schema('opsgenie-create-alert.schema.json');
const opsgenieClose = schema('opsgenie-close-alert.schema.json');

function valid(check: ReturnType<typeof schema>, body: unknown): void {
  const ok = check(body);
  expect({ ok, errors: ok ? null : ajv.errorsText(check.errors) }).toEqual({ ok: true, errors: null });
}

/** One incident as alert-in emits it: the trigger, a repeat report, an escalation, the resolve. */
function incident(o: { name: string; site?: string; summary: string; severity: Alert['severity']; details?: Record<string, unknown> }): Alert[] {
  const device = { name: o.name, host: '10.1.2.3', site: o.site, mac: '02:00:86:00:00:01' };
  const trigger = makeAlert({ device, source: 'pet', kind: 'fan-failure', severity: o.severity, summary: o.summary, details: { ...o.details, raw: 'abcd' } });
  const repeat = { ...trigger, id: `${trigger.id}-r`, summary: `${o.summary} (repeated 3 more times in 1 min)`, details: { ...trigger.details, count: 4, repeats: 3 } };
  const escalation = { ...trigger, id: `${trigger.id}-e`, summary: `Escalated, unresolved for 30 min: ${o.summary}`, details: { ...trigger.details, escalated: true } };
  const resolve = { ...trigger, id: `${trigger.id}-x`, state: 'resolve' as const, severity: 'ok' as const, summary: 'Fan back to normal', details: { triggerId: trigger.id } };
  return [trigger, repeat, escalation, resolve];
}

describe('PagerDuty Events v2 shape', () => {
  it('is a valid enqueue body at every step of an incident, one dedup_key throughout, resolved once', () => {
    const steps = incident({ name: 'pc-07', site: 'branch-2', summary: 'Fan failed', severity: 'major', details: { rpm: 0 } });
    const bodies = steps.map((a) => {
      const s = shapeAlert(a, 'pagerduty');
      expect(s).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue', method: 'POST' });
      // The flow adds the routing key (a secret OOBKit never puts in a message).
      const body = { ...(s.payload as Record<string, unknown>), routing_key: 'R0UT1NGKEY' };
      valid(pagerDuty, body);
      return body as unknown as { event_action: string; dedup_key: string; payload?: { severity: string; custom_details?: Record<string, unknown> } };
    });
    expect(bodies.map((b) => b.event_action)).toEqual(['trigger', 'trigger', 'trigger', 'resolve']);
    expect(new Set(bodies.map((b) => b.dedup_key)).size).toBe(1);
    expect(bodies[0].dedup_key).toBe(steps[0].dedupKey);
    expect(bodies[0].payload?.severity).toBe('error');
    expect(bodies[0].payload?.custom_details).not.toHaveProperty('raw');
  });

  it('stays valid for any device name, summary and severity', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.string({ minLength: 1, maxLength: 3000 }), fc.constantFrom(...SEVERITIES), (name, summary, severity) => {
        for (const a of incident({ name, summary, severity })) valid(pagerDuty, { ...(shapeAlert(a, 'pagerduty').payload as object), routing_key: 'k' });
      }),
      { numRuns: 200 },
    );
  });
});

/** The acknowledge alert-in sends when someone takes the incident on (lib/alerts/engine). */
function acknowledged(trigger: Alert, by: string): Alert {
  return { ...trigger, id: `${trigger.id}-a`, state: 'acknowledge', summary: `Acknowledged by ${by}: ${trigger.summary}`, details: { ...trigger.details, acknowledgedBy: by, acknowledgedAt: trigger.time } };
}

describe('acknowledge shapes', () => {
  it('PagerDuty: a valid acknowledge event for the same dedup_key; Opsgenie: a valid acknowledge of the same alias, by whom', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.string({ minLength: 1, maxLength: 3000 }), fc.string({ minLength: 1, maxLength: 200 }), (name, summary, by) => {
        const [trigger] = incident({ name, summary, severity: 'major' });
        const ack = acknowledged(trigger, by);
        const pd = shapeAlert(ack, 'pagerduty');
        const body = { ...(pd.payload as { event_action: string; dedup_key: string }), routing_key: 'k' };
        valid(pagerDuty, body);
        expect(body).toMatchObject({ event_action: 'acknowledge', dedup_key: trigger.dedupKey });
        const og = shapeAlert(ack, 'opsgenie');
        // Opsgenie's acknowledge takes the same AlertActionPayload as its close.
        valid(opsgenieClose, og.payload);
        const u = new URL(og.url!);
        expect(u.pathname).toBe(`/v2/alerts/${encodeURIComponent(trigger.dedupKey.slice(0, 512))}/acknowledge`);
        expect(u.searchParams.get('identifierType')).toBe('alias');
      }),
      { numRuns: 200 },
    );
  });
});

describe('Opsgenie shape', () => {
  it('creates with the incident as alias and closes that alias, valid at every step', () => {
    const steps = incident({ name: 'pc-07', site: 'branch-2', summary: 'Fan failed', severity: 'critical' });
    const shaped = steps.map((a) => shapeAlert(a, 'opsgenie'));
    for (const s of shaped.slice(0, 3)) {
      expect(s).toMatchObject({ url: 'https://api.opsgenie.com/v2/alerts', method: 'POST' });
      valid(opsgenieCreate, s.payload);
      expect((s.payload as { alias: string }).alias).toBe(steps[0].dedupKey);
    }
    expect((shaped[0].payload as { priority: string }).priority).toBe('P1');
    const close = shaped[3];
    valid(opsgenieClose, close.payload);
    const u = new URL(close.url!);
    expect(u.pathname).toBe(`/v2/alerts/${encodeURIComponent(steps[0].dedupKey)}/close`);
    expect(u.searchParams.get('identifierType')).toBe('alias');
  });

  it('stays within every length limit for any device name and summary', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 600 }), fc.string({ minLength: 1, maxLength: 20000 }), fc.string({ maxLength: 80 }), (name, summary, site) => {
        for (const a of incident({ name, summary, severity: 'minor', site: site || undefined })) {
          const s = shapeAlert(a, 'opsgenie');
          valid(a.state === 'resolve' ? opsgenieClose : opsgenieCreate, s.payload);
        }
      }),
      { numRuns: 200 },
    );
  });
});
