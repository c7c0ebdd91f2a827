import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own servers and databases; two cores, so two at a time.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
