import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from './support/apiClient.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { rawDatasetUpload } from './support/uploads.ts';

/** Sends a dataset upload in `pieces`, waiting `gapsMs[i]` before piece i + 1; resolves with the answer or the error. */
async function upload(url: string, key: string, pieces: number, gapsMs: number[]) {
  const { req, body } = await rawDatasetUpload(url, key);
  return new Promise<{ status: number } | { error: string }>((done) => {
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => done({ status: res.statusCode ?? 0 }));
    });
    req.once('error', (err) => done({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    void (async () => {
      const size = Math.ceil(body.length / pieces);
      for (let i = 0; i < pieces; i++) {
        if (req.destroyed) return;
        req.write(body.subarray(i * size, (i + 1) * size));
        await sleep(gapsMs[i] ?? 0);
      }
      req.end();
    })();
  });
}

describe('upload time limits (REQUEST_IDLE_TIMEOUT_SECONDS=1)', () => {
  let t: TestBackend;
  let user: ApiClient;
  const objectKeys = () => t.objectKeys('datasets/');

  beforeAll(async () => {
    t = await startTestBackend({ REQUEST_IDLE_TIMEOUT_SECONDS: '1' });
    user = await t.newUser();
  });
  afterAll(() => t?.stop());

  it('lets a slow upload that keeps sending run past the idle limit: only idleness ends a request', async () => {
    const started = Date.now();
    const answer = await upload(t.backend.url, user.key as string, 8, Array(8).fill(400));
    expect(answer).toEqual({ status: 201 });
    expect(Date.now() - started).toBeGreaterThan(2500);
  });

  it('cuts an upload that stops sending, and keeps nothing of it', async () => {
    const before = await objectKeys();
    const answer = await upload(t.backend.url, user.key as string, 2, [3000]);
    expect(answer).toEqual({ error: 'ECONNRESET' });
    await expect.poll(objectKeys, { timeout: 10_000 }).toEqual(before);
    expect((await user.get('/v1/datasets')).status).toBe(200);
  });
});
