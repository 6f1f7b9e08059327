// Lint rules that hold the architecture of STYLE.md: the folders are the layers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const processes = ['controller', 'node-agent', 'storage'];
const crossProcessZones = processes.flatMap((target) =>
  processes
    .filter((from) => from !== target)
    .map((from) => ({
      target: `./${target}`,
      from: `./${from}`,
      message: 'controller/, node-agent/ and storage/ never import each other: meet through proto/ and shared/.',
    })),
);

export default tseslint.config(
  { ignores: ['node_modules/**', '.bulwark/**', 'shared/rpc/generated/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-default-export': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...crossProcessZones,
            {
              target: './shared',
              from: ['./controller', './node-agent', './storage', './test', './bench', './scripts'],
              message: 'shared/ is the leaf: it imports nothing else of ours.',
            },
            {
              target: ['./controller', './node-agent', './storage', './shared'],
              from: ['./test', './bench'],
              message: 'production code never imports test/ or bench/.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'no `export *`: export names explicitly.' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Domain code receives its ports; only edges and composition roots touch the infrastructure.
    files: [
      'controller/catalog/**', 'controller/jobs/**',
      'node-agent/backup/**', 'node-agent/restore/**',
      'storage/datastore/**', 'storage/replication/**', 'storage/repair/**',
    ],
    ignores: ['**/*.test.ts', '**/sqlite-*.ts', '**/grpc-*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['@grpc/grpc-js', 'nats', 'better-sqlite3'].map((name) => ({
            name,
            message: 'domain code never imports infrastructure: receive a port instead.',
          })),
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'domain code never reads process.env: take it from config.' },
        { object: 'Date', property: 'now', message: 'use the injected Clock.' },
        { object: 'Math', property: 'random', message: 'take randomness from a port.' },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['controller/cli/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'import-x/no-default-export': 'off' },
  },
);
