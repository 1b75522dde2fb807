#!/usr/bin/env node
// The simulator is compiled with the rest of the repository (`npm run build` at its root), into
// dist/packages/sim/src beside the runtime it drives.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', '..', '..', 'dist', 'packages', 'sim', 'src', 'cli.js');
if (!fs.existsSync(built)) {
  process.stderr.write(`oob-sim: ${built} is missing; run \`npm run build\` in the repository first\n`);
  process.exit(1);
}
require(built)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`oob-sim: ${(e && e.stack) || String(e)}\n`);
      process.exit(1);
    },
  );
