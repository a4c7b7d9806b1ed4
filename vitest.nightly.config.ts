import { defineConfig } from 'vitest/config';

// Nightly-style suite: large models on software GPU backends (too slow for every commit).
export default defineConfig({
  test: { include: ['tests/nightly/**/*.e2e.ts'], environment: 'node', fileParallelism: false, testTimeout: 1_800_000 },
});
