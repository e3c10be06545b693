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
  // Synthesis with cdk-nag is CPU-bound; the CI machine has 2 cores.
  maxWorkers: 2,
  testTimeout: 120000,
};
