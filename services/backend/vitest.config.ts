import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./test/support/globalDatabase.ts'],
    // The real-cluster suite runs only through `npm run test:kind`.
    exclude: ['**/node_modules/**', 'test/kind/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files that start servers run one after another.
    fileParallelism: false,
  },
});
