import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackServer } from '../../test/callbackServer.ts';
import { type StorageBackend, startStorageBackend } from '../../test/storageBackend.ts';
import { CallbackSender } from '../callbacks/deliveryPolicy.ts';
import { createHttpClient } from '../callbacks/httpClient.ts';
import { StorageRefusedError, StorageUnavailableError, StorageUrls } from './storageUrls.ts';

const BUCKET = 'vtp-urls';
const fastPolicy = {
  attemptTimeoutMs: 1000,
  maxAttempts: 2,
  initialDelayMs: 20,
  maxDelayMs: 50,
  maxRetryAfterMs: 100,
  breakerThreshold: 1000,
  halfOpenAfterMs: 100,
};

describe('StorageUrls asks the backend for one presigned URL at a time', () => {
  let dir: string;
  let storage: StorageBackend;
  let backend: CallbackServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-storage-urls-'));
    storage = await startStorageBackend(dir, BUCKET);
    backend = storage.backend;
  });
  afterAll(async () => {
    await storage?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const urls = (server: CallbackServer, options: { patienceMs: number; patient?: () => boolean }) =>
    new StorageUrls(
      new CallbackSender(createHttpClient(), fastPolicy),
      { url: server.storageUrl('job-1'), token: 'job-token' },
      options,
    );

  it('returns the URL and where the object goes', async () => {
    const answer = await urls(backend, { patienceMs: 1000 }).get({
      method: 'PUT',
      name: 'metrics.json',
      bytes: 2,
    });
    expect(answer.uri).toBe(`s3://${BUCKET}/jobs/job-1/metrics.json`);
    expect(new URL(answer.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect(backend.storageRequests.at(-1)?.request).toEqual({
      method: 'PUT',
      name: 'metrics.json',
      bytes: 2,
    });
  });

  it('gives up at once when the backend refuses: asking again cannot help', async () => {
    const refusing = new CallbackServer(); // serves no storage URLs: every request gets a 4xx
    await refusing.start();
    try {
      const started = Date.now();
      await expect(
        urls(refusing, { patienceMs: 10_000 }).get({ method: 'GET', uri: `s3://${BUCKET}/datasets/x.zip` }),
      ).rejects.toBeInstanceOf(StorageRefusedError);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await refusing.stop();
    }
  });

  it('keeps asking while the backend is away, and gets the URL once it is back', async () => {
    await backend.stop();
    const asked = urls(backend, { patienceMs: 20_000 }).get({
      method: 'PUT',
      name: 'training.log',
      bytes: 5,
    });
    await new Promise((r) => setTimeout(r, 1500));
    await backend.start();
    expect((await asked).uri).toBe(`s3://${BUCKET}/jobs/job-1/training.log`);
  });

  it('fails after its patience, and after one attempt when it may not wait (shutting down)', async () => {
    await backend.stop();
    try {
      const started = Date.now();
      await expect(
        urls(backend, { patienceMs: 1000 }).get({ method: 'PUT', name: 'a', bytes: 1 }),
      ).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      const hurried = Date.now();
      await expect(
        urls(backend, { patienceMs: 60_000, patient: () => false }).get({
          method: 'PUT',
          name: 'a',
          bytes: 1,
        }),
      ).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(Date.now() - hurried).toBeLessThan(1000);
    } finally {
      await backend.start();
    }
  });
});
