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
import { clip, XmlError } from '../errors';
import { NS } from './namespaces';

export interface XmlNode {
  ns: string;
  name: string;
  /**
   * Attributes by local name (xmlns declarations excluded), entity-decoded; no prototype. When two
   * attributes share a local name in different namespaces, the unprefixed one is kept.
   */
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Concatenated, entity-decoded character data directly inside this element. */
  text: string;
  /** Prefix -> namespace URI in scope at this element (for QName-valued text such as fault subcodes). */
  scope: Readonly<Record<string, string>>;
  /** xsi:nil="true" (in the XML Schema instance namespace, not any attribute named nil). */
  nil: boolean;
}

/**
 * Caps on one document. Real AMT answers are far below them: the ~330 captured answers peak at
 * 7.3 KB, 55 elements, depth 10, 12 attributes (with xmlns) on one element and 1.5 KB of text,
 * and AMT caps an envelope at 153,600 bytes.
 */
export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
  /** Attributes on one element, namespace declarations included. */
  maxAttributes: number;
  /** Characters of text inside one element (after decoding). */
  maxTextLength: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxElements: 20_000,
  maxAttributes: 64,
  maxTextLength: 256 * 1024,
};

const NAMED_ENTITIES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
});
/** "&#x10FFFF;" is the longest reference we accept. */
const MAX_REFERENCE = 10;

function reference(ref: string): string {
  if (ref.charCodeAt(0) === 35 /* # */) {
    const hex = ref.charCodeAt(1) === 120 /* x */;
    // Leading zeros are allowed (CharRef puts no bound on the digits); the reference scan's cap still bounds them.
    const digits = ref.slice(hex ? 2 : 1).replace(hex ? /^0+(?=[0-9a-fA-F])/ : /^0+(?=[0-9])/, '');
    if (!(hex ? /^[0-9a-fA-F]{1,6}$/ : /^[0-9]{1,7}$/).test(digits)) throw new XmlError(`bad character reference "&${clip(ref, 12)};"`);
    const code = parseInt(digits, hex ? 16 : 10);
    // Only characters XML allows (XML 1.0 production Char).
    const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) throw new XmlError(`bad character reference "&${ref};"`);
    return String.fromCodePoint(code);
  }
  const v = NAMED_ENTITIES[ref];
  if (v === undefined) throw new XmlError(`entity "&${clip(ref, 12)};" is not allowed`);
  return v;
}

/**
 * An object with no prototype. Object.create(null) makes a dictionary (~184 bytes empty); this
 * stays an ordinary fast object (~56 bytes with one key), but V8 makes it a hidden class for each
 * new key: only for keys from a small known set (see fewKnownNames).
 */
function newRecord<T>(): Record<string, T> {
  return Object.setPrototypeOf({}, null) as Record<string, T>;
}

/** Decodes the five XML entities and character references in one pass, joining pieces in bounded batches. */
export function decodeEntities(s: string): string {
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  let out = '';
  const parts: string[] = [];
  let from = 0;
  const n = s.length;
  while (amp >= 0) {
    let semi = -1;
    for (let j = amp + 1; j < n && j <= amp + MAX_REFERENCE + 1; j++) {
      const c = s.charCodeAt(j);
      if (c === 59 /* ; */) {
        semi = j;
        break;
      }
      if (c === 38 /* & */ || c === 60 /* < */ || c <= 32) break;
    }
    if (semi < 0) throw new XmlError(`unterminated or overlong reference "${clip(s.slice(amp, amp + MAX_REFERENCE + 2), 14)}"`);
    parts.push(s.slice(from, amp), reference(s.slice(amp + 1, semi)));
    if (parts.length >= 2048) {
      out += parts.join('');
      parts.length = 0;
    }
    from = semi + 1;
    amp = s.indexOf('&', from);
  }
  parts.push(s.slice(from));
  return out + parts.join('');
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

const NAME_START = 'A-Za-z_\\u00C0-\\uFFFF';
const NAME_CHAR = `${NAME_START}0-9.\\-\\u00B7`;
const QNAME = `[${NAME_START}][${NAME_CHAR}]*(?::[${NAME_START}][${NAME_CHAR}]*)?`;
const END_TAG = new RegExp(`(${QNAME})[ \\t\\r\\n]*>`, 'y');
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** The name classes of QNAME above, by character code. */
function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 0xc0 && c <= 0xffff);
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 0xb7;
}

/**
 * xml.startsWith(name, at). A slice compared with === is the fastest way in V8 (measured on
 * AMT answers' tag names: about half the time of a loop over character codes, a third less than
 * startsWith); a slice of 13 characters or more only points into the document.
 */
function sameAt(xml: string, at: number, name: string): boolean {
  return xml.slice(at, at + name.length) === name;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** The value (raw, entities not decoded) and end of the attribute read by the last attributeAt. */
let attributeValue = '';
let attributeEnd = 0;

/**
 * The name of the attribute at `at` (whitespace, QName, `=`, a quoted value without `<`), or
 * undefined if none is there; its value and end in attributeValue and attributeEnd. `before` as
 * for tagNameAt. Each character is looked at a bounded number of times.
 */
function attributeAt(xml: string, at: number, before: TagName): TagName | undefined {
  let i = at;
  while (isSpace(xml.charCodeAt(i))) i++;
  if (i === at) return undefined;
  const name = tagNameAt(xml, i, before);
  if (!name) return undefined;
  let j = tagNameEnd;
  while (isSpace(xml.charCodeAt(j))) j++;
  if (xml.charCodeAt(j) !== 61 /* = */) return undefined;
  j++;
  while (isSpace(xml.charCodeAt(j))) j++;
  const quote = xml.charCodeAt(j);
  if (quote !== 34 /* " */ && quote !== 39 /* ' */) return undefined;
  const close = xml.indexOf(quote === 34 ? '"' : "'", j + 1);
  if (close < 0) return undefined;
  const value = xml.slice(j + 1, close);
  if (value.indexOf('<') >= 0) return undefined;
  attributeValue = value;
  attributeEnd = close + 1;
  return name;
}

/**
 * Names used as keys of prototype-free objects, one string each. V8 makes a key of a fresh slice
 * of the document costly (hundreds of ns per property on a null-prototype object); a name seen
 * before comes back as the string already used as a key, which costs tens. Bounded: a document
 * full of new names only stops being remembered.
 */
const KNOWN_NAMES = new Map<string, string>();
const MAX_KNOWN_NAMES = 4096;

export function knownName(name: string): string {
  const known = KNOWN_NAMES.get(name);
  if (known !== undefined) return known;
  // Stryker disable next-line all: which names are remembered changes memory, not the text returned
  if (KNOWN_NAMES.size >= MAX_KNOWN_NAMES || name.length > 64) return name;
  const kept = internalized(name);
  KNOWN_NAMES.set(kept, kept);
  return kept;
}

/**
 * The string V8 keeps once for this text (a property key comes back as it): compared with another
 * such string, such as a name written in our code, === is one pointer comparison; it is also a
 * copy of its own, not a slice keeping a document alive.
 */
function internalized(s: string): string {
  // Stryker disable next-line all: the same text either way, only whether V8 shares one copy of it
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/** A start tag's name: as written, its prefix and its local name (interned with knownName). */
interface TagName {
  qname: string;
  prefix: string;
  local: string;
  /** In TAG_NAMES (names no longer there point to no other). */
  kept: boolean;
  /** The start tag that came after this one the last time it was read (in any document). */
  next?: TagName;
}

/**
 * Tag names seen before, by a hash of their characters taken while scanning them, so that a
 * known name costs no slice and no map lookup: one slot per hash, a newer name replaces an older
 * one. Only short ASCII names are kept, each as a copy of its own (a slice would keep the whole
 * document it came from alive).
 */
const TAG_NAME_SLOTS = 1024;
const MAX_TAG_NAME_KEPT = 64;
// Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
const TAG_NAMES: Array<TagName | undefined> = new Array<TagName | undefined>(TAG_NAME_SLOTS).fill(undefined);
/** What comes before the root element: its `next` is the root's name the last time. */
// Stryker disable next-line all: only its `next` (a guess, checked against the text) and `kept` (whether to keep that guess) are read
const DOCUMENT_START: TagName = { qname: '', prefix: '', local: '', kept: true };
/** Where the name read by the last tagNameAt ends. */
let tagNameEnd = 0;
/**
 * New names one document may still add to TAG_NAMES (set by parseXml): keeping a name costs more
 * than reading it, and a document of ever new names must cost no more than it did before there
 * was a table. Real answers have fewer than 100 names.
 */
const NEW_TAG_NAMES_PER_DOCUMENT = 256;
let newTagNamesLeft = 0;

/**
 * The QNAME (prefix:local or local) starting at `at`, or undefined; sets tagNameEnd. `before` is the
 * start tag read before this one: answers of one kind repeat the same tags in the same order, so
 * the tag that followed it last time is tried first, by comparing text, without scanning the name.
 */
function tagNameAt(xml: string, at: number, before: TagName): TagName | undefined {
  const guess = before.next;
  if (guess !== undefined && sameAt(xml, at, guess.qname)) {
    const after = xml.charCodeAt(at + guess.qname.length);
    if (!isNameChar(after) && after !== 58 /* : */) {
      tagNameEnd = at + guess.qname.length;
      return guess;
    }
  }
  const name = scanTagName(xml, at);
  // Stryker disable next-line all: a guess only saves a scan; it is checked against the text before use
  if (name?.kept && before.kept) before.next = name;
  return name;
}

/** tagNameAt without a guess: the name's characters scanned and hashed, then looked up. */
function scanTagName(xml: string, at: number): TagName | undefined {
  let c = xml.charCodeAt(at);
  if (!isNameStart(c)) return undefined;
  let hash = c;
  // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
  let wide = c > 127;
  let colon = -1;
  let i = at + 1;
  // Stryker disable next-line BlockStatement: cache only: every name taken from TAG_NAMES is checked against the text before use
  for (c = xml.charCodeAt(i); isNameChar(c); c = xml.charCodeAt(++i)) {
    // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
    hash = (hash * 31 + c) | 0;
    // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
    wide ||= c > 127;
  }
  if (c === 58 /* : */ && isNameStart(xml.charCodeAt(i + 1))) {
    colon = i - at;
    // Stryker disable next-line BlockStatement: cache only: every name taken from TAG_NAMES is checked against the text before use
    for (c = xml.charCodeAt(++i); isNameChar(c); c = xml.charCodeAt(++i)) {
      // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
      hash = (hash * 31 + c) | 0;
      // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
      wide ||= c > 127;
    }
  }
  tagNameEnd = i;
  const length = i - at;
  // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
  const slot = (hash ^ (colon << 5)) & (TAG_NAME_SLOTS - 1);
  const known = TAG_NAMES[slot];
  if (known !== undefined && known.qname.length === length && sameAt(xml, at, known.qname)) return known;
  // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
  const keep = !wide && length <= MAX_TAG_NAME_KEPT && newTagNamesLeft > 0;
  // Stryker disable next-line all: cache only: every name taken from TAG_NAMES is checked against the text before use
  if (keep) newTagNamesLeft--;
  const qname = keep ? internalized(xml.slice(at, i)) : xml.slice(at, i);
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const name: TagName = { qname, prefix: keep ? internalized(prefix) : prefix, local: knownName(colon < 0 ? qname : qname.slice(colon + 1)), kept: keep };
  // Stryker disable all: cache only: every name taken from TAG_NAMES is checked against the text before use
  if (keep) {
    // A replaced name lets go of the one it points to: names no longer kept hold no others alive.
    if (known) {
      known.kept = false;
      known.next = undefined;
    }
    TAG_NAMES[slot] = name;
  }
  // Stryker restore all
  return name;
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

/** A name from the document as it may appear in an error message. */
function q(name: string): string {
  return clip(name, 60);
}

interface ReadState {
  xml: string;
  limits: XmlLimits;
  /** Elements open now: the first `depth` entries of OPEN_NODES and OPEN_NAMES. */
  depth: number;
  /** Children read of the elements open now: the first `childrenRead` entries of CHILDREN_READ. */
  childrenRead: number;
  /** The most entries of CHILDREN_READ this document used (cleared after it). */
  childrenHigh: number;
  elements: number;
  root?: XmlNode;
  /** The name of the last start tag read. */
  lastTag: TagName;
}

/**
 * What parseXml keeps while it reads, shared by every call: one document is read at a time, and
 * the reader calls nothing that could start another. The open elements with their tag names and
 * where their children begin in CHILDREN_READ; an element gets an array of exactly its children
 * when it closes (a growing array per element was most of a small answer's garbage).
 */
// Stryker disable next-line all: an entry is written before it is read
const OPEN_NODES: XmlNode[] = [];
// Stryker disable next-line all: an entry is written before it is read
const OPEN_NAMES: string[] = [];
// Stryker disable next-line all: an entry is written before it is read
const OPEN_FIRST_CHILD: number[] = [];
// Stryker disable next-line all: an entry is written before it is read
const CHILDREN_READ: XmlNode[] = [];
/** The lists above are emptied rather than kept after a document that made them longer than this. */
const KEPT_LIST_LENGTH = 256;

/** Shared by every element without children; frozen so no one adds to it. */
const NO_CHILDREN = Object.freeze([]) as unknown as XmlNode[];

/**
 * Where openTag collects a start tag's attributes (namespace declarations aside) before it knows
 * the tag's namespaces: one pair of lists for every tag, as one tag is read at a time.
 */
const ATTRIBUTE_NAMES: TagName[] = [];
const ATTRIBUTE_VALUES: string[] = [];

/** Shared by every element without attributes (most of them); frozen so no one adds to it. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

const ROOT_SCOPE: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, { xml: XML_NS }));

/** What the shared lists hold once a document is read, so they keep none of its elements. */
// Stryker disable next-line all: only its identity matters (what the lists hold instead of a document's elements)
const RELEASED: XmlNode = Object.freeze({ ns: '', name: '', attrs: NO_ATTRIBUTES, children: NO_CHILDREN, text: '', scope: ROOT_SCOPE, nil: false });

function appendText(st: ReadState, at: number, text: string): void {
  const node = OPEN_NODES[st.depth - 1];
  if (node.text.length + text.length > st.limits.maxTextLength) fail(st.xml, at, `more than ${st.limits.maxTextLength} characters of text in <${q(OPEN_NAMES[st.depth - 1])}>`);
  node.text += text;
}

/** Lets go of the document's elements held in the shared lists. */
function releaseLists(st: ReadState): void {
  // Stryker disable next-line all: emptied or overwritten, the lists let go of the document either way
  if (st.childrenHigh > KEPT_LIST_LENGTH || OPEN_NODES.length > KEPT_LIST_LENGTH) {
    CHILDREN_READ.length = 0;
    OPEN_NODES.length = 0;
    OPEN_NAMES.length = 0;
    OPEN_FIRST_CHILD.length = 0;
    return;
  }
  CHILDREN_READ.fill(RELEASED, 0, st.childrenHigh);
  OPEN_NODES.fill(RELEASED);
  // A name not kept by the tag-name table is a slice of the document.
  // Stryker disable next-line all: any text that is not the document's lets go of it
  OPEN_NAMES.fill('');
}

/**
 * Whether a tag's attributes (in ATTRIBUTE_NAMES) are one or two of the names in the tag-name
 * table, as in AMT's answers: those go into a fast object. Any other set goes into a dictionary,
 * since a fast object makes V8 a new hidden class for each new name, which a document of ever new
 * names would turn into work of its own.
 */
// Stryker disable next-line all: it chooses only how the attributes are held (see above)
function fewKnownNames(count: number): boolean {
  // Stryker disable next-line all: the same
  return count <= 2 && ATTRIBUTE_NAMES[0].kept && (count === 1 || ATTRIBUTE_NAMES[1].kept);
}

/** Parse a document and return its root element, namespace-resolved. */
export function parseXml(xml: string, limits: Partial<XmlLimits> = {}): XmlNode {
  const st: ReadState = { xml, limits: { ...DEFAULT_XML_LIMITS, ...limits }, depth: 0, childrenRead: 0, childrenHigh: 0, elements: 0, lastTag: DOCUMENT_START };
  const { maxBytes } = st.limits;
  if (typeof xml !== 'string') throw new XmlError('reply is not text');
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count the bytes only when that could matter.
  if (xml.length > maxBytes || (xml.length * 3 > maxBytes && Buffer.byteLength(xml) > maxBytes)) throw new XmlError(`reply larger than ${maxBytes} bytes`);
  try {
    return readDocument(st);
  } finally {
    releaseLists(st);
  }
}

function readDocument(st: ReadState): XmlNode {
  const xml = st.xml;
  newTagNamesLeft = NEW_TAG_NAMES_PER_DOCUMENT;
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      if (st.depth) appendText(st, i, decodeEntities(raw.indexOf('\r') < 0 ? raw : raw.replace(/\r\n?/g, '\n')));
      else {
        const stray = /[^ \t\r\n]/.exec(raw);
        if (stray) fail(xml, i + stray.index, 'text outside the root element');
      }
    }
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 47 /* / */) {
      if (!st.depth) fail(xml, lt, 'end tag without a start tag');
      const d = --st.depth;
      const qname = OPEN_NAMES[d];
      let at = lt + 2 + qname.length;
      if (!sameAt(xml, lt + 2, qname)) {
        END_TAG.lastIndex = lt + 2;
        const m = END_TAG.exec(xml);
        fail(xml, lt, m ? `</${q(m[1])}> does not close <${q(qname)}>` : 'bad end tag');
      }
      while (isSpace(xml.charCodeAt(at))) at++;
      if (xml.charCodeAt(at) !== 62 /* > */) fail(xml, lt, `bad end tag </${q(qname)}`);
      const first = OPEN_FIRST_CHILD[d];
      // Stryker disable next-line all: without children an element keeps the shared empty list rather than an empty one of its own
      if (st.childrenRead > first) {
        OPEN_NODES[d].children = CHILDREN_READ.slice(first, st.childrenRead);
        st.childrenRead = first;
      }
      i = at + 1;
    } else if (next === 33 /* ! */) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end < 0) fail(xml, lt, 'unterminated comment');
        i = end + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end < 0) fail(xml, lt, 'unterminated CDATA section');
        if (!st.depth) fail(xml, lt, 'CDATA outside the root element');
        appendText(st, lt, xml.slice(lt + 9, end));
        i = end + 3;
      } else if (/^<!DOCTYPE/i.test(xml.slice(lt, lt + 9))) {
        throw new XmlError('DOCTYPE and entity declarations are refused');
      } else {
        fail(xml, lt, 'markup declarations are refused');
      }
    } else if (next === 63 /* ? */) {
      i = processingInstruction(xml, lt);
    } else {
      i = openTag(st, lt);
    }
  }
  if (st.depth) fail(xml, n, `<${q(OPEN_NAMES[st.depth - 1])}> is not closed`);
  if (!st.root) throw new XmlError('no root element');
  return st.root;
}

const XML_DECLARATION = /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*("1\.[0-9]+"|'1\.[0-9]+')([ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*("[A-Za-z][\w.-]*"|'[A-Za-z][\w.-]*'))?([ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*("(yes|no)"|'(yes|no)'))?[ \t\r\n]*\?>/y;
const USUAL_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const PI_TARGET = new RegExp(`(${QNAME})(?:[ \\t\\r\\n]|\\?>)`, 'y');

/** The XML declaration (only first in the document) or another processing instruction; skipped. */
function processingInstruction(xml: string, lt: number): number {
  // The declaration every AMT answer starts with (one the pattern below accepts), checked as text.
  if (lt === 0 && sameAt(xml, 0, USUAL_DECLARATION)) return USUAL_DECLARATION.length;
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

/**
 * Reads a start tag at `lt`, pushes it (unless empty), returns the index after it. Work is linear
 * in the tag: duplicates are found through a Set of expanded names, and a namespace declaration
 * makes a scope that inherits from the parent's instead of copying it.
 */
function openTag(st: ReadState, lt: number): number {
  const { xml, limits } = st;
  if (++st.elements > limits.maxElements) throw new XmlError(`XML with more than ${limits.maxElements} elements`);
  if (st.depth + 1 > limits.maxDepth) throw new XmlError(`XML nested deeper than ${limits.maxDepth} levels`);
  const tag = tagNameAt(xml, lt + 1, st.lastTag);
  if (!tag) fail(xml, lt, 'bad start tag');
  st.lastTag = tag;
  let at = tagNameEnd;
  const qname = tag.qname;
  const parent = st.depth ? OPEN_NODES[st.depth - 1] : undefined;
  const parentScope = parent ? parent.scope : ROOT_SCOPE;
  let scope: Record<string, string> | undefined;
  /** Attributes other than namespace declarations, in ATTRIBUTE_NAMES and ATTRIBUTE_VALUES. */
  let attributes = 0;
  let count = 0;
  let declared: string[] | undefined;
  // Most tags have no attributes: `>` right after the name skips the attribute scan.
  for (let c = xml.charCodeAt(at); c !== 62 /* > */ && c !== 47 /* / */; ) {
    const name = attributeAt(xml, at, st.lastTag);
    if (!name) break;
    st.lastTag = name;
    if (++count > limits.maxAttributes) fail(xml, lt, `more than ${limits.maxAttributes} attributes on <${q(qname)}>`);
    at = attributeEnd;
    const value = decodeEntities(attributeValue);
    if (name.prefix === 'xmlns' || (name.prefix === '' && name.local === 'xmlns')) {
      const prefix = name.prefix === '' ? '' : name.local;
      // At most maxAttributes declarations: a list is linear enough and cheaper than a Set.
      declared ??= [];
      if (declared.includes(prefix)) fail(xml, lt, `namespace prefix "${q(prefix)}" declared twice on <${q(qname)}>`);
      declared.push(prefix);
      if (prefix === 'xmlns' || (prefix === 'xml') !== (value === XML_NS) || value === XMLNS_NS) fail(xml, lt, `reserved namespace misused on <${q(qname)}>`);
      if (prefix !== '' && value === '') fail(xml, lt, `namespace prefix "${q(prefix)}" undeclared on <${q(qname)}>`);
      // xml is bound already (and only to its own name): declaring it changes nothing.
      if (prefix !== 'xml') {
        scope ??= Object.create(parentScope) as Record<string, string>;
        scope[prefix] = value;
      }
    } else {
      ATTRIBUTE_NAMES[attributes] = name;
      ATTRIBUTE_VALUES[attributes++] = value;
    }
    c = xml.charCodeAt(at);
  }
  let selfClosing: boolean;
  let after: number;
  if (xml.charCodeAt(at) === 62 /* > */) {
    selfClosing = false;
    after = at + 1;
  } else {
    // White space, then ">" or "/>".
    let e = at;
    while (isSpace(xml.charCodeAt(e))) e++;
    selfClosing = xml.charCodeAt(e) === 47 /* / */;
    if (selfClosing) e++;
    if (xml.charCodeAt(e) !== 62 /* > */) fail(xml, e, `bad attribute or unterminated tag <${q(qname)}>`);
    after = e + 1;
  }
  const nodeScope: Readonly<Record<string, string>> = scope ?? parentScope;
  const { prefix, local } = tag;
  const ns = nodeScope[prefix];
  if (ns === undefined && prefix !== '') fail(xml, lt, `undeclared namespace prefix "${q(prefix)}" on <${q(qname)}>`);
  // Stryker disable next-line all: a fast object or a dictionary, the same keys and values and no prototype either way
  const attrs = attributes === 0 ? NO_ATTRIBUTES : fewKnownNames(attributes) ? newRecord<string>() : (Object.create(null) as Record<string, string>);
  let nil = false;
  if (attributes) {
    // Expanded names seen, for repeats; one attribute (the usual case) cannot repeat.
    const seen = attributes > 1 ? new Set<string>() : undefined;
    const unprefixed = attributes > 1 ? new Set<string>() : undefined;
    for (let i = 0; i < attributes; i++) {
      const { qname: k, prefix: p, local: l } = ATTRIBUTE_NAMES[i];
      const v = ATTRIBUTE_VALUES[i];
      // Let go of the document's text (a name not kept is a slice of it too).
      ATTRIBUTE_VALUES[i] = '';
      ATTRIBUTE_NAMES[i] = DOCUMENT_START;
      // Unprefixed attributes are in no namespace (the default namespace does not apply to them).
      const ans = p === '' ? '' : nodeScope[p];
      if (ans === undefined) fail(xml, lt, `undeclared namespace prefix "${q(p)}" on attribute ${q(k)}`);
      if (seen) {
        const expanded = `${ans}\u0000${l}`;
        if (seen.has(expanded)) fail(xml, lt, `attribute ${q(k)} repeated on <${q(qname)}>`);
        seen.add(expanded);
      }
      if (ans === NS.xsi && l === 'nil') nil = v.trim() === 'true' || v.trim() === '1';
      if (p === '') {
        attrs[l] = v;
        unprefixed?.add(l);
      } else if (!unprefixed?.has(l) && attrs[l] === undefined) {
        attrs[l] = v;
      }
    }
    // A tag with more attributes than usual (limits raised) does not leave the lists that long.
    if (ATTRIBUTE_NAMES.length > DEFAULT_XML_LIMITS.maxAttributes) {
      ATTRIBUTE_NAMES.length = 0;
      ATTRIBUTE_VALUES.length = 0;
    }
  }
  const node: XmlNode = { ns: ns ?? '', name: local, attrs, children: NO_CHILDREN, text: '', scope: nodeScope, nil };
  if (parent) {
    CHILDREN_READ[st.childrenRead++] = node;
    if (st.childrenRead > st.childrenHigh) st.childrenHigh = st.childrenRead;
  } else if (st.root) fail(xml, lt, 'more than one root element');
  else st.root = node;
  if (!selfClosing) {
    const d = st.depth++;
    OPEN_NODES[d] = node;
    OPEN_NAMES[d] = qname;
    OPEN_FIRST_CHILD[d] = st.childrenRead;
  }
  return after;
}

/** The first child with this local name in this namespace. */
export function child(node: XmlNode | undefined, name: string, ns?: string): XmlNode | undefined {
  if (!node) return undefined;
  const children = node.children;
  for (let i = 0; i < children.length; i++) {
    const c = children[i];
    if (c.name === name && (ns === undefined || c.ns === ns)) return c;
  }
  return undefined;
}

export function childrenNamed(node: XmlNode | undefined, name: string, ns?: string): XmlNode[] {
  const out: XmlNode[] = [];
  if (!node) return out;
  for (const c of node.children) if (c.name === name && (ns === undefined || c.ns === ns)) out.push(c);
  return out;
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
  const selectors = Object.create(null) as Record<string, string>;
  for (const s of childrenNamed(child(params, 'SelectorSet', NS.wsman), 'Selector', NS.wsman)) {
    const nested = s.children.length ? readEndpointReference(s.children[0]) : undefined;
    selectors[knownName(s.attrs.Name ?? '')] = nested ? JSON.stringify(nested) : s.text;
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
  if (node.nil) return null;
  if (node.children.length === 0) return node.text;
  const epr = readEndpointReference(node);
  if (epr) return epr;
  if (node.children.length === 1 && CIM_DATE_WRAPPERS.has(node.children[0].name) && node.children[0].children.length === 0) {
    return node.children[0].text;
  }
  const out = Object.create(null) as PlainObject;
  if (distinctNames(node.children)) {
    // Each name has one child, so each child owns its name: no repeats, no namespace keys.
    for (const c of node.children) out[c.name] = toPlain(c);
    return out;
  }
  const children = node.children;
  const keys = oneNamespace(children) ? undefined : plainKeys(node);
  for (let i = 0; i < children.length; i++) {
    const c = children[i];
    const key = keys ? keys[i] : c.name;
    const v = toPlain(c);
    const prev = out[key];
    // No element's value is an array (see above): an array here holds the repeats read so far.
    if (prev === undefined) out[key] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[key] = [prev, v];
  }
  return out;
}

/** These elements are all in one namespace (so each is keyed by its local name alone). */
function oneNamespace(children: XmlNode[]): boolean {
  for (let i = 1; i < children.length; i++) if (children[i].ns !== children[0].ns) return false;
  return true;
}

/** No two of these elements share a local name (checked pairwise up to 16, else through a Set). */
function distinctNames(children: XmlNode[]): boolean {
  const n = children.length;
  if (n > 16) return new Set(children.map((c) => c.name)).size === n;
  for (let i = 1; i < n; i++) {
    const name = children[i].name;
    for (let j = 0; j < i; j++) if (children[j].name === name) return false;
  }
  return true;
}

/**
 * The key of each child in a plain object: its local name, owned by one namespace per name (the
 * parent's if any child of that name is in it, else the first seen). A same-named child of
 * another namespace is kept apart under "{namespace}name" instead of merging into it.
 */
function plainKeys(node: XmlNode): string[] {
  const owner = new Map<string, string>();
  for (const c of node.children) {
    const had = owner.get(c.name);
    if (had === undefined || (c.ns === node.ns && had !== node.ns)) owner.set(c.name, c.ns);
  }
  return node.children.map((c) => (owner.get(c.name) === c.ns ? c.name : `{${c.ns}}${c.name}`));
}
