import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The reliability suite (crash, chaos, fuzz, SSRF, isolation) has its own config and script:
    // `npm run test:reliability` (vitest.reliability.config.ts); .ci/run runs it after `npm test`.
    exclude: [...configDefaults.exclude, 'test/reliability/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own servers and databases; two cores, so two at a time.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
