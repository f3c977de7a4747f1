import { createLogger } from '@vtp/service-kit';
import { createS3Client } from '@vtp/service-kit/s3';
import type { Job, JobEvent } from '@vtp/shared-schemas';
import knex from 'knex';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetStore } from '../../src/datasets/datasetStore.ts';
import { JobMonitor } from '../../src/dispatch/jobMonitor.ts';
import { LocalExecutionManager } from '../../src/execution/local/localExecutionManager.ts';
import type { TrainerProcess } from '../../src/execution/local/trainerProcess.ts';
import { TrainerClient } from '../../src/execution/trainerClient.ts';
import { buildTrainingSpec } from '../../src/execution/trainingSpec.ts';
import { JobEventStore } from '../../src/jobs/jobEventStore.ts';
import { JobStore } from '../../src/jobs/jobStore.ts';
import { StoredOutputs } from '../../src/jobs/storedOutputs.ts';
import { JobMetrics } from '../../src/observability/jobMetrics.ts';
import { ObjectStore } from '../../src/storage/objectStore.ts';
import type { ApiClient } from '../support/apiClient.ts';
import { dispatchByHand } from '../support/dispatchByHand.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { startTimmTrainer } from '../support/trainerService.ts';
import { waitFor } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

const TOKEN = 'trainer-token-for-the-monitor-test-0';
const MINUTE = 60_000;

/**
 * The job monitor asks a real trainer service before it concludes anything; the clock is passed in so each
 * case is exact.
 */
describe('job monitor', () => {
  let t: TestBackend;
  let user: ApiClient;
  let trainer: TrainerProcess;
  let trainerUrl: string;
  let db: ReturnType<typeof knex>;
  let jobs: JobStore;
  let datasetId: string;
  const logger = createLogger('monitor-test', 'silent');

  beforeAll(async () => {
    t = await startTestBackend();
    user = await t.newUser();
    datasetId = (await uploadSample(user, 'imagefolder')).id;
    ({ trainer, url: trainerUrl } = await startTimmTrainer(t, TOKEN));
    db = knex({ client: 'pg', connection: t.database.url });
    jobs = new JobStore(db, new JobEventStore(db), new JobMetrics(new Registry()));
  });
  afterAll(async () => {
    await db?.destroy();
    await trainer?.stop();
    await t?.stop();
  });

  const manager = () =>
    new LocalExecutionManager(
      { timm: { kind: 'url', url: trainerUrl }, ultralytics: { kind: 'url', url: 'http://127.0.0.1:9' } },
      new TrainerClient(TOKEN),
      logger,
      60_000,
    );
  const monitor = () => {
    const s3 = createS3Client({ ...t.s3, region: 'us-east-1', forcePathStyle: true });
    return new JobMonitor(
      {
        jobs,
        manager: manager(),
        outputs: new StoredOutputs(new ObjectStore(s3, 'vtp-test')),
        metrics: new JobMetrics(new Registry()),
        logger,
        onChange: () => undefined,
      },
      {
        intervalMs: 1000,
        dispatchTimeoutMs: MINUTE,
        heartbeatTimeoutMs: MINUTE,
        maxHandovers: 2,
        deadlineGraceMs: MINUTE,
        outcomeGraceMs: 2 * MINUTE,
      },
    );
  };
  const newJob = async (status: 'dispatching' | 'running', handovers = 1, maxRetries = 0) => {
    const job = (
      await user.post<Job>('/v1/jobs', { framework: 'timm', model: 'test_resnet', datasetId, maxRetries })
    ).body;
    await dispatchByHand(t.database.url, job.id);
    const longAgo = new Date(Date.now() - 10 * MINUTE);
    await db('jobs')
      .where({ id: job.id })
      .update({
        status,
        handovers,
        dispatched_at: longAgo,
        started_at: status === 'running' ? longAgo : null,
        attempt_started_at: status === 'running' ? longAgo : null,
        last_heartbeat_at: status === 'running' ? longAgo : null,
        placement: JSON.stringify({ mode: 'subprocess', trainerUrl, instance: trainerUrl }),
      });
    return job.id;
  };
  const state = async (id: string) => (await user.get<Job>(`/v1/jobs/${id}`)).body;

  it('does not count silence from before its own start: a backend that was down blames no job', async () => {
    const id = await newJob('running');
    const m = monitor();
    await m.check(Date.now());
    expect((await state(id)).status).toBe('running');
  });

  it('fails a silent running job as lost once its trainer says it does not know it', async () => {
    const id = await newJob('running');
    const m = monitor();
    await m.check(Date.now() + 2 * MINUTE);
    const job = await state(id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('lost');
    expect(job.error?.message).toContain('unknown');
  });

  it('retries a lost job as its next attempt while it has retries left, and says why in its attempts', async () => {
    const id = await newJob('running', 1, 1);
    await monitor().check(Date.now() + 2 * MINUTE);
    const retried = await state(id);
    expect(retried.status).toBe('queued');
    expect(retried.attempt).toBe(2);
    expect(retried.error).toBeNull();
    expect(retried.attempts.map((a) => [a.attempt, a.status, a.error?.code ?? null])).toEqual([
      [1, 'failed', 'lost'],
      [2, 'queued', null],
    ]);
    const events = (await user.get<{ items: JobEvent[] }>(`/v1/jobs/${id}/events`)).body.items;
    expect(events.at(-1)).toMatchObject({ type: 'retrying', attempt: 1, payload: { nextAttempt: 2 } });

    // The second attempt is lost too: no retries left, so the job fails with the reason.
    await db('jobs')
      .where({ id })
      .update({ status: 'running', attempt_started_at: new Date(Date.now() - 10 * MINUTE) });
    await monitor().check(Date.now() + 2 * MINUTE);
    const failed = await state(id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('lost');
    expect(failed.attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
  });

  it('queues an unconfirmed hand-over again, and fails it as dispatch_timeout after the last attempt', async () => {
    const retried = await newJob('dispatching', 1);
    const exhausted = await newJob('dispatching', 2);
    await monitor().check(Date.now() + 2 * MINUTE);
    expect((await state(retried)).status).toBe('queued');
    const failed = await state(exhausted);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('dispatch_timeout');
  });

  it("ends a training whose own report never arrived with its executor's outcome, artifacts and final metrics", async () => {
    const created = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId,
      hyperparameters: { epochs: 2, imgsz: 64, batch: 2 },
      // Its ONNX export lies next to the best checkpoint in S3 (weights/best.onnx): it must not be taken for it.
      export: ['onnx'],
    });
    const id = created.body.id;
    const token = await dispatchByHand(t.database.url, id);
    const row = (await jobs.find(id))!;
    const dataset = (await new DatasetStore(db).findForUser(row.user_id, datasetId))!;
    const spec = buildTrainingSpec({
      job: row,
      dataset,
      bucket: 'vtp-test',
      backendBaseUrl: t.backend.url,
      callbackToken: token,
      firstSeq: 1,
    });
    // Its reports go nowhere (a callback route cut off, an outbox lost with its disk); its storage URLs work.
    spec.callback.url = `http://127.0.0.1:9/v1/jobs/${id}/callback`;
    await waitFor(
      'the trainer to be ready',
      async () => ((await (await fetch(`${trainerUrl}/readyz`)).json()) as { ready: boolean }).ready,
      120_000,
    );
    const placement = await manager().start(row, spec);
    const longAgo = new Date(Date.now() - 10 * MINUTE);
    await db('jobs')
      .where({ id })
      .update({
        status: 'running',
        started_at: longAgo,
        attempt_started_at: longAgo,
        last_heartbeat_at: longAgo,
        placement: JSON.stringify(placement),
      });
    await waitFor(
      'the training to end on its trainer',
      async () => {
        const res = await fetch(`${trainerUrl}/v1/trainings/${id}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return ((await res.json()) as { finishedAt: string | null }).finishedAt !== null;
      },
      120_000,
    );

    const m = monitor();
    await m.check(Date.now() + 1.5 * MINUTE); // its report could still be on its way
    expect((await state(id)).status).toBe('running');
    await m.check(Date.now() + 3 * MINUTE);
    const job = await state(id);
    expect(job.status).toBe('succeeded');
    expect(job.error).toBeNull();
    expect(job.artifacts.map((a) => a.kind).sort()).toEqual(['best', 'last', 'log', 'metrics', 'onnx']);
    expect(job.artifacts.find((a) => a.kind === 'best')?.uri).toMatch(/\/weights\/best\.pth\.tar$/);
    expect(job.artifacts.find((a) => a.kind === 'onnx')?.uri).toMatch(/\/weights\/best\.onnx$/);
    expect(job.latestMetrics?.['val/top1']).toEqual(expect.any(Number));
    expect(job.progress.epoch).toBe(2);
  }, 180_000);

  it('stops and fails a training whose progress stopped past its limit as stalled, naming the phase', async () => {
    const patient = await newJob('running');
    const stalled = await newJob('running');
    const stuckSince = new Date(Date.now() - 10 * MINUTE);
    for (const [id, limit] of [
      [patient, 600],
      [stalled, 60],
    ] as const) {
      // Heartbeats keep coming (the trainer lives), but nothing advances.
      await db('jobs')
        .where({ id })
        .update({
          last_heartbeat_at: new Date(Date.now() + 3 * MINUTE),
          phase: 'uploading_artifacts',
          last_progress_at: stuckSince,
          stall_limit_seconds: limit,
        });
    }
    await monitor().check(Date.now() + 3 * MINUTE);
    const running = await state(patient);
    expect(running.status).toBe('running');
    expect(running.progress.phase).toBe('uploading_artifacts');
    const job = await state(stalled);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('stalled');
    expect(job.error?.message).toContain('uploading artifacts');
    expect(job.progress.phase).toBeNull();
  });

  it('fails a training past its time limit and asks its trainer to stop it', async () => {
    const id = await newJob('running');
    await db('jobs').where({ id }).update({ max_duration_seconds: 60, last_heartbeat_at: new Date() });
    await monitor().check(Date.now() + 3 * MINUTE);
    const job = await state(id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('time_limit_exceeded');
  });
});
