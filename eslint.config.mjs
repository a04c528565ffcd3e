import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default [
  { ignores: ['**/node_modules', '**/dist', '**/.local', '**/.nx', '**/coverage', '**/*.js', '**/*.mjs'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // A service may use libs only; never another service.
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            // Libs never reach up into services.
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            // Contracts are the bottom of the graph: they depend on nothing of ours.
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [] },
            // Cross-service tests drive services over HTTP and Kafka, never by importing them.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            // On Node 20 an AsyncLocalStorage in use makes every promise of the process pay for
            // promise hooks (~8% of POST /v1/feedback's throughput): pass the RequestContext instead.
            ...['async_hooks', 'node:async_hooks'].map((name) => ({
              name,
              message:
                'No async hooks or AsyncLocalStorage in services and libs: pass the RequestContext explicitly (contextOf(request), @RequestCtx()).',
            })),
          ],
          patterns: [
            {
              group: ['@llmops/*/*'],
              message: 'Import libs only through their public entry, e.g. "@llmops/platform".',
            },
          ],
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
];
