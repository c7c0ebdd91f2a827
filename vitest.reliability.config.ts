import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: crash, chaos, fuzz, SSRF and isolation tests (test/reliability/, docs/reliability.md).
// HOOKYARD_RELIABILITY=fast runs the CI subset: the same tests with fewer repetitions and smaller counts.
const fast = process.env.HOOKYARD_RELIABILITY === 'fast';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    // The suite's files are skipped unless this is set, so the main config can pick them up harmlessly.
    env: { HOOKYARD_RELIABILITY_SUITE: 'true' },
    // Each test bounds its own waits; these only stop a hang.
    testTimeout: fast ? 180_000 : 600_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Each file starts its own servers and databases; two cores, so two at a time.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
