/**
 * Jest runs the TypeScript tests through ts-jest, offline: they only synthesize.
 * Transpile only (isolatedModules in tsconfig.json); `npm test` type-checks everything with tsc first.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // One worker: each worker loads aws-cdk-lib and compiles the tests again; on the 2-core CI
  // machine one worker measured faster (83 s against 110 s for two).
  maxWorkers: 1,
  testTimeout: 120000,
};
