/**
 * How the simulated firmware reads the XML of a request: fast-xml-parser's validator checks that
 * the document is well formed (once per shape of document, see `judged`), then the tree is built
 * here with names resolved through their xmlns scope, so a handler sees (namespace URI, local
 * name) whatever prefixes the client chose. (Its parser built the tree before: 35 of the 50 us a
 * request's reading took, more than everything else the simulator does for a warm Get.) Like
 * firmware, it refuses a DOCTYPE (and with it every entity declaration), any entity other than
 * the five XML predefines, malformed documents and documents nested deeper or holding more
 * elements than the caps below.
 *
 * Deliberately not the client's reader: a request the client writes wrong must fail here.
 */
import { XMLValidator } from 'fast-xml-parser';

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

function split(qname: string): [string, string] {
  const colon = qname.indexOf(':');
  return colon < 0 ? ['', qname] : [qname.slice(0, colon), qname.slice(colon + 1)];
}

const isWhite = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/** Text as the element holds it: references decoded, line ends normalised. */
function textOf(raw: string): string {
  const t = decode(raw);
  return t.indexOf('\r') < 0 ? t : t.replace(/\r\n?/g, '\n');
}

function malformed(xml: string, at: number, what: string): never {
  let line = 1;
  for (let i = xml.indexOf('\n'); i >= 0 && i < at; i = xml.indexOf('\n', i + 1)) line++;
  throw new RequestXmlError(`malformed XML at line ${line}: ${what}`);
}

interface Open {
  node: RequestNode;
  tag: string;
  scope: ReadonlyMap<string, string>;
}

/**
 * A start tag at `lt` of a document the validator accepted: its name, its attributes in document
 * order (values still encoded), whether it closes itself, and where it ends.
 */
function startTag(xml: string, lt: number): { tag: string; attrs: string[]; empty: boolean; end: number } {
  let i = lt + 1;
  while (i < xml.length && !isWhite(xml.charCodeAt(i)) && xml[i] !== '>' && xml[i] !== '/') i++;
  const tag = xml.slice(lt + 1, i);
  if (tag === '') malformed(xml, lt, 'a start tag without a name');
  // Name, value, name, value...
  const attrs: string[] = [];
  for (;;) {
    while (isWhite(xml.charCodeAt(i))) i++;
    const ch = xml[i];
    if (ch === '>') return { tag, attrs, empty: false, end: i + 1 };
    if (ch === '/' && xml[i + 1] === '>') return { tag, attrs, empty: true, end: i + 2 };
    const nameFrom = i;
    while (i < xml.length && !isWhite(xml.charCodeAt(i)) && xml[i] !== '=' && xml[i] !== '>' && xml[i] !== '/') i++;
    const name = xml.slice(nameFrom, i);
    while (isWhite(xml.charCodeAt(i))) i++;
    if (name === '' || xml[i] !== '=') malformed(xml, nameFrom, `attribute without a value on <${shown(tag)}>`);
    i++;
    while (isWhite(xml.charCodeAt(i))) i++;
    const quote = xml[i];
    if (quote !== '"' && quote !== "'") malformed(xml, i, `unquoted attribute value on <${shown(tag)}>`);
    const close = xml.indexOf(quote, i + 1);
    if (close < 0) malformed(xml, i, `unterminated attribute value on <${shown(tag)}>`);
    const value = xml.slice(i + 1, close);
    if (value.indexOf('<') >= 0) malformed(xml, i, `"<" in an attribute value on <${shown(tag)}>`);
    attrs.push(name, value);
    i = close + 1;
  }
}

/** One element: caps, namespace declarations, name and attributes resolved through the scope. */
function element(xml: string, lt: number, parent: Open | undefined, depth: number, w: Walk): { open: Open; empty: boolean; end: number } {
  if (depth > w.caps.maxDepth) throw new RequestXmlError(`nested deeper than ${w.caps.maxDepth} levels`);
  if (++w.elements > w.caps.maxElements) throw new RequestXmlError(`more than ${w.caps.maxElements} elements`);
  const t = startTag(xml, lt);
  const tag = t.tag;
  const raw = t.attrs;
  if (raw.length / 2 > w.caps.maxAttributes) throw new RequestXmlError(`more than ${w.caps.maxAttributes} attributes on <${shown(tag)}>`);
  const scope = parent ? parent.scope : ROOT_SCOPE;
  let inner: Map<string, string> | undefined;
  let plainCount = 0;
  // Every value decoded first, in document order (so the first bad reference is the one reported).
  for (let a = 0; a < raw.length; a += 2) {
    const k = raw[a];
    const value = decode(raw[a + 1]);
    raw[a + 1] = value;
    if (isDeclaration(k)) {
      inner ??= new Map(scope);
      inner.set(k === 'xmlns' ? '' : k.slice(6), value);
    } else plainCount++;
  }
  const here = inner ?? scope;
  const colon = tag.indexOf(':');
  const prefix = colon < 0 ? '' : tag.slice(0, colon);
  const name = colon < 0 ? tag : tag.slice(colon + 1);
  const ns = here.get(prefix);
  if (ns === undefined && prefix !== '') throw new RequestXmlError(`prefix "${shown(prefix)}" of <${shown(tag)}> is not declared`);
  let attrs = NO_ATTRIBUTES;
  let nil = false;
  if (plainCount > 0) {
    attrs = Object.create(null) as Record<string, string>;
    for (let a = 0; a < raw.length; a += 2) {
      const k = raw[a];
      if (isDeclaration(k)) continue;
      const v = raw[a + 1];
      const [p, local] = split(k);
      const attrNs = p === '' ? '' : here.get(p);
      if (attrNs === undefined) throw new RequestXmlError(`prefix "${shown(p)}" of attribute ${shown(k)} is not declared`);
      if (attrNs === XSI && local === 'nil') nil = v.trim() === 'true' || v.trim() === '1';
      if (p === '' || attrs[local] === undefined) attrs[local] = v;
    }
  }
  const node: RequestNode = { ns: ns ?? '', name, attrs, children: [], text: '', nil };
  if (parent) parent.node.children.push(node);
  return { open: { node, tag, scope: here }, empty: t.empty, end: t.end };
}

/** The attributes of every element that has none but namespace declarations (read only). */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

function isDeclaration(attribute: string): boolean {
  return attribute === 'xmlns' || attribute.startsWith('xmlns:');
}

interface Walk {
  caps: RequestXmlCaps;
  elements: number;
}

const ROOT_SCOPE: ReadonlyMap<string, string> = new Map([['xml', XML_NS]]);

/**
 * Builds the tree of a document fast-xml-parser's validator accepted: elements, text, CDATA;
 * comments, processing instructions and the declaration skipped.
 */
function build(xml: string, caps: RequestXmlCaps): RequestNode {
  const w: Walk = { caps, elements: 0 };
  const stack: Open[] = [];
  let root: RequestNode | undefined;
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      if (stack.length) stack[stack.length - 1].node.text += textOf(raw);
      else if (raw.trim() !== '') throw new RequestXmlError('text outside the root element');
    }
    if (lt < 0) break;
    const next = xml[lt + 1];
    if (next === '/') {
      const gt = xml.indexOf('>', lt);
      const open = stack.pop();
      if (gt < 0 || !open || xml.slice(lt + 2, gt).trim() !== open.tag) malformed(xml, lt, 'an end tag that closes no open element');
      i = gt + 1;
    } else if (next === '!') {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end < 0) malformed(xml, lt, 'an unterminated comment');
        i = end + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end < 0 || !stack.length) malformed(xml, lt, 'a CDATA section outside an element');
        stack[stack.length - 1].node.text += xml.slice(lt + 9, end);
        i = end + 3;
      } else malformed(xml, lt, 'a markup declaration');
    } else if (next === '?') {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) malformed(xml, lt, 'an unterminated processing instruction');
      i = end + 2;
    } else {
      if (!stack.length && root) throw new RequestXmlError('more than one root element');
      const e = element(xml, lt, stack[stack.length - 1], stack.length + 1, w);
      root ??= e.open.node;
      if (!e.empty) stack.push(e.open);
      i = e.end;
    }
  }
  if (stack.length) malformed(xml, n, `<${shown(stack[stack.length - 1].tag)}> is not closed`);
  if (!root) throw new RequestXmlError('no root element');
  return root;
}

/** `<!DOCTYPE` or `<!ENTITY` anywhere, in any case (looked at only where a `<!` is). */
function declaresDoctypeOrEntity(xml: string): boolean {
  for (let at = xml.indexOf('<!'); at >= 0; at = xml.indexOf('<!', at + 1)) {
    if (/^(?:DOCTYPE|ENTITY)/i.test(xml.slice(at + 2, at + 9))) return true;
  }
  return false;
}

/**
 * Documents the validator accepted, each as the text before and after its first MessageID's text:
 * a client polling a class sends the same document again and again around a new MessageID, and
 * the verdict cannot depend on that text when it is a run of letters, digits, ".", ":" and single
 * "-" between ">" and "<" (no markup character, no "--" to end a comment, no "]]>" or "?>").
 * Only acceptances are kept, only of short documents, the latest MAX_JUDGED of them; the tree is
 * still built, with every check of its own, from each document in full.
 */
interface Judged {
  before: string;
  after: string;
}
const judged: Judged[] = [];
const MAX_JUDGED = 64;
const MAX_JUDGED_CHARS = 8 * 1024;
const PLAIN_ID = /^[A-Za-z0-9.:]+(?:-[A-Za-z0-9.:]+)*$/;

function validate(xml: string): void {
  let from = -1;
  let to = -1;
  if (xml.length <= MAX_JUDGED_CHARS) {
    const at = xml.indexOf('MessageID>');
    if (at >= 0) {
      from = at + 10;
      to = xml.indexOf('<', from);
      if (to < 0 || !PLAIN_ID.test(xml.slice(from, to))) from = -1;
    }
  }
  if (from >= 0) {
    for (let k = judged.length - 1; k >= 0; k--) {
      const j = judged[k];
      // Equality of slices is a compare of memory; startsWith and endsWith walk character by character.
      if (j.before.length === from && to + j.after.length === xml.length && xml.slice(0, from) === j.before && xml.slice(to) === j.after) return;
    }
  }
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) throw new RequestXmlError(`malformed XML at line ${verdict.err.line}: ${shown(verdict.err.msg, 200)}`);
  if (from < 0) return;
  if (judged.length >= MAX_JUDGED) judged.shift();
  judged.push({ before: xml.slice(0, from), after: xml.slice(to) });
}

/** The caps in force for a caller's partial caps; the last ones asked for are kept (callers pass a constant). */
let lastAsked: Partial<RequestXmlCaps> | undefined;
let lastCaps = DEFAULT_CAPS;

function capsFor(asked: Partial<RequestXmlCaps>): RequestXmlCaps {
  if (asked !== lastAsked || !Object.isFrozen(asked)) {
    lastCaps = { ...DEFAULT_CAPS, ...asked };
    lastAsked = asked;
  }
  return lastCaps;
}

/** Parse a request document into its root element. */
export function readRequestXml(xml: string, caps: Partial<RequestXmlCaps> = {}): RequestNode {
  const c = capsFor(caps);
  if (typeof xml !== 'string' || xml.trim() === '') throw new RequestXmlError('empty request');
  if (xml.length * 3 > c.maxBytes && Buffer.byteLength(xml) > c.maxBytes) throw new RequestXmlError(`request larger than ${c.maxBytes} bytes`);
  if (declaresDoctypeOrEntity(xml)) throw new RequestXmlError('DOCTYPE and entity declarations are refused');
  validate(xml);
  return build(xml, c);
}

/** The first child with this local name (and namespace, when given). */
export function childOf(node: RequestNode | undefined, name: string, ns?: string): RequestNode | undefined {
  return node?.children.find((k) => k.name === name && (ns === undefined || k.ns === ns));
}

export function childrenOf(node: RequestNode | undefined, name: string, ns?: string): RequestNode[] {
  return node ? node.children.filter((k) => k.name === name && (ns === undefined || k.ns === ns)) : [];
}

/** Escapes text and attribute values for the answers the simulator writes. */
const NEEDS_ESCAPE = /[&<>"']/;

export function escapeText(s: string): string {
  // Most values hold none of the five: a test is cheaper than a replace that changes nothing.
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[&<>"']/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '"' ? '&quot;' : '&apos;'));
}
