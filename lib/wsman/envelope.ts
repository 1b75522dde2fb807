/**
 * Reading SOAP 1.2 / WS-Management envelopes (requests and responses alike) into their header
 * fields and body, and reading the standard body shapes: instance, method output, enumeration,
 * pull, subscription and fault.
 */
import { clip, WsmanFaultError, XmlError } from '../errors';
import { NS } from './namespaces';
import {
  child,
  childrenNamed,
  EndpointReference,
  parseXml,
  PlainObject,
  PlainValue,
  readEndpointReference,
  resolveQNameText,
  toPlain,
  XmlLimits,
  XmlNode,
} from './xml';

export interface WsmanHeader {
  to?: string;
  action?: string;
  messageId?: string;
  relatesTo?: string;
  resourceUri?: string;
  replyTo?: string;
  /** Selectors of the SelectorSet header, by Name. */
  selectors: Record<string, string>;
  operationTimeout?: string;
  maxEnvelopeSize?: string;
  /** wsman:AckRequested is present (an event push that wants an Ack). */
  ackRequested: boolean;
  /** ReferenceParameters copied into the header of an event push (WS-Addressing), by local name. */
  extra: Record<string, string>;
}

export interface WsmanEnvelope {
  header: WsmanHeader;
  body: XmlNode;
  /** First element inside Body, if any (Delete answers an empty Body). */
  payload?: XmlNode;
}

/** The namespace each header we read belongs to; a same-named header of another namespace is not it. */
const HEADER_NS: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  To: NS.addressing,
  Action: NS.addressing,
  MessageID: NS.addressing,
  RelatesTo: NS.addressing,
  ReplyTo: NS.addressing,
  ResourceURI: NS.wsman,
  SelectorSet: NS.wsman,
  OperationTimeout: NS.wsman,
  MaxEnvelopeSize: NS.wsman,
  Locale: NS.wsman,
  DataLocale: NS.wsman,
  OptionSet: NS.wsman,
  AckRequested: NS.wsman,
});

export function readEnvelope(xml: string, limits?: Partial<XmlLimits>): WsmanEnvelope {
  const root = parseXml(xml, limits);
  if (root.name !== 'Envelope' || root.ns !== NS.soap) throw new XmlError(`not a SOAP 1.2 envelope (root <${clip(root.name, 60)}>)`);
  const headerNode = child(root, 'Header', NS.soap);
  const body = child(root, 'Body', NS.soap);
  if (!body) throw new XmlError('SOAP envelope without Body');
  const header: WsmanHeader = { selectors: Object.create(null) as Record<string, string>, extra: Object.create(null) as Record<string, string>, ackRequested: false };
  for (const h of headerNode?.children ?? []) {
    switch (HEADER_NS[h.name] === h.ns ? h.name : '') {
      case 'To':
        header.to = h.text;
        break;
      case 'Action':
        header.action = h.text;
        break;
      case 'MessageID':
        header.messageId = h.text;
        break;
      case 'RelatesTo':
        header.relatesTo = h.text;
        break;
      case 'ResourceURI':
        header.resourceUri = h.text;
        break;
      case 'ReplyTo':
        header.replyTo = child(h, 'Address', NS.addressing)?.text;
        break;
      case 'OperationTimeout':
        header.operationTimeout = h.text;
        break;
      case 'MaxEnvelopeSize':
        header.maxEnvelopeSize = h.text;
        break;
      case 'AckRequested':
        header.ackRequested = true;
        break;
      case 'SelectorSet':
        for (const s of childrenNamed(h, 'Selector', NS.wsman)) {
          const epr = s.children.length ? readEndpointReference(s.children[0]) : undefined;
          header.selectors[s.attrs.Name ?? ''] = epr ? JSON.stringify(epr) : s.text;
        }
        break;
      default:
        if (HEADER_NS[h.name] === undefined && h.children.length === 0) header.extra[h.name] = h.text;
    }
  }
  return { header, body, payload: body.children[0] };
}

export interface WsmanInstance {
  className: string;
  props: PlainObject;
}

function asObject(v: PlainValue): PlainObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !('resourceUri' in v && 'selectors' in v && 'address' in v)
    ? (v as PlainObject)
    : {};
}

/** The Fault in a Body, as a typed error; undefined when the body holds no fault. */
export function readFault(env: WsmanEnvelope, httpStatus: number): WsmanFaultError | undefined {
  const fault = env.payload && env.payload.name === 'Fault' && env.payload.ns === NS.soap ? env.payload : undefined;
  if (!fault) return undefined;
  const code = child(fault, 'Code', NS.soap);
  const value = child(code, 'Value', NS.soap);
  const subValue = child(child(code, 'Subcode', NS.soap), 'Value', NS.soap);
  const reason = child(fault, 'Reason', NS.soap);
  const texts = childrenNamed(reason, 'Text', NS.soap);
  const english = texts.find((t) => (t.attrs.lang ?? '').toLowerCase().startsWith('en')) ?? texts[0];
  const detail = child(fault, 'Detail', NS.soap);
  return new WsmanFaultError({
    code: value ? resolveQNameText(value).name : '',
    subcode: subValue ? resolveQNameText(subValue).name : '',
    reason: english?.text.trim() ?? '',
    detail: detail ? detailText(detail) : '',
    httpStatus,
    action: env.header.action,
  });
}

function detailText(node: XmlNode): string {
  if (node.children.length === 0) return node.text.trim();
  return node.children.map((c) => `${c.name}${c.text ? `=${c.text.trim()}` : ''}${c.children.length ? `(${detailText(c)})` : ''}`).join(', ');
}

/** Get/Put/Create-by-value answers: the instance element in the body. */
/**
 * The instance in a Get or Put answer. With `only`, just the properties of those names are read
 * (each as the whole read would give it): a poll that wants two values does not build the rest.
 */
export function readInstance(env: WsmanEnvelope, only?: readonly string[]): WsmanInstance {
  const payload = env.payload;
  if (!payload) throw new XmlError('reply has an empty Body where an instance was expected');
  return { className: payload.name, props: asObject(toPlain(only ? withChildrenNamed(payload, only) : payload)) };
}

/** The element with only its children of these local names (in any namespace, so keys come out as in the whole). */
function withChildrenNamed(node: XmlNode, names: readonly string[]): XmlNode {
  const children: XmlNode[] = [];
  for (const c of node.children) if (names.includes(c.name)) children.push(c);
  return { ns: node.ns, name: node.name, attrs: node.attrs, children, text: node.text, scope: node.scope, nil: node.nil };
}

/** Method answers: <Method_OUTPUT> with its parameters, ReturnValue last. */
export function readMethodOutput(env: WsmanEnvelope, method: string): PlainObject {
  const out = env.payload;
  if (!out || out.name !== `${method}_OUTPUT`) {
    throw new XmlError(`reply has <${clip(out?.name ?? 'nothing', 60)}> where <${method}_OUTPUT> was expected`);
  }
  return out.children.length ? asObject(toPlain(out)) : {};
}

/** Create answers: a ResourceCreated endpoint reference. */
export function readCreated(env: WsmanEnvelope): EndpointReference | undefined {
  const created = env.payload && env.payload.name === 'ResourceCreated' && env.payload.ns === NS.transfer ? env.payload : undefined;
  return created ? readEndpointReference(created) : undefined;
}

export function readEnumerationContext(env: WsmanEnvelope): string {
  const ctx = child(env.payload, 'EnumerationContext', NS.enumeration);
  if (!env.payload || env.payload.name !== 'EnumerateResponse' || env.payload.ns !== NS.enumeration || !ctx) {
    throw new XmlError('reply is not an EnumerateResponse with an EnumerationContext');
  }
  return ctx.text;
}

export interface PullPage {
  items: WsmanInstance[];
  /** Context for the next Pull; undefined at the end of the sequence. */
  context?: string;
  end: boolean;
}

export function readPullResponse(env: WsmanEnvelope): PullPage {
  const p = env.payload;
  if (!p || p.name !== 'PullResponse' || p.ns !== NS.enumeration) throw new XmlError(`reply has <${clip(p?.name ?? 'nothing', 60)}> where <PullResponse> was expected`);
  const items = child(p, 'Items', NS.enumeration);
  const end = child(p, 'EndOfSequence', NS.enumeration) !== undefined;
  const context = child(p, 'EnumerationContext', NS.enumeration)?.text;
  return {
    items: (items?.children ?? []).map((it) => {
      const epr = readEndpointReference(it);
      if (epr) return { className: 'EndpointReference', props: { ...epr } as unknown as PlainObject };
      return { className: it.name, props: asObject(toPlain(it)) };
    }),
    context: end ? undefined : context,
    end,
  };
}

export interface SubscriptionHandle {
  /** Where Unsubscribe/Renew go (AMT: the same /wsman endpoint). */
  manager: EndpointReference;
  /** WS-Eventing Identifier, when the device gives one. */
  identifier?: string;
  expires?: string;
}

export function readSubscribeResponse(env: WsmanEnvelope): SubscriptionHandle {
  const p = env.payload;
  if (!p || p.name !== 'SubscribeResponse' || p.ns !== NS.eventing) throw new XmlError(`reply has <${clip(p?.name ?? 'nothing', 60)}> where <SubscribeResponse> was expected`);
  const mgr = child(p, 'SubscriptionManager', NS.eventing);
  const manager = mgr ? readEndpointReference(mgr) : undefined;
  const params = child(mgr, 'ReferenceParameters', NS.addressing);
  const identifier = child(params, 'Identifier', NS.eventing)?.text;
  return {
    manager: manager ?? { address: '', resourceUri: '', selectors: {} },
    identifier,
    expires: child(p, 'Expires', NS.eventing)?.text,
  };
}

/** RenewResponse: the new Expires, when the device gives one. */
export function readRenewResponse(env: WsmanEnvelope): string | undefined {
  const p = env.payload;
  if (p && (p.name !== 'RenewResponse' || p.ns !== NS.eventing)) throw new XmlError(`reply has <${clip(p.name, 60)}> where <RenewResponse> was expected`);
  return child(p, 'Expires', NS.eventing)?.text;
}
