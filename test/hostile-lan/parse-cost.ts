/**
 * Child process: builds one document, then reads it with the XML reader (and toPlain) and prints
 * the CPU time and the growth of the peak resident set while reading, as JSON. Run as
 * `node --import tsx parse-cost.ts <case|typical> <bytes>`; a fresh process per measurement
 * keeps one case's garbage out of the next one's peak.
 */
import { parseXml, toPlain } from '../../lib/wsman/xml';
import { typicalReply, UNCAPPED, WORST_CASES } from './xml-documents';

const [which, size] = process.argv.slice(2);
const bytes = Number(size);
const doc = which === 'typical' ? typicalReply(bytes) : WORST_CASES[which](bytes);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rss0 = process.resourceUsage().maxRSS;
const cpu0 = process.cpuUsage();
const root = parseXml(doc, UNCAPPED);
toPlain(root);
const cpu = process.cpuUsage(cpu0);
const rss1 = process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify({ which, bytes: doc.length, cpuMs: (cpu.user + cpu.system) / 1000, peakGrowthKiB: rss1 - rss0 }) + '\n');
