#!/usr/bin/env node
// `npm run mutate [-- [--force] module.ts ...]`: StrykerJS on each module in turn (all of
// scripts/mutation-targets.js when none is named), reports under reports/mutation/<module>/.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { TARGETS } = require('./mutation-targets.js');

const root = path.resolve(__dirname, '..');
// Options (--force: forget the incremental results and test every mutant again) go to Stryker.
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const asked = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'))
  .map((a) => path.relative(root, path.resolve(a)).split(path.sep).join('/'));
const unknown = asked.filter((a) => !TARGETS[a]);
if (unknown.length) {
  console.error(`not a mutation target: ${unknown.join(', ')}; targets: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
// A renamed or deleted test file would silently leave a module with fewer tests: refuse instead.
const fs = require('node:fs');
const missing = Object.values(TARGETS)
  .flat()
  .filter((t) => !fs.existsSync(path.join(root, t)));
if (missing.length) {
  console.error(`scripts/mutation-targets.js lists test files that do not exist: ${[...new Set(missing)].join(', ')}`);
  process.exit(2);
}
const stryker = path.join(path.dirname(require.resolve('@stryker-mutator/core/package.json', { paths: [root] })), 'bin', 'stryker.js');
let failed = 0;
for (const target of asked.length ? asked : Object.keys(TARGETS)) {
  console.log(`\n== mutation testing ${target}`);
  const r = spawnSync(process.execPath, [stryker, 'run', 'stryker.config.mjs', ...flags], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, OOBKIT_MUTATE: target },
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
