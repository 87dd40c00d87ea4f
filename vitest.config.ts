import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // fails the suite if a process any test started is still running at the end
    globalSetup: ['test/helpers/leak-guard.ts'],
  },
});
