import { generateYolo, zipBuffer } from '@vtp/sample-data';
import type { TrainerEvent } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTrainerHarness,
  type TrainerHarness,
} from '../../../packages/trainer-runtime/test/trainerHarness.ts';
import { ultralyticsAdapter } from '../src/adapter.ts';

describe('ultralytics trainer, end to end: HTTP API, real YOLO training, real S3, callbacks', () => {
  let harness: TrainerHarness;
  beforeAll(async () => {
    harness = await startTrainerHarness(ultralyticsAdapter);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
  });

  it('trains yolo11n for 2 epochs at 64 px and reports every step', { timeout: 240_000 }, async () => {
    const dataset = generateYolo({ imageSize: 64, trainImages: 8, valImages: 4, classes: 2 });
    // Zipped inside a wrapping folder, as zipping a folder on a desktop does.
    const zip = await zipBuffer(dataset.entries.map((e) => ({ ...e, path: `shapes/${e.path}` })));
    const spec = harness.spec('yolo11n', await harness.putDataset('shapes.zip', zip), {
      epochs: 2,
      imgsz: 64,
      batch: 4,
      mosaic: 0,
      warmup_epochs: 0,
    });
    const started = Date.now();
    expect((await harness.post('/v1/trainings', spec)).status).toBe(202);
    await harness.waitForEvent(spec.jobId, 'started', 200_000);
    const startup = Date.now() - started;
    const events = await harness.events(spec.jobId, 200_000);
    console.info(
      `ultralytics e2e training: ${((Date.now() - started) / 1000).toFixed(1)} s, ${startup} ms to the runner's first event`,
    );

    const last = events.at(-1);
    expect(last, JSON.stringify(last)).toMatchObject({ type: 'completed' });
    const types = events.filter((e) => e.type !== 'heartbeat' && e.type !== 'log').map((e) => e.type);
    expect(types).toEqual(['started', 'progress', 'checkpoint', 'progress', 'checkpoint', 'completed']);
    expect(events.filter((e) => e.type === 'log')).toEqual([]); // nothing but protocol lines on stdout
    const progress = events.filter(
      (e): e is Extract<TrainerEvent, { type: 'progress' }> => e.type === 'progress',
    );
    expect(progress.map((p) => p.epoch)).toEqual([1, 2]);
    expect(Object.keys(progress[1]!.metrics)).toEqual(
      expect.arrayContaining(['metrics/mAP50(B)', 'train/box_loss']),
    );

    const completed = last as Extract<TrainerEvent, { type: 'completed' }>;
    expect(completed.artifacts.map((a) => a.kind).sort()).toEqual(['best', 'last', 'log', 'metrics']);
    // The runner was forked from the warm zygote, which had imported torch and the framework already.
    const log = completed.artifacts.find((a) => a.kind === 'log')!;
    expect(await harness.storedText(log.uri)).toMatch(
      /runner started: forked from the warm zygote \(pid \d+\)/,
    );
    for (const artifact of completed.artifacts) {
      // What S3 holds is what the trainer verified and reported.
      expect(await harness.storedObject(artifact.uri), artifact.uri).toEqual({
        bytes: artifact.bytes,
        sha256: artifact.sha256,
      });
    }
    expect(completed.artifacts.find((a) => a.kind === 'best')?.uri).toBe(
      `s3://vtp-e2e/jobs/${spec.jobId}/weights/best.pt`,
    );
  });
});
