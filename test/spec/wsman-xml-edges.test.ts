/**
 * Edges of XML 1.0 and Namespaces in XML that the mutation run found unchecked: version numbers of
 * more than one digit, white space in the declaration, a DOCTYPE after the declaration, line ends
 * at the start of text, quoted and unterminated attribute values, a cut-off end tag, processing
 * instructions after the usual declaration, xs:boolean white space in xsi:nil, and which namespace
 * owns a plain key.
 */
import { XmlError } from '../../lib/errors';
import { decodeEntities, parseXml, toPlain } from '../../lib/wsman/xml';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function refusal(xml: string): string {
  try {
    parseXml(xml);
  } catch (e) {
    expect(e).toBeInstanceOf(XmlError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${xml}`);
}

describe('XML 1.0 edges', () => {
  it('VersionNum is "1." and one or more digits, in either quotes; S around "=" and between pseudo-attributes', () => {
    for (const decl of ['<?xml version="1.10"?>', "<?xml version='1.10'?>", '<?xml version="1.0" encoding="UTF-8"  standalone = "yes"?>', '<?xml version="1.0"\n\tstandalone\t=\t\'no\'?>']) {
      expect(parseXml(`${decl}<x/>`).name).toBe('x');
    }
  });

  it('a DOCTYPE after the declaration or a comment is still refused as a DOCTYPE', () => {
    expect(refusal('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')).toBe('DOCTYPE and entity declarations are refused');
    expect(refusal('<!-- c --><!DOCTYPE x><x/>')).toBe('DOCTYPE and entity declarations are refused');
  });

  it('processing instructions one after another', () => {
    expect(parseXml('<x>a<?p?><?q?>b</x>').text).toBe('ab');
  });

  it('a line end at the very start of a text is normalised too', () => {
    expect(parseXml('<x>\r\nA\rB</x>').text).toBe('\nA\nB');
    expect(parseXml('<x>\rA</x>').text).toBe('\nA');
  });

  it('error lines count only the line ends before the error', () => {
    expect(refusal('<x>\n</y>\n\n\n')).toBe('malformed XML at line 2: </y> does not close <x>');
  });

  it('a hex character reference is hex digits only, up to the ";"', () => {
    expect(() => decodeEntities('&#x41G;')).toThrow(/^bad character reference/);
    expect(() => decodeEntities('&#65A;')).toThrow(/^bad character reference/);
  });

  it('an attribute value is quoted (AttValue): an unquoted one is refused even when a quote follows later in the tag', () => {
    expect(refusal("<x a=1' b='2'/>")).toMatch(/^malformed XML at line 1: /);
    expect(refusal('<x a=1" b="2"/>')).toMatch(/^malformed XML at line 1: /);
  });

  it('an attribute value without its closing quote is reported on its own line', () => {
    expect(refusal('<x\n b="1" c="2/>')).toMatch(/^malformed XML at line 2: /);
  });

  it('a start tag that does not end in ">" or "/>" is reported on the line of the character that breaks it', () => {
    expect(refusal('<x\n?>')).toBe('malformed XML at line 2: bad attribute or unterminated tag <x>');
    expect(refusal('<x a="1"\n\n?/>')).toBe('malformed XML at line 3: bad attribute or unterminated tag <x>');
  });

  it('an end tag cut off after its name is reported with that name', () => {
    expect(refusal('<x></x')).toMatch(/^malformed XML at line 1: .*<\/x/);
  });

  it('processing instructions inside and after the root of a document with the usual declaration', () => {
    const decl = '<?xml version="1.0" encoding="UTF-8"?>';
    expect(parseXml(`${decl}<x>a<?p d?>b</x>`).text).toBe('ab');
    expect(parseXml(`${decl}<x><y/></x><?p?>`).children.map((c) => c.name)).toEqual(['y']);
  });
});

describe('Namespaces and xsi:nil edges', () => {
  it('xsi:nil is an xs:boolean: white space collapsed; other xsi attributes do not change it', () => {
    const x = parseXml(`<r xmlns:xsi="${XSI}"><a xsi:nil=" true "/><b xsi:nil="true" xsi:type="t"/><c xsi:type="true"/></r>`);
    expect(x.children.map((c) => c.nil)).toEqual([true, true, false]);
  });

  it('with no child in the parent namespace, the first namespace seen owns the plain key', () => {
    const x = parseXml('<p:r xmlns:p="urn:p" xmlns:q="urn:q" xmlns:s="urn:s"><q:v>1</q:v><s:v>2</s:v><q:v>3</q:v></p:r>');
    expect(toPlain(x)).toEqual({ v: ['1', '3'], '{urn:s}v': '2' });
  });
});
