import { defineConfig } from 'vitest/config';

// End-to-end: the real production build in headless Chromium. One file at a time: each drives its own browser
// on a 2-core machine, and parallel runs would distort each other's timings and time out.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
