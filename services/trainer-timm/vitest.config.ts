import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real trainings on two cores: one file at a time.
    fileParallelism: false,
  },
});
