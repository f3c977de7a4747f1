import type { Job, JobEvent } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { events, finished, trainerPython, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

describe('dispatching under load', () => {
  let t: TestBackend;
  let user: ApiClient;
  beforeAll(async () => {
    trainerPython();
    t = await startTestBackend({
      RUN_DISPATCHER: 'true',
      MAX_JOBS_PER_FRAMEWORK: '2',
      MAX_JOBS_PER_USER: '10',
    });
    user = await t.newUser();
  });
  afterAll(() => t?.stop());

  it('ten jobs submitted at once with a limit of two: all finish, never more than two at a time', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const ids = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await user.post<Job>('/v1/jobs', {
          framework: 'timm',
          model: 'test_efficientnet',
          datasetId: dataset.id,
          hyperparameters: { epochs: 1, imgsz: 32, batch: 4, seed: i },
        });
        expect(res.status).toBe(201);
        return res.body.id;
      }),
    );
    let peak = 0;
    const watching = (async () => {
      for (;;) {
        const jobs = (await user.get<{ items: Job[] }>('/v1/jobs?limit=50')).body.items;
        peak = Math.max(
          peak,
          jobs.filter((j) => j.status === 'running' || j.status === 'dispatching').length,
        );
        if (jobs.every(finished)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const results = await Promise.all(ids.map((id) => waitForJob(user, id, finished, 600_000)));
    await watching;
    expect(results.map((j) => j.status)).toEqual(Array(10).fill('succeeded'));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);

    // The trainers' own clocks agree: from each job's `started` to its end, no instant has three running.
    const spans = await Promise.all(
      ids.map(async (id) => {
        const history: JobEvent[] = await events(user, id);
        const at = (type: string) => Date.parse(history.find((e) => e.type === type)?.timestamp ?? '');
        return [at('started'), at('completed')] as const;
      }),
    );
    for (const [start] of spans) {
      expect(spans.filter(([s, e]) => s <= start && start < e).length).toBeLessThanOrEqual(2);
    }
  });
});
