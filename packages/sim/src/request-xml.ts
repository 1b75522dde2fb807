/**
 * How the simulated firmware reads the XML of a request: fast-xml-parser validates and splits the
 * document, then names are resolved through their xmlns scope here, so a handler sees (namespace
 * URI, local name) whatever prefixes the client chose. Like firmware, it refuses a DOCTYPE (and
 * with it every entity declaration), any entity other than the five XML predefines, malformed
 * documents and documents nested deeper or holding more elements than the caps below.
 *
 * Deliberately not the client's reader: a request the client writes wrong must fail here.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export class RequestXmlError extends Error {}

/** A name or message from the request, shortened as it may appear in a fault reason. */
export function shown(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

export interface RequestNode {
  ns: string;
  name: string;
  /** Attributes by local name (namespace declarations left out), entities decoded. */
  attrs: Record<string, string>;
  children: RequestNode[];
  /** The character data directly inside this element, entities decoded. */
  text: string;
  /** xsi:nil="true". */
  nil: boolean;
}

export interface RequestXmlCaps {
  maxDepth: number;
  maxElements: number;
  /** Attributes on one element, namespace declarations included. */
  maxAttributes: number;
  maxBytes: number;
}

/** Far above any real request (AMT caps an envelope at 150 KB), well below what costs time. */
const DEFAULT_CAPS: RequestXmlCaps = { maxDepth: 32, maxElements: 20_000, maxAttributes: 64, maxBytes: 1024 * 1024 };

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

const splitter = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
});

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five predefined entities and character references; anything else is refused. */
function decode(raw: string): string {
  if (raw.indexOf('&') < 0) return raw;
  return raw.replace(/&([^;&<\s]{0,12});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new RequestXmlError(`unterminated reference "${whole}"`);
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (m) {
      const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
      const legal = code === 9 || code === 10 || code === 13 || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!legal) throw new RequestXmlError(`character reference "${whole}" names no XML character`);
      return String.fromCodePoint(code);
    }
    if (!Object.prototype.hasOwnProperty.call(PREDEFINED, ref)) throw new RequestXmlError(`entity "${whole}" is not defined`);
    return PREDEFINED[ref];
  });
}

type Item = Record<string, unknown>;


interface Walk {
  caps: RequestXmlCaps;
  elements: number;
}

function tagOf(item: Item): string | undefined {
  return Object.keys(item).find((k) => k !== ':@' && k !== '#text' && k !== '#comment' && k !== '#cdata');
}

function split(qname: string): [string, string] {
  const colon = qname.indexOf(':');
  return colon < 0 ? ['', qname] : [qname.slice(0, colon), qname.slice(colon + 1)];
}

function element(item: Item, tag: string, scope: ReadonlyMap<string, string>, depth: number, w: Walk): RequestNode {
  if (depth > w.caps.maxDepth) throw new RequestXmlError(`nested deeper than ${w.caps.maxDepth} levels`);
  if (++w.elements > w.caps.maxElements) throw new RequestXmlError(`more than ${w.caps.maxElements} elements`);
  const rawAttrs = (item[':@'] ?? {}) as Record<string, string>;
  if (Object.keys(rawAttrs).length > w.caps.maxAttributes) throw new RequestXmlError(`more than ${w.caps.maxAttributes} attributes on <${shown(tag)}>`);
  let inner: Map<string, string> | undefined;
  const plain: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(rawAttrs)) {
    const value = decode(v);
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      inner ??= new Map(scope);
      inner.set(k === 'xmlns' ? '' : k.slice(6), value);
    } else plain.push([k, value]);
  }
  const here = inner ?? scope;
  const [prefix, name] = split(tag);
  const ns = here.get(prefix);
  if (ns === undefined && prefix !== '') throw new RequestXmlError(`prefix "${shown(prefix)}" of <${shown(tag)}> is not declared`);
  const attrs = Object.create(null) as Record<string, string>;
  let nil = false;
  for (const [k, v] of plain) {
    const [p, local] = split(k);
    const attrNs = p === '' ? '' : here.get(p);
    if (attrNs === undefined) throw new RequestXmlError(`prefix "${shown(p)}" of attribute ${shown(k)} is not declared`);
    if (attrNs === XSI && local === 'nil') nil = v.trim() === 'true' || v.trim() === '1';
    if (p === '' || attrs[local] === undefined) attrs[local] = v;
  }
  const node: RequestNode = { ns: ns ?? '', name, attrs, children: [], text: '', nil };
  for (const c of item[tag] as Item[]) {
    if ('#text' in c) node.text += decode(String(c['#text'])).replace(/\r\n?/g, '\n');
    else if ('#cdata' in c) node.text += (c['#cdata'] as Item[]).map((t) => String(t['#text'] ?? '')).join('');
    else if (!('#comment' in c)) {
      const t = tagOf(c);
      if (t !== undefined) node.children.push(element(c, t, here, depth + 1, w));
    }
  }
  return node;
}

/** Parse a request document into its root element. */
export function readRequestXml(xml: string, caps: Partial<RequestXmlCaps> = {}): RequestNode {
  const c = { ...DEFAULT_CAPS, ...caps };
  if (typeof xml !== 'string' || xml.trim() === '') throw new RequestXmlError('empty request');
  if (Buffer.byteLength(xml) > c.maxBytes) throw new RequestXmlError(`request larger than ${c.maxBytes} bytes`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new RequestXmlError('DOCTYPE and entity declarations are refused');
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) throw new RequestXmlError(`malformed XML at line ${verdict.err.line}: ${shown(verdict.err.msg, 200)}`);
  const items = splitter.parse(xml) as Item[];
  const roots = items.filter((it) => tagOf(it) !== undefined);
  if (roots.length !== 1) throw new RequestXmlError(roots.length ? 'more than one root element' : 'no root element');
  if (items.some((it) => '#text' in it && String(it['#text']).trim() !== '')) throw new RequestXmlError('text outside the root element');
  const scope = new Map<string, string>([['xml', XML_NS]]);
  return element(roots[0], tagOf(roots[0]) as string, scope, 1, { caps: c, elements: 0 });
}

/** The first child with this local name (and namespace, when given). */
export function childOf(node: RequestNode | undefined, name: string, ns?: string): RequestNode | undefined {
  return node?.children.find((k) => k.name === name && (ns === undefined || k.ns === ns));
}

export function childrenOf(node: RequestNode | undefined, name: string, ns?: string): RequestNode[] {
  return node ? node.children.filter((k) => k.name === name && (ns === undefined || k.ns === ns)) : [];
}

/** Escapes text and attribute values for the answers the simulator writes. */
export function escapeText(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '"' ? '&quot;' : '&apos;'));
}
