import { createHash, randomUUID } from 'node:crypto';
import { scrapeMetrics } from '@vtp/service-kit';
import type { TrainerEvent, TrainingStartRequestBody } from '@vtp/shared-schemas';
import { expect } from 'vitest';
import type { MlflowRunView, MlflowServer } from './mlflowServer.ts';
import type { TrainerHarness } from './trainerHarness.ts';

type Progress = Extract<TrainerEvent, { type: 'progress' }>;
type Checkpoint = Extract<TrainerEvent, { type: 'checkpoint' }>;
type Completed = Extract<TrainerEvent, { type: 'completed' }>;
const TERMINAL = ['completed', 'failed', 'cancelled'];

/** What a framework's MLflow test trains: a model, a dataset zip and short-training hyperparameters. */
export interface TrackedTrainingCase {
  model: string;
  zip: Buffer;
  hyperparameters: Record<string, unknown>;
  /** The best checkpoint's artifact path in the run (`weights/best.pt`). */
  bestArtifact: string;
}

const EXPERIMENT = 'e2e';

/** Starts one attempt of `spec`'s job with MLflow tracking and waits for its terminal event. */
async function runAttempt(
  harness: TrainerHarness,
  spec: TrainingStartRequestBody,
  timeoutMs: number,
): Promise<TrainerEvent[]> {
  const own = () => harness.callbacks.events(spec.jobId).filter((e) => e.seq >= spec.callback.firstSeq);
  expect((await harness.post('/v1/trainings', spec)).status).toBe(202);
  await harness.callbacks.waitFor(
    `the end of attempt ${spec.attempt} of job ${spec.jobId}`,
    () => own().some((e) => TERMINAL.includes(e.type)),
    timeoutMs,
  );
  return own();
}

/** The run once the attempt's tracker has ended it (it ends the run in the background, after the training). */
async function endedRun(mlflow: MlflowServer, runId: string, status: string): Promise<MlflowRunView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = await mlflow.run(runId);
    if (run.status === status || Date.now() > deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A real training tracked in a real MLflow server, then a second attempt resuming it from its epoch-1 checkpoint
 * as the backend hands it over (with the run the first reported): one run with the job's parameters, tags, every
 * epoch's metrics at its step, the best checkpoint and metrics.json, FINISHED after each attempt.
 */
export async function expectTrackedTrainingAndResume(
  harness: TrainerHarness,
  mlflow: MlflowServer,
  c: TrackedTrainingCase,
): Promise<void> {
  const datasetUri = await harness.putDataset(`${randomUUID()}.zip`, c.zip);
  const base = harness.spec(c.model, datasetUri, c.hyperparameters);
  const jobUrl = `http://platform.test/v1/jobs/${base.jobId}`;
  const dataset = {
    ...base.dataset,
    id: randomUUID(),
    sha256: createHash('sha256').update(c.zip).digest('hex'),
  };
  const first: TrainingStartRequestBody = {
    ...base,
    dataset,
    tracking: { mlflow: { trackingUri: mlflow.url, experimentName: EXPERIMENT, jobUrl } },
  };
  const events = await runAttempt(harness, first, 240_000);
  expect(events.at(-1)?.type, JSON.stringify(events.at(-1))).toBe('completed');
  expect(events.filter((e) => e.type === 'log')).toEqual([]); // no tracking failure was reported
  const reported = events.filter((e) => e.type === 'tracking');
  expect(reported).toHaveLength(1);
  const { runId, experimentId } = (reported[0] as Extract<TrainerEvent, { type: 'tracking' }>).mlflow;

  const run = await endedRun(mlflow, runId, 'FINISHED');
  expect(run).toMatchObject({ runId, experimentId, status: 'FINISHED' });
  expect(run.tags).toMatchObject({
    'vtp.job_id': base.jobId,
    'vtp.job_url': jobUrl,
    'vtp.framework': base.framework,
    'vtp.attempt': '1',
  });
  expect(run.params).toMatchObject({
    framework: base.framework,
    model: c.model,
    'dataset.id': dataset.id,
    'dataset.sha256': dataset.sha256,
    'dataset.uri': datasetUri,
    epochs: String(c.hyperparameters.epochs),
  });
  const progress = events.filter((e): e is Progress => e.type === 'progress');
  expect(progress.map((e) => e.epoch)).toEqual([1, 2]);
  // Every metric of every epoch, at its epoch as step (MLflow keys keep [/\w.\- :] only).
  for (const [name, value] of Object.entries(progress[0]!.metrics)) {
    const key = name.replace(/[^/\w.\- :]/g, '');
    const history = await mlflow.history(runId, key);
    expect(
      history.map((m) => m.step),
      key,
    ).toEqual([1, 2]);
    expect(history[0]!.value, key).toBeCloseTo(value, 5);
    expect(history[1]!.value, key).toBeCloseTo(progress[1]!.metrics[name]!, 5);
  }
  const completed = events.at(-1) as Completed;
  const best = completed.artifacts.find((a) => a.kind === 'best')!;
  const metricsJson = completed.artifacts.find((a) => a.kind === 'metrics')!;
  expect(await mlflow.artifacts(runId)).toEqual({
    [c.bestArtifact]: best.bytes,
    'metrics.json': metricsJson.bytes,
  });

  // Attempt 2 continues from the epoch-1 checkpoint, as after a lost trainer: the same run goes on.
  const checkpoint = events.find((e): e is Checkpoint => e.type === 'checkpoint' && e.epoch === 1)!;
  const last = checkpoint.artifacts.find((a) => a.kind === 'last')!;
  const second: TrainingStartRequestBody = {
    ...first,
    attempt: 2,
    callback: { ...first.callback, firstSeq: 1000 },
    resume: {
      epoch: 1,
      last: last.uri,
      ...(last.sha256 ? { lastSha256: last.sha256 } : {}),
      epochMetrics: [progress[0]!.metrics],
    },
    tracking: { mlflow: { ...first.tracking!.mlflow, runId } },
  };
  const resumed = await runAttempt(harness, second, 240_000);
  expect(resumed.at(-1)?.type, JSON.stringify(resumed.at(-1))).toBe('completed');
  // Told the run, the trainer does not report it again.
  expect(resumed.filter((e) => e.type === 'tracking' || e.type === 'log')).toEqual([]);
  const after = await endedRun(mlflow, runId, 'FINISHED');
  expect(after.status).toBe('FINISHED');
  expect(after.tags['vtp.attempt']).toBe('2');
  expect(await mlflow.runsOfJob(EXPERIMENT, base.jobId)).toEqual([runId]);
  // Epoch 2 was trained twice (once per attempt): MLflow keeps both values at step 2.
  const [key] = Object.keys(progress[0]!.metrics).map((name) => name.replace(/[^/\w.\- :]/g, ''));
  expect((await mlflow.history(runId, key!)).map((m) => m.step)).toEqual([1, 2, 2]);
}

/** A training whose MLflow is unreachable still succeeds; it says once, as a log event, that tracking failed. */
export async function expectUntrackedWhenMlflowIsAway(
  harness: TrainerHarness,
  unreachableUrl: string,
  c: TrackedTrainingCase,
): Promise<void> {
  const datasetUri = await harness.putDataset(`${randomUUID()}.zip`, c.zip);
  const base = harness.spec(c.model, datasetUri, c.hyperparameters);
  const spec: TrainingStartRequestBody = {
    ...base,
    tracking: {
      mlflow: {
        trackingUri: unreachableUrl,
        experimentName: EXPERIMENT,
        jobUrl: `http://platform.test/v1/jobs/${base.jobId}`,
      },
    },
  };
  const failuresBefore = (await scrapeMetrics(harness.url)).sum('vtp_trainer_tracking_failures_total');
  const events = await runAttempt(harness, spec, 240_000);
  expect(events.at(-1)?.type, JSON.stringify(events.at(-1))).toBe('completed');
  expect(events.filter((e) => e.type === 'tracking')).toEqual([]);
  // Counted for the operator, every failed call, though the job's stream says so once.
  expect(
    (await scrapeMetrics(harness.url)).sum('vtp_trainer_tracking_failures_total') - failuresBefore,
  ).toBeGreaterThan(0);
  const logs = events.filter((e) => e.type === 'log');
  expect(logs).toHaveLength(1);
  expect(logs[0]).toMatchObject({
    level: 'warn',
    message: expect.stringMatching(/^MLflow tracking: could not/),
  });
}
