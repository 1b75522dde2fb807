/**
 * Child process: `node --expose-gc --import tsx parse-cost.ts <case|typical> <file>` reads the
 * document in <file> and prints measureReading as JSON. The document is made by the parent: making
 * it here could raise the peak resident set above what reading it does, and hide the reading's.
 */
import * as fs from 'node:fs';
import { measureReading } from './xml-documents';

const [which, file] = process.argv.slice(2);
process.stdout.write(JSON.stringify(measureReading(which, fs.readFileSync(file, 'utf8'))) + '\n');
