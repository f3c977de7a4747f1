import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Job, JobEvent } from '@vtp/shared-schemas';
import { resolvePython } from '../../../../packages/trainer-runtime/src/python-env/index.ts';
import type { ApiClient } from './apiClient.ts';

export const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
const run = promisify(execFile);

/** The trainers' Python (prepared by `npm run python:env`, which the root `npm test` runs first). */
export function trainerPython(): string {
  const python = resolvePython(repoRoot);
  if (!python)
    throw new Error(
      'No Python environment for the trainers: run `npm test` from the repository root (it prepares one) or `npm run python:env`',
    );
  return python;
}

export async function waitForJob(
  client: ApiClient,
  jobId: string,
  until: (job: Job) => boolean,
  timeoutMs = 180_000,
  pollMs = 250,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await client.get<Job>(`/v1/jobs/${jobId}`)).body;
    if (until(job)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Starts a timm training far longer than any test waits for, and returns its id once its first epoch is
 * reported: a training that is really running, to cancel or kill. It is not retried (a test that kills it wants
 * to see it end), unless `maxRetries` says so.
 */
export async function startLongTraining(
  client: ApiClient,
  datasetId: string,
  timeoutMs = 180_000,
  maxRetries = 0,
): Promise<string> {
  const created = await client.post<Job>('/v1/jobs', {
    framework: 'timm',
    model: 'test_resnet',
    datasetId,
    hyperparameters: { epochs: 500, imgsz: 64, batch: 2 },
    maxRetries,
  });
  if (created.status !== 201) throw new Error(`could not create the job: ${created.text}`);
  await waitForJob(client, created.body.id, (j) => j.progress.epoch >= 1, timeoutMs);
  return created.body.id;
}

export const finished = (job: Job) => ['succeeded', 'failed', 'cancelled'].includes(job.status);

export async function events(client: ApiClient, jobId: string): Promise<JobEvent[]> {
  return (await client.get<{ items: JobEvent[] }>(`/v1/jobs/${jobId}/events?limit=1000`)).body.items;
}

/** Pids of live processes whose command line contains `needle` (e.g. a job id in a runner's config path). */
export async function pidsMatching(needle: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', needle]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

export async function childPids(parent: number, needle: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-P', String(parent), '-f', needle]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs a trainer's predict.py on a checkpoint and one image; returns its JSON line. */
export async function predict(
  framework: 'ultralytics' | 'timm',
  checkpoint: string,
  image: string,
): Promise<unknown> {
  const { stdout } = await run(
    trainerPython(),
    [
      join(repoRoot, 'services', `trainer-${framework}`, 'runner', 'predict.py'),
      '--checkpoint',
      checkpoint,
      '--image',
      image,
      '--imgsz',
      '64',
    ],
    {
      env: { ...process.env, PYTHONPATH: join(repoRoot, 'packages', 'trainer-runtime', 'python') },
      cwd: join(checkpoint, '..'),
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}
