import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The runtime package does not ship the simulator, so shipped code must not import it.
const noSimulator = { regex: '(^|/)packages/sim(/|$)|^@oobkit/oob-sim(/|$)', message: 'The simulator (packages/sim) is not shipped; lib/ and nodes/ must not import it.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.demo/**', 'test-output/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node-red', '@node-red/*', '../../nodes/*', '../nodes/*'] }, noSimulator] }],
    },
  },
  {
    // Node-RED's own convention: `const node = this` inside a node constructor.
    files: ['nodes/**/*.ts'],
    rules: { '@typescript-eslint/no-this-alias': 'off', 'no-restricted-imports': ['error', { patterns: [noSimulator] }] },
  },
  {
    // Tests load node modules the way Node-RED does, with require().
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', setInterval: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
