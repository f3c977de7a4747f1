import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import type { TrainerEvent } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTrainerHarness,
  type TrainerHarness,
} from '../../../packages/trainer-runtime/test/trainerHarness.ts';
import { timmAdapter } from '../src/adapter.ts';

describe('timm trainer, end to end: HTTP API, real timm training, real S3, callbacks', () => {
  let harness: TrainerHarness;
  beforeAll(async () => {
    harness = await startTrainerHarness(timmAdapter);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
  });

  it('trains test_resnet for 2 epochs at 64 px and reports every step', { timeout: 240_000 }, async () => {
    const dataset = generateImagefolder({ imageSize: 64, trainPerClass: 8, valPerClass: 4, classes: 3 });
    const spec = harness.spec(
      'test_resnet',
      await harness.putDataset('shapes.zip', await zipBuffer(dataset.entries)),
      {
        epochs: 2,
        imgsz: 64,
        batch: 8,
      },
    );
    const started = Date.now();
    expect((await harness.post('/v1/trainings', spec)).status).toBe(202);
    await harness.waitForEvent(spec.jobId, 'started', 200_000);
    const startup = Date.now() - started;
    const events = await harness.events(spec.jobId, 200_000);
    console.info(
      `timm e2e training: ${((Date.now() - started) / 1000).toFixed(1)} s, ${startup} ms to the runner's first event`,
    );

    const last = events.at(-1);
    expect(last, JSON.stringify(last)).toMatchObject({ type: 'completed' });
    const types = events.filter((e) => e.type !== 'heartbeat' && e.type !== 'log').map((e) => e.type);
    expect(types).toEqual(['started', 'progress', 'checkpoint', 'progress', 'checkpoint', 'completed']);
    expect(events.filter((e) => e.type === 'log')).toEqual([]); // nothing but protocol lines on stdout
    const progress = events.filter(
      (e): e is Extract<TrainerEvent, { type: 'progress' }> => e.type === 'progress',
    );
    expect(Object.keys(progress[0]!.metrics)).toEqual(
      expect.arrayContaining(['train/loss', 'val/loss', 'val/top1']),
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
    expect(completed.artifacts.find((a) => a.kind === 'last')?.uri).toBe(
      `s3://vtp-e2e/jobs/${spec.jobId}/weights/last.pth.tar`,
    );
  });

  it('cancels a training forked from the warm zygote: it stops at a batch and reports its last checkpoint; the zygote stays', {
    timeout: 240_000,
  }, async () => {
    const dataset = generateImagefolder({ imageSize: 64, trainPerClass: 8, valPerClass: 4, classes: 3 });
    const uri = await harness.putDataset('cancel.zip', await zipBuffer(dataset.entries));
    const spec = harness.spec('test_resnet', uri, { epochs: 500, imgsz: 64, batch: 2 });
    const zygote = harness.service.zygote?.pid;
    expect(zygote).toBeGreaterThan(0);
    expect((await harness.post('/v1/trainings', spec)).status).toBe(202);
    await harness.callbacks.waitFor(
      'a first checkpoint',
      () => harness.callbacks.events(spec.jobId).some((e) => e.type === 'checkpoint'),
      200_000,
    );
    expect((await harness.post(`/v1/trainings/${spec.jobId}/cancel`)).status).toBe(202);
    const last = (await harness.events(spec.jobId, 120_000)).at(-1);
    expect(last, JSON.stringify(last)).toMatchObject({ type: 'cancelled' });
    const cancelled = last as Extract<TrainerEvent, { type: 'cancelled' }>;
    expect(cancelled.artifacts.map((a) => a.kind)).toContain('last');
    const log = await harness.storedText(cancelled.artifacts.find((a) => a.kind === 'log')!.uri);
    expect(log).toContain('forked from the warm zygote');
    expect(log).toContain('received SIGTERM: stopping at the next batch boundary');
    expect(harness.service.zygote?.pid).toBe(zygote);
  });
});
