/** Child of the hostile-LAN benchmark: one XML reading measured in a fresh process (see measureParse). */
import { measureParse } from '../test/hostile-lan/xml-documents';

const [which, size] = process.argv.slice(2);
process.stdout.write(JSON.stringify(measureParse(which, Number(size))) + '\n');
