/**
 * The XML reader against what a hostile device (or anyone answering in its place) can send:
 * explicit caps (linear work and memory: xml-cost.test.ts), prototype-free results, namespace-exact lookups and
 * error texts that never repeat the input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { amtSchemaFor } from '../../lib/amt/schema';
import { readAlertIndication } from '../../lib/amt/events';
import { XmlError } from '../../lib/errors';
import { readEnvelope, readFault, readInstance } from '../../lib/wsman/envelope';
import { applySchema } from '../../lib/wsman/typing';
import { decodeEntities, DEFAULT_XML_LIMITS, parseXml, PlainObject, toPlain } from '../../lib/wsman/xml';
import { typicalReply, WORST_CASES } from './xml-documents';

const SOAP = 'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"';
const envelope = (header: string, body: string, more = '') => `<s:Envelope ${SOAP} ${more}><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;

describe('XML reader: caps', () => {
  it('refuses worst cases at its default limits with a short XmlError', () => {
    for (const [which, build] of Object.entries(WORST_CASES)) {
      const big = build(2 * DEFAULT_XML_LIMITS.maxBytes);
      expect(() => parseXml(big)).toThrow(/larger than 1048576 bytes/);
      const fit = build(DEFAULT_XML_LIMITS.maxBytes - 100);
      const refusal = { attributes: /more than 64 attributes/, elements: /more than 20000 elements/, repeats: /more than 20000 elements/, namespaces: /more than 20000 elements/ }[which];
      if (refusal) {
        expect(() => parseXml(fit)).toThrow(XmlError);
        expect(() => parseXml(fit)).toThrow(refusal);
      } else {
        // Text of a megabyte is under the per-element cap: read, in linear time (see above).
        expect(parseXml(fit).text.length).toBeGreaterThan(100_000);
      }
    }
    expect(() => parseXml(`<x>${'a'.repeat(300_000)}</x>`)).toThrow(/more than 262144 characters of text/);
    expect(() => parseXml('<a>'.repeat(65) + '</a>'.repeat(65))).toThrow(/deeper than 64/);
  });

  it('reads every real answer within the limits a pushed event gets and far below the defaults', () => {
    const reply = typicalReply(150_000);
    expect(() => parseXml(reply)).not.toThrow();
  });

  it('caps an event push tighter than a reply', () => {
    const attrs = Array.from({ length: 40 }, (_, i) => ` a${i}="1"`).join('');
    expect(() => readAlertIndication(envelope('', `<x${attrs}/>`))).toThrow(/more than 32 attributes/);
    expect(() => readAlertIndication(envelope('', `<x>${'<y/>'.repeat(1200)}</x>`))).toThrow(/more than 1000 elements/);
  });
});

describe('XML reader: prototype-free results', () => {
  it('keeps elements named like Object members as plain data', () => {
    const x = parseXml('<x __proto__="p" constructor="c"><constructor>1</constructor><__proto__><polluted>yes</polluted></__proto__><toString>2</toString><hasOwnProperty>3</hasOwnProperty></x>');
    const plain = toPlain(x) as PlainObject;
    expect(Object.getPrototypeOf(plain)).toBeNull();
    expect(Object.keys(plain)).toEqual(['constructor', '__proto__', 'toString', 'hasOwnProperty']);
    expect(plain.constructor).toBe('1');
    expect(plain.toString).toBe('2');
    expect(plain['__proto__']).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(x.attrs.constructor).toBe('c');
    expect(x.attrs['__proto__']).toBe('p');
    expect(parseXml('<x/>').attrs.constructor).toBeUndefined();
    expect(parseXml('<x/>').scope.constructor).toBeUndefined();
    expect(parseXml('<x/>').scope['__proto__']).toBeUndefined();
  });

  it('types an answer with a property named constructor without meeting Object', () => {
    const g = 'xmlns:g="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"';
    const inst = readInstance(readEnvelope(envelope('', `<g:AMT_GeneralSettings><g:constructor>x</g:constructor><g:__proto__>y</g:__proto__><g:HostName>pc</g:HostName></g:AMT_GeneralSettings>`, g)));
    const typed = applySchema(inst.props, amtSchemaFor('AMT_GeneralSettings'));
    expect(typed.constructor).toBe('x');
    expect(typed['__proto__']).toBe('y');
    expect(typed.HostName).toBe('pc');
  });

  it('keeps header fields of unknown names in prototype-free maps', () => {
    const env = readEnvelope(envelope('<a:toString>t</a:toString><w:SelectorSet xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><w:Selector Name="__proto__">p</w:Selector></w:SelectorSet>', '<x/>'));
    expect(env.header.extra.toString).toBe('t');
    expect(env.header.selectors['__proto__']).toBe('p');
    expect(Object.getPrototypeOf(env.header.selectors)).toBeNull();
  });
});

describe('XML reader: namespaces', () => {
  it('keeps same-named elements of different namespaces apart', () => {
    const x = parseXml('<p:C xmlns:p="urn:class" xmlns:o="urn:other"><o:Name>evil</o:Name><p:Name>real</p:Name><o:Only>1</o:Only></p:C>');
    expect(toPlain(x)).toEqual({ Name: 'real', '{urn:other}Name': 'evil', Only: '1' });
    const y = parseXml('<p:C xmlns:p="urn:class" xmlns:o="urn:other"><p:A>1</p:A><o:A>2</o:A><p:A>3</p:A></p:C>');
    expect(toPlain(y)).toEqual({ A: ['1', '3'], '{urn:other}A': '2' });
  });

  it('reads headers only in their own namespace', () => {
    const env = readEnvelope(envelope('<e:Action xmlns:e="urn:evil">urn:fake</e:Action><a:Action>urn:real</a:Action><e:MessageID xmlns:e="urn:evil">m</e:MessageID>', '<x/>'));
    expect(env.header.action).toBe('urn:real');
    expect(env.header.messageId).toBeUndefined();
  });

  it('asks for an Ack only with wsman:AckRequested in the header', () => {
    const fixture = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'amt', 'CIM_AlertIndication-Event.xml'), 'utf8');
    expect(readAlertIndication(fixture).ackRequested).toBe(true);
    const withoutAck = fixture.replace(/<c:AckRequested>\s*<\/c:AckRequested>|<c:AckRequested\/>/, '<e:AckRequested xmlns:e="urn:evil"></e:AckRequested>');
    expect(withoutAck).not.toBe(fixture);
    expect(readAlertIndication(withoutAck).ackRequested).toBe(false);
  });

  it("scopes a child's prefix redeclaration to that child", () => {
    const x = parseXml('<r xmlns:p="urn:one"><c xmlns:p="urn:two"><p:a/></c><p:b/><d><p:e/></d></r>');
    expect(x.children[0].children[0].ns).toBe('urn:two');
    expect(x.children[1].ns).toBe('urn:one');
    expect(x.children[2].children[0].ns).toBe('urn:one');
    const y = parseXml('<r xmlns="urn:one"><c xmlns="urn:two"/><d/></r>');
    expect(y.children.map((c) => c.ns)).toEqual(['urn:two', 'urn:one']);
  });

  it('reads nil only from the XML Schema instance namespace', () => {
    const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:o="urn:other"';
    const x = parseXml(`<r ${xsi}><a xsi:nil="true"/><b i:nil="true"/><c nil="true"/><d o:nil="true">t</d><e xsi:nil="false">f</e><f xsi:nil="1"/></r>`);
    expect(toPlain(x)).toEqual({ a: null, b: null, c: '', d: 't', e: 'f', f: null });
  });

  it('refuses one attribute written twice through two prefixes', () => {
    expect(() => parseXml('<r xmlns:a="urn:x" xmlns:b="urn:x"><e a:n="1" b:n="2"/></r>')).toThrow(/repeated/);
    expect(() => parseXml('<r xmlns:a="urn:x" xmlns:a="urn:y"/>')).toThrow(/declared twice/);
    expect(() => parseXml('<r n="1" n="2"/>')).toThrow(/repeated/);
    expect(parseXml('<r xmlns:a="urn:x" n="1" a:n="2"/>').attrs.n).toBe('1');
    expect(parseXml('<r xmlns:a="urn:x" a:n="2" n="1"/>').attrs.n).toBe('1');
  });

  it('refuses character references to characters XML does not allow', () => {
    for (const ref of ['&#0;', '&#x0;', '&#1;', '&#xB;', '&#xD800;', '&#xDFFF;', '&#xFFFE;', '&#xFFFF;', '&#x110000;', '&#;', '&#x;', '&#12a;', '&#xG;', '&#-1;', '&#x0000000041;']) {
      expect(() => parseXml(`<x>${ref}</x>`)).toThrow(XmlError);
      expect(() => parseXml(`<x a="${ref}"/>`)).toThrow(XmlError);
    }
    expect(parseXml('<x>&#9;&#xA;&#x20;&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#x10FFFF;&#65;</x>').text).toBe('\t\n \uD7FF\uE000\uFFFD\u{10000}\u{10FFFF}A');
    expect(() => decodeEntities('a & b')).toThrow(/unterminated/);
    expect(() => decodeEntities('&amp')).toThrow(/unterminated/);
  });
});

describe('XML reader: error texts never repeat the input', () => {
  const long = 'A'.repeat(5_000_000);
  it.each([
    ['a long element name', `<${long}>`],
    ['a long end tag', `<x></${long}>`],
    ['a long undeclared prefix', `<${long}:x/>`],
    ['a long reference', `<x>&${long};</x>`],
    ['a long character reference', `<x>&#${'1'.repeat(1000)};</x>`],
    ['a long root', `<${long} xmlns="urn:x"/>`],
  ])('%s', (_what, doc) => {
    let message = '';
    try {
      readEnvelope(doc, { maxBytes: 16_000_000 });
    } catch (e) {
      expect(e).toBeInstanceOf(XmlError);
      message = (e as Error).message;
    }
    expect(message).not.toBe('');
    expect(message.length).toBeLessThan(300);
  });

  it('clips a fault reason and an unexpected event action', () => {
    const fault = readFault(readEnvelope(envelope('', `<s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang="en">${'r'.repeat(200_000)}</s:Text></s:Reason></s:Fault>`)), 400);
    expect(fault?.message.length).toBeLessThan(500);
    expect(fault?.reason.length).toBe(200_000);
    expect(() => readAlertIndication(envelope(`<a:Action>${'x'.repeat(10_000)}</a:Action>`, '<x/>'))).toThrow(/^not an event push \(Action x{120}… \(10000 characters\)\)$/);
  });
});
