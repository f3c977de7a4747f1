import type { Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from './support/apiClient.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { sampleZip, upload, uploadSample } from './support/uploads.ts';

type ProblemBody = { code: string };

/** One user cannot crowd out the others: bounded datasets, queue and live streams (here 2 of each). */
describe('per-user limits', () => {
  let t: TestBackend;
  let ada: ApiClient;
  let bob: ApiClient;
  let adaDataset: string;

  beforeAll(async () => {
    t = await startTestBackend({
      MAX_QUEUED_JOBS_PER_USER: '2',
      MAX_STREAMS_PER_USER: '2',
      MAX_DATASETS_PER_USER: '2',
    });
    ada = await t.newUser();
    bob = await t.newUser();
    adaDataset = (await uploadSample(ada, 'imagefolder')).id;
  });
  afterAll(() => t?.stop());

  const job = (client: ApiClient, datasetId: string, key?: string) =>
    client.post<Job | ProblemBody>(
      '/v1/jobs',
      { framework: 'timm', model: 'test_resnet', datasetId },
      key ? { headers: { 'Idempotency-Key': key } } : {},
    );

  it('refuses an upload past the dataset quota with 409 before reading it, until one is deleted', async () => {
    const second = await uploadSample(ada, 'imagefolder', 'second');
    const third = await upload(ada, { name: 'third', format: 'imagefolder' }, await sampleZip('imagefolder'));
    expect(third.status).toBe(409);
    expect((third.body as ProblemBody).code).toBe('dataset_quota_exceeded');
    expect((await ada.delete(`/v1/datasets/${second.id}`)).status).toBe(204);
    expect(
      (await upload(ada, { name: 'third', format: 'imagefolder' }, await sampleZip('imagefolder'))).status,
    ).toBe(201);
  });

  it('refuses a job past the queue quota with 429 and Retry-After; a retried create and other users are unaffected', async () => {
    expect((await job(ada, adaDataset, 'first')).status).toBe(201);
    expect((await job(ada, adaDataset)).status).toBe(201);
    const third = await job(ada, adaDataset);
    expect(third.status).toBe(429);
    expect((third.body as ProblemBody).code).toBe('queue_quota_exceeded');
    expect(third.headers.get('retry-after')).toBe('60');
    expect((await job(ada, adaDataset, 'first')).status).toBe(200);
    const bobDataset = (await uploadSample(bob, 'imagefolder')).id;
    expect((await job(bob, bobDataset)).status).toBe(201);
  });

  it('refuses a third live stream with 429, and takes one again once a stream closes', async () => {
    const queued = (await ada.get<{ items: Job[] }>('/v1/jobs')).body.items[0]!;
    const open = () =>
      fetch(`${t.backend.url}/v1/jobs/${queued.id}/events`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${ada.key}` },
      });
    const first = await open();
    const second = await open();
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await open();
    expect(third.status).toBe(429);
    expect(((await third.json()) as ProblemBody).code).toBe('too_many_streams');
    await first.body?.cancel();
    await expect
      .poll(async () => {
        const again = await open();
        await again.body?.cancel();
        return again.status;
      })
      .toBe(200);
    await second.body?.cancel();
  });
});
