import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The backend's own: one PostgreSQL for the run (DATABASE_URL or an embedded one), a database per file.
    globalSetup: ['../../services/backend/test/support/globalDatabase.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
