import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/leftovers.ts', 'test/ray-global.ts'],
    // Integration tests start real Python workers; TensorFlow alone takes seconds to import.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Stopping the shared Ray cluster (test/ray-global.ts) takes longer than the default 10 s.
    teardownTimeout: 60_000,
    // Two cores: running files one at a time keeps worker start-up times predictable.
    fileParallelism: false,
  },
});
