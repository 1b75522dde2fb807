/**
 * Namespace-aware XML reading for WS-Management. AMT assigns prefixes per message (the letter
 * "g" is the class in one answer and a fault subcode namespace in the next), so every name is
 * resolved through its xmlns scope and only (namespace URI, local name) is kept.
 *
 * Refused outright: DOCTYPE (and with it every entity declaration), unknown named entities,
 * malformed documents, documents over the size limit and elements nested deeper than the limit.
 *
 * This is a small strict reader of our own rather than fast-xml-parser: reading a reply with
 * fast-xml-parser's validator and parser cost about 180 us, most of a warm call's CPU on both
 * ends, where this reader takes about 20 us (bench: wsman-warm-calls). The test suite checks it
 * against fast-xml-parser on real captures and on generated documents.
 */
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

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&([^;&\s]*)(;?)/g, (whole, ref: string, semi: string) => {
    if (!semi) throw new XmlError(`unterminated character reference "${whole}"`);
    if (ref[0] === '#') {
      const hex = ref[1] === 'x';
      const digits = ref.slice(hex ? 2 : 1);
      if (!(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) throw new XmlError(`bad character reference "${whole}"`);
      const code = parseInt(digits, hex ? 16 : 10);
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new XmlError(`bad character reference "${whole}"`);
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

const NAME_START = 'A-Za-z_\\u00C0-\\uFFFF';
const NAME_CHAR = `${NAME_START}0-9.\\-\\u00B7`;
const QNAME = `[${NAME_START}][${NAME_CHAR}]*(?::[${NAME_START}][${NAME_CHAR}]*)?`;
const TAG_NAME = new RegExp(QNAME, 'y');
const ATTRIBUTE = new RegExp(`[ \\t\\r\\n]+(${QNAME})[ \\t\\r\\n]*=[ \\t\\r\\n]*(?:"([^"<]*)"|'([^'<]*)')`, 'y');
const TAG_END = /[ \t\r\n]*(\/?)>/y;
const END_TAG = new RegExp(`(${QNAME})[ \\t\\r\\n]*>`, 'y');
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function splitQName(q: string): [string, string] {
  const i = q.indexOf(':');
  return i < 0 ? ['', q] : [q.slice(0, i), q.slice(i + 1)];
}

function lineOf(xml: string, at: number): string {
  let line = 1;
  for (let i = xml.indexOf('\n'); i >= 0 && i < at; i = xml.indexOf('\n', i + 1)) line++;
  return `line ${line}`;
}

function fail(xml: string, at: number, what: string): never {
  throw new XmlError(`malformed XML at ${lineOf(xml, at)}: ${what}`);
}

interface Open {
  node: XmlNode;
  qname: string;
}

/** Parse a document and return its root element, namespace-resolved. */
export function parseXml(xml: string, limits: Partial<XmlLimits> = {}): XmlNode {
  const { maxBytes, maxDepth } = { ...DEFAULT_XML_LIMITS, ...limits };
  if (typeof xml !== 'string') throw new XmlError('reply is not text');
  if (xml.length > maxBytes || Buffer.byteLength(xml) > maxBytes) throw new XmlError(`reply larger than ${maxBytes} bytes`);
  const stack: Open[] = [];
  let root: XmlNode | undefined;
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      if (stack.length) stack[stack.length - 1].node.text += decodeEntities(raw.indexOf('\r') < 0 ? raw : raw.replace(/\r\n?/g, '\n'));
      else if (/[^ \t\r\n]/.test(raw)) fail(xml, i, 'text outside the root element');
    }
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 47 /* / */) {
      const open = stack.pop();
      if (!open) fail(xml, lt, 'end tag without a start tag');
      let at = lt + 2 + open.qname.length;
      if (!xml.startsWith(open.qname, lt + 2)) {
        END_TAG.lastIndex = lt + 2;
        const m = END_TAG.exec(xml);
        fail(xml, lt, m ? `</${m[1]}> does not close <${open.qname}>` : 'bad end tag');
      }
      while (isSpace(xml.charCodeAt(at))) at++;
      if (xml.charCodeAt(at) !== 62 /* > */) fail(xml, lt, `bad end tag </${open.qname}`);
      i = at + 1;
    } else if (next === 33 /* ! */) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end < 0) fail(xml, lt, 'unterminated comment');
        i = end + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end < 0) fail(xml, lt, 'unterminated CDATA section');
        if (!stack.length) fail(xml, lt, 'CDATA outside the root element');
        stack[stack.length - 1].node.text += xml.slice(lt + 9, end);
        i = end + 3;
      } else if (/^<!DOCTYPE/i.test(xml.slice(lt, lt + 9))) {
        throw new XmlError('DOCTYPE and entity declarations are refused');
      } else {
        fail(xml, lt, 'markup declarations are refused');
      }
    } else if (next === 63 /* ? */) {
      i = processingInstruction(xml, lt);
    } else {
      i = openTag(xml, lt, stack, maxDepth, (node) => {
        if (root) fail(xml, lt, 'more than one root element');
        root = node;
      });
    }
  }
  if (stack.length) fail(xml, n, `<${stack[stack.length - 1].qname}> is not closed`);
  if (!root) throw new XmlError('no root element');
  return root;
}

const XML_DECLARATION = /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*("1\.[0-9]+"|'1\.[0-9]+')([ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*("[A-Za-z][\w.-]*"|'[A-Za-z][\w.-]*'))?([ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*("(yes|no)"|'(yes|no)'))?[ \t\r\n]*\?>/y;
const PI_TARGET = new RegExp(`(${QNAME})(?:[ \\t\\r\\n]|\\?>)`, 'y');

/** The XML declaration (only first in the document) or another processing instruction; skipped. */
function processingInstruction(xml: string, lt: number): number {
  PI_TARGET.lastIndex = lt + 2;
  const target = PI_TARGET.exec(xml);
  if (!target) fail(xml, lt, 'bad processing instruction');
  if (target[1].toLowerCase() === 'xml') {
    XML_DECLARATION.lastIndex = lt;
    if (lt > (xml.charCodeAt(0) === 0xfeff ? 1 : 0) || !XML_DECLARATION.exec(xml)) fail(xml, lt, 'bad XML declaration');
    return XML_DECLARATION.lastIndex;
  }
  const end = xml.indexOf('?>', lt + 2);
  if (end < 0) fail(xml, lt, 'unterminated processing instruction');
  return end + 2;
}

/** Reads a start tag at `lt`, pushes it (unless empty), returns the index after it. */
function openTag(xml: string, lt: number, stack: Open[], maxDepth: number, onRoot: (n: XmlNode) => void): number {
  TAG_NAME.lastIndex = lt + 1;
  const nameMatch = TAG_NAME.exec(xml);
  if (!nameMatch) fail(xml, lt, 'bad start tag');
  const qname = nameMatch[0];
  let at = TAG_NAME.lastIndex;
  const parent = stack.length ? stack[stack.length - 1].node : undefined;
  const parentScope: Record<string, string> = parent ? (parent.scope as Record<string, string>) : { xml: XML_NS };
  let scope = parentScope;
  let rawAttrs: Array<[string, string]> | undefined;
  const after = xml.charCodeAt(at);
  for (; after !== 62 /* > */ && after !== 47 /* / */; ) {
    ATTRIBUTE.lastIndex = at;
    const a = ATTRIBUTE.exec(xml);
    if (!a) break;
    at = ATTRIBUTE.lastIndex;
    const value = decodeEntities(a[2] ?? a[3]);
    const name = a[1];
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (scope === parentScope) scope = { ...parentScope };
      scope[name === 'xmlns' ? '' : name.slice(6)] = value;
    } else {
      (rawAttrs ??= []).push([name, value]);
    }
  }
  TAG_END.lastIndex = at;
  const end = TAG_END.exec(xml);
  if (!end) fail(xml, at, `bad attribute or unterminated tag <${qname}>`);
  const [prefix, local] = splitQName(qname);
  const ns = scope[prefix];
  if (ns === undefined && prefix !== '') fail(xml, lt, `undeclared namespace prefix "${prefix}" on <${qname}>`);
  const attrs: Record<string, string> = {};
  if (rawAttrs) {
    for (let a = 0; a < rawAttrs.length; a++) {
      const [k, v] = rawAttrs[a];
      for (let b = 0; b < a; b++) if (rawAttrs[b][0] === k) fail(xml, lt, `attribute ${k} repeated on <${qname}>`);
      attrs[splitQName(k)[1]] = v;
    }
  }
  const node: XmlNode = { ns: ns ?? '', name: local, attrs, children: [], text: '', scope };
  if (parent) parent.children.push(node);
  else onRoot(node);
  if (stack.length + 1 > maxDepth) throw new XmlError(`XML nested deeper than ${maxDepth} levels`);
  if (end[1] !== '/') stack.push({ node, qname });
  return TAG_END.lastIndex;
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
