/**
 * The simulated firmware is a second implementation, not the client's code played back: it parses,
 * encodes and names things with code of its own, so a mistake in the client's XML reader,
 * namespace table, PET encoder, Wake-on-LAN or RMCP codecs or Digest code shows up as a client that
 * the simulated PC does not understand.
 *  - No import of the client's protocol code (an import scan of packages/sim/src).
 *  - Its URI table agrees with what real AMT sends (the captures), Intel's wsman-messages and
 *    MeshCentral's AMT stack, not with the client's table.
 *  - Its request reader refuses what firmware refuses, and reads namespaces, not prefixes.
 *  - Its PET bytes are the PET 1.0 layout, checked byte by byte against values written out here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readEnvelope, readFault } from '../lib/wsman/envelope';
import { buildGet } from '../lib/wsman/messages';
import { dispatch, SimDevice } from '../packages/sim/src';
import { petBytes, SCENARIOS } from '../packages/sim/src/alerts';
import { SIM_PET_ENTERPRISE, SIM_PET_VARBIND, simSpecificTrap } from '../packages/sim/src/pet-encoder';
import { readRequestXml, RequestXmlError } from '../packages/sim/src/request-xml';
import { classUri, SIM_ACTION, SIM_ANONYMOUS, SIM_NS } from '../packages/sim/src/wsman-uris';

const ROOT = path.join(__dirname, '..');
const SIM_SRC = path.join(ROOT, 'packages/sim/src');

/**
 * The client modules the simulator may still import, each with why it is not the protocol code the
 * simulator must own. Anything else under lib/ is refused.
 */
const ALLOWED_CLIENT_IMPORTS: Readonly<Record<string, string>> = {
  'lib/ipmi/constants': 'IPMI BMC simulator: command numbers (its peer tests run against ipmi_sim and FreeIPMI)',
  'lib/ipmi/crypto': 'IPMI BMC simulator: RAKP key derivation (checked against ipmitool and FreeIPMI)',
  'lib/ipmi/packet': 'IPMI BMC simulator: session packets (checked against ipmitool and FreeIPMI)',
  'lib/ipmi/rakp': 'IPMI BMC simulator: RAKP messages (checked against ipmitool and FreeIPMI)',
  'lib/amt/redirection/protocol': "redirection port framing (IDE-R, SOL, KVM), checked against MeshCommander's IDE-R and a VNC viewer",
  'lib/amt/redirection/el-torito': 'reading the boot image the console serves, as a BIOS would (not a wire format)',
};

/** The protocol code the simulator must never share with the client (issue list of parts). */
const NEVER_SHARED = ['lib/wsman/', 'lib/asf/', 'lib/wol/', 'lib/rmcp', 'lib/errors', 'lib/amt/opt-in', 'lib/amt/audit-'];

/** Module specifiers of import, export-from, require() and import() in a source text. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

/** The lib/ modules (relative to the repository root, no extension) a file at `file` imports. */
function clientImports(file: string, source: string): string[] {
  return specifiers(source)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)).split(path.sep).join('/').replace(/\.(ts|js)$/, ''))
    .filter((rel) => rel.startsWith('lib/'));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|js)$/.test(e.name) ? [p] : [];
  });
}

describe('the simulator imports none of the client protocol code', () => {
  it('the scan sees each kind of import (or it would pass on anything)', () => {
    const file = path.join(SIM_SRC, 'classes/x.ts');
    const src = [
      "import { a } from '../../../../lib/wsman/xml';",
      "export { b } from '../../../../lib/asf/pet';",
      "const c = require('../../../../lib/wol/magic-packet');",
      "const d = await import('../../../../lib/errors');",
      "import '../../../../lib/rmcp/ping';",
      "import { e } from '../device';",
    ].join('\n');
    expect(clientImports(file, src)).toEqual(['lib/wsman/xml', 'lib/asf/pet', 'lib/wol/magic-packet', 'lib/errors', 'lib/rmcp/ping']);
  });

  it('packages/sim/src imports from lib/ only what is listed, and nothing of XML, namespaces, PET, WoL, RMCP, Digest or errors', () => {
    const files = sourceFiles(SIM_SRC);
    expect(files.length).toBeGreaterThan(30);
    const found: string[] = [];
    for (const f of files) {
      for (const mod of clientImports(f, fs.readFileSync(f, 'utf8'))) found.push(`${path.relative(ROOT, f)} -> ${mod}`);
    }
    const unlisted = found.filter((line) => !(line.split(' -> ')[1] in ALLOWED_CLIENT_IMPORTS));
    expect(unlisted).toEqual([]);
    for (const mod of Object.keys(ALLOWED_CLIENT_IMPORTS)) for (const never of NEVER_SHARED) expect(mod.startsWith(never)).toBe(false);
  });

  it('the simulator package declares the XML library it parses with', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/sim/package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(pkg.dependencies?.['fast-xml-parser']).toBeDefined();
    const uses = sourceFiles(SIM_SRC).some((f) => specifiers(fs.readFileSync(f, 'utf8')).includes('fast-xml-parser'));
    expect(uses).toBe(true);
  });
});

/** Text of every capture of real AMT answers in the repository. */
function captureText(): string {
  const dir = path.join(ROOT, 'test/fixtures/amt');
  const files = (function walk(d: string): string[] {
    return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  })(dir);
  return files.filter((f) => /\.(xml|http)$/.test(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
}

function packageText(dir: string, ext: RegExp): string {
  const walk = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name === 'node_modules' ? [] : walk(path.join(d, e.name))) : ext.test(e.name) ? [path.join(d, e.name)] : []));
  return walk(dir)
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
}

describe("the simulator's URIs are the ones real AMT and other stacks use", () => {
  const captures = captureText();
  const wsmanMessages = packageText(path.dirname(require.resolve('@device-management-toolkit/wsman-messages')), /\.js$/);
  const meshcentral = packageText(path.join(ROOT, 'node_modules/meshcentral/amt'), /\.js$/);

  /** URIs no capture or stack in reach spells out, defined by the specifications named. */
  const SPEC_ONLY: Readonly<Record<string, string>> = {
    [SIM_ACTION.release]: 'WS-Enumeration (2004/09) Release',
    [SIM_ACTION.renew]: 'WS-Eventing (2004/08) Renew',
    [SIM_ACTION.enumerationFault]: 'WS-Enumeration (2004/09) fault action',
    [SIM_ACTION.eventingFault]: 'WS-Eventing (2004/08) fault action',
  };

  const table: Array<[string, string]> = [
    ...Object.entries(SIM_NS).map(([k, v]): [string, string] => [`namespace ${k}`, v]),
    ...Object.entries(SIM_ACTION).map(([k, v]): [string, string] => [`action ${k}`, v]),
    ['anonymous address', SIM_ANONYMOUS],
    ['AMT class', classUri('AMT_GeneralSettings') as string],
    ['CIM class', classUri('CIM_PowerManagementService') as string],
    ['IPS class', classUri('IPS_OptInService') as string],
  ];

  it.each(table)('%s: %s', (_what, uri) => {
    const seen = captures.includes(uri) || wsmanMessages.includes(uri) || meshcentral.includes(uri);
    if (seen) return;
    const spec = SPEC_ONLY[uri];
    if (!spec) throw new Error(`${uri} is in no capture, in neither Intel's wsman-messages nor MeshCentral, and no specification is named for it`);
    // A specification-only action still lives under a namespace real AMT uses.
    const ns = uri.slice(0, uri.lastIndexOf('/'));
    expect(captures.includes(ns) || wsmanMessages.includes(ns) || meshcentral.includes(ns)).toBe(true);
  });

  it('a class outside the AMT, CIM and IPS families has no resource URI', () => {
    expect(classUri('XYZ_Thing')).toBeUndefined();
    expect(classUri('toString')).toBeUndefined();
    expect(classUri('__proto___x')).toBeUndefined();
  });
});

function device(): SimDevice {
  return new SimDevice({ name: 'pc-ind', uuid: '8a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d', mac: '02:00:86:00:00:31', user: 'admin', password: 'pw' });
}

describe("the simulator's request reader", () => {
  const GET = buildGet('AMT_GeneralSettings').xml;

  it('refuses DOCTYPE, entity declarations and entities other than the five XML ones', () => {
    expect(() => readRequestXml('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')).toThrow(/DOCTYPE and entity declarations are refused/);
    expect(() => readRequestXml('<?xml version="1.0"?>\n<!doctype x><x/>')).toThrow(/DOCTYPE and entity declarations are refused/);
    expect(() => readRequestXml('<x><!-- <!<!Entity --></x>')).toThrow(/DOCTYPE and entity declarations are refused/);
    expect(readRequestXml('<x><!-- <!DOCTYP --></x>').name).toBe('x');
    expect(() => readRequestXml('<x>&nbsp;</x>')).toThrow(/entity "&nbsp;" is not defined/);
    expect(() => readRequestXml('<x>&#0;</x>')).toThrow(/names no XML character/);
    expect(readRequestXml('<x a="&lt;&#x41;&quot;">&amp;&#66;&apos;</x>')).toMatchObject({ attrs: { a: '<A"' }, text: '&B\'' });
  });

  it('refuses malformed documents, undeclared prefixes, documents nested too deep', () => {
    expect(() => readRequestXml('<a><b></a>')).toThrow(RequestXmlError);
    expect(() => readRequestXml('<p:a/>')).toThrow(/prefix "p" of <p:a> is not declared/);
    expect(() => readRequestXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toThrow(/nested deeper than 32/);
    expect(() => readRequestXml('<a/><b/>')).toThrow(RequestXmlError);
    expect(() => readRequestXml(`<a ${Array.from({ length: 65 }, (_, i) => `x${i}="1"`).join(' ')}/>`)).toThrow(/more than 64 attributes/);
    // A name from the request is shortened before it goes into a fault reason.
    const long = `p${'x'.repeat(5000)}`;
    const e = (() => {
      try {
        readRequestXml(`<${long}:a/>`);
      } catch (x) {
        return x as Error;
      }
      return undefined;
    })();
    expect(e?.message).toMatch(/is not declared$/);
    expect(e!.message.length).toBeLessThan(200);
  });

  it('judges every document in full, though one it has read differs only in the MessageID', () => {
    const envelope = (id: string, header = '') =>
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">' +
      `<s:Header><a:MessageID>${id}</a:MessageID>${header}</s:Header><s:Body/></s:Envelope>`;
    const messageId = (xml: string) => readRequestXml(xml).children[0].children[0].text;
    for (let i = 0; i < 300; i++) expect(messageId(envelope(`uuid:0000-${i}`))).toBe(`uuid:0000-${i}`);
    expect(messageId(envelope('7'))).toBe('7');
    // The same document around another MessageID: what that text holds is still checked.
    expect(() => readRequestXml(envelope('uuid:1<b>'))).toThrow(/^malformed XML at line 1: Expected closing tag 'b'/);
    expect(() => readRequestXml(envelope('uuid:1&bogus;'))).toThrow(/entity "&bogus;" is not defined/);
    expect(() => readRequestXml(envelope('uuid:1</a:MessageID><a:MessageID>'))).not.toThrow();
    // And so is everything else.
    expect(readRequestXml(envelope('uuid:2', '<a:To>x</a:To>')).children[0].children).toHaveLength(2);
    expect(() => readRequestXml(envelope('uuid:2', '<a:To s:x="1" s:x="2">x</a:To>'))).toThrow(/Attribute 's:x' is repeated/);
    expect(() => readRequestXml(envelope('uuid:2', '<a:To>x</a:T0>'))).toThrow(RequestXmlError);
  });

  it('resolves names through their scope: a prefix redeclared inside an element does not leak to its siblings', () => {
    const root = readRequestXml('<r xmlns:p="urn:one"><x xmlns:p="urn:two"><p:k/></x><p:k/></r>');
    expect(root.children[0].children[0]).toMatchObject({ ns: 'urn:two', name: 'k' });
    expect(root.children[1]).toMatchObject({ ns: 'urn:one', name: 'k' });
  });

  it('answers any prefixes the client picks, and faults a header in another namespace than AMT uses', () => {
    const d = device();
    const renamed = GET.replace(/\b(a|w):/g, 'q$1:').replace(/xmlns:(a|w)=/g, 'xmlns:q$1=').replace(/<(\/?)(Envelope|Header|Body)\b/g, '<$1soap:$2').replace('xmlns="', 'xmlns:soap="');
    expect(renamed).not.toBe(GET);
    expect(dispatch(d, renamed).status).toBe(200);
    // The 2004/08 addressing namespace misspelt: AMT does not see an Action or MessageID header.
    const misspelt = GET.replace(/http:\/\/schemas\.xmlsoap\.org\/ws\/2004\/08\/addressing/g, 'http://schemas.xmlsoap.org/ws/2004/08/adressing');
    const a = dispatch(d, misspelt);
    expect(a.status).toBe(400);
    expect(readFault(readEnvelope(a.xml), 400)?.subcode).toBe('MessageInformationHeaderRequired');
  });

  it('an undefined entity in a request is an InvalidMessage fault, not a crash', () => {
    const a = dispatch(device(), GET.replace('<Body>', '<Body>&bogus;'));
    expect(a.status).toBe(400);
    expect(readFault(readEnvelope(a.xml), 400)?.subcode).toBe('InvalidMessage');
  });
});

describe('PET bytes from the PET 1.0 / ASF 2.0 layout', () => {
  it('chassis opened: every field where the specification puts it', () => {
    const d = device();
    // 2026-01-02T03:04:05Z = 1767323045 Unix; PET counts from 1998-01-01 (883612800).
    const bytes = petBytes(d, SCENARIOS['chassis-opened'].event!, { time: 1767323045 });
    const expected = [
      '8a3b0c1d2e4f4a5b8c6d7e8f9a0b1c2d', // system GUID (the device UUID)
      '0001', // sequence: the device's first trap
      (1767323045 - 883612800).toString(16).padStart(8, '0'), // seconds since 1998
      '0000', // UTC offset 0 minutes
      '20', // trap source: platform firmware
      '68', // event source: ASF
      '10', // severity: critical
      'ff', // sensor device: unspecified
      '01', // sensor number
      '17', // entity: system chassis
      '00', // entity instance
      '00ffffffffffffff', // event data 1 = offset 0 (general chassis intrusion), the rest unused
      '19', // language: English
      '00000157', // IANA 343, Intel
      '0000', // system ID
      'c1', // end of OEM custom fields
    ].join('');
    expect(bytes.toString('hex')).toBe(expected);
  });

  it('a deassertion: severity 04h (OK), sequence counts on, the offset in event data 1 with its high bits kept', () => {
    const d = device();
    petBytes(d, SCENARIOS['fan-failure'].event!, { time: 1767323045 });
    const b = petBytes(d, SCENARIOS['fan-failure'].event!, { time: 1767323045, deassert: true });
    expect(b.readUInt16BE(16)).toBe(2);
    expect(b[26]).toBe(0x04);
    expect(b.subarray(31, 39).toString('hex')).toBe('520010ffffffffff');
  });

  it('specific trap numbers: sensor type, event type, deassertion bit, offset', () => {
    expect(simSpecificTrap(0x05, 0x6f, 0, false)).toBe(0x056f00);
    expect(simSpecificTrap(0x04, 0x01, 2, true)).toBe(0x040182);
    expect(SIM_PET_ENTERPRISE).toBe('1.3.6.1.4.1.3183.1.1');
    expect(SIM_PET_VARBIND).toBe(`${SIM_PET_ENTERPRISE}.1`);
  });
});
