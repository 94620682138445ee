/**
 * Tests run the TypeScript sources directly (transpile only); the global setup type-checks and
 * builds dist/ first, for the tests that run bin/seqlab as a child process.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/global-setup.js',
};
