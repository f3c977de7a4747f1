import { defineConfig } from 'vitest/config';

// `npm run test:kind`: only the real-cluster suite, with long timeouts (image pulls, scheduling).
export default defineConfig({
  test: {
    include: ['test/kind/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
