import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createLogger, type Scrape, scrapeMetrics } from '@vtp/service-kit';
import { createS3Client } from '@vtp/service-kit/s3';
import type { Dataset, Job, JobEvent } from '@vtp/shared-schemas';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../src/backend.ts';
import { loadBackendConfig } from '../src/config.ts';
import type { ApiClient } from './support/apiClient.ts';
import { dispatchByHand } from './support/dispatchByHand.ts';
import { createJob as createJobFor, reportEvent } from './support/jobs.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { waitFor } from './support/training.ts';
import { uploadSample } from './support/uploads.ts';

type ProblemBody = { code: string; issues?: { path: string; message: string }[] };
const now = () => new Date().toISOString();

describe('training jobs', () => {
  let t: TestBackend;
  let user: ApiClient;
  let yolo: Dataset;
  let images: Dataset;

  beforeAll(async () => {
    t = await startTestBackend();
    user = await t.newUser();
    yolo = await uploadSample(user, 'yolo');
    images = await uploadSample(user, 'imagefolder');
  });
  afterAll(() => t?.stop());

  const createJob = (body: Record<string, unknown> = {}) => createJobFor(user, yolo.id, body);
  const callback = (jobId: string, token: string, event: Record<string, unknown>) =>
    reportEvent(t.anonymous, jobId, token, event);
  /** How much each metric (summed over series that carry `labels`) grew since `before`. */
  const growth = async (before: Scrape, metrics: [string, Record<string, string>][]) => {
    const after = await scrapeMetrics(t.backend.url);
    return Object.fromEntries(
      metrics.map(([name, labels]) => [
        `${name}${JSON.stringify(labels)}`,
        after.sum(name, labels) - before.sum(name, labels),
      ]),
    );
  };

  it('lists the models each framework can train', async () => {
    const res = await user.get<{ items: { framework: string; name: string; task: string }[] }>('/v1/models');
    expect(res.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ framework: 'ultralytics', name: 'yolo11n', task: 'detect' }),
        expect.objectContaining({ framework: 'timm', name: 'test_resnet', task: 'classify' }),
      ]),
    );
  });

  it('creates a queued job with the framework defaults filled in', async () => {
    const job = await createJob({ hyperparameters: { epochs: 3, imgsz: 64 } });
    expect(job).toMatchObject({
      status: 'queued',
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: yolo.id,
    });
    expect(job.hyperparameters).toMatchObject({
      epochs: 3,
      imgsz: 64,
      batch: 16,
      lr0: 0.01,
      optimizer: 'auto',
    });
    expect(job.progress).toEqual({ epoch: 0, totalEpochs: 0, fraction: 0, phase: null });
    expect(job.export).toEqual([]);
    expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body).toEqual(job);
  });

  it('keeps the export formats asked for (test/e2e/export.test.ts runs the export)', async () => {
    const job = await createJob({ export: ['onnx'] });
    expect(job).toMatchObject({ kind: 'training', exportOf: null, export: ['onnx'] });
    expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body.export).toEqual(['onnx']);
  });

  describe('POST /v1/jobs/{id}/exports', () => {
    /** A job of the user's that succeeded with a best checkpoint (reported as its trainer would). */
    async function succeededJob(owner: ApiClient, datasetId: string, withBest = true): Promise<string> {
      const job = await createJobFor(owner, datasetId);
      const token = await dispatchByHand(t.database.url, job.id);
      const best = { kind: 'best', uri: `s3://vtp-test/jobs/${job.id}/weights/best.pt`, bytes: 10, epoch: 1 };
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 1 });
      await callback(job.id, token, {
        seq: 2,
        type: 'completed',
        metrics: {},
        artifacts: withBest ? [best] : [],
      });
      return job.id;
    }

    it('queues an export job of the caller, which exports the best checkpoint of the job it names', async () => {
      const source = await succeededJob(user, yolo.id);
      const res = await user.post<Job>(`/v1/jobs/${source}/exports`, { format: 'onnx' });
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toBe(`/v1/jobs/${res.body.id}`);
      expect(res.body).toMatchObject({
        kind: 'export',
        exportOf: source,
        status: 'queued',
        framework: 'ultralytics',
        model: 'yolo11n',
        export: ['onnx'],
        artifacts: [],
      });
      expect((await user.get<Job>(`/v1/jobs/${res.body.id}`)).body).toEqual(res.body);
      // An export job is no training to export.
      const again = await user.post<ProblemBody>(`/v1/jobs/${res.body.id}/exports`, { format: 'onnx' });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('not_exportable');
    });

    it('lets the dataset of the exported job go while the export waits: an export never reads it', async () => {
      const owner = await t.newUser();
      const dataset = await uploadSample(owner, 'yolo');
      const source = await succeededJob(owner, dataset.id);
      const exporting = await owner.post<Job>(`/v1/jobs/${source}/exports`, { format: 'onnx' });
      expect(exporting.body.status).toBe('queued');
      expect((await owner.delete(`/v1/datasets/${dataset.id}`)).status).toBe(204);
    });

    it('refuses a job that did not succeed or has no checkpoint (409), an unknown format (422), and others’ jobs (404)', async () => {
      const queued = await createJob();
      const notYet = await user.post<ProblemBody>(`/v1/jobs/${queued.id}/exports`, { format: 'onnx' });
      expect(notYet.status).toBe(409);
      expect(notYet.headers.get('content-type')).toContain('application/problem+json');
      expect(notYet.body.code).toBe('job_not_succeeded');

      const bare = await succeededJob(user, yolo.id, false);
      const nothing = await user.post<ProblemBody>(`/v1/jobs/${bare}/exports`, { format: 'onnx' });
      expect(nothing.status).toBe(409);
      expect(nothing.body.code).toBe('nothing_to_export');

      const source = await succeededJob(user, yolo.id);
      for (const [body, path] of [
        [{ format: 'tflite' }, 'body.format'],
        [{}, 'body.format'],
        [{ format: 'onnx', imgsz: 640 }, 'body'],
      ] as const) {
        const bad = await user.post<ProblemBody>(`/v1/jobs/${source}/exports`, body);
        expect(bad.status).toBe(422);
        expect(bad.body.issues?.map((i) => i.path)).toContain(path);
      }

      const other = await t.newUser();
      const theirs = await other.post<ProblemBody>(`/v1/jobs/${source}/exports`, { format: 'onnx' });
      expect(theirs.status).toBe(404);
      expect(theirs.body.code).toBe('job_not_found');
      const missing = await user.post<ProblemBody>(`/v1/jobs/${crypto.randomUUID()}/exports`, {
        format: 'onnx',
      });
      expect(missing.status).toBe(404);
      // Nothing was queued by any of them.
      const exports = (await user.get<{ items: Job[] }>('/v1/jobs?limit=100')).body.items.filter(
        (j) => j.kind === 'export',
      );
      expect(exports.map((j) => j.exportOf)).not.toContain(source);
    });
  });

  it.each([
    ['an unknown model', { model: 'yolo99x' }, 'body.model'],
    ['an unknown hyperparameter', { hyperparameters: { epochs: 2, lr: 0.1 } }, 'body.hyperparameters'],
    ['an out-of-range hyperparameter', { hyperparameters: { epochs: 0 } }, 'body.hyperparameters.epochs'],
    ['a wrong type', { hyperparameters: { batch: 'big' } }, 'body.hyperparameters.batch'],
    ['an unknown framework', { framework: 'keras' }, 'body.framework'],
    ['a bad resource quantity', { resources: { memory: 'lots' } }, 'body.resources.memory'],
    ['more CPU than one job may have', { resources: { cpu: '99999' } }, 'body.resources.cpu'],
    ['more memory than one job may have', { resources: { memory: '1Ti' } }, 'body.resources.memory'],
    ['more GPUs than one job may have', { resources: { gpu: 16 } }, 'body.resources.gpu'],
    ['an unknown export format', { export: ['tflite'] }, 'body.export.0'],
    ['an export format asked for twice', { export: ['onnx', 'onnx'] }, 'body.export'],
  ])('refuses %s with a 422 naming the field', async (_label, patch, path) => {
    const res = await user.post<ProblemBody>('/v1/jobs', {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: yolo.id,
      ...patch,
    });
    expect(res.status).toBe(422);
    expect(res.body.issues?.map((i) => i.path)).toContain(path);
  });

  it('refuses a dataset whose format does not fit the framework', async () => {
    const res = await user.post<ProblemBody>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: yolo.id,
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('dataset_format_mismatch');
    const ok = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: images.id,
    });
    expect(ok.status).toBe(201);
  });

  it('an Idempotency-Key makes a retried create return the same job; reuse with another body is refused', async () => {
    const headers = { 'idempotency-key': 'retry-me-1' };
    const body = {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: yolo.id,
      hyperparameters: { epochs: 2 },
    };
    const first = await user.post<Job>('/v1/jobs', body, { headers });
    const second = await user.post<Job>('/v1/jobs', body, { headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const other = await user.post<ProblemBody>(
      '/v1/jobs',
      { ...body, hyperparameters: { epochs: 3 } },
      { headers },
    );
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_reused');
    // Keys are per user: another user's same key makes their own job.
    const eve = await t.newUser();
    const evesData = await uploadSample(eve, 'yolo');
    const theirs = await eve.post<Job>('/v1/jobs', { ...body, datasetId: evesData.id }, { headers });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it('lists jobs with filters and cursor pagination', async () => {
    const u = await t.newUser();
    const d = await uploadSample(u, 'imagefolder');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await u.post<Job>('/v1/jobs', { framework: 'timm', model: 'test_resnet', datasetId: d.id })).body.id,
      );
    }
    await u.post(`/v1/jobs/${ids[0]}/cancel`);
    const page1 = await u.get<{ items: Job[]; nextCursor: string }>('/v1/jobs?limit=2');
    const page2 = await u.get<{ items: Job[]; nextCursor: string | null }>(
      `/v1/jobs?limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect([...page1.body.items, ...page2.body.items].map((j) => j.id)).toEqual([...ids].reverse());
    expect(page2.body.nextCursor).toBeNull();
    const cancelled = await u.get<{ items: Job[] }>('/v1/jobs?status=cancelled');
    expect(cancelled.body.items.map((j) => j.id)).toEqual([ids[0]]);
    expect((await u.get<{ items: Job[] }>('/v1/jobs?framework=ultralytics')).body.items).toEqual([]);
    expect((await u.get('/v1/jobs?status=weird')).status).toBe(422);
  });

  it('another user can never read, list, use or cancel my jobs (404)', async () => {
    const job = await createJob();
    const eve = await t.newUser();
    expect((await eve.get(`/v1/jobs/${job.id}`)).status).toBe(404);
    expect((await eve.get(`/v1/jobs/${job.id}/events`)).status).toBe(404);
    expect((await eve.post(`/v1/jobs/${job.id}/cancel`)).status).toBe(404);
    expect((await eve.get<{ items: Job[] }>('/v1/jobs')).body.items.map((j) => j.id)).not.toContain(job.id);
    const use = await eve.post<ProblemBody>('/v1/jobs', {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: yolo.id,
    });
    expect(use.status).toBe(422);
    expect(use.body.code).toBe('dataset_not_found');
    expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body.status).toBe('queued');
  });

  it('cancels a queued job at once; cancelling again returns it unchanged', async () => {
    const job = await createJob();
    const res = await user.post<Job>(`/v1/jobs/${job.id}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.finishedAt).not.toBeNull();
    const again = await user.post<Job>(`/v1/jobs/${job.id}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('cancelled');
  });

  describe('attempts: automatic retries and resume', () => {
    const progress = (seq: number, epoch: number) => ({
      seq,
      type: 'progress',
      epoch,
      totalEpochs: 3,
      metrics: { 'train/loss': 1 / epoch },
    });
    const checkpoint = (jobId: string, seq: number, epoch: number) => ({
      seq,
      type: 'checkpoint',
      epoch,
      artifacts: [{ kind: 'last', uri: `s3://vtp-test/jobs/${jobId}/weights/last.pt`, bytes: 10, epoch }],
    });
    const history = async (id: string) =>
      (await user.get<{ items: JobEvent[] }>(`/v1/jobs/${id}/events`)).body.items;

    it('an infrastructure failure queues the next attempt: old tokens revoked, its events follow on, retrained epochs superseded', async () => {
      const metrics = await scrapeMetrics(t.backend.url);
      const job = await createJob({ hyperparameters: { epochs: 3 } });
      expect(job).toMatchObject({ maxRetries: 2, retryOnOutOfMemory: false, attempt: 1 });
      const first = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, first, { seq: 1, type: 'started', totalEpochs: 3 });
      await callback(job.id, first, progress(2, 1));
      await callback(job.id, first, checkpoint(job.id, 3, 1));
      await callback(job.id, first, progress(4, 2)); // its checkpoint never made it
      const stall = { code: 'stalled', message: 'No progress while training for 600s' };
      expect((await callback(job.id, first, { seq: 5, type: 'failed', error: stall })).body.accepted).toBe(
        true,
      );

      const retried = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(retried).toMatchObject({ status: 'queued', attempt: 2, error: null, finishedAt: null });
      expect(retried.progress.epoch).toBe(1);
      expect(retried.attempts).toMatchObject([
        { attempt: 1, status: 'failed', resumedFromEpoch: null, error: stall },
        { attempt: 2, status: 'queued', resumedFromEpoch: 1, error: null, startedAt: null },
      ]);
      expect((await callback(job.id, first, { seq: 6, type: 'heartbeat' })).status).toBe(401);
      const before = await history(job.id);
      expect(before.at(-1)).toMatchObject({
        seq: 6,
        attempt: 1,
        type: 'retrying',
        payload: { nextAttempt: 2, resumeFromEpoch: 1, error: stall },
      });
      expect(before.filter((e) => e.superseded).map((e) => e.payload.epoch)).toEqual([2]);

      const second = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, second, { seq: 7, type: 'started', totalEpochs: 3 });
      await callback(job.id, second, progress(8, 2));
      await callback(job.id, second, progress(9, 3));
      await callback(job.id, second, { seq: 10, type: 'completed', metrics: {}, artifacts: [] });
      const done = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(done.status).toBe('succeeded');
      expect(done.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, 'failed'],
        [2, 'succeeded'],
      ]);
      const after = await history(job.id);
      expect(after.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(
        after.filter((e) => e.type === 'progress' && !e.superseded).map((e) => [e.attempt, e.payload.epoch]),
      ).toEqual([
        [1, 1],
        [2, 2],
        [2, 3],
      ]);
      const yolo = { framework: 'ultralytics' };
      expect(
        await growth(metrics, [
          ['vtp_job_attempt_failures_total', { ...yolo, reason: 'stalled' }],
          ['vtp_job_retries_total', { ...yolo, reason: 'stalled' }],
          ['vtp_jobs_finished_total', { ...yolo, outcome: 'succeeded' }],
          ['vtp_jobs_finished_total', { ...yolo, outcome: 'failed' }],
          // Each attempt's first epoch: 1 for the first, 2 for the one resumed from epoch 1.
          ['vtp_job_time_to_first_epoch_seconds_count', yolo],
          ['vtp_job_training_duration_seconds_count', { ...yolo, outcome: 'failed' }],
          ['vtp_job_training_duration_seconds_count', { ...yolo, outcome: 'succeeded' }],
        ]),
      ).toEqual({
        'vtp_job_attempt_failures_total{"framework":"ultralytics","reason":"stalled"}': 1,
        'vtp_job_retries_total{"framework":"ultralytics","reason":"stalled"}': 1,
        'vtp_jobs_finished_total{"framework":"ultralytics","outcome":"succeeded"}': 1,
        'vtp_jobs_finished_total{"framework":"ultralytics","outcome":"failed"}': 0,
        'vtp_job_time_to_first_epoch_seconds_count{"framework":"ultralytics"}': 2,
        'vtp_job_training_duration_seconds_count{"framework":"ultralytics","outcome":"failed"}': 1,
        'vtp_job_training_duration_seconds_count{"framework":"ultralytics","outcome":"succeeded"}': 1,
      });
    });

    it("never retries the user's errors, nor any failure when maxRetries is 0", async () => {
      for (const [body, code] of [
        [{}, 'invalid_dataset'],
        [{}, 'framework_error'],
        [{}, 'out_of_memory'],
        [{ maxRetries: 0 }, 'lost'],
      ] as const) {
        const job = await createJob(body);
        const token = await dispatchByHand(t.database.url, job.id);
        await callback(job.id, token, { seq: 1, type: 'failed', error: { code, message: 'no' } });
        const state = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
        expect([code, state.status, state.attempt]).toEqual([code, 'failed', 1]);
      }
      const oom = await createJob({ retryOnOutOfMemory: true });
      const token = await dispatchByHand(t.database.url, oom.id);
      await callback(oom.id, token, {
        seq: 1,
        type: 'failed',
        error: { code: 'out_of_memory', message: 'no' },
      });
      expect((await user.get<Job>(`/v1/jobs/${oom.id}`)).body).toMatchObject({
        status: 'queued',
        attempt: 2,
      });
    });

    it('POST /resume continues a failed or cancelled job from its checkpoint, and says 409 when there is none', async () => {
      const metrics = await scrapeMetrics(t.backend.url);
      const job = await createJob({ hyperparameters: { epochs: 3 } });
      const token = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 3 });
      await callback(job.id, token, progress(2, 1));
      await callback(job.id, token, checkpoint(job.id, 3, 1));
      await callback(job.id, token, {
        seq: 4,
        type: 'failed',
        error: { code: 'framework_error', message: 'loss is NaN' },
      });
      expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body.status).toBe('failed');
      const resumed = await user.post<Job>(`/v1/jobs/${job.id}/resume`);
      expect(resumed.status).toBe(202);
      expect(resumed.body).toMatchObject({ status: 'queued', attempt: 2, error: null, finishedAt: null });
      expect(resumed.body.attempts[1]).toMatchObject({ attempt: 2, status: 'queued', resumedFromEpoch: 1 });
      expect((await history(job.id)).at(-1)).toMatchObject({ type: 'resumed', payload: { nextAttempt: 2 } });
      const again = await user.post<Job>(`/v1/jobs/${job.id}/resume`);
      expect([again.status, again.body.status]).toEqual([200, 'queued']);
      const yolo = { framework: 'ultralytics' };
      expect(
        Object.values(
          await growth(metrics, [
            ['vtp_job_attempt_failures_total', { ...yolo, reason: 'framework_error' }],
            ['vtp_job_retries_total', yolo],
            ['vtp_jobs_finished_total', { ...yolo, outcome: 'failed' }],
            ['vtp_job_resumes_total', yolo],
          ]),
        ),
      ).toEqual([1, 0, 1, 1]);

      const nothing = await createJob();
      await user.post(`/v1/jobs/${nothing.id}/cancel`);
      const refused = await user.post<ProblemBody>(`/v1/jobs/${nothing.id}/resume`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('nothing_to_resume');
      expect(refused.headers.get('content-type')).toContain('application/problem+json');

      const other = await t.newUser();
      expect((await other.post(`/v1/jobs/${job.id}/resume`)).status).toBe(404);
    });
  });

  describe('trainer callbacks', () => {
    it('counts in /metrics what reports did (stored, duplicate, refused), their latency, and jobs by status from the database', async () => {
      const before = await scrapeMetrics(t.backend.url);
      const jobsIn = (s: Scrape, status: string) => s.sum('vtp_jobs', { status, framework: 'ultralytics' });
      const job = await createJob({ hyperparameters: { epochs: 1 } });
      const queued = await scrapeMetrics(t.backend.url);
      expect(jobsIn(queued, 'queued')).toBe(jobsIn(before, 'queued') + 1);
      expect(queued.sum('vtp_jobs_oldest_queued_age_seconds', { framework: 'ultralytics' })).toBeGreaterThan(
        0,
      );
      const token = await dispatchByHand(t.database.url, job.id);
      // Reported 3 s after the trainer stamped it: the latency counts from the trainer's timestamp.
      const late = new Date(Date.now() - 3000).toISOString();
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 1, timestamp: late });
      const epoch = { seq: 2, type: 'progress', epoch: 1, totalEpochs: 1, metrics: {} };
      expect((await callback(job.id, token, epoch)).body.accepted).toBe(true);
      expect((await callback(job.id, token, epoch)).body.accepted).toBe(false);
      expect((await callback(job.id, 'vtpcb_wrong', { seq: 3, type: 'heartbeat' })).status).toBe(401);
      expect((await callback(job.id, token, { seq: 3, type: 'progress' })).status).toBe(422);
      await callback(job.id, token, { seq: 3, type: 'completed', metrics: {}, artifacts: [] });

      const after = await scrapeMetrics(t.backend.url);
      const grew = (name: string, labels: Record<string, string>) =>
        after.sum(name, labels) - before.sum(name, labels);
      expect(grew('vtp_callback_events_total', { event_type: 'progress', result: 'stored' })).toBe(1);
      expect(grew('vtp_callback_events_total', { event_type: 'progress', result: 'duplicate' })).toBe(1);
      expect(grew('vtp_callbacks_refused_total', { reason: 'invalid_callback_token' })).toBe(1);
      expect(grew('vtp_callbacks_refused_total', { reason: 'validation_failed' })).toBe(1);
      expect(grew('vtp_callback_latency_seconds_count', { event_type: 'started' })).toBe(1);
      expect(grew('vtp_callback_latency_seconds_sum', { event_type: 'started' })).toBeGreaterThanOrEqual(3);
      expect(grew('vtp_callback_latency_seconds_bucket', { event_type: 'started', le: '5' })).toBe(1);
      expect(grew('vtp_callback_latency_seconds_bucket', { event_type: 'started', le: '2.5' })).toBe(0);
      expect(grew('vtp_jobs_finished_total', { framework: 'ultralytics', outcome: 'succeeded' })).toBe(1);
      expect(jobsIn(after, 'queued')).toBe(jobsIn(before, 'queued'));
      expect(jobsIn(after, 'succeeded')).toBe(jobsIn(before, 'succeeded') + 1);
      // Every status and framework is reported, 0 included: a series never vanishes when its last job moves on.
      expect(after.sum('vtp_jobs', { status: 'dispatching', framework: 'timm' })).toBe(0);
      expect(after.has('vtp_jobs')).toBe(true);
    });

    it('reports the same job counts from every backend replica: they are read from the database', async () => {
      await createJob();
      const replica = await startBackend(
        loadBackendConfig({ ...t.env, PORT: '0' }),
        createLogger('replica', t.env.LOG_LEVEL ?? 'silent'),
      );
      try {
        const [mine, theirs] = await Promise.all([scrapeMetrics(t.backend.url), scrapeMetrics(replica.url)]);
        for (const status of ['queued', 'succeeded', 'failed', 'cancelled'])
          expect(theirs.sum('vtp_jobs', { status }), status).toBe(mine.sum('vtp_jobs', { status }));
        expect(theirs.sum('vtp_jobs', { status: 'queued' })).toBeGreaterThan(0);
        // Counters are the replica's own: it has stored no event.
        expect(theirs.sum('vtp_callback_events_total')).toBe(0);
      } finally {
        await replica.stop();
      }
    });

    it('moves a job through running to succeeded with metrics and artifacts', async () => {
      const job = await createJob({ hyperparameters: { epochs: 2 } });
      const token = await dispatchByHand(t.database.url, job.id);
      expect((await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 2 })).body.accepted).toBe(
        true,
      );
      expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body.status).toBe('running');
      await callback(job.id, token, {
        seq: 2,
        type: 'progress',
        epoch: 1,
        totalEpochs: 2,
        metrics: { 'train/loss': 1.5 },
      });
      const best = { kind: 'best', uri: `s3://vtp-test/jobs/${job.id}/best.pt`, bytes: 1234, epoch: 1 };
      await callback(job.id, token, { seq: 3, type: 'checkpoint', epoch: 1, artifacts: [best] });
      await callback(job.id, token, {
        seq: 4,
        type: 'progress',
        epoch: 2,
        totalEpochs: 2,
        metrics: { 'train/loss': 0.9 },
      });
      const mid = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(mid.progress).toEqual({ epoch: 2, totalEpochs: 2, fraction: 1, phase: null });
      expect(mid.latestMetrics).toEqual({ 'train/loss': 0.9 });
      const last = { kind: 'last', uri: `s3://vtp-test/jobs/${job.id}/last.pt`, bytes: 1300, epoch: 2 };
      await callback(job.id, token, {
        seq: 5,
        type: 'completed',
        metrics: { 'train/loss': 0.9, mAP50: 0.4 },
        artifacts: [{ ...best, epoch: 2 }, last],
      });
      const done = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(done.status).toBe('succeeded');
      expect(done.latestMetrics).toEqual({ 'train/loss': 0.9, mAP50: 0.4 });
      expect(done.artifacts.map((a) => a.kind).sort()).toEqual(['best', 'last']);
      const events = await user.get<{ items: JobEvent[] }>(`/v1/jobs/${job.id}/events`);
      expect(events.body.items.map((e) => e.type)).toEqual([
        'started',
        'progress',
        'checkpoint',
        'progress',
        'completed',
      ]);
      expect(events.body.items[1]?.payload).toMatchObject({ epoch: 1, metrics: { 'train/loss': 1.5 } });
    });

    it('takes a batch in one request, with the effect of each event on its own; a replay changes nothing', async () => {
      const job = await createJob({ hyperparameters: { epochs: 2 } });
      const token = await dispatchByHand(t.database.url, job.id);
      const at = now();
      const best = { kind: 'best', uri: `s3://vtp-test/jobs/${job.id}/best.pt`, bytes: 10, epoch: 2 };
      const events = [
        { seq: 1, timestamp: at, type: 'started', totalEpochs: 2 },
        { seq: 2, timestamp: at, type: 'progress', epoch: 1, totalEpochs: 2, metrics: { loss: 2 } },
        { seq: 3, timestamp: at, type: 'heartbeat', phase: 'training' },
        { seq: 4, timestamp: at, type: 'progress', epoch: 2, totalEpochs: 2, metrics: { loss: 1 } },
        // An older epoch arriving late never moves the job backwards, in a batch as on its own.
        { seq: 5, timestamp: at, type: 'progress', epoch: 1, totalEpochs: 2, metrics: { loss: 9 } },
        { seq: 6, timestamp: at, type: 'completed', metrics: { loss: 1 }, artifacts: [best] },
      ];
      const sent = await t.anonymous.post<{ results: { seq: number; accepted: boolean }[] }>(
        `/v1/jobs/${job.id}/callback`,
        { events },
        { key: token },
      );
      expect(sent.status).toBe(200);
      expect(sent.body.results).toEqual(events.map((e) => ({ seq: e.seq, accepted: true })));
      const done = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(done).toMatchObject({ status: 'succeeded', latestMetrics: { loss: 1 } });
      expect(done.progress.epoch).toBe(2);
      expect(done.artifacts.map((a) => a.kind)).toEqual(['best']);
      const stored = (await user.get<{ items: JobEvent[] }>(`/v1/jobs/${job.id}/events`)).body.items;
      expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      // The job has ended and its tokens are revoked: the same batch again is refused and stores nothing.
      const replay = await t.anonymous.post(`/v1/jobs/${job.id}/callback`, { events }, { key: token });
      expect(replay.status).toBe(401);
    });

    it('stops applying a batch at the event that ends the attempt: the rest belong to no live token', async () => {
      const job = await createJob({ hyperparameters: { epochs: 3 } });
      const token = await dispatchByHand(t.database.url, job.id);
      const at = now();
      const res = await t.anonymous.post<{ results: { seq: number; accepted: boolean }[] }>(
        `/v1/jobs/${job.id}/callback`,
        {
          events: [
            { seq: 1, timestamp: at, type: 'started', totalEpochs: 3 },
            { seq: 2, timestamp: at, type: 'failed', error: { code: 'lost', message: 'gone' } },
            { seq: 3, timestamp: at, type: 'progress', epoch: 1, totalEpochs: 3, metrics: {} },
          ],
        },
        { key: token },
      );
      expect(res.body.results).toEqual([
        { seq: 1, accepted: true },
        { seq: 2, accepted: true },
        { seq: 3, accepted: false },
      ]);
      const retried = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(retried).toMatchObject({ status: 'queued', attempt: 2 });
      const stored = (await user.get<{ items: JobEvent[] }>(`/v1/jobs/${job.id}/events`)).body.items;
      expect(stored.filter((e) => e.type === 'progress')).toEqual([]);
    });

    it('refuses a batch out of seq order, too long, or with an artifact outside the job, naming the event; 401 first', async () => {
      const job = await createJob();
      const token = await dispatchByHand(t.database.url, job.id);
      const at = now();
      const heartbeat = (seq: number) => ({ seq, timestamp: at, type: 'heartbeat' });
      const post = (body: unknown, key = token) =>
        t.anonymous.post<ProblemBody>(`/v1/jobs/${job.id}/callback`, body, { key });
      const unordered = await post({ events: [heartbeat(2), heartbeat(1)] });
      expect(unordered.status).toBe(422);
      expect(unordered.body.issues?.map((i) => i.path)).toEqual(['body.events']);
      const long = await post({ events: Array.from({ length: 501 }, (_, i) => heartbeat(i + 1)) });
      expect(long.status).toBe(422);
      const outside = await post({
        events: [
          heartbeat(1),
          {
            seq: 2,
            timestamp: at,
            type: 'checkpoint',
            epoch: 1,
            artifacts: [{ kind: 'last', uri: 's3://vtp-test/datasets/other.zip', bytes: 1 }],
          },
        ],
      });
      expect(outside.status).toBe(422);
      expect(outside.body.issues?.map((i) => i.path)).toEqual(['body.events.1.artifacts.0.uri']);
      // Nothing of a refused batch is stored.
      expect((await user.get<{ items: JobEvent[] }>(`/v1/jobs/${job.id}/events`)).body.items).toEqual([]);
      expect(
        (await post({ events: [heartbeat(2), heartbeat(1)] }, 'vtpcb_wrong-token-0123456789')).status,
      ).toBe(401);
    });

    it("refuses another job's token, no token and an unknown job alike", async () => {
      const a = await createJob();
      const b = await createJob();
      const tokenA = await dispatchByHand(t.database.url, a.id);
      await dispatchByHand(t.database.url, b.id);
      const wrong = await callback(b.id, tokenA, { seq: 1, type: 'heartbeat' });
      expect(wrong.status).toBe(401);
      expect((await callback(a.id, '', { seq: 1, type: 'heartbeat' })).status).toBe(401);
      expect(
        (await callback('00000000-0000-4000-8000-000000000000', tokenA, { seq: 1, type: 'heartbeat' }))
          .status,
      ).toBe(401);
      // An API key is not a callback token.
      expect((await callback(a.id, user.key as string, { seq: 1, type: 'heartbeat' })).status).toBe(401);
      expect((await user.get<{ items: unknown[] }>(`/v1/jobs/${b.id}/events`)).body.items).toEqual([]);
    });

    it('refuses values the schemas accept but PostgreSQL cannot store with a 422 naming the field, never a 500', async () => {
      const job = await createJob();
      const token = await dispatchByHand(t.database.url, job.id);
      const tooBig = 2 ** 31;
      const cases: [Record<string, unknown>, string][] = [
        [{ seq: tooBig, type: 'heartbeat' }, 'body.seq'],
        [{ seq: 1, type: 'progress', epoch: tooBig, totalEpochs: 2, metrics: {} }, 'body.epoch'],
        [{ seq: 1, type: 'log', level: 'info', message: 'a \u0000 in the log' }, 'body.message'],
        [
          { seq: 1, type: 'progress', epoch: 1, totalEpochs: 2, metrics: { 'loss\u0000': 1 } },
          'body.metrics',
        ],
        [{ seq: 1, type: 'heartbeat', timestamp: '0000-01-01T00:00:00Z' }, 'body.timestamp'],
      ];
      for (const [event, path] of cases) {
        const res = await callback(job.id, token, event);
        expect(res.status, JSON.stringify(event)).toBe(422);
        expect((res.body as unknown as ProblemBody).issues?.map((i) => i.path).join()).toContain(path);
      }
      const after = await user.get<ProblemBody>(`/v1/jobs/${job.id}/events?after=3000000000`);
      expect(after.status).toBe(422);
      const notAnId = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'not-a-uuid'])).toString(
        'base64url',
      );
      const page = await user.get<ProblemBody>(`/v1/jobs?cursor=${notAnId}`);
      expect(page.status).toBe(422);
      expect(page.body.issues?.[0]?.path).toBe('query.cursor');
      const key = await t.admin.post<ProblemBody>('/v1/api-keys', { user: 'ada\u0000@example.com' });
      expect(key.status).toBe(422);
    });

    it('deletes a checkpoint snapshot once a newer one replaces it, and a late older one at once; never a log', async () => {
      const job = await createJob({ hyperparameters: { epochs: 3 } });
      const token = await dispatchByHand(t.database.url, job.id);
      const s3 = createS3Client({ ...t.s3, region: 'us-east-1', forcePathStyle: true });
      // Every upload has a key of its own, as trainers write them (the late one too: a different upload).
      const snapshot = async (seq: number, epoch: number, folder = `epoch-${epoch}`) => {
        const key = `jobs/${job.id}/weights/${folder}/last.pt`;
        await s3.send(new PutObjectCommand({ Bucket: 'vtp-test', Key: key, Body: `epoch ${epoch}` }));
        const artifact = { kind: 'last', uri: `s3://vtp-test/${key}`, bytes: 7, epoch };
        expect(
          (await callback(job.id, token, { seq, type: 'checkpoint', epoch, artifacts: [artifact] })).status,
        ).toBe(200);
      };
      await snapshot(1, 1);
      await snapshot(2, 2);
      await snapshot(3, 1, 'late-epoch-1'); // an older epoch than the one recorded
      const keys = async () => (await t.objectKeys(`jobs/${job.id}/`)).sort();
      await waitFor('the superseded snapshots to go', async () => (await keys()).length === 1, 10_000);
      expect(await keys()).toEqual([`jobs/${job.id}/weights/epoch-2/last.pt`]);
      // An earlier attempt's log, replaced in the job by the next one's, stays for a post-mortem.
      const log = async (seq: number, key: string) => {
        await s3.send(new PutObjectCommand({ Bucket: 'vtp-test', Key: key, Body: 'log' }));
        const artifact = { kind: 'log', uri: `s3://vtp-test/${key}`, bytes: 3 };
        await callback(job.id, token, { seq, type: 'checkpoint', epoch: 2, artifacts: [artifact] });
      };
      await log(4, `jobs/${job.id}/training.log`);
      await log(5, `jobs/${job.id}/attempts/2/training.log`);
      await new Promise((r) => setTimeout(r, 500));
      expect(await keys()).toContain(`jobs/${job.id}/training.log`);
      expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body.artifacts).toMatchObject([
        { kind: 'last', epoch: 2 },
        { kind: 'log', uri: `s3://vtp-test/jobs/${job.id}/attempts/2/training.log` },
      ]);
      s3.destroy();
    });

    it("refuses artifacts outside the job's own output prefix: a job's token reaches no other object", async () => {
      const job = await createJob();
      const token = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 1 });
      const elsewhere = [
        's3://vtp-test/datasets/someone-elses.zip',
        `s3://another-bucket/jobs/${job.id}/training.log`,
        `s3://vtp-test/jobs/${job.id}/`,
      ];
      for (const [index, uri] of elsewhere.entries()) {
        const res = await callback(job.id, token, {
          seq: 2 + index,
          type: 'completed',
          metrics: {},
          artifacts: [{ kind: 'log', uri, bytes: 10 }],
        });
        expect(res.status, uri).toBe(422);
        expect((res.body as unknown as ProblemBody).issues?.map((i) => i.path)).toEqual([
          'body.artifacts.0.uri',
        ]);
      }
      const state = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(state.status).toBe('running');
      expect(state.artifacts).toEqual([]);
    });

    it('refuses a malformed event naming the field', async () => {
      const job = await createJob();
      const token = await dispatchByHand(t.database.url, job.id);
      const res = await t.anonymous.post<ProblemBody>(
        `/v1/jobs/${job.id}/callback`,
        { seq: 0, type: 'progress', timestamp: now() },
        { key: token },
      );
      expect(res.status).toBe(422);
      expect(res.body.issues?.map((i) => i.path)).toEqual(expect.arrayContaining(['body.seq', 'body.epoch']));
      // Without the job's token, the same body learns nothing of the schema.
      const stranger = await t.anonymous.post<ProblemBody>(
        `/v1/jobs/${job.id}/callback`,
        { seq: 0, type: 'progress', timestamp: now() },
        { key: 'vtpcb_not_this_jobs_token_0000000000' },
      );
      expect(stranger.status).toBe(401);
      expect(stranger.body.issues).toBeUndefined();
    });

    it('acknowledges duplicates without storing them twice, and never moves a job backwards', async () => {
      const job = await createJob({ hyperparameters: { epochs: 3 } });
      const token = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 3 });
      await callback(job.id, token, {
        seq: 3,
        type: 'progress',
        epoch: 2,
        totalEpochs: 3,
        metrics: { loss: 0.5 },
      });
      // seq 2 arrives late: stored, but epoch 1 must not replace epoch 2.
      const late = await callback(job.id, token, {
        seq: 2,
        type: 'progress',
        epoch: 1,
        totalEpochs: 3,
        metrics: { loss: 0.9 },
      });
      expect(late.body.accepted).toBe(true);
      const dup = await callback(job.id, token, {
        seq: 3,
        type: 'progress',
        epoch: 2,
        totalEpochs: 3,
        metrics: { loss: 0.5 },
      });
      expect(dup.status).toBe(200);
      expect(dup.body.accepted).toBe(false);
      const state = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(state.progress.epoch).toBe(2);
      expect(state.latestMetrics).toEqual({ loss: 0.5 });
      const seqs = (await user.get<{ items: JobEvent[] }>(`/v1/jobs/${job.id}/events`)).body.items.map(
        (e) => e.seq,
      );
      expect(seqs).toEqual([1, 2, 3]);
    });

    it('a heartbeat tells the phase and the last real progress, which the job shows while it runs', async () => {
      const job = await createJob();
      const token = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 2 });
      const lastProgressAt = new Date(Date.now() - 5000).toISOString();
      const beat = { type: 'heartbeat', phase: 'training', lastProgressAt, stallLimitSeconds: 1800 };
      expect((await callback(job.id, token, { seq: 2, ...beat })).body.accepted).toBe(true);
      expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body.progress.phase).toBe('training');
      const db = knex({ client: 'pg', connection: t.database.url });
      const row = await db('jobs').where({ id: job.id }).first('last_progress_at', 'stall_limit_seconds');
      await db.destroy();
      expect(row).toEqual({ last_progress_at: new Date(lastProgressAt), stall_limit_seconds: 1800 });
      const bad = await callback(job.id, token, { seq: 3, ...beat, phase: 'daydreaming' });
      expect(bad.status).toBe(422);
    });

    it('a terminal state is final: the job tokens are revoked, later events are refused and change nothing', async () => {
      const job = await createJob();
      const token = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 2 });
      await callback(job.id, token, {
        seq: 2,
        type: 'failed',
        error: { code: 'framework_error', message: 'CUDA says no' },
      });
      const after = await callback(job.id, token, { seq: 3, type: 'completed', metrics: {}, artifacts: [] });
      expect(after.status).toBe(401);
      const state = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
      expect(state.status).toBe('failed');
      expect(state.error).toEqual({ code: 'framework_error', message: 'CUDA says no' });
      const history = (await user.get<{ items: { seq: number }[] }>(`/v1/jobs/${job.id}/events`)).body.items;
      expect(history.map((e) => e.seq)).toEqual([1, 2]);
    });

    it('a trainer holding the token of an earlier hand-over of the job keeps reporting until the job ends', async () => {
      const job = await createJob();
      const first = await dispatchByHand(t.database.url, job.id);
      // The hand-over looked lost and the job went back to the queue; the next hand-over issued another token.
      const db = knex({ client: 'pg', connection: t.database.url });
      await db('jobs').where({ id: job.id }).update({ status: 'queued' });
      await db.destroy();
      const second = await dispatchByHand(t.database.url, job.id);
      expect((await callback(job.id, first, { seq: 1, type: 'started', totalEpochs: 1 })).body.accepted).toBe(
        true,
      );
      expect((await callback(job.id, second, { seq: 2, type: 'heartbeat' })).body.accepted).toBe(true);
      const progress = { seq: 3, type: 'progress', epoch: 1, totalEpochs: 1, metrics: { 'train/loss': 0.5 } };
      expect((await callback(job.id, first, progress)).body.accepted).toBe(true);
      expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body.progress.epoch).toBe(1);
      await callback(job.id, first, { seq: 4, type: 'completed', metrics: {}, artifacts: [] });
      for (const token of [first, second])
        expect((await callback(job.id, token, { seq: 5, type: 'heartbeat' })).status).toBe(401);
    });

    it('streams events live over SSE and ends the stream when the job ends', async () => {
      const job = await createJob({ hyperparameters: { epochs: 2 } });
      const token = await dispatchByHand(t.database.url, job.id);
      await callback(job.id, token, { seq: 1, type: 'started', totalEpochs: 2 });
      const res = await fetch(`${t.backend.url}/v1/jobs/${job.id}/events`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${user.key}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const text = (async () => {
        let all = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          all += Buffer.from(chunk).toString();
        return all;
      })();
      await new Promise((r) => setTimeout(r, 200));
      await callback(job.id, token, {
        seq: 2,
        type: 'progress',
        epoch: 1,
        totalEpochs: 2,
        metrics: { loss: 1 },
      });
      await callback(job.id, token, { seq: 3, type: 'completed', metrics: { loss: 0.5 }, artifacts: [] });
      const body = await text;
      const types = [...body.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
      expect(types).toEqual(['started', 'progress', 'completed', 'end']);
      expect(body).toContain('id: 3');
    });

    it('an SSE stream of a job cancelled while queued ends at once', async () => {
      const job = await createJob();
      const res = fetch(`${t.backend.url}/v1/jobs/${job.id}/events`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${user.key}` },
      }).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 200));
      await user.post(`/v1/jobs/${job.id}/cancel`);
      expect(await res).toContain('event: end');
    });
  });
});
