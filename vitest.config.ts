import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Tests against the real engine share one Docker daemon on two cores; keep them from starving
    // each other so a timing-sensitive test (cancellation within 7 s) measures the action, not the
    // machine.
    fileParallelism: false,
    reporters: ['default'],
  },
});
