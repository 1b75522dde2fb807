/**
 * The shape of a WS-Management answer, for comparing the simulator with real captures: header
 * keys, Action and ResourceURI, body element, property names in order with the kind of each value
 * (text, reference to a class with its selector names, nested object), and the envelope's
 * namespace declarations in order (prefix letters included). Values are left out.
 */
import { readEnvelope, readEnumerationContext, readFault, readInstance, readMethodOutput, readPullResponse } from '../../lib/wsman/envelope';
import { isEndpointReference, PlainObject } from '../../lib/wsman/xml';

export type Kind = { kind: 'instance' } | { kind: 'method'; method: string } | { kind: 'enumerate' } | { kind: 'pull' } | { kind: 'fault' } | { kind: 'empty' };

function valueKind(v: unknown): string {
  if (isEndpointReference(v)) return `ref ${v.resourceUri} [${Object.keys(v.selectors).join(',')}]`;
  if (Array.isArray(v)) return valueKind(v[0]);
  if (v !== null && typeof v === 'object') return `object {${Object.keys(v).join(',')}}`;
  return 'text';
}

export function propsShape(p: PlainObject, drop: readonly string[] = []): Array<[string, string]> {
  return Object.entries(p)
    .filter(([k]) => !drop.includes(k))
    .map(([k, v]) => [k, valueKind(v)]);
}

/** Envelope namespace declarations in order, e.g. [["a","http://...soap-envelope"], ...]. */
export function nsDecls(xml: string): Array<[string, string]> {
  const open = /<a:Envelope\b[^>]*>/.exec(xml)?.[0] ?? '';
  return [...open.matchAll(/xmlns:(\w+)\s*=\s*"([^"]*)"/g)].map((m) => [m[1], m[2]]);
}

/** `drop`: property names left out of instances and items (known, explained differences). */
export function shape(xml: string, k: Kind, status: number, drop: readonly string[] = []): unknown {
  const env = readEnvelope(xml);
  const h = env.header;
  const header = {
    keys: Object.entries(h)
      .filter(([, v]) => v !== undefined)
      .map(([key]) => key)
      .sort(),
    // trimmed: some published captures were re-indented inside these texts
    action: h.action?.trim(),
    resourceUri: h.resourceUri?.trim(),
    selectors: Object.keys(h.selectors),
    extra: Object.keys(h.extra),
  };
  const payload = env.payload ? `{${env.payload.ns}}${env.payload.name}` : null;
  let body: unknown;
  switch (k.kind) {
    case 'instance': {
      const i = readInstance(env);
      body = { className: i.className, props: propsShape(i.props, drop) };
      break;
    }
    case 'method':
      body = propsShape(readMethodOutput(env, k.method));
      break;
    case 'enumerate':
      body = typeof readEnumerationContext(env);
      break;
    case 'pull': {
      const p = readPullResponse(env);
      body = { items: [...new Set(p.items.map((i) => JSON.stringify([i.className, propsShape(i.props, drop)])))], more: p.context !== undefined, end: p.end };
      break;
    }
    case 'fault': {
      const f = readFault(env, status);
      body = f ? { code: f.faultCode, subcode: f.subcode, detail: f.detail } : 'no fault';
      break;
    }
    case 'empty':
      body = env.body.children.length;
      break;
  }
  return { header, payload, body, ns: nsDecls(xml) };
}

