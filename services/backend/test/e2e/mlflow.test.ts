import type { Dataset, Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MlflowServer,
  startMlflowServer,
} from '../../../../packages/trainer-runtime/test/mlflowServer.ts';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { events, finished, pidsMatching, trainerPython, waitFor, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

/**
 * The whole path with a real MLflow tracking server: the backend hands the job's tracking to a real trainer, the
 * trainer logs a real timm training to MLflow and reports the run, the job links it, and the attempt that
 * follows a killed runner continues the same run.
 */
describe('MLflow tracking end to end (EXECUTION_MODE=subprocess)', () => {
  let mlflow: MlflowServer;
  let t: TestBackend;
  let user: ApiClient;
  let images: Dataset;

  beforeAll(async () => {
    trainerPython();
    mlflow = await startMlflowServer();
    t = await startTestBackend({
      RUN_DISPATCHER: 'true',
      MONITOR_INTERVAL_MS: '500',
      HEARTBEAT_TIMEOUT_SECONDS: '20',
      MLFLOW_TRACKING_URI: mlflow.url,
    });
    user = await t.newUser();
    images = await uploadSample(user, 'imagefolder');
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
    await mlflow?.stop();
  });

  it('logs a job and its retried attempt to one run, which the job links', { timeout: 480_000 }, async () => {
    const epochs = 12;
    const created = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: images.id,
      hyperparameters: { epochs, imgsz: 64, batch: 2 },
      tracking: { mlflow: { experiment: 'backend-e2e' } },
      // A kill -9 may be taken for the OOM killer's where the kernel cannot tell them apart: retry that too.
      retryOnOutOfMemory: true,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // The run is linked while the job runs; the runner is killed once its first checkpoint is stored.
    const running = await waitForJob(
      user,
      id,
      (j) => j.tracking?.mlflow.runId !== null && j.artifacts.some((a) => a.kind === 'last'),
      180_000,
      20,
    );
    for (const pid of await pidsMatching(`${id}/config.json`)) process.kill(pid, 'SIGKILL');
    const { runId, experimentId } = running.tracking!.mlflow as { runId: string; experimentId: string };

    const job = await waitForJob(user, id, finished, 300_000);
    expect(job).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(job.tracking).toEqual({
      mlflow: {
        experiment: 'backend-e2e',
        experimentId,
        runId,
        url: `${mlflow.url}/#/experiments/${experimentId}/runs/${runId}`,
      },
    });
    // Attempt 2 was handed the run: only attempt 1 reported one.
    expect((await events(user, id)).filter((e) => e.type === 'tracking')).toMatchObject([
      { attempt: 1, payload: { mlflow: { runId, experimentId } } },
    ]);

    const run = await waitFor(
      'the run to end',
      async () => {
        const r = await mlflow.run(runId);
        return r.status === 'FINISHED' && r;
      },
      60_000,
    );
    expect(await mlflow.runsOfJob('backend-e2e', id)).toEqual([runId]);
    expect(run.tags).toMatchObject({
      'vtp.job_id': id,
      'vtp.job_url': `${t.backend.url}/v1/jobs/${id}`,
      'vtp.framework': 'timm',
      'vtp.attempt': '2',
    });
    expect(run.params).toMatchObject({
      framework: 'timm',
      model: 'test_resnet',
      epochs: String(epochs),
      'dataset.id': images.id,
      'dataset.sha256': images.sha256,
    });
    // Every epoch is there at its step; those the second attempt trained again appear twice.
    const steps = (await mlflow.history(runId, 'val/top1')).map((m) => m.step);
    expect(new Set(steps)).toEqual(new Set(Array.from({ length: epochs }, (_, i) => i + 1)));
    const best = job.artifacts.find((a) => a.kind === 'best')!;
    const metricsJson = job.artifacts.find((a) => a.kind === 'metrics')!;
    expect(await mlflow.artifacts(runId)).toEqual({
      'weights/best.pth.tar': best.bytes,
      'metrics.json': metricsJson.bytes,
    });
  });
});
