// Lint: typescript-eslint's recommended rules plus the type-aware ones that
// catch lost promises, on src, test and bench (type information from
// tsconfig.json through the project service); Prettier owns the layout.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins,
// no I/O clients, no activity-side modules (type-only imports are fine).
const notInWorkflows = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  'minio',
  'kafkajs',
  '@tensorflow/tfjs-node',
  'fastify',
  'undici',
];

// The store layer (src/store/) owns every object key and every write to the
// buckets: elsewhere in src/, no key fragment is spelled out and no object is
// written or removed directly (docs/design.md, "Where each object lives").
const keyFragment = /(_claims|_staging-|lineage\/|candidates\/|registry\/|deploy\.lock|deployments\.json)/.source;
const storeWrites = /^(putObject|fPutObject|copyObject|removeObject|removeObjects)$/.source;
const storeFence = [
  { selector: `Literal[value=/${keyFragment}/]`, message: 'object keys are named in src/store/layout.ts only' },
  { selector: `TemplateElement[value.raw=/${keyFragment}/]`, message: 'object keys are named in src/store/layout.ts only' },
  {
    selector: `CallExpression[callee.property.name=/${storeWrites}/]`,
    message: 'objects are written and removed through the store layer (src/store/) only',
  },
];

// Layers (docs/design.md, "Architecture"): dependencies point down. The
// libraries know nothing of the entry points, activities, workflows or the
// command line; serving knows nothing of the command line, the training
// activities or the workflows (not even their types).
const upward = (groups, message) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: groups, message }] }],
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'artifacts/', 'src/**/*.generated.*', 'src/savedmodel/proto/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: notInWorkflows.map((name) => ({
            name,
            message: 'workflow code must stay deterministic (docs/design.md)',
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: [
                '../activities/*',
                '../serving/*',
                '../storage/*',
                '../messaging/*',
                '../store/*',
                '!../store/layout',
                '!../store/lease-terms',
                '../savedmodel/*',
                '../cli/*',
                '../process/*',
                '../config',
                '../ml/*',
                '!../ml/option-bounds',
              ],
              message: 'workflow code imports only its own folder (and pure libraries); activities do the I/O',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/{store,ml,messaging,savedmodel,storage,digest}/**/*.ts'],
    rules: upward(
      ['**/activities', '**/activities/**', '**/workflows', '**/workflows/**', '**/serving/**', '**/cli/**'],
      'a library does not import the layers above it (docs/design.md, "Architecture")',
    ),
  },
  {
    files: ['src/serving/**/*.ts'],
    rules: upward(
      ['**/cli/**', ...['..', '../..'].flatMap((up) => [`${up}/activities`, `${up}/activities/*`]), '**/workflows', '**/workflows/**'],
      'serving does not import the command line, the training activities or the workflows',
    ),
  },
  {
    // the offline tier (vitest.unit.config.mts) is chosen by folder: its tests reach no server
    files: ['test/unit/**/*.test.ts', 'test/messaging/**/*.test.ts', 'test/workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/helpers/minio',
                '**/helpers/system',
                '**/helpers/stack-bin',
                '**/src/storage/minio-client',
                '**/src/messaging/kafka',
              ],
              message: 'a test in an offline folder (test/unit, test/messaging, test/workflows) must not need a server: put it elsewhere',
              allowTypeImports: true,
            },
            {
              group: ['**/helpers/temporal', '**/src/temporal/connection'],
              importNames: ['startWorker', 'connectClient'],
              message: 'workflow tests in an offline folder run on the time-skipping test server (test/helpers/time-skipping.ts)',
            },
          ],
        },
      ],
    },
  },
  {
    // functions short enough to read at once (comments and blank lines count too)
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/storage/**'],
    rules: { 'no-restricted-syntax': ['error', ...storeFence] },
  },
  {
    files: ['**/*.mjs', '**/*.mts', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        setTimeout: 'readonly',
      },
    },
  },
  // layout is Prettier's (npm run format); no lint rule may disagree with it
  prettier,
);
