import { InputError } from '../../lib/errors';
import type { MaintenanceWindow } from '../../lib/alerts/maintenance';
import type { PolicyConfig, Rule } from '../../lib/alerts/policy';

/** Policy fields as the editor stores them (in oob-alert-policy, or inline in oob-alert-in). */
export interface PolicyDef {
  outputNames?: string;
  rules?: string | Rule[];
  defaultOutput?: string | number;
  dedupSeconds?: string | number;
  rateKeyCount?: string | number;
  rateKeySeconds?: string | number;
  rateGlobalCount?: string | number;
  rateGlobalSeconds?: string | number;
  escalateMinutes?: string | number;
  maintenance?: string | MaintenanceWindow[];
  ownActionSeconds?: string | number;
}

function json<T>(v: string | T | undefined, what: string, empty: T): T {
  if (v === undefined || v === '') return empty;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as T;
  } catch (e) {
    throw new InputError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

const num = (v: string | number | undefined, dflt: number) => (v === undefined || v === '' ? dflt : Number(v));

/** The names of the outputs: "chat, ticket" -> ["chat", "ticket"]. */
export function outputNames(def: PolicyDef): string[] {
  const names = (def.outputNames ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length ? names : ['alerts'];
}

/** A PolicyConfig (not yet checked: new Policy() checks it and says what is wrong). */
export function policyFromDef(def: PolicyDef): Partial<PolicyConfig> {
  return {
    outputs: outputNames(def),
    rules: json<Rule[]>(def.rules, 'rules', []),
    defaultOutput: num(def.defaultOutput, 1),
    dedupSeconds: num(def.dedupSeconds, 300),
    rateLimitPerKey: { count: num(def.rateKeyCount, 5), seconds: num(def.rateKeySeconds, 60) },
    rateLimitGlobal: { count: num(def.rateGlobalCount, 200), seconds: num(def.rateGlobalSeconds, 60) },
    escalateMinutes: num(def.escalateMinutes, 0),
    maintenance: json<MaintenanceWindow[]>(def.maintenance, 'maintenance windows', []),
    ownActionSeconds: num(def.ownActionSeconds, 180),
  };
}
