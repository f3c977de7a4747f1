import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { generateYolo, zipBuffer } from '@vtp/sample-data';
import { scrapeMetrics } from '@vtp/service-kit';
import { createS3Client, parseS3Uri } from '@vtp/service-kit/s3';
import type { Dataset, Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oomKillCount } from '../../../../packages/trainer-runtime/src/runner/oomKills.ts';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import {
  childPids,
  events,
  finished,
  pidsMatching,
  predict,
  startLongTraining,
  trainerPython,
  waitFor,
  waitForJob,
} from '../support/training.ts';
import { upload, uploadSample } from '../support/uploads.ts';

/** What a runner killed with SIGKILL fails as: `killed`, unless the kernel cannot tell it from the OOM killer. */
const sigkillCode = async () => ((await oomKillCount()) === undefined ? 'out_of_memory' : 'killed');

/**
 * Real trainings end to end in subprocess mode: the backend spawns the real trainer services, which run the real
 * Ultralytics and timm code on the CPU on small generated datasets.
 */
describe('training end to end (EXECUTION_MODE=subprocess)', () => {
  let t: TestBackend;
  let user: ApiClient;
  let yolo: Dataset;
  let images: Dataset;

  beforeAll(async () => {
    trainerPython();
    t = await startTestBackend({
      RUN_DISPATCHER: 'true',
      MONITOR_INTERVAL_MS: '500',
      HEARTBEAT_TIMEOUT_SECONDS: '20',
      MAX_JOBS_PER_FRAMEWORK: '2',
      MAX_JOBS_PER_USER: '4',
    });
    user = await t.newUser();
    yolo = await uploadSample(user, 'yolo');
    images = await uploadSample(user, 'imagefolder');
  });
  afterAll(() => t?.stop());

  const s3 = () => createS3Client({ ...t.s3, region: 'us-east-1', forcePathStyle: true });

  it.each([
    ['ultralytics', 'yolo11n', () => yolo.id, { epochs: 2, imgsz: 64, batch: 4 }, 'metrics/mAP50(B)'],
    ['timm', 'test_resnet', () => images.id, { epochs: 2, imgsz: 64, batch: 4 }, 'val/top1'],
  ] as const)(
    '%s trains for real: every epoch stored, checkpoints in S3, best checkpoint predicts',
    async (framework, model, dataset, hyperparameters, metric) => {
      const before = await scrapeMetrics(t.backend.url);
      const created = await user.post<Job>('/v1/jobs', {
        framework,
        model,
        datasetId: dataset(),
        hyperparameters,
      });
      expect(created.status).toBe(201);
      const job = await waitForJob(user, created.body.id, finished);
      expect(job.error).toBeNull();
      expect(job.status).toBe('succeeded');
      expect(job.progress).toEqual({ epoch: 2, totalEpochs: 2, fraction: 1, phase: null });
      expect(job.latestMetrics?.[metric]).toEqual(expect.any(Number));

      const history = await events(user, job.id);
      const progress = history.filter((e) => e.type === 'progress');
      expect(progress.map((e) => e.payload.epoch)).toEqual([1, 2]);
      for (const e of progress)
        expect((e.payload.metrics as Record<string, number>)[metric]).toEqual(expect.any(Number));
      expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
      expect(history.at(-1)?.type).toBe('completed');

      const kinds = job.artifacts.map((a) => a.kind).sort();
      expect(kinds).toEqual(expect.arrayContaining(['best', 'last', 'log']));
      const client = s3();
      for (const artifact of job.artifacts) {
        const { bucket, key } = parseS3Uri(artifact.uri);
        expect(key.startsWith(`jobs/${job.id}/`)).toBe(true);
        const stored = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await stored.Body!.transformToByteArray();
        expect(bytes.length).toBe(artifact.bytes);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
      }

      const best = job.artifacts.find((a) => a.kind === 'best');
      const { bucket, key } = parseS3Uri(best?.uri ?? '');
      const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const checkpoint = join(t.dataDir, `${job.id}-${key.split('/').at(-1)}`);
      await writeFile(checkpoint, await body.Body!.transformToByteArray());
      const sample =
        framework === 'ultralytics' ? generateYolo({ seed: 99, trainImages: 1, valImages: 1 }) : undefined;
      const imageEntry = (
        sample ??
        (await import('@vtp/sample-data')).generateImagefolder({ seed: 99, trainPerClass: 1, valPerClass: 1 })
      ).entries.find((e) => e.path.endsWith('.png'));
      const image = join(t.dataDir, `${job.id}.png`);
      await writeFile(image, imageEntry?.data ?? Buffer.alloc(0));
      const prediction = (await predict(framework, checkpoint, image)) as Record<string, unknown>;
      if (framework === 'ultralytics') expect(prediction.boxes).toEqual(expect.any(Array));
      else expect(['blue', 'green', 'red']).toContain(prediction.class_name);

      const log = await user.get(`/v1/jobs/${job.id}/logs`);
      expect(log.status).toBe(200);
      expect(log.text.length).toBeGreaterThan(0);

      // Its journey, one observation each: queue wait, hand-over, first epoch, training time.
      const after = await scrapeMetrics(t.backend.url);
      const journey = [
        'vtp_job_queue_wait_seconds_count',
        'vtp_job_handover_duration_seconds_count',
        'vtp_job_time_to_first_epoch_seconds_count',
        'vtp_job_training_duration_seconds_count',
      ];
      expect(journey.map((name) => after.sum(name, { framework }) - before.sum(name, { framework }))).toEqual(
        [1, 1, 1, 1],
      );
      // The control loops ran all along, each pass timed.
      for (const loop of ['dispatcher', 'monitor'])
        expect(after.sum('vtp_control_loop_pass_duration_seconds_count', { loop })).toBeGreaterThan(0);
      const firstEpoch = after.sum('vtp_job_time_to_first_epoch_seconds_sum', { framework });
      expect(
        firstEpoch - before.sum('vtp_job_time_to_first_epoch_seconds_sum', { framework }),
      ).toBeGreaterThan(0);
    },
    // The first training also starts its trainer service (Python imports): slow on a busy machine.
    180_000,
  );

  it('cancels mid-training: cancelled, partial checkpoints kept, runner process group gone', async () => {
    const id = await startLongTraining(user, images.id);
    expect((await pidsMatching(id)).length).toBeGreaterThan(0);
    const cancel = await user.post<Job>(`/v1/jobs/${id}/cancel`);
    expect(cancel.status).toBe(202);
    const job = await waitForJob(user, id, finished, 60_000);
    expect(job.status).toBe('cancelled');
    expect(job.artifacts.map((a) => a.kind)).toContain('last');
    await waitFor('the runner to be gone', async () => (await pidsMatching(id)).length === 0, 15_000);
  });

  // Ultralytics loads in the training process on the CPU whatever `workers` says (its trainer sets 0 there).
  it.each([['timm', 'test_resnet', () => images.id, { epochs: 500, imgsz: 64, batch: 2 }]] as const)(
    '%s with dataloader workers: a cancel still ends as cancelled, and every worker goes with the runner',
    async (framework, model, dataset, hyperparameters) => {
      const created = await user.post<Job>('/v1/jobs', {
        framework,
        model,
        datasetId: dataset(),
        hyperparameters: { ...hyperparameters, workers: 2 },
        maxRetries: 0,
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      await waitForJob(user, id, (j) => j.progress.epoch >= 1, 180_000);
      // The runner and its two loader processes (forked, so they carry the runner's command line).
      await waitFor('the loader workers', async () => (await pidsMatching(id)).length >= 3, 30_000);
      expect((await user.post<Job>(`/v1/jobs/${id}/cancel`)).status).toBe(202);
      const job = await waitForJob(user, id, finished, 60_000);
      expect(job.status).toBe('cancelled');
      expect(job.artifacts.map((a) => a.kind)).toContain('last');
      await waitFor('every worker to be gone', async () => (await pidsMatching(id)).length === 0, 15_000);
      const log = (await user.get(`/v1/jobs/${id}/logs`)).text;
      expect(log).toMatch(/workers: 2, mixed precision: False/);
    },
  );

  it('kill -9 of the runner fails the job with a reason', async () => {
    const id = await startLongTraining(user, images.id);
    const runners = await waitFor('the runner', async () => {
      const pids = await pidsMatching(`${id}/config.json`);
      return pids.length ? pids : undefined;
    });
    for (const pid of runners) process.kill(pid, 'SIGKILL');
    const job = await waitForJob(user, id, finished, 60_000);
    expect(job.status).toBe('failed');
    // The kernel's count of OOM kills tells a kill -9 from the OOM killer's work, where it can be read (as here).
    expect(job.error?.code).toBe(await sigkillCode());
    expect(job.error?.message).toContain('SIGKILL');
  });

  it.each([
    ['ultralytics', 'yolo11n', () => yolo.id, { epochs: 30, imgsz: 64, batch: 4 }, 'metrics/mAP50(B)'],
    ['timm', 'test_resnet', () => images.id, { epochs: 40, imgsz: 64, batch: 2 }, 'val/top1'],
  ] as const)(
    '%s: a runner killed mid-training is retried, resuming from its last checkpoint: every epoch trained once',
    async (framework, model, dataset, hyperparameters, metric) => {
      const created = await user.post<Job>('/v1/jobs', {
        framework,
        model,
        datasetId: dataset(),
        hyperparameters,
        // Where the kernel cannot tell a kill -9 from the OOM killer's, it is taken for the latter: retry that too.
        retryOnOutOfMemory: true,
      });
      const id = created.body.id;
      // Killed as soon as its first checkpoint is stored: with this many epochs, well before the end.
      await waitForJob(
        user,
        id,
        (j) => j.artifacts.some((a) => a.kind === 'last' && (a.epoch ?? 0) >= 1),
        180_000,
        20,
      );
      for (const pid of await pidsMatching(`${id}/config.json`)) process.kill(pid, 'SIGKILL');

      const job = await waitForJob(user, id, finished, 240_000);
      expect(job.status).toBe('succeeded');
      expect(job.attempt).toBe(2);
      expect(job.attempts.map((a) => [a.attempt, a.status, a.error?.code ?? null])).toEqual([
        [1, 'failed', await sigkillCode()],
        [2, 'succeeded', null],
      ]);
      const from = job.attempts[1]?.resumedFromEpoch ?? 0;
      expect(from).toBeGreaterThanOrEqual(1);
      expect(from).toBeLessThan(hyperparameters.epochs);
      expect(job.progress.epoch).toBe(hyperparameters.epochs);

      const history = await events(user, id);
      expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
      expect(history.find((e) => e.type === 'retrying')).toMatchObject({
        attempt: 1,
        payload: { nextAttempt: 2, resumeFromEpoch: from, error: { code: await sigkillCode() } },
      });
      const epochs = history.filter((e) => e.type === 'progress' && !e.superseded);
      const all = Array.from({ length: hyperparameters.epochs }, (_, i) => i + 1);
      expect(epochs.map((e) => e.payload.epoch)).toEqual(all);
      expect(epochs.filter((e) => e.attempt === 2).map((e) => e.payload.epoch)[0]).toBe(from + 1);

      const client = s3();
      for (const artifact of job.artifacts) {
        const { bucket, key } = parseS3Uri(artifact.uri);
        const stored = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await stored.Body!.transformToByteArray();
        if (artifact.sha256) expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
        if (artifact.kind === 'metrics') {
          const file = JSON.parse(Buffer.from(bytes).toString()) as { epochs: Record<string, number>[] };
          expect(file.epochs).toHaveLength(hyperparameters.epochs);
          for (const e of file.epochs) expect(e[metric]).toEqual(expect.any(Number));
        }
      }
      expect(job.artifacts.find((a) => a.kind === 'metrics')?.uri).toContain(`jobs/${id}/attempts/2/`);
      await waitFor('the runners to be gone', async () => (await pidsMatching(id)).length === 0, 15_000);
    },
    360_000,
  );

  it('kill -9 of the trainer service: the job fails with a reason, the service comes back, no runner outlives it', async () => {
    const id = await startLongTraining(user, images.id);
    const [service] = await childPids(process.pid, 'trainer-timm/src/main.ts');
    expect(service).toBeDefined();
    process.kill(service as number, 'SIGKILL');
    const job = await waitForJob(user, id, finished, 60_000);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('trainer_unavailable');
    expect(job.error?.message).toContain('SIGKILL');
    await waitFor(
      'the runner to exit with its service',
      async () => (await pidsMatching(id)).length === 0,
      15_000,
    );
    const restarted = await waitFor('a new trainer service', async () => {
      const pids = await childPids(process.pid, 'trainer-timm/src/main.ts');
      return pids.find((p) => p !== service);
    });
    expect(restarted).not.toBe(service);
    const next = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: images.id,
      hyperparameters: { epochs: 1, imgsz: 64, batch: 4 },
    });
    expect((await waitForJob(user, next.body.id, finished)).status).toBe('succeeded');
  });

  it('a broken dataset that passed the upload checks fails fast with the framework reason', async () => {
    const dataset = generateYolo({ seed: 5, trainImages: 4, valImages: 2 });
    // The upload check judges images by name; the framework finds out this one is not a PNG at all.
    const entries = dataset.entries.map((e) =>
      e.path.startsWith('images/') ? { ...e, data: Buffer.from('this is not an image') } : e,
    );
    const res = await upload(user, { name: 'broken', format: 'yolo' }, await zipBuffer(entries));
    expect(res.status).toBe(201);
    const created = await user.post<Job>('/v1/jobs', {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: (res.body as Dataset).id,
      hyperparameters: { epochs: 1, imgsz: 64, batch: 2 },
    });
    const job = await waitForJob(user, created.body.id, finished, 90_000);
    expect(job.status).toBe('failed');
    expect(['invalid_dataset', 'framework_error']).toContain(job.error?.code);
    expect(job.error?.message.length).toBeGreaterThan(10);
  });
});
