import { generateYolo, zipBuffer } from '@vtp/sample-data';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type MlflowServer, startMlflowServer } from '../../../packages/trainer-runtime/test/mlflowServer.ts';
import { expectTrackedTrainingAndResume } from '../../../packages/trainer-runtime/test/trackedTraining.ts';
import {
  startTrainerHarness,
  type TrainerHarness,
} from '../../../packages/trainer-runtime/test/trainerHarness.ts';
import { ultralyticsAdapter } from '../src/adapter.ts';

describe('ultralytics trainer logging to a real MLflow tracking server', () => {
  let harness: TrainerHarness;
  let mlflow: MlflowServer;
  beforeAll(async () => {
    [harness, mlflow] = await Promise.all([startTrainerHarness(ultralyticsAdapter), startMlflowServer()]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([harness?.stop(), mlflow?.stop()]);
  });

  it('logs a YOLO training and its resumed attempt to one MLflow run', { timeout: 480_000 }, async () => {
    const dataset = generateYolo({ imageSize: 64, trainImages: 8, valImages: 4, classes: 2 });
    await expectTrackedTrainingAndResume(harness, mlflow, {
      model: 'yolo11n',
      zip: await zipBuffer(dataset.entries),
      hyperparameters: { epochs: 2, imgsz: 64, batch: 4, mosaic: 0, warmup_epochs: 0 },
      bestArtifact: 'weights/best.pt',
    });
  });
});
