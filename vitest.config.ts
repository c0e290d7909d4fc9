import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/leftovers.ts'],
    // Integration tests start real Python workers; TensorFlow alone takes seconds to import.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: running files one at a time keeps worker start-up times predictable.
    fileParallelism: false,
  },
});
