/**
 * Namespace-aware XML reading for WS-Management. AMT assigns prefixes per message (the letter
 * "g" is the class in one answer and a fault subcode namespace in the next), so every name is
 * resolved through its xmlns scope and only (namespace URI, local name) is kept.
 *
 * Refused outright: DOCTYPE (and with it every entity declaration), unknown named entities,
 * documents over the size limit and elements nested deeper than the depth limit.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { XmlError } from '../errors';
import { NS } from './namespaces';

export interface XmlNode {
  ns: string;
  name: string;
  /** Attributes by local name (xmlns declarations excluded), entity-decoded. */
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Concatenated, entity-decoded character data directly inside this element. */
  text: string;
  /** Prefix -> namespace URI in scope at this element (for QName-valued text such as fault subcodes). */
  scope: Readonly<Record<string, string>>;
}

export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 8 * 1024 * 1024, maxDepth: 64 };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
});

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`unterminated character reference "${whole}"`);
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff) throw new XmlError(`bad character reference "${whole}"`);
      return String.fromCodePoint(code);
    }
    const v = NAMED_ENTITIES[ref];
    if (v === undefined) throw new XmlError(`entity "&${ref};" is not allowed`);
    return v;
  });
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

type OrderedItem = Record<string, unknown> & { ':@'?: Record<string, string> };

/** Parse a document and return its root element, namespace-resolved. */
export function parseXml(xml: string, limits: Partial<XmlLimits> = {}): XmlNode {
  const { maxBytes, maxDepth } = { ...DEFAULT_XML_LIMITS, ...limits };
  if (typeof xml !== 'string') throw new XmlError('reply is not text');
  if (Buffer.byteLength(xml) > maxBytes) throw new XmlError(`reply larger than ${maxBytes} bytes`);
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new XmlError('DOCTYPE and entity declarations are refused');
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) {
    const e = valid.err;
    throw new XmlError(`malformed XML at line ${e.line}, column ${e.col}: ${e.msg}`);
  }
  let items: OrderedItem[];
  try {
    items = parser.parse(xml) as OrderedItem[];
  } catch (e) {
    throw new XmlError(`malformed XML: ${(e as Error).message}`);
  }
  const roots = items.filter((it) => elementName(it) !== undefined);
  if (roots.length !== 1) throw new XmlError(`expected one root element, found ${roots.length}`);
  return build(roots[0], { xml: 'http://www.w3.org/XML/1998/namespace' }, 1, maxDepth);
}

function elementName(it: OrderedItem): string | undefined {
  for (const k of Object.keys(it)) if (k !== ':@' && k !== '#text' && k !== '#cdata') return k;
  return undefined;
}

function splitQName(q: string): [string, string] {
  const i = q.indexOf(':');
  return i < 0 ? ['', q] : [q.slice(0, i), q.slice(i + 1)];
}

function build(item: OrderedItem, parentScope: Record<string, string>, depth: number, maxDepth: number): XmlNode {
  if (depth > maxDepth) throw new XmlError(`XML nested deeper than ${maxDepth} levels`);
  const qname = elementName(item) as string;
  const rawAttrs = item[':@'] ?? {};
  let scope = parentScope;
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (scope === parentScope) scope = { ...parentScope };
      scope[k === 'xmlns' ? '' : k.slice(6)] = decodeEntities(v);
    }
  }
  const [prefix, local] = splitQName(qname);
  const ns = scope[prefix];
  if (ns === undefined && prefix !== '') throw new XmlError(`undeclared namespace prefix "${prefix}" on <${qname}>`);
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    attrs[splitQName(k)[1]] = decodeEntities(v);
  }
  const node: XmlNode = { ns: ns ?? '', name: local, attrs, children: [], text: '', scope };
  const content = item[qname] as OrderedItem[];
  for (const c of content) {
    if ('#text' in c) node.text += decodeEntities(String(c['#text']));
    else if ('#cdata' in c) node.text += cdataText(c['#cdata']);
    else if (elementName(c) !== undefined) node.children.push(build(c, scope, depth + 1, maxDepth));
  }
  return node;
}

function cdataText(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => String((x as Record<string, unknown>)['#text'] ?? '')).join('');
  return String(v);
}

export function child(node: XmlNode | undefined, name: string, ns?: string): XmlNode | undefined {
  return node?.children.find((c) => c.name === name && (ns === undefined || c.ns === ns));
}

export function childrenNamed(node: XmlNode | undefined, name: string, ns?: string): XmlNode[] {
  return node ? node.children.filter((c) => c.name === name && (ns === undefined || c.ns === ns)) : [];
}

/** Resolve a QName written as element text ("e:AlreadyExists") through the element's scope. */
export function resolveQNameText(node: XmlNode): { ns: string; name: string } {
  const [prefix, local] = splitQName(node.text.trim());
  return { ns: node.scope[prefix] ?? '', name: local };
}

export interface EndpointReference {
  address: string;
  resourceUri: string;
  selectors: Record<string, string>;
}

export type PlainValue = string | null | EndpointReference | PlainObject | PlainValue[];
export interface PlainObject {
  [key: string]: PlainValue;
}

export function isEndpointReference(v: unknown): v is EndpointReference {
  return typeof v === 'object' && v !== null && 'address' in v && 'resourceUri' in v && 'selectors' in v;
}

/** Read an Address + ReferenceParameters element into an EndpointReference. */
export function readEndpointReference(node: XmlNode): EndpointReference | undefined {
  const address = child(node, 'Address', NS.addressing);
  const params = child(node, 'ReferenceParameters', NS.addressing);
  if (!address || !params) return undefined;
  const selectors: Record<string, string> = {};
  for (const s of childrenNamed(child(params, 'SelectorSet', NS.wsman), 'Selector', NS.wsman)) {
    const nested = s.children.length ? readEndpointReference(s.children[0]) : undefined;
    selectors[s.attrs.Name ?? ''] = nested ? JSON.stringify(nested) : s.text;
  }
  return { address: address.text, resourceUri: child(params, 'ResourceURI', NS.wsman)?.text ?? '', selectors };
}

const CIM_DATE_WRAPPERS = new Set(['Datetime', 'Date', 'Time', 'Interval', 'CIM_DateTime']);

/**
 * An element as a plain value: text for leaves, an EndpointReference for references, the inner
 * text of a CIM date wrapper, otherwise an object keyed by local name where repeated names become
 * arrays. Values stay strings; typing is the schema's job (see typing.ts).
 */
export function toPlain(node: XmlNode): PlainValue {
  if (node.attrs.nil === 'true') return null;
  if (node.children.length === 0) return node.text;
  const epr = readEndpointReference(node);
  if (epr) return epr;
  if (node.children.length === 1 && CIM_DATE_WRAPPERS.has(node.children[0].name) && node.children[0].children.length === 0) {
    return node.children[0].text;
  }
  const out: PlainObject = {};
  const repeated = new Set<string>();
  for (const c of node.children) {
    const v = toPlain(c);
    const prev = out[c.name];
    if (prev === undefined) out[c.name] = v;
    else if (repeated.has(c.name)) (prev as PlainValue[]).push(v);
    else {
      out[c.name] = [prev, v];
      repeated.add(c.name);
    }
  }
  return out;
}
