/**
 * WS-Management dispatch for a simulated device: request envelope text in, AMT-style answer out.
 * Get, Put, Create, Delete, Enumerate (also EnumerateEPR), Pull (MaxElements, paging), Release,
 * method invocation (Action = resourceURI/Method), Subscribe and Unsubscribe. Unknown class:
 * DestinationUnreachable; unknown action: ActionNotSupported; bad or missing selectors:
 * InvalidSelectors; unreadable XML: a fault as well, never a crash.
 */
import { InputObject, inputObject, readRequest, SimRequest as WsmanEnvelope } from './request-envelope';
import { childOf as child, RequestNode as XmlNode, RequestXmlError as XmlError } from './request-xml';
import { classUri, lastSegment as classNameOf, SIM_ACTION as ACTION, SIM_NS as NS, simResourceUri as resourceUri } from './wsman-uris';
import type { ClassHandler, SimPeer } from './classes/types';
import type { SimDevice } from './device';
import {
  enumerateResponseXml,
  eprInner,
  eprItemXml,
  hasDate,
  instanceXml,
  methodOutputXml,
  pullResponseXml,
  writeEnvelope,
  writeFault,
} from './response-writer';
import { faults, SimFault } from './sim-fault';
import { handleRenew, handleSubscribe, handleUnsubscribe } from './eventing';
import { isRef, ref, SimProps, SimRef } from './values';

export interface SimAnswer {
  status: number;
  xml: string;
  /** What was asked, for the 'request' event and for logs. */
  action?: string;
  resourceUri?: string;
}

const SERVICE_KEYS = ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName'];

/** Request limits: AMT refuses deep or huge documents; the HTTP layer already bounds the size. */
const REQUEST_LIMITS = Object.freeze({ maxDepth: 32 });

export function dispatch(device: SimDevice, xml: string, peer?: SimPeer): SimAnswer {
  let env: WsmanEnvelope;
  try {
    env = readRequest(xml, REQUEST_LIMITS);
  } catch (e) {
    const reason = e instanceof XmlError ? e.message : 'unreadable request';
    return faultAnswer(device, '', faults.invalidMessage(reason));
  }
  const h = env.header;
  const relatesTo = h.messageId ?? '';
  try {
    if (!h.messageId) throw faults.headerRequired('MessageID');
    if (!h.action) throw faults.headerRequired('Action');
    if (!h.resourceUri) throw faults.destinationUnreachable();
    if (h.action === ACTION.subscribe) return ok(device, relatesTo, h.action, h.resourceUri, handleSubscribe(device, env));
    if (h.action === ACTION.renew) return ok(device, relatesTo, h.action, h.resourceUri, handleRenew(device, env));
    if (h.action === ACTION.unsubscribe) return ok(device, relatesTo, h.action, h.resourceUri, handleUnsubscribe(device, env));
    const handler = handlerFor(device, h.resourceUri);
    const answer = route(device, handler, env, peer);
    return ok(device, relatesTo, h.action, h.resourceUri, answer);
  } catch (e) {
    if (e instanceof SimFault) return faultAnswer(device, relatesTo, e, h.action, h.resourceUri);
    if (e instanceof XmlError) return faultAnswer(device, relatesTo, faults.invalidRepresentation(e.message), h.action, h.resourceUri);
    throw e;
  }
}

export interface Routed {
  /** Namespaces for g, h, i... */
  ns: readonly string[];
  body: string;
  /** ResourceURI header of the answer when it differs from the request's (AMT echoes the request's). */
  resourceUri?: string;
}

function ok(device: SimDevice, relatesTo: string, action: string, uri: string, r: Routed): SimAnswer {
  const xml = writeEnvelope(
    { action: `${action}Response`, relatesTo, messageId: device.nextMessageId(), resourceUri: r.resourceUri ?? uri },
    r.ns,
    r.body,
  );
  return { status: 200, xml, action, resourceUri: uri };
}

function faultAnswer(device: SimDevice, relatesTo: string, f: SimFault, action?: string, uri?: string): SimAnswer {
  return { status: f.httpStatus, xml: writeFault(relatesTo, device.nextMessageId(), f), action, resourceUri: uri };
}

function handlerFor(device: SimDevice, uri: string): ClassHandler {
  const name = classNameOf(uri);
  const handler = device.classes.get(name);
  if (!handler) throw faults.destinationUnreachable();
  if (classUri(name) !== uri) throw faults.destinationUnreachable();
  return handler;
}

function route(device: SimDevice, handler: ClassHandler, env: WsmanEnvelope, peer?: SimPeer): Routed {
  const action = env.header.action as string;
  const uri = resourceUri(handler.className);
  switch (action) {
    case ACTION.get:
      return instanceAnswer(handler, select(device, handler, env.header.selectors));
    case ACTION.put: {
      if (!handler.put) throw faults.actionNotSupported(action);
      const current = select(device, handler, env.header.selectors);
      const input = bodyInstance(env, handler.className);
      return instanceAnswer(handler, handler.put(device, current, input));
    }
    case ACTION.create: {
      if (!handler.create) throw faults.actionNotSupported(action);
      const created = handler.create(device, bodyInstance(env, handler.className));
      return { ns: [NS.transfer], body: `<g:ResourceCreated>${eprInner(created)}</g:ResourceCreated>` };
    }
    case ACTION.delete: {
      if (!handler.delete) throw faults.actionNotSupported(action);
      handler.delete(device, select(device, handler, env.header.selectors, true), env.header.selectors);
      return { ns: [], body: '' };
    }
    case ACTION.enumerate:
      return enumerate(device, handler, env);
    case ACTION.pull:
      return pull(device, handler, env);
    case ACTION.release: {
      const ctx = child(env.payload, 'EnumerationContext', NS.enumeration)?.text ?? '';
      if (!device.enumerations.delete(ctx)) throw faults.invalidEnumerationContext();
      return { ns: [], body: '' };
    }
    default: {
      const prefix = `${uri}/`;
      const method = action.startsWith(prefix) ? action.slice(prefix.length) : '';
      const fn = method ? handler.methods?.[method] : undefined;
      if (!fn) throw faults.actionNotSupported(action);
      const input = methodInput(env, method, uri);
      const result = fn({ device, input, selectors: env.header.selectors, peer });
      return { ns: [uri], body: methodOutputXml(method, result.out ?? {}, result.returnValue ?? 0) };
    }
  }
}

function itemClass(handler: ClassHandler, props: SimProps): string {
  return handler.itemClassName?.(props) ?? handler.className;
}

/** The namespaces of one instance's answer (g = its class, h = common), one list per class kept. */
const instanceNs = new Map<string, readonly string[]>();
const instanceNsWithCommon = new Map<string, readonly string[]>();

function instanceNsOf(cls: string, common: boolean): readonly string[] {
  const lists = common ? instanceNsWithCommon : instanceNs;
  let ns = lists.get(cls);
  if (ns === undefined) {
    ns = Object.freeze(common ? [resourceUri(cls), NS.common] : [resourceUri(cls)]);
    lists.set(cls, ns);
  }
  return ns;
}

function instanceAnswer(handler: ClassHandler, props: SimProps): Routed {
  const common = handler.commonNs || hasDate(props);
  const cls = itemClass(handler, props);
  return { ns: instanceNsOf(cls, common), body: instanceXml('g', cls, props, 'h', handler.ownProps, handler.declarationOrder) };
}

export function keysOf(handler: ClassHandler, sample: SimProps | undefined): string[] {
  if (handler.keys) return handler.keys;
  if (sample && 'InstanceID' in sample) return ['InstanceID'];
  return SERVICE_KEYS.filter((k) => !sample || k in sample);
}

function selectorValue(v: SimProps[string]): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** The instance the selectors name; without selectors, the only instance. */
function select(device: SimDevice, handler: ClassHandler, selectors: Record<string, string>, required = false): SimProps {
  const all = handler.instances(device);
  const names = Object.keys(selectors);
  if (names.length === 0) {
    if (all.length === 1 && !required) return all[0];
    throw faults.invalidSelectors(all.length === 0 ? 'No instance exists.' : 'Selectors are required to name one instance.');
  }
  const keys = keysOf(handler, all[0]);
  const unknown = names.filter((n) => !keys.includes(n));
  if (unknown.length) throw faults.invalidSelectors(`Unknown selector ${unknown.map((n) => `"${n}"`).join(', ')}.`);
  const found = all.find((inst) =>
    names.every((n) => {
      const v = inst[n];
      if (isRef(v)) return refSelectorMatches(v, selectors[n]);
      return selectorValue(v) === selectors[n];
    }),
  );
  if (!found) throw faults.invalidSelectors('No instance matches the selectors.');
  return found;
}

/**
 * An association key given as an endpoint reference (the header reader hands it over as JSON) names
 * the instance whose reference has the same resource URI and selectors. A plain-text value for a
 * reference key is accepted as is, as before.
 */
function refSelectorMatches(v: SimRef, given: string): boolean {
  let epr: { resourceUri?: unknown; selectors?: unknown };
  try {
    epr = JSON.parse(given) as typeof epr;
  } catch {
    return true;
  }
  if (typeof epr !== 'object' || epr === null || typeof epr.resourceUri !== 'string') return true;
  if (epr.resourceUri !== v.resourceUri) return false;
  const want = (epr.selectors ?? {}) as Record<string, string>;
  const have = new Map(v.selectors);
  return Object.entries(want).every(([k, x]) => {
    const h = have.get(k);
    return typeof h === 'string' ? h === x : h !== undefined && typeof x === 'string' && x.startsWith('{') && refSelectorMatches(h, x);
  });
}

function bodyInstance(env: WsmanEnvelope, className: string): InputObject {
  const p = env.payload;
  if (!p || p.name !== className) throw faults.schemaValidation(`Expected <${className}> in the Body, found <${p?.name ?? 'nothing'}>.`);
  return inputObject(p);
}

function methodInput(env: WsmanEnvelope, method: string, uri: string): InputObject {
  const p: XmlNode | undefined = env.payload;
  if (!p) return {};
  if (p.name !== `${method}_INPUT` || (p.ns !== uri && p.ns !== '')) {
    throw faults.schemaValidation(`Expected <${method}_INPUT> of ${uri} in the Body, found <${p.name}>.`);
  }
  return inputObject(p);
}

function eprOf(handler: ClassHandler, inst: SimProps): SimRef {
  const sel: Record<string, string | SimRef> = {};
  for (const k of keysOf(handler, inst)) {
    const key = inst[k];
    const v = isRef(key) ? key : selectorValue(key);
    if (v !== undefined) sel[k] = v;
  }
  return ref(handler.className, sel);
}

function enumerate(device: SimDevice, handler: ClassHandler, env: WsmanEnvelope): Routed {
  const p = env.payload;
  if (p && (p.name !== 'Enumerate' || p.ns !== NS.enumeration)) throw faults.schemaValidation(`Expected <Enumerate>, found <${p.name}>.`);
  const mode = child(p, 'EnumerationMode', NS.wsman)?.text.trim();
  if (mode && mode !== 'EnumerateEPR' && mode !== 'EnumerateObject') throw faults.unsupportedFeature(`EnumerationMode ${mode}.`);
  if (child(p, 'Filter', NS.wsman) || child(p, 'Filter', NS.enumeration)) throw faults.unsupportedFeature('Filtered enumeration.');
  const items = handler.instances(device);
  const ctx = device.openEnumeration({ className: handler.className, items, eprs: mode === 'EnumerateEPR' });
  return { ns: [NS.enumeration], body: enumerateResponseXml(ctx) };
}

function pull(device: SimDevice, handler: ClassHandler, env: WsmanEnvelope): Routed {
  const p = env.payload;
  if (!p || p.name !== 'Pull' || p.ns !== NS.enumeration) throw faults.schemaValidation('Expected <Pull> in the Body.');
  const ctxId = child(p, 'EnumerationContext', NS.enumeration)?.text.trim() ?? '';
  const e = device.enumerations.get(ctxId);
  if (!e || e.className !== handler.className) throw faults.invalidEnumerationContext();
  const maxText = child(p, 'MaxElements', NS.enumeration)?.text.trim();
  const max = maxText === undefined ? 1 : Number(maxText);
  if (!Number.isInteger(max) || max < 1) throw faults.invalidParameter(`MaxElements "${maxText}".`);
  const page = e.items.slice(e.position, e.position + max);
  e.position += page.length;
  const done = e.position >= e.items.length;
  if (done) device.enumerations.delete(ctxId);
  const uri = resourceUri(handler.className);
  if (e.eprs) return { ns: [NS.enumeration], body: pullResponseXml(page.map((i) => eprItemXml(eprOf(handler, i))).join(''), done ? undefined : ctxId) };
  if (page.length === 0) return { ns: [NS.enumeration], body: pullResponseXml('', done ? undefined : ctxId) };
  const common = handler.commonNs || page.some(hasDate);
  // Each item class of the page gets a letter after g (h, i...), then the common namespace.
  const classes = [...new Set(page.map((i) => itemClass(handler, i)))];
  const letter = (cls: string) => String.fromCharCode(0x68 + classes.indexOf(cls));
  const commonLetter = String.fromCharCode(0x68 + classes.length);
  const items = page.map((i) => instanceXml(letter(itemClass(handler, i)), itemClass(handler, i), i, commonLetter, handler.ownProps, handler.declarationOrder)).join('');
  const ns = [NS.enumeration, ...classes.map((c) => (c === handler.className ? uri : resourceUri(c)))];
  return { ns: common ? [...ns, NS.common] : ns, body: pullResponseXml(items, done ? undefined : ctxId) };
}
