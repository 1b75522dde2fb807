/**
 * A WS-Management request as the simulated firmware takes it apart: the addressing and wsman
 * headers it acts on, the Body's first element, and method or Put input as plain values.
 */
import { childOf, childrenOf, readRequestXml, RequestNode, RequestXmlCaps, RequestXmlError, shown } from './request-xml';
import { SIM_NS } from './wsman-uris';

export interface RequestHeader {
  to?: string;
  action?: string;
  messageId?: string;
  resourceUri?: string;
  replyTo?: string;
  /** wsman:Selector values by Name; a selector holding a reference is given as its JSON. */
  selectors: Record<string, string>;
  /** Other childless headers by local name (an eventing Identifier copied from ReferenceParameters). */
  extra: Record<string, string>;
}

export interface SimRequest {
  root: RequestNode;
  header: RequestHeader;
  body: RequestNode;
  payload?: RequestNode;
}

/** A reference given as input: Address + ReferenceParameters. */
export interface InputReference {
  address: string;
  resourceUri: string;
  /** Selector values by Name; a nested reference as its JSON. */
  selectors: Record<string, string>;
}

export type InputValue = string | null | InputReference | InputObject | InputValue[];
export interface InputObject {
  [key: string]: InputValue;
}

export function isInputReference(v: unknown): v is InputReference {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as InputReference).resourceUri === 'string' && typeof (v as InputReference).address === 'string' && typeof (v as InputReference).selectors === 'object';
}

const ADDRESSING_HEADERS = new Set(['To', 'Action', 'MessageID', 'RelatesTo', 'ReplyTo', 'FaultTo', 'From']);
const WSMAN_HEADERS = new Set(['ResourceURI', 'SelectorSet', 'OperationTimeout', 'MaxEnvelopeSize', 'Locale', 'DataLocale', 'OptionSet', 'AckRequested', 'RequestTotalItemsCountEstimate']);

export function readReference(node: RequestNode): InputReference | undefined {
  const address = childOf(node, 'Address', SIM_NS.addressing);
  const params = childOf(node, 'ReferenceParameters', SIM_NS.addressing);
  if (!address || !params) return undefined;
  return { address: address.text, resourceUri: childOf(params, 'ResourceURI', SIM_NS.wsman)?.text ?? '', selectors: selectorsOf(childOf(params, 'SelectorSet', SIM_NS.wsman)) };
}

function selectorsOf(set: RequestNode | undefined): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const s of childrenOf(set, 'Selector', SIM_NS.wsman)) {
    const nested = s.children.length ? readReference(s.children[0]) : undefined;
    out[s.attrs.Name ?? ''] = nested ? JSON.stringify(nested) : s.text;
  }
  return out;
}

export function readRequest(xml: string, caps?: Partial<RequestXmlCaps>): SimRequest {
  const root = readRequestXml(xml, caps);
  if (root.name !== 'Envelope' || root.ns !== SIM_NS.soap) throw new RequestXmlError(`<${shown(root.name)}> is not a SOAP 1.2 Envelope`);
  const body = childOf(root, 'Body', SIM_NS.soap);
  if (!body) throw new RequestXmlError('the Envelope has no Body');
  const header: RequestHeader = { selectors: Object.create(null) as Record<string, string>, extra: Object.create(null) as Record<string, string> };
  for (const h of childOf(root, 'Header', SIM_NS.soap)?.children ?? []) {
    if (h.ns === SIM_NS.addressing && ADDRESSING_HEADERS.has(h.name)) {
      if (h.name === 'To') header.to = h.text;
      else if (h.name === 'Action') header.action = h.text;
      else if (h.name === 'MessageID') header.messageId = h.text;
      else if (h.name === 'ReplyTo') header.replyTo = childOf(h, 'Address', SIM_NS.addressing)?.text;
    } else if (h.ns === SIM_NS.wsman && WSMAN_HEADERS.has(h.name)) {
      if (h.name === 'ResourceURI') header.resourceUri = h.text;
      else if (h.name === 'SelectorSet') header.selectors = selectorsOf(h);
    } else if (h.children.length === 0) {
      header.extra[h.name] = h.text;
    }
  }
  return { root, header, body, payload: body.children[0] };
}

/** CIM wraps dates and intervals in one element of the common namespace; the input is its text. */
const DATE_WRAPPERS = new Set(['Datetime', 'Date', 'Time', 'Interval', 'CIM_DateTime']);

/** An element as input: text, null (xsi:nil), a reference, or an object by local name (repeats as arrays). */
export function inputValue(node: RequestNode): InputValue {
  if (node.nil) return null;
  if (node.children.length === 0) return node.text;
  const r = readReference(node);
  if (r) return r;
  const only = node.children.length === 1 ? node.children[0] : undefined;
  if (only && DATE_WRAPPERS.has(only.name) && only.children.length === 0) return only.text;
  const out = Object.create(null) as InputObject;
  for (const c of node.children) {
    const v = inputValue(c);
    const had = out[c.name];
    if (had === undefined) out[c.name] = v;
    else if (Array.isArray(had)) had.push(v); // an element's own value is never an array: this is a repeat
    else out[c.name] = [had, v];
  }
  return out;
}

/** The element's children as an input object (empty for a leaf). */
export function inputObject(node: RequestNode): InputObject {
  const v = inputValue(node);
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isInputReference(v) ? v : (Object.create(null) as InputObject);
}
