/**
 * The WS-Management XML reader against XML 1.0 (fifth edition) and Namespaces in XML 1.0 (third
 * edition), the rules DSP0226 (WS-Management) and SOAP 1.2 build on, and against what DSP0227
 * (WS-Management CIM binding) puts in a reply: endpoint references with selector sets, xsi:nil,
 * CIM datetime wrappers. Every expectation is written from those texts.
 */
import { XmlError } from '../../lib/errors';
import { NS } from '../../lib/wsman/namespaces';
import { child, childrenNamed, decodeEntities, escapeXml, isEndpointReference, parseXml, readEndpointReference, resolveQNameText, toPlain } from '../../lib/wsman/xml';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** The XmlError message of a refused document. */
function refusal(xml: string, limits?: Parameters<typeof parseXml>[1]): string {
  try {
    parseXml(xml, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(XmlError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${xml.slice(0, 200)}`);
}

describe('XML 1.0 documents (section 2.1, 2.8)', () => {
  it('reads exactly one root element, with comments, processing instructions and white space around it', () => {
    expect(parseXml('<x/>')).toMatchObject({ name: 'x', ns: '', text: '', children: [] });
    const x = parseXml('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- before --><?app data?>\r\n\t<x>a</x> <!-- after -->\n<?app more?>\n');
    expect(x).toMatchObject({ name: 'x', text: 'a' });
  });

  it('refuses a document with no element, two roots, or text outside the root', () => {
    expect(refusal('')).toBe('no root element');
    expect(refusal('  <!-- only a comment -->  ')).toBe('no root element');
    expect(refusal('<a/><b/>')).toBe('malformed XML at line 1: more than one root element');
    expect(refusal('<a></a>\n<b></b>')).toBe('malformed XML at line 2: more than one root element');
    expect(refusal('text<a/>')).toBe('malformed XML at line 1: text outside the root element');
    expect(refusal('<a/>\n\ntext')).toBe('malformed XML at line 3: text outside the root element');
    expect(refusal('<![CDATA[x]]><a/>')).toBe('malformed XML at line 1: CDATA outside the root element');
  });

  it('skips a byte order mark before the document and its declaration', () => {
    expect(parseXml('\uFEFF<x>1</x>').text).toBe('1');
    expect(parseXml('\uFEFF<?xml version="1.0"?><x>1</x>').text).toBe('1');
  });

  it('reads the XML declaration only at the very start, in its grammar (2.8)', () => {
    for (const ok of [
      '<?xml version="1.0"?>',
      "<?xml version='1.1'?>",
      '<?xml  version = "1.0"  encoding = "utf-8" ?>',
      '<?xml version="1.0" standalone="no"?>',
      "<?xml version=\"1.0\" encoding='ISO-8859-1' standalone='yes'?>",
      '<?xml\tversion="1.0"\r\n?>',
    ]) {
      expect(parseXml(`${ok}<x/>`).name).toBe('x');
    }
    for (const bad of [
      '<?xml?>',
      '<?xml version="2.0"?>',
      '<?xml version="1.0" standalone="maybe"?>',
      '<?xml encoding="UTF-8" version="1.0"?>',
      '<?xml version="1.0" encoding="8bit"?>',
      '<?xml version="1.0"encoding="UTF-8"?>',
      '<?XML version="1.0"?>',
    ]) {
      expect(refusal(`${bad}<x/>`)).toMatch(/^malformed XML at line 1: bad (XML declaration|processing instruction)$/);
    }
    expect(refusal(' <?xml version="1.0"?><x/>')).toBe('malformed XML at line 1: bad XML declaration');
    expect(refusal('<x>\n<?xml version="1.0"?></x>')).toBe('malformed XML at line 2: bad XML declaration');
  });

  it('skips processing instructions (2.6) and refuses unterminated or nameless ones', () => {
    expect(parseXml('<x>a<?target some data?>b<?t?>c</x>').text).toBe('abc');
    expect(parseXml('<?xml-stylesheet href="a"?><x/>').name).toBe('x');
    expect(refusal('<x><?target data</x>')).toBe('malformed XML at line 1: unterminated processing instruction');
    expect(refusal('<x><? nameless ?></x>')).toBe('malformed XML at line 1: bad processing instruction');
  });

  it('skips comments (2.5) wherever markup may be, and refuses an unterminated one', () => {
    expect(parseXml('<x>a<!-- <y> & -->b<!---->c</x>')).toMatchObject({ text: 'abc', children: [] });
    expect(refusal('<x>\n<!-- open</x>')).toBe('malformed XML at line 2: unterminated comment');
  });

  it('refuses DOCTYPE in any case and every other markup declaration', () => {
    expect(refusal('<!DOCTYPE x><x/>')).toBe('DOCTYPE and entity declarations are refused');
    expect(refusal('<!doctype x><x/>')).toBe('DOCTYPE and entity declarations are refused');
    expect(refusal('<x><!ENTITY a "b"></x>')).toBe('malformed XML at line 1: markup declarations are refused');
    expect(refusal('<x><!ELEMENT x ANY></x>')).toBe('malformed XML at line 1: markup declarations are refused');
  });
});

describe('elements and tags (3.1)', () => {
  it('takes names by the Name production: letters, "_", ":" once, then digits, ".", "-", "\u00B7"', () => {
    for (const name of ['a', 'Z', '_', 'a1', 'a.b', 'a-b', 'a\u00B7b', '\u00C0', '\u00E9t\u00E9', 'z9', 'A_0.-']) {
      expect(parseXml(`<${name}></${name}>`).name).toBe(name);
    }
    for (const bad of ['1a', '-a', '.a', '\u00B7a', '\u00BFa', '@a', '[a', '`a', '{a']) {
      expect(refusal(`<${bad}/>`)).toBe('malformed XML at line 1: bad start tag');
    }
  });

  it('reads white space inside tags and end tags (S is space, tab, CR, LF)', () => {
    const x = parseXml('<x\ta="1"\r\nb = \'2\'\n ><y\n/></x \t\r\n>');
    expect(x.attrs).toEqual({ a: '1', b: '2' });
    expect(x.children).toHaveLength(1);
    expect(parseXml('<x a="1"/>').attrs.a).toBe('1');
    expect(parseXml('<x a="1" />').attrs.a).toBe('1');
    // EmptyElemTag ends in "/>" with nothing between.
    expect(refusal('<x><y/ ></x>')).toBe('malformed XML at line 1: bad attribute or unterminated tag <y>');
  });

  it('refuses attributes without white space between them, "<" in a value, or a missing quote', () => {
    expect(refusal('<x a="1"b="2"/>')).toBe('malformed XML at line 1: bad attribute or unterminated tag <x>');
    expect(refusal('<x a="<"/>')).toMatch(/^malformed XML at line 1: bad attribute or unterminated tag <x>$/);
    expect(refusal("<x a='1\"/>")).toMatch(/bad attribute or unterminated tag <x>/);
    expect(refusal('<x a=1/>')).toMatch(/bad attribute or unterminated tag <x>/);
    expect(refusal('<x a/>')).toMatch(/bad attribute or unterminated tag <x>/);
    expect(refusal('<x')).toMatch(/bad attribute or unterminated tag <x>/);
  });

  it('matches every end tag to its start tag (element type match)', () => {
    expect(refusal('<x><y></x></y>')).toBe('malformed XML at line 1: </x> does not close <y>');
    expect(refusal('<x></xy>')).toBe('malformed XML at line 1: bad end tag </x');
    expect(refusal('<x></x y>')).toBe('malformed XML at line 1: bad end tag </x');
    expect(refusal('<x></ x>')).toBe('malformed XML at line 1: bad end tag');
    expect(refusal('</x>')).toBe('malformed XML at line 1: end tag without a start tag');
    expect(refusal('<x>\n<y>\n</y>')).toBe('malformed XML at line 3: <x> is not closed');
    expect(refusal('<a:x xmlns:a="urn:a"></b:x>')).toBe('malformed XML at line 1: </b:x> does not close <a:x>');
  });

  it('refuses a tag whose name has a second colon or an empty local part', () => {
    expect(refusal('<a:b:c xmlns:a="urn:a"/>')).toMatch(/^malformed XML at line 1: /);
    expect(refusal('<a: xmlns:a="urn:a"/>')).toMatch(/^malformed XML at line 1: /);
  });

  it('counts lines in error messages from 1', () => {
    expect(refusal('<x>\n\n\n<y></x>')).toBe('malformed XML at line 4: </x> does not close <y>');
    expect(refusal('\n<x></y>')).toBe('malformed XML at line 2: </y> does not close <x>');
  });

  it('keeps children in document order and nests them', () => {
    const x = parseXml('<r><a><b/></a><c>t</c><a/></r>');
    expect(x.children.map((c) => c.name)).toEqual(['a', 'c', 'a']);
    expect(x.children[0].children.map((c) => c.name)).toEqual(['b']);
    expect(childrenNamed(x, 'a')).toHaveLength(2);
    expect(child(x, 'c')?.text).toBe('t');
    expect(child(x, 'nope')).toBeUndefined();
    expect(child(undefined, 'a')).toBeUndefined();
    expect(childrenNamed(undefined, 'a')).toEqual([]);
  });
});

describe('character data (2.4, 2.7, 2.11) and references (4.1, 4.6)', () => {
  it('normalises line ends in text to LF', () => {
    expect(parseXml('<x>a\r\nb\rc\nd</x>').text).toBe('a\nb\nc\nd');
  });

  it('keeps CDATA sections literally, without decoding, next to other text', () => {
    expect(parseXml('<x>a<![CDATA[<b> &amp; ]]]>c</x>').text).toBe('a<b> &amp; ]c');
    expect(refusal('<x><![CDATA[open</x>')).toBe('malformed XML at line 1: unterminated CDATA section');
  });

  it('decodes the five predefined entities, case-sensitively, and no others', () => {
    expect(parseXml('<x a="&lt;&gt;&amp;&quot;&apos;">&lt;&gt;&amp;&quot;&apos;</x>')).toMatchObject({ text: '<>&"\'', attrs: { a: '<>&"\'' } });
    expect(refusal('<x>&AMP;</x>')).toBe('entity "&AMP;" is not allowed');
    expect(refusal('<x>&copy;</x>')).toBe('entity "&copy;" is not allowed');
    expect(refusal('<x>&;</x>')).toBe('entity "&;" is not allowed');
  });

  it('decodes character references in decimal and with a lowercase x in hex, at the edges of Char', () => {
    const ok: Array<[string, string]> = [
      ['&#9;', '\t'],
      ['&#10;', '\n'],
      ['&#13;', '\r'],
      ['&#x9;', '\t'],
      ['&#xa;', '\n'],
      ['&#xD;', '\r'],
      ['&#32;', ' '],
      ['&#x20;', ' '],
      ['&#55295;', '\uD7FF'],
      ['&#57344;', '\uE000'],
      ['&#65533;', '\uFFFD'],
      ['&#65536;', '\u{10000}'],
      ['&#1114111;', '\u{10FFFF}'],
      ['&#x10fffF;', '\u{10FFFF}'],
      ['&#0000065;', 'A'],
      ['&#x000041;', 'A'],
      // CharRef puts no bound on the digits: leading zeros past the longest value are still that value.
      ['&#00000065;', 'A'],
      ['&#x0000041;', 'A'],
      ['&#x0010FFFF;', '\u{10FFFF}'],
      ['&#000000065;', 'A'],
      // Zeros inside the digits are the number's own.
      ['&#100;', 'd'],
      ['&#1005;', '\u03ED'],
    ];
    for (const [ref, ch] of ok) expect(decodeEntities(`<${ref}>`)).toBe(`<${ch}>`);
    for (const bad of ['&#8;', '&#11;', '&#12;', '&#14;', '&#31;', '&#x1F;', '&#55296;', '&#57343;', '&#65534;', '&#65535;', '&#1114112;', '&#X41;', '&#x-41;', '&#x0110000;', '&#01114112;', '&#+65;', '&#x+41;']) {
      expect(() => decodeEntities(bad)).toThrow(/^bad character reference "&#/);
    }
  });

  it('refuses an "&" that starts no reference, and references too long to be one', () => {
    for (const bad of ['a & b', '&amp', 'a&b', '&am p;', '&a&amp;', '&a<b;', '&# 65;', `&#${'1'.repeat(12)};`, '&abcdefghijkl;']) {
      expect(() => decodeEntities(bad)).toThrow(/^unterminated or overlong reference "&/);
    }
    expect(decodeEntities('no references')).toBe('no references');
  });

  it('decodes thousands of references in one text', () => {
    const n = 5000;
    expect(decodeEntities('&lt;&#65;'.repeat(n) + 'end')).toBe('<A'.repeat(n) + 'end');
    expect(parseXml(`<x a="${'&amp;'.repeat(n)}">${'&gt;.'.repeat(n)}</x>`)).toMatchObject({ attrs: { a: '&'.repeat(n) }, text: '>.'.repeat(n) });
  });

  it('escapes the five special characters so that they read back', () => {
    expect(escapeXml('<a href="x">&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
    const s = 'a<b>c&d"e\'f';
    expect(parseXml(`<x v="${escapeXml(s)}">${escapeXml(s)}</x>`)).toMatchObject({ text: s, attrs: { v: s } });
  });
});

describe('limits', () => {
  it('takes a document of exactly maxBytes UTF-8 bytes and refuses one byte more, counting multi-byte characters', () => {
    const doc = (n: number) => `<x>${'\u20AC'.repeat(n)}</x>`; // 7 bytes of tags + 3 per euro sign
    expect(parseXml(doc(10), { maxBytes: 37 }).text).toHaveLength(10);
    expect(refusal(doc(10), { maxBytes: 36 })).toBe('reply larger than 36 bytes');
    expect(refusal(doc(12), { maxBytes: 40 })).toBe('reply larger than 40 bytes');
    expect(parseXml('<x>abc</x>', { maxBytes: 10 }).text).toBe('abc');
    expect(refusal('<x>abcd</x>', { maxBytes: 10 })).toBe('reply larger than 10 bytes');
  });

  it('refuses anything but text', () => {
    expect(() => parseXml(Buffer.from('<x/>') as unknown as string)).toThrow(new XmlError('reply is not text'));
  });

  it('takes maxDepth levels and refuses one more', () => {
    const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
    expect(() => parseXml(nest(5), { maxDepth: 5 })).not.toThrow();
    expect(refusal(nest(6), { maxDepth: 5 })).toBe('XML nested deeper than 5 levels');
    expect(() => parseXml(`<r>${'<a/>'.repeat(20)}</r>`, { maxDepth: 2 })).not.toThrow();
  });

  it('takes maxElements elements and refuses one more', () => {
    expect(() => parseXml(`<r>${'<a/>'.repeat(9)}</r>`, { maxElements: 10 })).not.toThrow();
    expect(refusal(`<r>${'<a/>'.repeat(10)}</r>`, { maxElements: 10 })).toBe('XML with more than 10 elements');
  });

  it('takes maxAttributes attributes, namespace declarations included, and refuses one more', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
    expect(Object.keys(parseXml(`<x${attrs(4)}/>`, { maxAttributes: 4 }).attrs)).toHaveLength(4);
    expect(refusal(`<x${attrs(5)}/>`, { maxAttributes: 4 })).toBe('malformed XML at line 1: more than 4 attributes on <x>');
    expect(refusal(`<x xmlns="urn:a" xmlns:p="urn:p"${attrs(3)}/>`, { maxAttributes: 4 })).toBe('malformed XML at line 1: more than 4 attributes on <x>');
    // Raised above the default: all of them read, and the tags after it read only their own.
    const many = parseXml(`<r><x${attrs(100)}/><y b="1"/><z/></r>`, { maxAttributes: 100 });
    expect(Object.keys(many.children[0].attrs)).toHaveLength(100);
    expect(many.children[0].attrs.a99).toBe('99');
    expect({ ...many.children[1].attrs }).toEqual({ b: '1' });
    expect({ ...many.children[2].attrs }).toEqual({});
  });

  it('takes maxTextLength characters of text in one element, across pieces, and refuses one more', () => {
    expect(parseXml('<x>abc<!---->de</x>', { maxTextLength: 5 }).text).toBe('abcde');
    expect(parseXml('<r><x>abcde</x><y>abcde</y></r>', { maxTextLength: 5 }).children).toHaveLength(2);
    expect(refusal('<x>abc<!---->def</x>', { maxTextLength: 5 })).toBe('malformed XML at line 1: more than 5 characters of text in <x>');
    expect(refusal('<x>abc<![CDATA[def]]></x>', { maxTextLength: 5 })).toBe('malformed XML at line 1: more than 5 characters of text in <x>');
    // Reported where the piece that goes over begins, even when that is a line end.
    expect(refusal('<x>\nabcdef</x>', { maxTextLength: 5 })).toBe('malformed XML at line 1: more than 5 characters of text in <x>');
    expect(refusal('<x>ab\n<!---->\ncdef</x>', { maxTextLength: 5 })).toBe('malformed XML at line 2: more than 5 characters of text in <x>');
  });
});

describe('Namespaces in XML 1.0', () => {
  it('puts an element in the default namespace, an attribute without prefix in none (6.2)', () => {
    const x = parseXml('<x xmlns="urn:d" a="1"><y/></x>');
    expect(x).toMatchObject({ ns: 'urn:d', attrs: { a: '1' } });
    expect(x.children[0].ns).toBe('urn:d');
  });

  it('undeclares the default namespace with xmlns="" (6.2) but refuses xmlns:p="" (5)', () => {
    const x = parseXml('<x xmlns="urn:d"><y xmlns=""><z/></y></x>');
    expect(x.children[0].ns).toBe('');
    expect(x.children[0].children[0].ns).toBe('');
    expect(refusal('<x xmlns:p=""/>')).toBe('malformed XML at line 1: namespace prefix "p" undeclared on <x>');
  });

  it('binds a prefix for the element that declares it and its descendants only', () => {
    const x = parseXml('<r><p:a xmlns:p="urn:1"><p:b/></p:a><c/></r>');
    expect(x.children[0]).toMatchObject({ ns: 'urn:1', name: 'a' });
    expect(x.children[0].children[0]).toMatchObject({ ns: 'urn:1', name: 'b' });
    expect(refusal('<r><p:a xmlns:p="urn:1"/><p:b/></r>')).toBe('malformed XML at line 1: undeclared namespace prefix "p" on <p:b>');
  });

  it('refuses an undeclared prefix on an element or an attribute', () => {
    expect(refusal('<p:x/>')).toBe('malformed XML at line 1: undeclared namespace prefix "p" on <p:x>');
    expect(refusal('<x p:a="1"/>')).toBe('malformed XML at line 1: undeclared namespace prefix "p" on attribute p:a');
    expect(refusal('<x a="1" p:a="1"/>')).toBe('malformed XML at line 1: undeclared namespace prefix "p" on attribute p:a');
  });

  it('has the xml prefix bound without a declaration, and allows declaring it only to its own name (3)', () => {
    expect(parseXml('<x xml:lang="en"/>').attrs.lang).toBe('en');
    expect(parseXml(`<xml:x xmlns:xml="${XML_NS}"/>`).ns).toBe(XML_NS);
    expect(refusal('<x xmlns:xml="urn:other"/>')).toBe('malformed XML at line 1: reserved namespace misused on <x>');
    expect(refusal(`<x xmlns:p="${XML_NS}"/>`)).toBe('malformed XML at line 1: reserved namespace misused on <x>');
    expect(refusal(`<x xmlns="${XML_NS}"/>`)).toBe('malformed XML at line 1: reserved namespace misused on <x>');
  });

  it('refuses declaring the xmlns prefix or binding anything to its namespace (3)', () => {
    expect(refusal('<x xmlns:xmlns="urn:a"/>')).toBe('malformed XML at line 1: reserved namespace misused on <x>');
    expect(refusal(`<x xmlns:p="${XMLNS_NS}"/>`)).toBe('malformed XML at line 1: reserved namespace misused on <x>');
    expect(refusal(`<x xmlns="${XMLNS_NS}"/>`)).toBe('malformed XML at line 1: reserved namespace misused on <x>');
    // Only the prefix xmlns, or the name xmlns alone, declares: p:xmlns is an attribute named xmlns in p's namespace.
    const x = parseXml('<x xmlns:p="urn:p" p:xmlns="urn:v"><p:y/></x>');
    expect({ ...x.attrs }).toEqual({ xmlns: 'urn:v' });
    expect(x.ns).toBe('');
    expect(x.children[0].ns).toBe('urn:p');
  });

  it('refuses a prefix or the default namespace declared twice on one element', () => {
    expect(refusal('<x xmlns="urn:a" xmlns="urn:b"/>')).toMatch(/^malformed XML at line 1: (namespace prefix "" declared twice on <x>|attribute xmlns repeated on <x>)$/);
    expect(refusal('<x xmlns:p="urn:a" xmlns:p="urn:a"/>')).toBe('malformed XML at line 1: namespace prefix "p" declared twice on <x>');
    expect(parseXml('<x xmlns="urn:a" xmlns:p="urn:a"><p:y/><y/></x>').children.map((c) => c.ns)).toEqual(['urn:a', 'urn:a']);
  });

  it('keeps attributes by local name: no xmlns declarations, unprefixed wins, otherwise the first', () => {
    const x = parseXml('<x xmlns:a="urn:a" xmlns:b="urn:b" b:n="b" a:n="a" m="plain" b:m="b"/>');
    expect(x.attrs).toEqual({ n: 'b', m: 'plain' });
    expect(Object.getPrototypeOf(x.attrs)).toBeNull();
    expect(parseXml('<x a:k="1" xmlns:a="urn:a"/>').attrs).toEqual({ k: '1' });
  });

  it('refuses one expanded attribute name twice, however spelled (6.3)', () => {
    expect(refusal('<x xmlns:a="urn:a" xmlns:b="urn:a" a:n="1" b:n="2"/>')).toBe('malformed XML at line 1: attribute b:n repeated on <x>');
    expect(refusal('<x n="1" m="2" n="3"/>')).toBe('malformed XML at line 1: attribute n repeated on <x>');
    expect(parseXml('<x xmlns:a="urn:a" xmlns:b="urn:b" a:n="1" b:n="2" n="3"/>').attrs.n).toBe('3');
  });

  it('reads xsi:nil by namespace: "true" or "1", surrounding white space allowed', () => {
    const x = parseXml(`<r xmlns:xsi="${XSI}" xmlns:q="${XSI}"><a xsi:nil="true"/><b q:nil=" 1 "/><c xsi:nil="false"/><d xsi:nil="0"/><e nil="true"/><f xsi:nil="TRUE"/><g xsi:nil="true" other="1"/></r>`);
    expect(x.children.map((c) => c.nil)).toEqual([true, true, false, false, false, false, true]);
    expect(x.nil).toBe(false);
  });

  it('resolves QName text (a fault subcode) through the scope of its element', () => {
    const x = parseXml('<r xmlns="urn:default" xmlns:p="urn:outer"><c xmlns:p="urn:inner"> p:Code </c><d>p:Code</d><e>Plain</e><f>q:Code</f></r>');
    expect(resolveQNameText(x.children[0])).toEqual({ ns: 'urn:inner', name: 'Code' });
    expect(resolveQNameText(x.children[1])).toEqual({ ns: 'urn:outer', name: 'Code' });
    expect(resolveQNameText(x.children[2])).toEqual({ ns: 'urn:default', name: 'Plain' });
    expect(resolveQNameText(x.children[3])).toEqual({ ns: '', name: 'Code' });
    // Not a QName: an empty prefix before the colon reads as none, the name without the colon.
    expect(resolveQNameText(parseXml('<c xmlns="urn:default">:Code</c>'))).toEqual({ ns: 'urn:default', name: 'Code' });
    expect(x.children[1].scope.xml).toBe(XML_NS);
  });

  it('finds children by namespace, not by prefix letter', () => {
    const x = parseXml('<r xmlns:a="urn:1" xmlns:b="urn:2"><a:v>1</a:v><b:v>2</b:v><a:v>3</a:v></r>');
    expect(child(x, 'v', 'urn:2')?.text).toBe('2');
    expect(childrenNamed(x, 'v', 'urn:1').map((c) => c.text)).toEqual(['1', '3']);
    expect(childrenNamed(x, 'v').map((c) => c.text)).toEqual(['1', '2', '3']);
    expect(child(x, 'v', 'urn:3')).toBeUndefined();
  });
});

const EPR = (selectors: string, extra = '') =>
  `<r xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}"><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters><w:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem</w:ResourceURI>${selectors}</a:ReferenceParameters>${extra}</r>`;

describe('DSP0226/DSP0227 values', () => {
  it('reads an endpoint reference: address, resource URI and selectors by Name', () => {
    const epr = readEndpointReference(parseXml(EPR('<w:SelectorSet><w:Selector Name="CreationClassName">CIM_ComputerSystem</w:Selector><w:Selector Name="Name">ManagedSystem</w:Selector></w:SelectorSet>')));
    expect(epr).toEqual({
      address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous',
      resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem',
      selectors: { CreationClassName: 'CIM_ComputerSystem', Name: 'ManagedSystem' },
    });
    expect(isEndpointReference(epr)).toBe(true);
    expect(isEndpointReference({ address: '', resourceUri: '' })).toBe(false);
    expect(isEndpointReference(null)).toBe(false);
    expect(isEndpointReference('x')).toBe(false);
  });

  it('reads a selector whose value is itself an endpoint reference (DSP0226 7.2) as its JSON', () => {
    const inner = EPR('<w:SelectorSet><w:Selector Name="Name">Inner</w:Selector></w:SelectorSet>').replace(/^<r [^>]*>|<\/r>$/g, '');
    const epr = readEndpointReference(parseXml(EPR(`<w:SelectorSet><w:Selector Name="Ref"><a:EndpointReference>${inner}</a:EndpointReference></w:Selector></w:SelectorSet>`)));
    expect(JSON.parse(epr?.selectors.Ref ?? '')).toEqual({
      address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous',
      resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem',
      selectors: { Name: 'Inner' },
    });
  });

  it('needs both Address and ReferenceParameters in the addressing namespace', () => {
    expect(readEndpointReference(parseXml(`<r xmlns:a="${NS.addressing}"><a:Address>x</a:Address></r>`))).toBeUndefined();
    expect(readEndpointReference(parseXml(`<r xmlns:a="${NS.addressing}"><a:ReferenceParameters/></r>`))).toBeUndefined();
    expect(readEndpointReference(parseXml(`<r xmlns:a="urn:not-addressing"><a:Address>x</a:Address><a:ReferenceParameters/></r>`))).toBeUndefined();
    // No ResourceURI and no selector set: an empty URI and no selectors; a selector without Name is "".
    expect(readEndpointReference(parseXml(`<r xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}"><a:Address>x</a:Address><a:ReferenceParameters><w:SelectorSet><w:Selector>v</w:Selector></w:SelectorSet></a:ReferenceParameters></r>`))).toEqual({
      address: 'x',
      resourceUri: '',
      selectors: { '': 'v' },
    });
    expect(readEndpointReference(parseXml(`<r xmlns:a="${NS.addressing}"><a:Address>x</a:Address><a:ReferenceParameters/></r>`))).toEqual({ address: 'x', resourceUri: '', selectors: {} });
  });

  it('turns an element into a plain value: text, null for xsi:nil, references, datetimes, arrays for repeats', () => {
    const x = parseXml(
      `<r xmlns:xsi="${XSI}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}" xmlns:c="urn:cim">` +
        '<Leaf>t</Leaf><Empty/><Nil xsi:nil="true"><Inner>ignored</Inner></Nil>' +
        '<When><c:Datetime>2024-01-02T03:04:05Z</c:Datetime></When><Day><c:Date>2024-01-02</c:Date></Day><At><c:Time>03:04:05</c:Time></At>' +
        '<For><c:Interval>P1D</c:Interval></For><Cim><c:CIM_DateTime>20240102030405.000000+000</c:CIM_DateTime></Cim>' +
        '<Two><c:Datetime>a</c:Datetime><c:Datetime>b</c:Datetime></Two><Deep><c:Datetime><x>1</x></c:Datetime></Deep><Other><c:Stamp>s</c:Stamp></Other>' +
        `<Ref>${EPR('<w:SelectorSet><w:Selector Name="Name">N</w:Selector></w:SelectorSet>').replace(/^<r [^>]*>|<\/r>$/g, '')}</Ref>` +
        '<Rep>1</Rep><Rep>2</Rep><Rep>3</Rep><Pair>a</Pair><Pair>b</Pair>' +
        '</r>',
    );
    expect(toPlain(x)).toEqual({
      Leaf: 't',
      Empty: '',
      Nil: null,
      When: '2024-01-02T03:04:05Z',
      Day: '2024-01-02',
      At: '03:04:05',
      For: 'P1D',
      Cim: '20240102030405.000000+000',
      Two: { Datetime: ['a', 'b'] },
      Deep: { Datetime: { x: '1' } },
      Other: { Stamp: 's' },
      Ref: {
        address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous',
        resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem',
        selectors: { Name: 'N' },
      },
      Rep: ['1', '2', '3'],
      Pair: ['a', 'b'],
    });
  });

  it('keeps same-named children of another namespace apart, the parent namespace owning the plain name', () => {
    const x = parseXml('<p:r xmlns:p="urn:p" xmlns:q="urn:q"><q:v>q1</q:v><p:v>p1</p:v><q:v>q2</q:v><q:w>w</q:w><p:v>p2</p:v></p:r>');
    expect(toPlain(x)).toEqual({ v: ['p1', 'p2'], '{urn:q}v': ['q1', 'q2'], w: 'w' });
    const y = parseXml('<r xmlns:a="urn:a" xmlns:b="urn:b"><a:v>1</a:v><b:v>2</b:v></r>');
    expect(toPlain(y)).toEqual({ v: '1', '{urn:b}v': '2' });
    expect(Object.getPrototypeOf(toPlain(y))).toBeNull();
  });
});

describe('what a hostile document cannot do', () => {
  it('error messages clip names from the document to 60 characters', () => {
    const long = 'n'.repeat(500);
    for (const doc of [`<${long}></x>`, `<x></${long}>`, `<${long}:x/>`, `<x ${long}:a="1"/>`, `<${long}>`, `<x ${long}="1" ${long}="2"/>`]) {
      const message = refusal(doc);
      expect(message).toContain('n'.repeat(59));
      expect(message).not.toContain('n'.repeat(61));
    }
    expect(refusal(`<x>&${'e'.repeat(8)};</x>`)).toBe('entity "&eeeeeeee;" is not allowed');
    expect(refusal(`<x>&#${'1'.repeat(40)};</x>`)).toBe(`unterminated or overlong reference "&#${'1'.repeat(10)}"`);
  });

  it('elements and attributes named like Object members stay plain data', () => {
    const x = parseXml('<r __proto__="a" constructor="b"><__proto__>1</__proto__><toString>2</toString><hasOwnProperty/></r>');
    expect(Object.getPrototypeOf(x.attrs)).toBeNull();
    expect(x.attrs.__proto__).toBe('a');
    expect(x.attrs.constructor).toBe('b');
    const plain = toPlain(x) as Record<string, unknown>;
    expect(Object.getPrototypeOf(plain)).toBeNull();
    expect(plain.__proto__).toBe('1');
    expect(plain.toString).toBe('2');
    expect(plain.hasOwnProperty).toBe('');
    expect(parseXml('<x/>').attrs.constructor).toBeUndefined();
    expect(Object.isFrozen(parseXml('<x/>').attrs)).toBe(true);
  });
});

