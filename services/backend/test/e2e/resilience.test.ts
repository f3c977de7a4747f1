import type { Job, Training } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerProcess } from '../../src/execution/local/trainerProcess.ts';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { startTimmTrainer } from '../support/trainerService.ts';
import { events, finished, pidsMatching, trainerPython, waitFor, waitForJob } from '../support/training.ts';
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
  let trainerUrl: string;

  /** The trainer's own view of a training (it keeps running while the backend is away). */
  const trainingState = async (jobId: string): Promise<Training> => {
    const res = await fetch(`${trainerUrl}/v1/trainings/${jobId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (!res.ok) throw new Error(`trainer answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Training;
  };

  beforeAll(async () => {
    trainerPython();
    t = await startTestBackend({ RUN_DISPATCHER: 'false' });
    ({ trainer, url: trainerUrl } = await startTimmTrainer(t, TOKEN, { HEARTBEAT_INTERVAL_MS: '1000' }));
    // Restart the backend in the shape of this test: dispatching on, pointed at the running trainer.
    Object.assign(t.env, {
      RUN_DISPATCHER: 'true',
      TRAINER_URLS: `timm=${trainerUrl}`,
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
    const jobId = created.body.id;
    await waitForJob(user, jobId, (j) => j.progress.epoch >= 1);
    // Hold the training where it is while the backend goes down, so that what follows is produced during
    // the outage whatever the machine's speed.
    const runner = await pidsMatching(jobId);
    expect(runner.length).toBeGreaterThan(0);
    for (const pid of runner) process.kill(pid, 'SIGSTOP');
    const heldAt = await trainingState(jobId);
    await t.backend.stop();
    const downSince = Date.now();
    for (const pid of runner) process.kill(pid, 'SIGCONT');
    // The runner trains every epoch while the backend is down; its reports wait in the outbox, and the
    // checkpoint uploads wait for the presigned URLs only the backend gives.
    const trained = await waitFor('every epoch to train while the backend is down', async () => {
      const state = await trainingState(jobId);
      return state.epoch === 12 && state;
    });
    expect(trained.pendingEvents).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, Math.max(0, downSince + 20_000 - Date.now())));
    expect((await trainingState(jobId)).finishedAt).toBeNull();
    const restartedAt = Date.now();
    await t.restart();

    const job = await waitForJob(user, jobId, finished, 180_000);
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
    const progress = history.filter((e) => e.type === 'progress');
    expect(progress.map((e) => e.payload.epoch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(history.filter((e) => e.type === 'completed')).toHaveLength(1);
    // Every epoch trained during the outage was produced then and stored only after the restart.
    const duringOutage = progress.filter((e) => Number(e.payload.epoch) > heldAt.epoch);
    expect(duringOutage.length).toBeGreaterThan(0);
    for (const e of duringOutage) {
      expect(Date.parse(e.timestamp)).toBeLessThan(restartedAt);
      expect(Date.parse(e.receivedAt)).toBeGreaterThanOrEqual(restartedAt);
    }
  }, 150_000);
});
