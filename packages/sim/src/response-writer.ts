/**
 * AMT-style response envelopes, written the way the firmware writes them (see DESIGN.md, "How
 * real AMT answers look", and test/fixtures/amt): the XML declaration, then one line with no
 * whitespace; prefixes a=soap-envelope b=addressing c=wsman d=trust e=wss-secext f=cimbinding,
 * g=the class (or enumeration) namespace, h/i=item class or common namespace, then xsi; header
 * To, RelatesTo, Action (mustUnderstand), MessageID, ResourceURI; properties in plain byte order.
 * Faults reassign the letters exactly as in Fault-*.xml. Every text and attribute is escaped.
 */
import { escapeText as escapeXml } from './request-xml';
import { SIM_ACTION, SIM_ANONYMOUS as ANONYMOUS, SIM_NS as NS } from './wsman-uris';
import { isDate, isRef, SimProps, SimRef, SimScalar, SimValue } from './values';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

/** The fixed part of every normal answer: a..f. */
const BASE_NS: Array<[string, string]> = [
  ['a', NS.soap],
  ['b', NS.addressing],
  ['c', NS.wsman],
  ['d', NS.trust],
  ['e', NS.wssecurity],
  ['f', NS.cimbinding],
];

/** Faults declare every protocol namespace, lettered differently (Fault-AlreadyExists.xml). */
const FAULT_NS: Array<[string, string]> = [
  ['g', NS.cimbinding],
  ['f', NS.eventing],
  ['e', NS.wsman],
  ['d', NS.transfer],
  ['c', NS.enumeration],
  ['b', NS.addressing],
  ['a', NS.soap],
  ['h', NS.trust],
  ['i', NS.wssecurity],
];

export interface ResponseHead {
  action: string;
  /** The request's MessageID, echoed exactly. */
  relatesTo: string;
  messageId: string;
  resourceUri?: string;
}

/** Namespaces beyond a..f for one answer, in letter order (g, h, i). */
export type ExtraNs = readonly string[];

function nsDecls(list: Array<[string, string]>): string {
  return list.map(([p, uri]) => ` xmlns:${p}="${escapeXml(uri)}"`).join('') + ` xmlns:xsi="${NS.xsi}"`;
}

function letters(extra: ExtraNs): Array<[string, string]> {
  return extra.map((uri, i) => [String.fromCharCode(0x67 + i), uri]);
}

function headerXml(h: ResponseHead): string {
  return (
    `<a:Header><b:To>${ANONYMOUS}</b:To><b:RelatesTo>${escapeXml(h.relatesTo)}</b:RelatesTo>` +
    `<b:Action a:mustUnderstand="true">${escapeXml(h.action)}</b:Action><b:MessageID>${escapeXml(h.messageId)}</b:MessageID>` +
    (h.resourceUri !== undefined ? `<c:ResourceURI>${escapeXml(h.resourceUri)}</c:ResourceURI>` : '') +
    '</a:Header>'
  );
}

/** The Envelope start tag of a normal answer, by its extra namespaces (a handful of class sets). */
const envelopeStarts = new Map<string, string>();
const MAX_ENVELOPE_STARTS = 1024;
/** The same, by a frozen list a caller keeps (no key to build and hash). */
const envelopeStartsByList = new WeakMap<ExtraNs, string>();

function envelopeStart(extra: ExtraNs): string {
  const frozen = Object.isFrozen(extra);
  if (frozen) {
    const known = envelopeStartsByList.get(extra);
    if (known !== undefined) return known;
  }
  const key = extra.join(' ');
  let start = envelopeStarts.get(key);
  if (start === undefined) {
    start = `${DECL}<a:Envelope${nsDecls([...BASE_NS, ...letters(extra)])}>`;
    if (envelopeStarts.size >= MAX_ENVELOPE_STARTS) envelopeStarts.clear();
    envelopeStarts.set(key, start);
  }
  if (frozen) envelopeStartsByList.set(extra, start);
  return start;
}

/** A whole normal answer. `extra` are the namespaces bound to g, h, i... in that order. */
export function writeEnvelope(head: ResponseHead, extra: ExtraNs, body: string): string {
  return `${envelopeStart(extra)}${headerXml(head)}<a:Body>${body}</a:Body></a:Envelope>`;
}

function refXml(prefix: string, name: string, r: SimRef): string {
  return `<${prefix}:${name}>${eprInner(r)}</${prefix}:${name}>`;
}

/** Address + ReferenceParameters, as inside a reference property or an EndpointReference. */
export function eprInner(r: SimRef): string {
  let sels = '';
  for (const [k, v] of r.selectors) {
    sels += `<c:Selector Name="${escapeXml(k)}">${typeof v === 'string' ? escapeXml(v) : `<b:EndpointReference>${eprInner(v)}</b:EndpointReference>`}</c:Selector>`;
  }
  return (
    `<b:Address>${escapeXml(r.address ?? ANONYMOUS)}</b:Address><b:ReferenceParameters>` +
    `<c:ResourceURI>${escapeXml(r.resourceUri)}</c:ResourceURI>` +
    (sels ? `<c:SelectorSet>${sels}</c:SelectorSet>` : '') +
    '</b:ReferenceParameters>'
  );
}

function scalarXml(prefix: string, name: string, v: SimScalar, commonPrefix: string): string {
  if (isRef(v)) return refXml(prefix, name, v);
  if (isDate(v)) {
    const w = v.wrapper ?? 'Datetime';
    return `<${prefix}:${name}><${commonPrefix}:${w}>${escapeXml(v.value)}</${commonPrefix}:${w}></${prefix}:${name}>`;
  }
  return `<${prefix}:${name}>${escapeXml(typeof v === 'string' ? v : String(v))}</${prefix}:${name}>`;
}

function valueXml(prefix: string, name: string, v: SimValue, commonPrefix: string): string {
  if (v === null || v === undefined) return '';
  if (!Array.isArray(v)) return scalarXml(prefix, name, v, commonPrefix);
  let out = '';
  for (const x of v) out += scalarXml(prefix, name, x, commonPrefix);
  return out;
}

/** Plain byte order, as AMT sorts properties (capitals before lower case). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `<p:Class>` with the properties sorted; dates use `commonPrefix`. Properties named in `after`
 * (a class's own additions to its CIM parent) come after all the others, sorted among themselves:
 * firmware writes the inherited ones first (IPS_PowerManagementService ends with OSPowerSavingState).
 */
export function instanceXml(prefix: string, className: string, props: SimProps, commonPrefix: string, after: readonly string[] = [], declarationOrder = false): string {
  let keys = Object.keys(props);
  if (!declarationOrder) {
    if (after.length === 0) keys.sort(byteOrder);
    else keys = [...keys.filter((k) => !after.includes(k)).sort(byteOrder), ...keys.filter((k) => after.includes(k)).sort(byteOrder)];
  }
  let inner = '';
  for (const k of keys) inner += valueXml(prefix, k, props[k], commonPrefix);
  return `<${prefix}:${className}>${inner}</${prefix}:${className}>`;
}

export function hasDate(props: SimProps): boolean {
  return Object.values(props).some((v) => isDate(v) || (Array.isArray(v) && v.some(isDate)));
}

/** `<g:Method_OUTPUT>`: parameters in the order given, ReturnValue last. */
export function methodOutputXml(method: string, params: SimProps, returnValue: number): string {
  const inner = Object.entries(params)
    .filter(([k]) => k !== 'ReturnValue')
    .map(([k, v]) => valueXml('g', k, v, 'h'))
    .join('');
  return `<g:${method}_OUTPUT>${inner}<g:ReturnValue>${returnValue}</g:ReturnValue></g:${method}_OUTPUT>`;
}

export function enumerateResponseXml(context: string): string {
  return `<g:EnumerateResponse><g:EnumerationContext>${escapeXml(context)}</g:EnumerationContext></g:EnumerateResponse>`;
}

/** Items already written; a partial page puts EnumerationContext before Items, the last page ends with EndOfSequence. */
export function pullResponseXml(itemsXml: string, context: string | undefined): string {
  return (
    '<g:PullResponse>' +
    (context !== undefined ? `<g:EnumerationContext>${escapeXml(context)}</g:EnumerationContext>` : '') +
    `<g:Items>${itemsXml}</g:Items>` +
    (context === undefined ? '<g:EndOfSequence></g:EndOfSequence>' : '') +
    '</g:PullResponse>'
  );
}

export function eprItemXml(r: SimRef): string {
  return `<b:EndpointReference>${eprInner(r)}</b:EndpointReference>`;
}

export interface FaultSpec {
  /** Namespace of the subcode QName (wsman, addressing, enumeration, transfer or eventing). */
  subcodeNs: string;
  subcode: string;
  reason: string;
  /** 'Sender' (the default) or 'Receiver'. */
  code?: 'Sender' | 'Receiver';
}

const FAULT_ACTIONS: Record<string, string> = {
  [NS.addressing]: SIM_ACTION.addressingFault,
  [NS.wsman]: SIM_ACTION.wsmanFault,
  [NS.enumeration]: SIM_ACTION.enumerationFault,
  [NS.eventing]: SIM_ACTION.eventingFault,
  [NS.transfer]: SIM_ACTION.wsmanFault,
};

export function faultAction(subcodeNs: string): string {
  return FAULT_ACTIONS[subcodeNs] ?? SIM_ACTION.wsmanFault;
}

/** A SOAP fault envelope: no ResourceURI, Detail empty, letters as AMT assigns them in faults. */
export function writeFault(relatesTo: string, messageId: string, f: FaultSpec): string {
  const prefix = FAULT_NS.find(([, uri]) => uri === f.subcodeNs)?.[0];
  if (!prefix) throw new Error(`no fault prefix for namespace ${f.subcodeNs}`);
  const head =
    `<a:Header><b:To>${ANONYMOUS}</b:To><b:RelatesTo>${escapeXml(relatesTo)}</b:RelatesTo>` +
    `<b:Action a:mustUnderstand="true">${faultAction(f.subcodeNs)}</b:Action><b:MessageID>${escapeXml(messageId)}</b:MessageID></a:Header>`;
  const body =
    `<a:Fault><a:Code><a:Value>a:${f.code ?? 'Sender'}</a:Value><a:Subcode><a:Value>${prefix}:${escapeXml(f.subcode)}</a:Value></a:Subcode></a:Code>` +
    `<a:Reason><a:Text xml:lang="en-US">${escapeXml(f.reason)}</a:Text></a:Reason><a:Detail></a:Detail></a:Fault>`;
  return `${DECL}<a:Envelope${nsDecls(FAULT_NS)}>${head}<a:Body>${body}</a:Body></a:Envelope>`;
}

/**
 * A WS-Management event push as AMT sends it (CIM_AlertIndication-Event.xml): ReplyTo and
 * AckRequested instead of RelatesTo. Used by the event emitter; `to` is the subscriber's address.
 */
export function writeEvent(o: { messageId: string; className: string; classUri: string; props: SimProps; to?: string; ackRequested?: boolean; referenceParams?: string }): string {
  const head =
    `<a:Header><b:To>${escapeXml(o.to ?? ANONYMOUS)}</b:To><b:ReplyTo><b:Address>${ANONYMOUS}</b:Address></b:ReplyTo>` +
    (o.ackRequested === false ? '' : '<c:AckRequested></c:AckRequested>') +
    `<b:Action a:mustUnderstand="true">${SIM_ACTION.event}</b:Action><b:MessageID>${escapeXml(o.messageId)}</b:MessageID>` +
    `<c:ResourceURI>${escapeXml(o.classUri)}</c:ResourceURI>${o.referenceParams ?? ''}</a:Header>`;
  const body = instanceXml('g', o.className, o.props, 'h');
  return `${DECL}<a:Envelope${nsDecls([...BASE_NS, ...letters([o.classUri, NS.common])])}>${head}<a:Body>${body}</a:Body></a:Envelope>`;
}
