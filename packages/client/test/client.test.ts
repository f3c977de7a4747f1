import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { generateImagefolder, generateYolo, writeDirectory, zipBuffer } from '@vtp/sample-data';
import { createS3Client } from '@vtp/service-kit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformance } from '../../../services/backend/test/support/apiClient.ts';
import { dispatchByHand } from '../../../services/backend/test/support/dispatchByHand.ts';
import { reportEvent } from '../../../services/backend/test/support/jobs.ts';
import { startTestBackend, type TestBackend } from '../../../services/backend/test/support/testBackend.ts';
import {
  createVtpClient,
  type Dataset,
  type JobEvent,
  type UploadProgress,
  unwrap,
  VtpApiError,
  type VtpClient,
} from '../src/index.ts';
import { downloadArtifactToFile, uploadDatasetFrom } from '../src/node/index.ts';

/** The client against the real backend, its real PostgreSQL and S3-compatible server. */
describe('@vtp/client', () => {
  let t: TestBackend;
  let vtp: VtpClient;
  let images: Dataset;
  let scratch: string;

  beforeAll(async () => {
    t = await startTestBackend();
    vtp = createVtpClient({ baseUrl: t.backend.url, apiKey: (await t.newUser()).key });
    // Every typed call's answer is checked against the OpenAPI document too.
    vtp.api.use(conformance);
    scratch = await mkdtemp(join(tmpdir(), 'vtp-client-test-'));
  });
  afterAll(async () => {
    await t?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const errorOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: unknown) => err as VtpApiError,
    );

  it('uploads a zip with progress, and the typed API reads it back', async () => {
    const zip = await zipBuffer(generateImagefolder({ seed: 1, trainPerClass: 40, valPerClass: 4 }).entries);
    const progress: UploadProgress[] = [];
    images = await vtp.uploadDataset({
      name: 'shapes',
      format: 'imagefolder',
      file: new Blob([new Uint8Array(zip)]),
      onProgress: (p) => progress.push(p),
    });
    expect(images).toMatchObject({ name: 'shapes', format: 'imagefolder', bytes: zip.length });
    expect(images.sha256).toBe(createHash('sha256').update(zip).digest('hex'));
    // Counted as the body streams: several steps, each further, ending at the whole file.
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p, i) => i === 0 || p.loaded > (progress[i - 1]?.loaded ?? 0))).toBe(true);
    expect(progress.at(-1)).toEqual({ loaded: zip.length, total: zip.length });

    const read = unwrap(await vtp.api.GET('/v1/datasets/{id}', { params: { path: { id: images.id } } }));
    expect(read).toEqual(images);
  });

  it('uploads a folder zipped on the fly, streamed from disk with an exact total', async () => {
    const dir = join(scratch, 'yolo-folder');
    const sample = generateYolo({ seed: 2, trainImages: 6, valImages: 3 });
    await writeDirectory(sample.entries, dir);
    const progress: UploadProgress[] = [];
    const dataset = await uploadDatasetFrom(vtp, dir, {
      name: 'from a folder',
      format: 'yolo',
      onProgress: (p) => progress.push(p),
    });
    expect(dataset.format).toBe('yolo');
    expect(dataset.imageCounts).toEqual({ train: 6, val: 3, test: 0 });
    expect(progress.at(-1)?.loaded).toBe(dataset.bytes);
    expect(progress.every((p) => p.total === dataset.bytes)).toBe(true);
  });

  it('a refused upload is a VtpApiError naming the file at fault, in one line', async () => {
    const sample = generateYolo({ seed: 3, trainImages: 2, valImages: 1 });
    const broken = sample.entries.map((e) =>
      e.path === 'labels/train/train_0001.txt' ? { ...e, data: Buffer.from('7 0.5 0.5 2 0.1\n') } : e,
    );
    const err = await errorOf(
      vtp.uploadDataset({
        name: 'broken',
        format: 'yolo',
        file: new Blob([new Uint8Array(await zipBuffer(broken))]),
      }),
    );
    expect(err).toBeInstanceOf(VtpApiError);
    expect(err.status).toBe(422);
    expect(err.problem.issues?.map((i) => i.path)).toContain('labels/train/train_0001.txt');
    expect(err.message).toContain('labels/train/train_0001.txt');
    expect(err.message).not.toContain('\n');
  });

  it('unwrap throws the problem of a typed call, naming the field', async () => {
    const err = await errorOf(
      vtp.api
        .POST('/v1/jobs', {
          body: {
            framework: 'timm',
            model: 'test_resnet',
            datasetId: images.id,
            hyperparameters: { epochs: -1 },
          },
        })
        .then(unwrap),
    );
    expect(err).toBeInstanceOf(VtpApiError);
    expect(err).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(err.message).toMatch(/^422 validation_failed: .*body\.hyperparameters\.epochs/);

    const missing = await errorOf(
      vtp.api
        .GET('/v1/jobs/{id}', { params: { path: { id: '0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e' } } })
        .then(unwrap),
    );
    expect(missing).toMatchObject({ status: 404, code: 'job_not_found' });
    const stranger = createVtpClient({ baseUrl: t.backend.url, apiKey: 'vtp_not_a_key' });
    expect(await errorOf(stranger.api.GET('/v1/datasets').then(unwrap))).toMatchObject({ status: 401 });
  });

  it('follows a job live through a backend restart: every event once, in order, ending with the job', async () => {
    const job = unwrap(
      await vtp.api.POST('/v1/jobs', {
        body: {
          framework: 'timm',
          model: 'test_resnet',
          datasetId: images.id,
          hyperparameters: { epochs: 3 },
        },
      }),
    );
    const token = await dispatchByHand(t.database.url, job.id);
    const report = async (event: Record<string, unknown>) => {
      const res = await reportEvent(t.anonymous, job.id, token, event);
      if (res.status !== 200) throw new Error(`callback refused: ${res.text}`);
    };
    const progress = (seq: number, epoch: number) => ({
      seq,
      type: 'progress',
      epoch,
      totalEpochs: 3,
      metrics: { 'train/loss': 1 / epoch },
    });
    await report({ seq: 1, type: 'started', totalEpochs: 3 });
    await report(progress(2, 1));

    const seen: JobEvent[] = [];
    const reconnects: number[] = [];
    const following = (async () => {
      for await (const event of vtp.followJob(job.id, {
        onReconnect: (r) => reconnects.push(r.lastEventId),
      })) {
        seen.push(event);
      }
    })();
    await until(() => seen.length === 2);
    // The restart ends every live stream; the client reconnects with Last-Event-ID: 2.
    await t.restart();
    await report(progress(3, 2));
    await report(progress(4, 3));
    const artifact = await storeArtifact(job.id, 'best.pth.tar', Buffer.from('the best weights'));
    // `last` is reported but never stored: its download is a 404, not a server error.
    const unstored = { ...artifact, kind: 'last' as const, uri: artifact.uri.replace('best', 'last') };
    // So is its training log: reading it is a 404 too.
    const unstoredLog = {
      ...artifact,
      kind: 'log' as const,
      uri: artifact.uri.replace('best.pth.tar', 'training.log'),
    };
    await report({
      seq: 5,
      type: 'completed',
      metrics: { 'val/top1': 100 },
      artifacts: [artifact, unstored, unstoredLog],
    });
    await following;

    expect(reconnects).toEqual([2]);
    expect(seen.map((e) => [e.seq, e.type])).toEqual([
      [1, 'started'],
      [2, 'progress'],
      [3, 'progress'],
      [4, 'progress'],
      [5, 'completed'],
    ]);
    const done = unwrap(await vtp.api.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } }));
    expect(done.status).toBe('succeeded');

    // Its artifact, downloaded and checked against the recorded length and sha256.
    const file = await downloadArtifactToFile(vtp, job.id, 'best', scratch);
    expect(file).toEqual({
      path: join(scratch, 'best.pth.tar'),
      bytes: artifact.bytes,
      sha256: artifact.sha256,
    });
    expect(await readFile(file.path, 'utf8')).toBe('the best weights');
    const none = await errorOf(vtp.downloadArtifact(job.id, 'metrics'));
    expect(none).toMatchObject({ status: 404, code: 'artifact_not_found' });
    const gone = await errorOf(vtp.downloadArtifact(job.id, 'last'));
    expect(gone).toMatchObject({ status: 404, code: 'artifact_not_found' });
    expect(gone.message).toContain('is not in storage');
    const noLog = await errorOf(
      (async () => {
        for await (const _ of vtp.readLogs(job.id)) {
          // nothing arrives
        }
      })(),
    );
    expect(noLog).toMatchObject({ status: 404, code: 'log_not_found' });

    // A finished job's stream replays its history and ends at once.
    const replay: number[] = [];
    for await (const event of vtp.followJob(job.id, { after: 3 })) replay.push(event.seq);
    expect(replay).toEqual([4, 5]);
  });

  it('follows nothing of a job that is not the caller’s: 404', async () => {
    const other = createVtpClient({ baseUrl: t.backend.url, apiKey: (await t.newUser()).key });
    const job = unwrap(
      await vtp.api.POST('/v1/jobs', {
        body: { framework: 'timm', model: 'test_resnet', datasetId: images.id },
      }),
    );
    const err = await errorOf(other.followJob(job.id).next());
    expect(err).toMatchObject({ status: 404 });
  });

  async function storeArtifact(jobId: string, name: string, data: Buffer) {
    const key = `jobs/${jobId}/attempts/1/${name}`;
    const s3 = createS3Client({ ...t.s3, region: 'us-east-1', forcePathStyle: true });
    try {
      await s3.send(new PutObjectCommand({ Bucket: t.env.BUCKET_NAME, Key: key, Body: data }));
    } finally {
      s3.destroy();
    }
    return {
      kind: 'best' as const,
      uri: `s3://${t.env.BUCKET_NAME}/${key}`,
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    };
  }
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
