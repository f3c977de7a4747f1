import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // kubectl kustomize and shellcheck are separate processes; two cores are shared with other suites.
    testTimeout: 60_000,
    fileParallelism: false,
  },
});
