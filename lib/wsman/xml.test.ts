import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as fc from 'fast-check';
import { XmlError } from '../errors';
import { decodeEntities, escapeXml, parseXml, toPlain } from './xml';
import { readEnvelope, readFault, readInstance, readPullResponse } from './envelope';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../test/fixtures/amt', name), 'utf8');

describe('XML reading', () => {
  it('refuses DOCTYPE and entity declarations (billion laughs, XXE)', () => {
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>')).toThrow(XmlError);
    expect(() => parseXml('<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>')).toThrow(/DOCTYPE/);
    expect(() => parseXml('<x>&nbsp;</x>')).toThrow(/not allowed/);
  });

  it('decodes the five XML entities and character references', () => {
    expect(parseXml('<x>a&amp;b&lt;c&gt;&quot;&apos;&#65;&#x42;</x>').text).toBe('a&b<c>"\'AB');
    expect(decodeEntities(escapeXml('<&>"\''))).toBe('<&>"\'');
  });

  it('refuses malformed XML, too many bytes and too deep nesting', () => {
    expect(() => parseXml('<x><y></x>')).toThrow(/malformed/);
    expect(() => parseXml('<x>' + 'a'.repeat(100) + '</x>', { maxBytes: 50 })).toThrow(/larger/);
    expect(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100))).toThrow(/deeper/);
    expect(() => parseXml('<p:x/>')).toThrow(/undeclared/);
  });

  it('reads tag names right however many it has seen, and in any script', () => {
    // More distinct names than the reader remembers, long ones and non-ASCII ones, read twice.
    const names = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `p:N${i}` : i % 3 === 1 ? `Name${'x'.repeat(i % 90)}${i}` : `\u00e9l\u00e9ment${i}`));
    const doc = `<root xmlns:p="urn:p" xmlns="urn:d">${names.map((n) => `<${n}>${n}</${n}>`).join('')}</root>`;
    for (let pass = 0; pass < 2; pass++) {
      const root = parseXml(doc);
      expect(root.children.map((c) => [c.ns, c.name, c.text])).toEqual(names.map((n) => (n.startsWith('p:') ? ['urn:p', n.slice(2), n] : ['urn:d', n, n])));
    }
    // A remembered name still has to close its own element.
    expect(() => parseXml('<root><N1></N2></root>')).toThrow(/<\/N2> does not close <N1>/);
    expect(() => parseXml('<root><N1></N1x></root>')).toThrow(/malformed/);
    expect(() => parseXml('<root><p:N0 xmlns:p="urn:p"></N0></root>')).toThrow(/does not close/);
    expect(parseXml('<a:b xmlns:a="urn:a"><ab/></a:b>').children[0]).toMatchObject({ name: 'ab', ns: '' });
  });

  it('reads a tag that starts like the one read at the same place before as the tag it is', () => {
    // The reader first tries the tag that followed the previous one last time: these documents
    // repeat one shape with names that extend, shorten or prefix the names learned before.
    const read = (doc: string) => parseXml(doc).children.map((c) => [c.ns, c.name]);
    expect(read('<R xmlns:q="urn:q"><Abc/><q:Abc/></R>')).toEqual([['', 'Abc'], ['urn:q', 'Abc']]);
    expect(read('<R xmlns:q="urn:q"><Abcd/><q:Abc/></R>')).toEqual([['', 'Abcd'], ['urn:q', 'Abc']]);
    expect(read('<R xmlns:q="urn:q"><Abc/><q:Abcd/></R>')).toEqual([['', 'Abc'], ['urn:q', 'Abcd']]);
    expect(read('<R xmlns:q="urn:q"><Ab/><q:Ab/></R>')).toEqual([['', 'Ab'], ['urn:q', 'Ab']]);
    expect(read('<R xmlns:q="urn:q" xmlns:Abc="urn:abc"><Abc:x/><q/></R>')).toEqual([['urn:abc', 'x'], ['', 'q']]);
    expect(read('<R xmlns:q="urn:q"><Abc.1/><q:Abc-2/></R>')).toEqual([['', 'Abc.1'], ['urn:q', 'Abc-2']]);
    expect(() => parseXml('<R><Abc/><q:Abc/></R>')).toThrow(/undeclared namespace prefix "q"/);
  });

  it('resolves prefixes through xmlns, not by letter', () => {
    const a = parseXml('<a:E xmlns:a="urn:one" xmlns:b="urn:two"><b:X>1</b:X></a:E>');
    const b = parseXml('<q:E xmlns:q="urn:one"><E2 xmlns="urn:two"><X>1</X></E2></q:E>');
    expect(a.ns).toBe('urn:one');
    expect(a.children[0]).toMatchObject({ ns: 'urn:two', name: 'X', text: '1' });
    expect(b.children[0].children[0]).toMatchObject({ ns: 'urn:two', name: 'X' });
  });

  it('makes repeated elements arrays and unwraps CIM datetimes', () => {
    const x = parseXml('<x xmlns:h="urn:h"><A>1</A><A>2</A><A>3</A><B></B><C><h:Datetime>2024-01-01T00:00:00Z</h:Datetime></C></x>');
    expect(toPlain(x)).toEqual({ A: ['1', '2', '3'], B: '', C: '2024-01-01T00:00:00Z' });
  });

  it('never throws anything but XmlError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, size: 'max' }), (s) => {
        try {
          readEnvelope(s);
        } catch (e) {
          if (!(e instanceof XmlError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('one document after another', () => {
  const names = (nodes: { name: string }[]) => nodes.map((n) => n.name).join(',');

  it('gives each element exactly its own children, however the documents before it ended', () => {
    const broken = ['<r><a><b/><c/></a><d><e/>', '<r><a><b/><c>', '<r><a><b/></x>', '<r><a/><b/></r><r2/>', '<r><a><b><c/><d/></b></a>&bogus;</r>'];
    for (const doc of broken) {
      expect(() => parseXml(doc)).toThrow(XmlError);
      const r = parseXml('<r><a><b/><c>t</c></a><d><e/></d><f/></r>');
      expect(names(r.children)).toBe('a,d,f');
      const [a, d, f] = r.children;
      expect(names(a.children)).toBe('b,c');
      expect(names(d.children)).toBe('e');
      expect(f.children).toHaveLength(0);
      expect(a.children[1].text).toBe('t');
      expect(a.children[0].children).toHaveLength(0);
    }
  });

  it('does not let a change to one element without children reach another', () => {
    const r = parseXml('<r><a/><b></b></r>');
    expect(() => r.children[0].children.push(r)).toThrow(TypeError);
    expect(r.children[1].children).toHaveLength(0);
    expect(parseXml('<x/>').children).toHaveLength(0);
  });

  it('keeps no element of a document once it is read', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const read = (): WeakRef<object>[] => {
      const root = parseXml(`<r><a${'x'.repeat(20)}><b/><c/></a${'x'.repeat(20)}><d/></r>`);
      return [root, root.children[0], ...root.children[0].children, root.children[1]].map((n) => new WeakRef(n));
    };
    const refs = read();
    // WeakRefs hold on until the current job ends.
    await new Promise((r) => setImmediate(r));
    gc();
    expect(refs).toHaveLength(5);
    expect(refs.map((w) => w.deref())).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('real AMT answers', () => {
  it('reads a Get with prefixes and every property', () => {
    const env = readEnvelope(fixture('AMT_GeneralSettings-Get.xml'));
    expect(env.header.action).toBe('http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse');
    const inst = readInstance(env);
    expect(inst.className).toBe('AMT_GeneralSettings');
    expect(inst.props.DigestRealm).toBe('Digest:62FFAC181B3F3457C5B3894ED21F3E6E');
    expect(inst.props.DomainName).toBe('');
  });

  it('reads just the properties asked for, each as the whole read gives it', () => {
    const dir = path.join(__dirname, '../../test/fixtures/amt');
    const gets = fs.readdirSync(dir).filter((f) => f.endsWith('-Get.xml'));
    expect(gets.length).toBeGreaterThan(10);
    for (const f of gets) {
      const env = readEnvelope(fixture(f));
      const whole = readInstance(env).props;
      const locals = [...new Set(Object.keys(whole).map((k) => k.replace(/^\{[^}]*\}/, '')))];
      for (const name of [...locals, 'NoSuchProperty']) {
        const expected = Object.fromEntries(Object.entries(whole).filter(([k]) => k === name || k.endsWith(`}${name}`)));
        expect({ f, name, props: { ...readInstance(env, [name]).props } }).toEqual({ f, name, props: expected });
      }
      const two = locals.slice(0, 2);
      expect({ ...readInstance(env, two).props }).toEqual(Object.fromEntries(Object.entries(whole).filter(([k]) => two.some((n) => k === n || k.endsWith(`}${n}`)))));
    }
  });

  it('reads the chunked HTTP capture once de-chunked', () => {
    const raw = fixture('http/AMT_GeneralSettings-Get.http');
    const [, chunked] = raw.split('\r\n\r\n');
    let body = '';
    let rest = chunked;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, nl), 16);
      if (!size) break;
      body += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    expect(readInstance(readEnvelope(body)).props).toEqual(readInstance(readEnvelope(fixture('AMT_GeneralSettings-Get.xml'))).props);
  });

  it('reads faults whose prefixes are reassigned', () => {
    const f = readFault(readEnvelope(fixture('Fault-AlreadyExists.xml')), 400);
    expect(f).toMatchObject({ code: 'WSMAN_FAULT', faultCode: 'Sender', subcode: 'AlreadyExists', httpStatus: 400 });
    expect(f?.reason).toMatch(/already exists/);
    const g = readFault(readEnvelope(fixture('Fault-DestinationUnreachable.xml')), 400);
    expect(g?.subcode).toBe('DestinationUnreachable');
  });

  it('reads partial and final Pull answers', () => {
    const partial = readPullResponse(readEnvelope(fixture('CIM_BootSourceSetting-Pull.xml')));
    expect(partial).toMatchObject({ end: false, context: '01000000-0000-0000-0000-000000000000' });
    expect(partial.items[0].props.InstanceID).toBe('Intel(r) AMT: Force Hard-drive Boot');
    const last = readPullResponse(readEnvelope(fixture('CIM_BootSourceSetting-Pull-EndOfSequence.xml')));
    expect(last).toMatchObject({ end: true, context: undefined });
    const empty = readPullResponse(readEnvelope(fixture('AMT_PublicKeyCertificate-Pull.xml')));
    expect(empty).toEqual({ items: [], end: true, context: undefined });
  });

  it('reads references as endpoint references with selectors', () => {
    const inst = readInstance(readEnvelope(fixture('CIM_AssociatedPowerManagementService-Get.xml')));
    expect(inst.props.ServiceProvided).toEqual({
      address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous',
      resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService',
      selectors: { CreationClassName: 'CIM_PowerManagementService', Name: 'Intel(r) AMT Power Management Service', SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' },
    });
  });
});
