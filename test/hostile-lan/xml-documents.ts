/**
 * Documents a hostile device (or anyone answering in its place) could send the XML reader, next
 * to a typical answer of the same size. Sizes are in bytes; each builder returns about that many.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseXml, toPlain } from '../../lib/wsman/xml';

// From test/hostile-lan, or from dist/test/hostile-lan when the benchmark runs compiled.
const FIXTURES = [path.join(__dirname, '..', 'fixtures', 'amt'), path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'amt')].find((d) => fs.existsSync(d)) ?? '';

/** A real AMT_GeneralSettings Get answer, its instance repeated as the items of a Pull answer. */
export function typicalReply(bytes: number): string {
  const get = fs.readFileSync(path.join(FIXTURES, 'AMT_GeneralSettings-Get.xml'), 'utf8');
  const open = get.slice(get.indexOf('<a:Envelope'), get.indexOf('<a:Body>'));
  const item = get.slice(get.indexOf('<g:AMT_GeneralSettings>'), get.indexOf('</a:Body>'));
  const head = `${open.replace('<a:Envelope ', '<a:Envelope xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" ')}<a:Body><n:PullResponse><n:Items>`;
  const tail = '</n:Items><n:EndOfSequence/></n:PullResponse></a:Body></a:Envelope>';
  const count = Math.max(1, Math.round((bytes - head.length - tail.length) / item.length));
  return head + item.repeat(count) + tail;
}

function element(bytes: number, open: string, unit: string, close: string): string {
  return open + unit.repeat(Math.max(1, Math.floor((bytes - open.length - close.length) / unit.length))) + close;
}

export const WORST_CASES: Record<string, (bytes: number) => string> = {
  /** One element with as many attributes as fit (duplicate detection must not be pairwise). */
  attributes: (bytes) => {
    const parts: string[] = ['<x'];
    let length = 4;
    for (let i = 0; ; i++) {
      const a = ` a${i}=""`;
      if (length + a.length > bytes) break;
      parts.push(a);
      length += a.length;
    }
    parts.push('/>');
    return parts.join('');
  },
  /** Nothing but &amp; (341 MB for 1.5 M of them with a regex replace). */
  entities: (bytes) => element(bytes, '<x>', '&amp;', '</x>'),
  /** Character references to astral characters. */
  charRefs: (bytes) => element(bytes, '<x>', '&#x10FFFF;', '</x>'),
  /** Text cut by comments into one-character pieces. */
  textPieces: (bytes) => element(bytes, '<x>', 'a<!---->', '</x>'),
  /** Empty siblings. */
  elements: (bytes) => element(bytes, '<x>', '<y/>', '</x>'),
  /** Siblings each declaring namespaces (scopes must not be copied). */
  namespaces: (bytes) => {
    const root = '<x' + Array.from({ length: 60 }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('') + '>';
    return element(bytes, root, '<p1:y xmlns:q="urn:q"/>', '</x>');
  },
  /** Repeated same-named children (arrays in plain values). */
  repeats: (bytes) => element(bytes, '<x>', '<A>1</A>', '</x>'),
};

/** Limits that let a measurement reach the input's full size (caps are tested separately). */
export const UNCAPPED = { maxBytes: 1 << 30, maxElements: Infinity, maxAttributes: Infinity, maxTextLength: Infinity, maxDepth: 64 };

export interface ParseCost {
  which: string;
  bytes: number;
  cpuMs: number;
  peakGrowthKiB: number;
}

/**
 * Builds one document and reads it (parseXml and toPlain): CPU time and the growth of the peak
 * resident set while reading. Meant for a fresh process (run with --expose-gc), so one case's
 * garbage stays out of the next one's peak.
 */
export function documentFor(which: string, bytes: number): string {
  return which === 'typical' ? typicalReply(bytes) : WORST_CASES[which](bytes);
}

export function measureParse(which: string, bytes: number): ParseCost {
  return measureReading(which, documentFor(which, bytes));
}

/** Reads `doc` as measureParse does; the document was made before (elsewhere, so its making leaves no peak here). */
export function measureReading(which: string, doc: string): ParseCost {
  (globalThis as { gc?: () => void }).gc?.();
  const rss0 = process.resourceUsage().maxRSS;
  const cpu0 = process.cpuUsage();
  toPlain(parseXml(doc, UNCAPPED));
  const cpu = process.cpuUsage(cpu0);
  return { which, bytes: doc.length, cpuMs: (cpu.user + cpu.system) / 1000, peakGrowthKiB: process.resourceUsage().maxRSS - rss0 };
}
