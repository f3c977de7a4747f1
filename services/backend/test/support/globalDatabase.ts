import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vtp/service-kit';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
  }
}

/**
 * One PostgreSQL server for the whole run: DATABASE_URL when set (CI has one), else a real embedded one. Each
 * test file then creates and drops its own throwaway database in it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('serverUrl', process.env.DATABASE_URL);
    return async () => undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), 'vtp-test-pg-'));
  const pg = await startEmbeddedPostgres(dir, createLogger('test-postgres', 'warn'));
  project.provide('serverUrl', pg.url);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
