/**
 * Our XML reader against fast-xml-parser, the library it stands in for: on real captures and on
 * generated documents (and broken variants of them) it must accept nothing the library's validator
 * rejects, and read what both accept into the same elements, attributes and text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { XmlError } from '../errors';
import { decodeEntities, escapeXml, parseXml, XmlNode } from './xml';

const reference = new XMLParser({
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

interface Shape {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: Shape[];
}

/** fast-xml-parser's ordered output as qualified names, attributes and decoded text. */
function referenceShape(item: Record<string, any>): Shape {
  const name = Object.keys(item).find((k) => k !== ':@') as string;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries((item[':@'] ?? {}) as Record<string, string>)) {
    if (k !== 'xmlns' && !k.startsWith('xmlns:')) attrs[k.split(':').pop() as string] = decodeEntities(v);
  }
  let text = '';
  const children: Shape[] = [];
  for (const c of item[name] as Array<Record<string, any>>) {
    if ('#text' in c) text += decodeEntities(String(c['#text']));
    else if ('#cdata' in c) text += (c['#cdata'] as Array<Record<string, string>>).map((x) => x['#text']).join('');
    else if (!('#comment' in c)) children.push(referenceShape(c));
  }
  return { name: name.split(':').pop() as string, attrs, text, children };
}

function ourShape(n: XmlNode): Shape {
  return { name: n.name, attrs: n.attrs, text: n.text, children: n.children.map(ourShape) };
}

/**
 * Our refusals of documents fast-xml-parser's validator lets through, each for a rule that
 * validator does not check or a limit of ours: Namespaces in XML (undeclared or reserved
 * prefixes, a prefix declared twice, an attribute repeated under another prefix), entity and
 * character references (with no DTD only the five predefined entities exist; a reference must name
 * a legal character), processing instructions whose target is not a name and XML declarations
 * not at the very start or not in their grammar, "<" in an attribute value, an element or
 * attribute name that is not a QName (":mode", "xmlns:"), an end tag with more than its name, content after the root
 * element, DOCTYPE and other declarations (refused on
 * purpose), and our size caps. Any other refusal of a document the library accepts is a bug.
 */
const DELIBERATE_REFUSALS: Array<RegExp | ((message: string, xml: string) => boolean)> = [
  /undeclared namespace prefix|namespace prefix "[^"]*" undeclared/,
  /namespace prefix "[^"]*" declared twice/,
  /reserved namespace misused/,
  /attribute \S+ repeated on/,
  /entity "[^"]*" is not allowed/,
  /bad character reference/,
  /unterminated or overlong reference/,
  /bad processing instruction|bad XML declaration/,
  (message, xml) => /bad attribute/.test(message) && /=\s*("[^"]*<|'[^']*<)/.test(xml),
  (message, xml) => /bad attribute/.test(message) && attributeNames(xml).some((n) => !QNAME.test(n)),
  (message, xml) => /bad start tag/.test(message) && elementNames(xml).some((n) => !QNAME.test(n)),
  (message, xml) => /bad end tag/.test(message) && /<\/[^\s>]+\s*[^\s>]/.test(xml),
  /text outside the root element|more than one root element/,
  /DOCTYPE and entity declarations are refused|markup declarations are refused/,
  /larger than \d+ bytes|more than \d+ (elements|attributes|characters)|nested deeper than/,
];

/** A qualified name as Namespaces in XML has it (ASCII only: the generated names are). */
const QNAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/;

function elementNames(xml: string): string[] {
  return [...xml.matchAll(/<([^\s/>!?]+)/g)].map((m) => m[1]);
}

/** The names written before "=" inside tags (roughly: enough to spot one that is not a QName). */
function attributeNames(xml: string): string[] {
  return [...xml.matchAll(/\s([^\s=<>"']*)\s*=\s*["']/g)].map((m) => m[1]);
}

/** Both ways: we accept nothing the library rejects, and refuse nothing it accepts but on purpose. */
function compare(xml: string): void {
  let ours: XmlNode | undefined;
  try {
    ours = parseXml(xml);
  } catch (e) {
    if (!(e instanceof XmlError)) throw e;
    if (XMLValidator.validate(xml) === true && !DELIBERATE_REFUSALS.some((r) => (typeof r === 'function' ? r(e.message, xml) : r.test(e.message)))) {
      throw new Error(`our reader refuses a document fast-xml-parser accepts (${e.message}):\n${xml}`, { cause: e });
    }
  }
  if (!ours) return;
  expect(XMLValidator.validate(xml)).toBe(true);
  const items = (reference.parse(xml) as Array<Record<string, any>>).filter((it) => !('#comment' in it) && !('#text' in it));
  expect(items).toHaveLength(1);
  expect(ourShape(ours)).toEqual(referenceShape(items[0]));
}

const fixtures = path.join(__dirname, '../../test/fixtures/amt');

describe('our XML reader agrees with fast-xml-parser', () => {
  it.each(fs.readdirSync(fixtures).filter((f) => f.endsWith('.xml')))('on the capture %s', (file) => {
    const xml = fs.readFileSync(path.join(fixtures, file), 'utf8');
    expect(() => parseXml(xml)).not.toThrow();
    compare(xml);
  });

  const name = fc.constantFrom('a', 'b:Item', 'c:Value', 'Envelope', 'x-y', 'h:Datetime', '_z.1');
  // eslint-disable-next-line no-control-regex
  const text = fc.string({ maxLength: 12, size: 'max' }).map((s) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff\r]/g, ''));
  const element: fc.Memo<string> = fc.memo((depth) =>
    fc
      .record({
        name,
        attrs: fc.uniqueArray(fc.tuple(fc.constantFrom('Name', 'id', 'p:mode', 'lang'), text), { maxLength: 3, selector: (t) => t[0] }),
        parts: depth > 1 ? fc.array(fc.oneof(text.map((t) => escapeXml(t)), element(depth - 1), text.map((t) => `<![CDATA[${t.replace(/]]>/g, '')}]]>`), fc.constant('<!-- c -->')), { maxLength: 4 }) : fc.array(text.map((t) => escapeXml(t)), { maxLength: 1 }),
      })
      .map(({ name: n, attrs, parts }) => {
        const a = attrs.map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
        return parts.length ? `<${n}${a}>${parts.join('')}</${n}>` : `<${n}${a}/>`;
      }),
  );
  const document = element(4).map((root) => {
    const decl = '<?xml version="1.0" encoding="UTF-8"?>';
    return `${decl}<root xmlns:b="urn:b" xmlns:c="urn:c" xmlns:h="urn:h" xmlns:p="urn:p">${root}</root>`;
  });

  it('on generated documents', () => {
    fc.assert(fc.property(document, (xml) => compare(xml)), { numRuns: 400 });
  });

  it('on broken variants of generated documents (never accepting what the library rejects)', () => {
    const broken = fc.tuple(document, fc.nat(), fc.constantFrom('<', '>', '/', '"', '&', '=', ' ', '', 'a')).map(([xml, at, ch]) => {
      const i = at % xml.length;
      return xml.slice(0, i) + ch + xml.slice(i + 1);
    });
    fc.assert(fc.property(broken, (xml) => compare(xml)), { numRuns: 1500 });
  });
});
