// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Only Error values are thrown: a catch can always read a message and a stack.
      'no-throw-literal': 'error',
    },
  },
  // Dependencies point one way (docs/ARCHITECTURE.md): entries → app → engine → runtime, and
  // the base (config, logs, workflow, results) imports only the base.
  ...layers(),
  {
    // Only config/ reads the environment; an entry hands it over.
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/entries.ts', 'src/run-cli.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only config/ reads the environment.' },
      ],
    },
  },
  {
    // Parts a newcomer can hold (docs/ARCHITECTURE.md): no function over 60 lines, no file over
    // 400, counted as written.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, IIFEs: true }],
      'max-lines': ['error', { max: 400 }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

/** One block per layer: what it may not import (every layer above it). */
function layers() {
  const entries = [
    '**/entries.js',
    '**/run-action.js',
    '**/run-cli.js',
    '**/run-plan.js',
    '**/run-post.js',
    '**/run-reduce.js',
    '**/step.js',
    '**/verdict-guard.js',
  ];
  const app = ['**/run.js', '**/app/**', '**/mapreduce/**', '**/report/**'];
  const engine = ['**/cook.js', '**/engine/**'];
  const runtime = ['**/runtime/**'];
  /** @param {string[]} files @param {string[]} group @param {string} what */
  const forbid = (files, group, what) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group, message: `${what} (docs/ARCHITECTURE.md).` }] },
      ],
    },
  });
  return [
    forbid(
      ['src/run.ts', 'src/mapreduce/**', 'src/report/**'],
      entries,
      'The app does not import the entries',
    ),
    forbid(
      ['src/cook.ts', 'src/engine/**'],
      [...entries, ...app],
      'The engine imports only the runtime and the base',
    ),
    forbid(['src/runtime/**'], [...entries, ...app, ...engine], 'A runtime imports only the base'),
    forbid(
      ['src/config/**', 'src/logs/**', 'src/workflow/**', 'src/results/**'],
      [...entries, ...app, ...engine, ...runtime],
      'The base imports only the base',
    ),
  ];
}
