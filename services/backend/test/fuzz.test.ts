import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@vtp/service-kit';
import type { Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testToolPath } from '../../../packages/trainer-runtime/src/python-env/index.ts';
import { ApiClient } from './support/apiClient.ts';
import { dispatchByHand } from './support/dispatchByHand.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from './support/throwawayDatabase.ts';
import { repoRoot } from './support/training.ts';
import { uploadSample } from './support/uploads.ts';

const run = promisify(execFile);
/** The number of test cases schemathesis generated (and all passed), from its summary line. */
const generated = (output: string) => Number(/(\d+) generated, \1 passed/.exec(output)?.[1] ?? 0);
const ADMIN_KEY = 'vtp_fuzz_admin_key_0123456789abcdef';
/** What every generated request must satisfy: never a 5xx, and only statuses, types and bodies the document states. */
const CHECKS =
  'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance';

/**
 * schemathesis against the real backend (a child process, as deployed), with a real user key and a real
 * callback token: generated and mutated requests for every operation in the OpenAPI document. The event and
 * log streams are left out: they stay open while their job runs, which a request-per-case fuzzer reads as a hang.
 */
describe('fuzzing the API with schemathesis', () => {
  let database: ThrowawayDatabase;
  let dataDir: string;
  let backend: ChildProcess;
  let url: string;
  let user: ApiClient;
  let job: Job;
  let callbackToken: string;

  beforeAll(async () => {
    database = await createThrowawayDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'vtp-fuzz-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    backend = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'main.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: String(port),
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        ADMIN_API_KEY: ADMIN_KEY,
        RUN_DISPATCHER: 'false',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline || backend.exitCode !== null) throw new Error('the backend did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    const admin = new ApiClient(url, ADMIN_KEY);
    const created = await admin.post<{ key: string }>('/v1/api-keys', { user: 'fuzz@example.com' });
    user = new ApiClient(url, created.body.key);
    const dataset = await uploadSample(user, 'imagefolder');
    job = (
      await user.post<Job>('/v1/jobs', { framework: 'timm', model: 'test_resnet', datasetId: dataset.id })
    ).body;
    callbackToken = await dispatchByHand(database.url, job.id);
  });
  afterAll(async () => {
    backend?.kill('SIGTERM');
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const schemathesis = async (schema: string, token: string, extra: string[]) => {
    const st = testToolPath(repoRoot, 'st');
    if (!st) throw new Error('schemathesis is not installed: run `npm test` from the repository root');
    const result = await run(
      st,
      [
        'run',
        schema,
        '--url',
        url,
        '-H',
        `Authorization: Bearer ${token}`,
        '--checks',
        CHECKS,
        // Coverage walks every schema boundary (2^31 for an Int32, a NUL in a string); one worker, because
        // hypothesis' lambda descriptions hit a CPython AST race ("recursion depth mismatch") with several.
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--max-examples',
        '30',
        '--workers',
        '1',
        '--seed',
        '1',
        '--exclude-path-regex',
        '/(events|logs)$',
        ...extra,
      ],
      { cwd: dataDir, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
    ).catch((err: { code?: number; stdout?: string }) => ({
      stdout: err.stdout ?? String(err),
      failed: true,
    }));
    return { failed: 'failed' in result, output: result.stdout };
  };

  it('no generated request gets a 5xx or an undocumented answer, with a user key', async () => {
    const document = join(dataDir, 'openapi.json');
    await writeFile(document, await (await fetch(`${url}/openapi.json`)).text());
    const fuzz = await schemathesis(document, user.key as string, ['--exclude-path-regex', 'callback$']);
    expect(fuzz.failed, fuzz.output.slice(-4000)).toBe(false);
    expect(generated(fuzz.output)).toBeGreaterThan(300);
  }, 300_000);

  it("nor on a real job's callback route, with that job's token", async () => {
    // The document with the callback path pinned to the real job, so the token is the right one for it.
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    const callback = document.paths['/v1/jobs/{id}/callback'] as { post: { parameters?: { in: string }[] } };
    callback.post.parameters = (callback.post.parameters ?? []).filter((p) => p.in !== 'path');
    document.paths = { [`/v1/jobs/${job.id}/callback`]: callback };
    const file = join(dataDir, 'callback.json');
    await writeFile(file, JSON.stringify(document));
    const fuzz = await schemathesis(file, callbackToken, []);
    expect(fuzz.failed, fuzz.output.slice(-4000)).toBe(false);
    expect(generated(fuzz.output)).toBeGreaterThan(30);
  }, 300_000);

  it('the backend is the same process at the end, and healthy', async () => {
    expect(backend.exitCode).toBeNull();
    expect(backend.signalCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
