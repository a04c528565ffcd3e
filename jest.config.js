// One jest run for every tier: *.spec.ts (unit), *.int-spec.ts (real Kafka/MongoDB) and
// *.e2e-spec.ts (across services). Global setup starts the infrastructure once and hands
// its addresses to the workers through environment variables.
process.env.TZ = 'UTC';

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/test/bench/'],
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swc },
  // content-disposition 3 (required by @fastify/static, which serves the /docs UI) is ESM-only;
  // transform it to CommonJS like our own code instead of skipping it with the rest of node_modules.
  transformIgnorePatterns: [
    '/node_modules/(?!(content-disposition|@platformatic/kafka|@platformatic/dynamic-buffer|@platformatic/wasm-utils|scule)/)',
  ],
  moduleNameMapper: {
    '^@llmops/(contracts|platform|testing|hashing|stats|experiments|prompts)$':
      '<rootDir>/libs/$1/src/index.ts',
    '^@llmops/local-infra$': '<rootDir>/deploy/local/src/index.ts',
    '^@llmops/demo$': '<rootDir>/tools/demo/src/index.ts',
    '^@llmops/client$': '<rootDir>/libs/sdk/src/index.ts',
    '^@llmops/route-table$': '<rootDir>/tools/route-table/src/index.ts',
  },
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
  testTimeout: 120_000,
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  // A worker whose heap has grown past this after a file is replaced before the next one: a long-lived
  // worker's large heap makes its garbage collections long, and the liveness tests that serve
  // requests in-process would count those pauses against the service.
  workerIdleMemoryLimit: '512MB',
  // Tests that start processes must stop them; this surfaces a leak instead of hanging CI.
  forceExit: false,
  verbose: false,
};
