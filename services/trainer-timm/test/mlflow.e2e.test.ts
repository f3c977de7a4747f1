import { createServer } from 'node:net';
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type MlflowServer, startMlflowServer } from '../../../packages/trainer-runtime/test/mlflowServer.ts';
import {
  expectTrackedTrainingAndResume,
  expectUntrackedWhenMlflowIsAway,
  type TrackedTrainingCase,
} from '../../../packages/trainer-runtime/test/trackedTraining.ts';
import {
  startTrainerHarness,
  type TrainerHarness,
} from '../../../packages/trainer-runtime/test/trainerHarness.ts';
import { timmAdapter } from '../src/adapter.ts';

/** A URL nothing listens on. */
async function closedUrl(): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}

describe('timm trainer logging to a real MLflow tracking server', () => {
  let harness: TrainerHarness;
  let mlflow: MlflowServer;
  let training: TrackedTrainingCase;
  beforeAll(async () => {
    [harness, mlflow] = await Promise.all([startTrainerHarness(timmAdapter), startMlflowServer()]);
    const dataset = generateImagefolder({ imageSize: 64, trainPerClass: 8, valPerClass: 4, classes: 3 });
    training = {
      model: 'test_resnet',
      zip: await zipBuffer(dataset.entries),
      hyperparameters: { epochs: 2, imgsz: 64, batch: 8 },
      bestArtifact: 'weights/best.pth.tar',
    };
  }, 180_000);
  afterAll(async () => {
    await Promise.all([harness?.stop(), mlflow?.stop()]);
  });

  it('logs a timm training and its resumed attempt to one MLflow run', { timeout: 480_000 }, async () => {
    await expectTrackedTrainingAndResume(harness, mlflow, training);
  });

  it('trains on when MLflow is unreachable, saying so once', { timeout: 240_000 }, async () => {
    await expectUntrackedWhenMlflowIsAway(harness, await closedUrl(), training);
  });
});
