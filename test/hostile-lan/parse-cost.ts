/** Child process: `node --expose-gc --import tsx parse-cost.ts <case|typical> <bytes>` prints measureParse as JSON. */
import { measureParse } from './xml-documents';

const [which, size] = process.argv.slice(2);
process.stdout.write(JSON.stringify(measureParse(which, Number(size))) + '\n');
