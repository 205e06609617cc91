import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One private redis-server for the whole run; every test isolates itself with its own key prefix.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites drive real processes and servers; a small machine runs a few files at once.
    maxWorkers: 3,
  },
});
