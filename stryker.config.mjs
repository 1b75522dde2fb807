// Mutation testing of the protocol and policy modules, one module per Stryker run: run it through
// `npm run mutate` (scripts/mutate.js), which sets OOBKIT_MUTATE to the module. Slow (minutes per
// module on two cores), so it is not part of `npm test` or CI. See README, "Development".
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { TARGETS } = require('./scripts/mutation-targets.js');

const target = process.env.OOBKIT_MUTATE;
if (!target || !TARGETS[target]) {
  throw new Error(`OOBKIT_MUTATE must name one of: ${Object.keys(TARGETS).join(', ')} (use npm run mutate)`);
}
// reports/mutation/lib-wol-magic-packet/...
const slug = target.replace(/\.ts$/, '').replace(/[/\\]/g, '-');
const out = `reports/mutation/${slug}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: { testMatch: TARGETS[target].map((t) => `<rootDir>/${t}`) },
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  mutate: [target],
  // The machine is shared: one test process at a time.
  concurrency: 1,
  // A mutant that loops forever costs this much over the tests' own time.
  timeoutMS: 10000,
  // A change re-tests only the mutants it touches. One file per module (a run of one module must
  // not forget the others'); machine-local state under the ignored reports/ folder.
  incremental: true,
  incrementalFile: `${out}/stryker-incremental.json`,
  reporters: ['html', 'json', 'clear-text', 'progress-append-only'],
  htmlReporter: { fileName: `${out}/mutation.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  ignorePatterns: ['dist', 'reports', '.demo', 'test-output', 'coverage', '.peers', 'bench/results*'],
  thresholds: { high: 90, low: 80, break: null },
};
