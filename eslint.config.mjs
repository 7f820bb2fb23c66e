// Lint: typescript-eslint's recommended rules plus the layering of shared/DESIGN.md:
// infra -> workflows/activities -> src, workflows stay deterministic, src stays Temporal-free.
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
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: builtinPatterns, message: 'Workflows are deterministic sandboxes: no Node builtins.' },
            {
              group: ['@tensorflow/*', '@aws-sdk/*'],
              message: 'Workflows must not import tfjs or the AWS SDK; call an activity.',
            },
            {
              group: ['../infra/*', '../src/storage/*', '../src/engine/*'],
              message: 'Workflows import activity types and pure helpers only; nothing imports infra/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@temporalio/*'], message: 'src/ is a pure library: no Temporal imports.' },
            {
              group: [
                '../../infra/*',
                '../infra/*',
                '../../workflows/*',
                '../../activities/*',
                '../workflows/*',
                '../activities/*',
              ],
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
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['../infra/*', '../../infra/*'], message: 'Nothing imports infra/.' }],
        },
      ],
    },
  },
);
