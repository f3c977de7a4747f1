import type { Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerProcess } from '../../src/execution/local/trainerProcess.ts';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { startTimmTrainer } from '../support/trainerService.ts';
import { events, finished, trainerPython, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

const TOKEN = 'trainer-token-for-the-resilience-test';

/**
 * The trainer runs on its own (as under `turbo run dev` or in a cluster, TRAINER_URLS) so the backend can go
 * away and come back while a training runs.
 */
describe('backend outage mid-training', () => {
  let t: TestBackend;
  let trainer: TrainerProcess;
  let user: ApiClient;

  beforeAll(async () => {
    trainerPython();
    t = await startTestBackend({ RUN_DISPATCHER: 'false' });
    let url: string;
    ({ trainer, url } = await startTimmTrainer(t, TOKEN, { HEARTBEAT_INTERVAL_MS: '1000' }));
    // Restart the backend in the shape of this test: dispatching on, pointed at the running trainer.
    Object.assign(t.env, {
      RUN_DISPATCHER: 'true',
      TRAINER_URLS: `timm=${url}`,
      TRAINER_TOKEN: TOKEN,
      MONITOR_INTERVAL_MS: '500',
      HEARTBEAT_TIMEOUT_SECONDS: '10',
    });
    await t.restart();
    user = await t.newUser();
  });
  afterAll(async () => {
    await trainer?.stop();
    await t?.stop();
  });

  it('a job survives the backend being down for 20 s: it succeeds and every event is stored exactly once', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const created = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: dataset.id,
      hyperparameters: { epochs: 12, imgsz: 64, batch: 2 },
    });
    await waitForJob(user, created.body.id, (j) => j.progress.epoch >= 1);
    await t.backend.stop();
    await new Promise((r) => setTimeout(r, 20_000));
    await t.restart();
    const job = await waitForJob(user, created.body.id, finished, 180_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    const history = await events(user, job.id);
    // Stored exactly once: seqs strictly increase (the key forbids repeats), and every event that matters is
    // there once; only heartbeats, which say nothing once the backend is back, may have been dropped.
    const seqs = history.map((e) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(history.filter((e) => e.type === 'started')).toHaveLength(1);
    expect(history.filter((e) => e.type === 'checkpoint').map((e) => e.payload.epoch)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(history.some((e) => Date.parse(e.receivedAt) - Date.parse(e.timestamp) > 15_000)).toBe(true);
    expect(history.filter((e) => e.type === 'progress').map((e) => e.payload.epoch)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(history.filter((e) => e.type === 'completed')).toHaveLength(1);
  });
});
