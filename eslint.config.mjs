// Lint: typescript-eslint's recommended rules plus the layering of shared/DESIGN.md:
// infra -> workflows -> activities -> src (workflows take activity types only), workflows stay
// deterministic, src stays Temporal-free; lines at most 120 characters (prettier wraps code, this
// catches long strings and comments). Import circles are madge's (infra/scripts/lint.sh).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'stream',
  'timers',
  'worker_threads',
  'zlib',
  'url',
  'util',
];
const builtinPatterns = nodeBuiltins.flatMap((m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'scratch/**', 'test/zz-*', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-len': ['error', { code: 120, tabWidth: 2 }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: builtinPatterns, message: 'Workflows are deterministic sandboxes: no Node builtins.' },
            {
              group: ['@tensorflow/*', '@aws-sdk/*'],
              message: 'Workflows must not import tfjs or the AWS SDK; call an activity.',
            },
            {
              group: ['**/infra/**', '**/src/storage/**', '**/src/engine/**'],
              message: 'Workflows import activity types and pure helpers only; nothing imports infra/.',
            },
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows import activity types only (`import type`): activities run outside the sandbox.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@temporalio/*'], message: 'src/ is a pure library: no Temporal imports.' },
            {
              group: ['**/infra/**', '**/workflows/**', '**/activities', '**/activities/**'],
              message: 'src/ imports nothing above it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/infra/**'], message: 'Nothing imports infra/.' },
            {
              group: ['**/workflows/**'],
              message: 'Activities never import from workflows/: shared names live in src/.',
            },
          ],
        },
      ],
    },
  },
);
