import { defineConfig } from 'vitest/config';

// Nightly-style suite: large models on software GPU backends, and the slow paths of the e2e files (too slow for
// every commit). Only tests with "nightly" in their full name run: tests/nightly/*, and the e2e files' tests marked
// "(nightly)", which tests/e2e/harness.ts's NIGHTLY switches on here.
export default defineConfig({
  test: {
    include: ['tests/nightly/**/*.e2e.ts', 'tests/e2e/**/*.e2e.ts'],
    testNamePattern: /nightly/,
    env: { LATENCY_LAB_NIGHTLY: '1' },
    environment: 'node',
    fileParallelism: false,
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
  },
});
