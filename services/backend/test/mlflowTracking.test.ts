import type { Dataset, Job } from '@vtp/shared-schemas';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetStore } from '../src/datasets/datasetStore.ts';
import { buildTrainingSpec } from '../src/execution/trainingSpec.ts';
import type { JobRow } from '../src/jobs/jobStore.ts';
import type { ApiClient } from './support/apiClient.ts';
import { dispatchByHand } from './support/dispatchByHand.ts';
import { createJob, reportEvent } from './support/jobs.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { uploadSample } from './support/uploads.ts';

type ProblemBody = { code: string; issues?: { path: string; message: string }[] };
const RUN_ID = '0123456789abcdef0123456789abcdef';

describe('MLflow tracking of jobs, on a platform with MLflow', () => {
  let t: TestBackend;
  let user: ApiClient;
  let dataset: Dataset;
  beforeAll(async () => {
    t = await startTestBackend({
      MLFLOW_TRACKING_URI: 'http://mlflow.test:5000/',
      MLFLOW_EXPERIMENT_NAME: 'platform',
    });
    user = await t.newUser();
    dataset = await uploadSample(user, 'yolo');
  });
  afterAll(() => t?.stop());

  /** What the dispatcher would hand the trainer for this job now. */
  async function specOf(jobId: string) {
    const db = knex({ client: 'pg', connection: t.database.url });
    try {
      const row = (await db('jobs').where({ id: jobId }).first()) as JobRow;
      const stored = await new DatasetStore(db).findById(row.dataset_id);
      return buildTrainingSpec({
        job: row,
        dataset: stored!,
        bucket: 'vtp-test',
        backendBaseUrl: 'http://platform.test',
        callbackToken: 'token-0123456789-0123456789',
        firstSeq: 1,
      });
    } finally {
      await db.destroy();
    }
  }

  it('tracks every job in the default experiment, or the one the job names', async () => {
    const plain = await createJob(user, dataset.id);
    expect(plain.tracking).toEqual({
      mlflow: { experiment: 'platform', experimentId: null, runId: null, url: null },
    });
    const named = await createJob(user, dataset.id, { tracking: { mlflow: { experiment: 'detectors' } } });
    expect(named.tracking?.mlflow.experiment).toBe('detectors');

    // The trainer gets the server, the experiment, the job's URL and the dataset's identity to log.
    const spec = await specOf(named.id);
    expect(spec.tracking).toEqual({
      mlflow: {
        trackingUri: 'http://mlflow.test:5000/',
        experimentName: 'detectors',
        jobUrl: `http://platform.test/v1/jobs/${named.id}`,
      },
    });
    expect(spec.dataset).toMatchObject({ id: dataset.id, sha256: dataset.sha256 });
  });

  it.each([
    ['an empty experiment', { mlflow: { experiment: '' } }, 'body.tracking.mlflow.experiment'],
    ['an unknown tracker', { wandb: { project: 'x' } }, 'body.tracking'],
    ['an unknown MLflow field', { mlflow: { experiment: 'x', runId: 'y' } }, 'body.tracking.mlflow'],
  ])('refuses %s with a 422 naming the field', async (_label, tracking, path) => {
    const res = await user.post<ProblemBody>('/v1/jobs', {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: dataset.id,
      tracking,
    });
    expect(res.status).toBe(422);
    expect(res.body.issues?.map((i) => i.path)).toContain(path);
  });

  it('links the run its trainer reports, and hands it to the next attempt', async () => {
    const job = await createJob(user, dataset.id, { maxRetries: 1 });
    const token = await dispatchByHand(t.database.url, job.id);
    await reportEvent(t.anonymous, job.id, token, { seq: 1, type: 'started', totalEpochs: 2 });
    const reported = await reportEvent(t.anonymous, job.id, token, {
      seq: 2,
      type: 'tracking',
      mlflow: { experimentId: '7', runId: RUN_ID },
    });
    expect(reported.body.accepted).toBe(true);
    const linked = (await user.get<Job>(`/v1/jobs/${job.id}`)).body;
    expect(linked.tracking).toEqual({
      mlflow: {
        experiment: 'platform',
        experimentId: '7',
        runId: RUN_ID,
        url: `http://mlflow.test:5000/#/experiments/7/runs/${RUN_ID}`,
      },
    });
    // The stream shows the event too, for a client following the job.
    const events = await user.get<{ items: { type: string }[] }>(`/v1/jobs/${job.id}/events`);
    expect(events.body.items.map((e) => e.type)).toContain('tracking');

    // An infrastructure failure: attempt 2 continues the same run.
    await reportEvent(t.anonymous, job.id, token, {
      seq: 3,
      type: 'failed',
      error: { code: 'lost', message: 'gone' },
    });
    expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body).toMatchObject({ status: 'queued', attempt: 2 });
    expect((await specOf(job.id)).tracking?.mlflow.runId).toBe(RUN_ID);
  });

  it('refuses a malformed run report naming the field', async () => {
    const job = await createJob(user, dataset.id);
    const token = await dispatchByHand(t.database.url, job.id);
    const res = await reportEvent(t.anonymous, job.id, token, {
      seq: 1,
      type: 'tracking',
      mlflow: { experimentId: '7', runId: "x' or 1=1" },
    });
    expect(res.status).toBe(422);
    expect((res.body as unknown as ProblemBody).issues?.map((i) => i.path)).toContain('body.mlflow.runId');
  });
});

describe('MLflow tracking of jobs, on a platform without MLflow', () => {
  let t: TestBackend;
  let user: ApiClient;
  let dataset: Dataset;
  beforeAll(async () => {
    t = await startTestBackend();
    user = await t.newUser();
    dataset = await uploadSample(user, 'yolo');
  });
  afterAll(() => t?.stop());

  it('tracks nothing, and says so when a job asks for MLflow', async () => {
    expect((await createJob(user, dataset.id)).tracking).toBeNull();
    const res = await user.post<ProblemBody>('/v1/jobs', {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: dataset.id,
      tracking: { mlflow: { experiment: 'detectors' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.issues).toEqual([
      { path: 'body.tracking.mlflow', message: 'MLflow tracking is not configured (MLFLOW_TRACKING_URI)' },
    ]);
  });
});
