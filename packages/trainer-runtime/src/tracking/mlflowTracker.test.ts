import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vtp/service-kit';
import type { MlflowRunRef } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MlflowServer, startMlflowServer } from '../../test/mlflowServer.ts';
import { MlflowTracker, mlflowKey, type TrackedTraining } from './mlflowTracker.ts';

const logger = createLogger('mlflow-test', 'silent');
const experimentName = 'tracker-tests';
const datasetId = randomUUID();

function training(jobId: string, attempt = 1, earlierEpochs: TrackedTraining['earlierEpochs'] = []) {
  return {
    jobId,
    attempt,
    framework: 'ultralytics',
    model: 'yolo11n',
    hyperparameters: { epochs: 3, imgsz: 64, lr0: 0.01, augment: { fliplr: 0.5 } },
    dataset: { id: datasetId, sha256: 'ab'.repeat(32), uri: 's3://vtp/datasets/x.zip' },
    earlierEpochs,
  };
}

let dir: string;

function trackerOf(server: string, jobId: string, options: { runId?: string; attempt?: number } = {}) {
  const runs: MlflowRunRef[] = [];
  const failures: string[] = [];
  const earlier = options.attempt && options.attempt > 1 ? [{ 'train/loss': 0.9 }] : [];
  const tracker = new MlflowTracker(
    {
      trackingUri: server,
      experimentName,
      jobUrl: `http://platform.test/v1/jobs/${jobId}`,
      ...(options.runId ? { runId: options.runId } : {}),
    },
    training(jobId, options.attempt, earlier),
    {
      logger,
      stagingDir: join(dir, 'staging', `${jobId}-${options.attempt ?? 1}`),
      onRun: (run) => runs.push(run),
      onFailure: (message) => failures.push(message),
    },
  );
  return { tracker, runs, failures };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('MLflow tracking of a training, against a real MLflow server', () => {
  let mlflow: MlflowServer;
  beforeAll(async () => {
    [mlflow, dir] = await Promise.all([startMlflowServer(), mkdtemp(join(tmpdir(), 'vtp-tracker-'))]);
  }, 120_000);
  afterAll(async () => {
    await mlflow?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps MLflow keys to the characters it allows', () => {
    expect(mlflowKey('metrics/mAP50-95(B)')).toBe('metrics/mAP50-95B');
    expect(mlflowKey('val/top1')).toBe('val/top1');
    expect(mlflowKey('/../x')).toBe('x');
  });

  it('logs one run per job: params, tags, every epoch as a step, artifacts, its end; attempt 2 continues it', async () => {
    const jobId = randomUUID();
    const first = trackerOf(mlflow.url, jobId);
    first.tracker.started('8.4.190');
    first.tracker.epoch(1, { 'train/loss': 0.9, 'metrics/mAP50(B)': 0.1 });
    first.tracker.epoch(2, { 'train/loss': 0.7, 'metrics/mAP50(B)': 0.2 });
    const best = join(dir, 'best.pt');
    await writeFile(best, Buffer.alloc(4096, 7));
    await first.tracker.artifact(best, 'weights/best.pt');
    // The training removes its folder at once: the upload does not need it.
    await rm(best);
    await first.tracker.end('failed');
    expect(first.failures).toEqual([]);
    expect(first.runs).toHaveLength(1);
    const { runId, experimentId } = first.runs[0]!;

    const run = await mlflow.run(runId);
    expect(run).toMatchObject({ experimentId, status: 'FAILED' });
    expect(run.params).toMatchObject({
      framework: 'ultralytics',
      model: 'yolo11n',
      epochs: '3',
      imgsz: '64',
      lr0: '0.01',
      augment: '{"fliplr":0.5}',
      'dataset.sha256': 'ab'.repeat(32),
      'dataset.uri': 's3://vtp/datasets/x.zip',
    });
    expect(run.tags).toMatchObject({
      'vtp.job_id': jobId,
      'vtp.job_url': `http://platform.test/v1/jobs/${jobId}`,
      'vtp.framework': 'ultralytics',
      'vtp.framework_version': '8.4.190',
      'vtp.attempt': '1',
    });
    expect(await mlflow.history(runId, 'metrics/mAP50B')).toEqual([
      { step: 1, value: 0.1 },
      { step: 2, value: 0.2 },
    ]);
    expect(await mlflow.artifacts(runId)).toEqual({ 'weights/best.pt': 4096 });

    // The next attempt was told nothing (its report of the run was lost): it finds the run by the job's tag.
    const second = trackerOf(mlflow.url, jobId, { attempt: 2 });
    second.tracker.epoch(3, { 'train/loss': 0.5, 'metrics/mAP50(B)': 0.3 });
    const metricsFile = join(dir, 'metrics.json');
    await writeFile(metricsFile, '{"epochs":[]}');
    await second.tracker.artifact(metricsFile, 'metrics.json');
    await second.tracker.end('succeeded');
    expect(second.failures).toEqual([]);
    expect(second.runs).toEqual([{ runId, experimentId }]);
    expect(await mlflow.runsOfJob(experimentName, jobId)).toEqual([runId]);
    const resumed = await mlflow.run(runId);
    expect(resumed.status).toBe('FINISHED');
    expect(resumed.tags['vtp.attempt']).toBe('2');
    // Attempt 1 logged epochs 1 and 2 itself: the run was not new, so nothing is logged twice.
    expect((await mlflow.history(runId, 'train/loss')).map((m) => m.step)).toEqual([1, 2, 3]);
    expect(await mlflow.artifacts(runId)).toEqual({ 'weights/best.pt': 4096, 'metrics.json': 13 });

    // Told the run (the backend passes it on), an attempt uses it without reporting it again.
    const third = trackerOf(mlflow.url, jobId, { runId, attempt: 3 });
    await third.tracker.end('cancelled');
    expect(third.runs).toEqual([]);
    expect((await mlflow.run(runId)).status).toBe('KILLED');
    // Nothing staged is left behind.
    expect(await readdir(join(dir, 'staging'))).toEqual([]);
  });

  it('back-fills the epochs an earlier attempt trained when the run is new to this attempt', async () => {
    const jobId = randomUUID();
    const late = trackerOf(mlflow.url, jobId, { attempt: 2 });
    late.tracker.epoch(2, { 'train/loss': 0.6 });
    await late.tracker.end('succeeded');
    const [{ runId }] = late.runs as [MlflowRunRef];
    expect(await mlflow.history(runId, 'train/loss')).toEqual([
      { step: 1, value: 0.9 },
      { step: 2, value: 0.6 },
    ]);
  });

  it('never throws nor holds the training up when MLflow is unreachable: failures are counted', async () => {
    const { tracker, runs, failures } = trackerOf(`http://127.0.0.1:${await closedPort()}`, randomUUID());
    tracker.started('1.0');
    for (let epoch = 1; epoch <= 5; epoch += 1) tracker.epoch(epoch, { 'train/loss': 1 / epoch });
    const best = join(dir, 'unsent.pt');
    await writeFile(best, 'weights');
    await tracker.artifact(best, 'weights/best.pt');
    const started = Date.now();
    await tracker.end('succeeded');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(runs).toEqual([]);
    // Opening the run failed; with no run nothing else was even tried.
    expect(tracker.failures).toBe(1);
    expect(failures[0]).toMatch(/could not open the run/);
  });

  it('lets the end of a training wait for its run to open, and no longer than it is told', async () => {
    // A training shorter than MLflow's first answers: once the run is open it is reported, before the end.
    const { tracker, runs } = trackerOf(mlflow.url, randomUUID());
    await tracker.opened(30_000);
    expect(runs).toHaveLength(1);
    await tracker.end('succeeded');

    // An MLflow that accepts connections and never answers holds the end for the bound only.
    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket.resume())).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const { port } = silent.address() as { port: number };
    const stuck = trackerOf(`http://127.0.0.1:${port}`, randomUUID());
    const started = Date.now();
    await stuck.tracker.opened(300);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(stuck.runs).toEqual([]);
    silent.close();
    for (const socket of held) socket.destroy();
    await stuck.tracker.end('failed');
  });
});
