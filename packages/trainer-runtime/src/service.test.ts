import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import { createLogger, type RunningServer, scrapeMetrics } from '@vtp/service-kit';
import {
  createS3Client,
  type EmbeddedS3,
  ensureBucket,
  parseS3Uri,
  startEmbeddedS3,
} from '@vtp/service-kit/s3';
import {
  Problem,
  type TrainerEvent,
  TrainerModelsResponseBody,
  TrainerReadiness,
  Training,
  type TrainingStartRequestBody,
} from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackServer } from '../test/callbackServer.ts';
import { fakeAdapter } from '../test/fakeAdapter.ts';
import { rawZip } from '../test/rawZip.ts';
import { loadTrainerConfig } from './config.ts';
import { oomKillCount } from './runner/oomKills.ts';
import { createTrainerService, type TrainerService } from './service.ts';

const TOKEN = 'trainer-token-for-tests-0123456789';
const BUCKET = 'vtp-test';

describe('trainer HTTP API with a fake runner, real S3 and a real callback server', {
  timeout: 30_000,
}, () => {
  let dir: string;
  let s3server: EmbeddedS3;
  let s3: S3Client;
  let callbacks: CallbackServer;
  let service: TrainerService;
  let server: RunningServer;
  let adapter: ReturnType<typeof fakeAdapter>;
  let datasetUri: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-trainer-api-'));
    s3server = await startEmbeddedS3(join(dir, 's3'));
    s3 = createS3Client({ ...s3server, region: 'us-east-1', forcePathStyle: true });
    await ensureBucket(s3, BUCKET);
    // Zipped as `zip -r mydata.zip mydata` would: everything inside one wrapping folder.
    const dataset = generateImagefolder({ imageSize: 32, trainPerClass: 2, valPerClass: 1 });
    const wrapped = dataset.entries.map((e) => ({ ...e, path: `mydata/${e.path}` }));
    datasetUri = await put('datasets/wrapped.zip', await zipBuffer(wrapped));
    callbacks = new CallbackServer();
    callbacks.serveStorage(s3, BUCKET);
    await callbacks.start();
    adapter = fakeAdapter(join(dir, 'runner.pid'));
    service = newService();
    server = await service.start();
    await service.readiness.check(adapter.frameworkModule, dir, process.env);
  });
  afterAll(async () => {
    await service?.stop();
    await callbacks?.stop();
    await s3server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function newService(extraEnv: Record<string, string> = {}): TrainerService {
    const config = loadTrainerConfig('timm', 0, 'serve', {
      TRAINER_TOKEN: TOKEN,
      WORK_DIR: join(dir, 'work'),
      HEARTBEAT_INTERVAL_MS: '100',
      CANCEL_GRACE_MS: '3000',
      ...extraEnv,
    });
    return createTrainerService(adapter, config, {
      logger: createLogger('trainer-test', 'silent'),
      python: 'python3',
    });
  }

  async function put(key: string, body: Buffer): Promise<string> {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return `s3://${BUCKET}/${key}`;
  }

  function spec(overrides: Partial<TrainingStartRequestBody> = {}, hyperparameters: object = {}) {
    const jobId = randomUUID();
    return {
      jobId,
      framework: 'timm',
      model: 'test_resnet',
      hyperparameters,
      dataset: { uri: datasetUri, format: 'imagefolder' },
      callback: {
        url: callbacks.callbackUrl(jobId),
        storageUrl: callbacks.storageUrl(jobId),
        token: 'job-callback-token-0123456789',
      },
      ...overrides,
    } as TrainingStartRequestBody;
  }

  async function call(method: string, path: string, body?: unknown, token = TOKEN) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  const ended = (jobId: string) => () =>
    callbacks.events(jobId).some((e) => ['completed', 'failed', 'cancelled'].includes(e.type));

  async function finalEvent(jobId: string): Promise<TrainerEvent> {
    await callbacks.waitFor(`job ${jobId} to end`, ended(jobId));
    return callbacks.events(jobId).at(-1)!;
  }

  async function storedObject(uri: string): Promise<{ bytes: number; sha256: string }> {
    const { bucket, key } = parseS3Uri(uri);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await object.Body!.transformToByteArray();
    return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  it('refuses /v1 without the trainer token; health, readiness and metrics are open', async () => {
    expect((await call('GET', '/v1/models', undefined, 'wrong-token')).status).toBe(401);
    expect(TrainerModelsResponseBody.parse((await call('GET', '/v1/models')).body).framework).toBe('timm');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = TrainerReadiness.parse(await (await fetch(`${server.url}/readyz`)).json());
    expect(ready).toMatchObject({ ready: true, framework: 'timm', python: { executable: 'python3' } });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('vtp_trainer_active_trainings 0');
    expect(metrics).toContain('vtp_trainer_pending_callback_events');
  });

  it('answers 422 naming each field at fault', async () => {
    const bad = { ...spec({}, { epochs: 0, momentum: 0.9 }), model: 'yolo11n', framework: 'ultralytics' };
    const res = await call('POST', '/v1/trainings', bad);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    Problem.parse(res.body);
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'body.framework',
      'body.hyperparameters',
      'body.hyperparameters.epochs',
      'body.model',
    ]);
    const missing = await call('POST', '/v1/trainings', { ...spec(), callback: undefined });
    expect(missing.body.issues).toEqual([{ path: 'body.callback', message: expect.any(String) }]);
  });

  it('trains end to end: events in order, artifacts in S3, an idempotent start, 503 past the limit', async () => {
    const before = await scrapeMetrics(server.url);
    const body = spec({}, { epochs: 2, epochSeconds: 0.3 });
    const started = await call('POST', '/v1/trainings', body);
    expect(started.status).toBe(202);
    expect(Training.parse(started.body)).toMatchObject({
      jobId: body.jobId,
      status: 'starting',
      pendingEvents: expect.any(Number),
    });

    const again = await call('POST', '/v1/trainings', body);
    expect(again.status).toBe(200);
    expect(again.body.jobId).toBe(body.jobId);
    const busy = await call('POST', '/v1/trainings', spec());
    expect(busy.status).toBe(503);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);

    const last = await finalEvent(body.jobId);
    const events = callbacks.events(body.jobId);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.filter((e) => e.type !== 'heartbeat').map((e) => e.type)).toEqual([
      'started',
      'progress',
      'checkpoint',
      'progress',
      'checkpoint',
      'completed',
    ]);
    expect(events.some((e) => e.type === 'heartbeat')).toBe(true);
    expect(last.type === 'completed' && last.artifacts.map((a) => a.kind).sort()).toEqual([
      'best',
      'last',
      'log',
      'metrics',
    ]);
    for (const event of events) {
      if (event.type !== 'checkpoint' && event.type !== 'completed') continue;
      for (const artifact of event.artifacts) {
        expect(artifact.uri.startsWith(`s3://${BUCKET}/jobs/${body.jobId}/`)).toBe(true);
        if (event.type === 'completed')
          expect(await storedObject(artifact.uri)).toEqual({
            bytes: artifact.bytes,
            sha256: artifact.sha256,
          });
      }
    }
    const log = last.type === 'completed' ? last.artifacts.find((a) => a.kind === 'log') : undefined;
    const { bucket, key } = parseS3Uri(log!.uri);
    const text = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    ).Body!.transformToString();
    expect(text).toContain('epoch 2 done');

    // The wrapping folder was stepped into, and nothing of the job is left on disk.
    expect(adapter.datasets.at(-1)?.root).toMatch(/dataset\/mydata$/);
    await expect
      .poll(async () => (await call('GET', `/v1/trainings/${body.jobId}`)).body.status)
      .toBe('succeeded');
    // The folder goes just after the terminal event is queued (a busy machine can see the two apart).
    await expect.poll(() => readdir(join(dir, 'work', 'jobs'))).toEqual([]);

    // What it did, in /metrics: the dataset down and unpacked, each artifact up, the runner's exit, callbacks.
    const after = await scrapeMetrics(server.url);
    const grew = (name: string, labels: Record<string, string> = {}) =>
      after.sum(name, labels) - before.sum(name, labels);
    const zip = (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'datasets/wrapped.zip' })))
      .ContentLength;
    expect(grew('vtp_trainer_download_bytes_total', { object: 'dataset' })).toBe(zip);
    expect(grew('vtp_trainer_download_duration_seconds_count', { object: 'dataset' })).toBe(1);
    expect(grew('vtp_trainer_dataset_extract_duration_seconds_count')).toBe(1);
    expect(grew('vtp_trainer_dataset_extracted_bytes_total')).toBeGreaterThan(0);
    const uploaded = last.type === 'completed' ? last.artifacts : [];
    for (const kind of ['metrics', 'log'])
      expect(grew('vtp_trainer_artifact_upload_bytes_total', { kind })).toBe(
        uploaded.find((a) => a.kind === kind)?.bytes,
      );
    expect(grew('vtp_trainer_artifact_upload_duration_seconds_count', { kind: 'best' })).toBeGreaterThan(0);
    expect(grew('vtp_trainer_runner_exits_total', { outcome: 'completed', reason: 'none' })).toBe(1);
    expect(grew('vtp_trainer_callback_requests_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(3);
    expect(grew('vtp_trainer_callback_requests_total', { outcome: 'failed' })).toBe(0);
    expect(after.sum('vtp_trainer_callback_circuits', { state: 'closed' })).toBe(1);
    expect(after.sum('vtp_trainer_active_trainings')).toBe(0);
    expect(after.sum('vtp_trainer_pending_callback_events')).toBe(0);
    expect(after.sum('vtp_trainer_oldest_pending_callback_event_age_seconds')).toBe(0);
  });

  it('uploads each checkpoint as the runner froze it, though the framework rewrites its files right after each save', async () => {
    const body = spec({}, { epochs: 3, epochSeconds: 0.2, behaviour: 'rewrite' });
    expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
    const last = await finalEvent(body.jobId);
    expect(last.type).toBe('completed');
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const saved = (kind: string, epoch: number) => `${kind} checkpoint of epoch ${epoch}\n`.repeat(1000);
    // The runner rewrote each file ("stripped") microseconds after reporting it: what was sent is what was saved.
    const checkpoints = callbacks.events(body.jobId).filter((e) => e.type === 'checkpoint');
    expect(checkpoints.map((e) => e.epoch)).toEqual([1, 2, 3]);
    for (const event of checkpoints) {
      for (const artifact of event.type === 'checkpoint' ? event.artifacts : []) {
        expect(artifact).toMatchObject({
          epoch: event.epoch,
          bytes: saved(artifact.kind, event.epoch).length,
          sha256: sha256(saved(artifact.kind, event.epoch)),
        });
      }
    }
    // The final files are the rewritten ones, captured after the runner's last rewrite; S3 holds those bytes.
    const final =
      last.type === 'completed' ? last.artifacts.filter((a) => a.kind === 'best' || a.kind === 'last') : [];
    expect(final).toHaveLength(2);
    for (const artifact of final) {
      expect(artifact).toMatchObject({ sha256: sha256('stripped\n'), epoch: 3 });
      const { bucket, key } = parseS3Uri(artifact.uri);
      const stored = await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      ).Body!.transformToString();
      expect(sha256(stored)).toBe(artifact.sha256);
    }
  });

  it('exports the best checkpoint after the training as an artifact of its own; a failed export keeps the checkpoints and says why', async () => {
    const body = spec({ export: ['onnx'] }, { epochs: 2 });
    expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
    const last = await finalEvent(body.jobId);
    const artifacts = last.type === 'completed' ? last.artifacts : [];
    expect(artifacts.map((a) => a.kind).sort()).toEqual(['best', 'last', 'log', 'metrics', 'onnx']);
    const onnx = artifacts.find((a) => a.kind === 'onnx')!;
    expect(onnx).toMatchObject({ uri: `s3://${BUCKET}/jobs/${body.jobId}/weights/best.onnx`, epoch: 2 });
    const best = 'best checkpoint of epoch 2\n'.repeat(1000);
    expect(await storedObject(onnx.uri)).toEqual({
      bytes: `exported ${best}`.length,
      sha256: createHash('sha256').update(`exported ${best}`).digest('hex'),
    });
    expect(callbacks.events(body.jobId).filter((e) => e.type === 'log')).toEqual([]);

    const failing = spec({ export: ['onnx'] }, { epochs: 2, exportFails: true });
    expect((await call('POST', '/v1/trainings', failing)).status).toBe(202);
    const end = await finalEvent(failing.jobId);
    expect(end.type).toBe('completed');
    const kept = end.type === 'completed' ? end.artifacts.map((a) => a.kind).sort() : [];
    expect(kept).toEqual(['best', 'last', 'log', 'metrics']);
    const warnings = callbacks.events(failing.jobId).filter((e) => e.type === 'log');
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 'warn',
        message:
          'onnx export of the best checkpoint failed: RuntimeError: unsupported operator for this opset',
      }),
    ]);
  });

  it('runs an export-only training: the initial weights exported, no dataset fetched, a failed export fails it', async () => {
    const weights = await put('jobs/source/weights/best.ckpt', Buffer.from('the best weights\n'));
    const missing = `s3://${BUCKET}/datasets/not-there.zip`;
    const only = (hyperparameters: object) =>
      spec(
        {
          export: ['onnx'],
          exportOnly: true,
          initialWeightsUri: weights,
          dataset: { uri: missing, format: 'imagefolder' },
        },
        hyperparameters,
      );
    const body = only({});
    expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
    const last = await finalEvent(body.jobId);
    expect(last.type, JSON.stringify(last)).toBe('completed');
    const artifacts = last.type === 'completed' ? last.artifacts : [];
    expect(artifacts.map((a) => a.kind).sort()).toEqual(['log', 'metrics', 'onnx']);
    const onnx = artifacts.find((a) => a.kind === 'onnx')!;
    expect(await storedObject(onnx.uri)).toEqual({
      bytes: 'exported the best weights\n'.length,
      sha256: createHash('sha256').update('exported the best weights\n').digest('hex'),
    });

    const failing = only({ exportFails: true });
    expect((await call('POST', '/v1/trainings', failing)).status).toBe(202);
    const failed = await finalEvent(failing.jobId);
    expect(failed).toMatchObject({
      type: 'failed',
      error: {
        code: 'framework_error',
        message: 'onnx export of the checkpoint failed: RuntimeError: unsupported operator for this opset',
      },
    });
  });

  it('cancels: SIGTERM to the runner, partial checkpoints uploaded, a cancelled event, the log followed to its end', async () => {
    const body = spec({}, { epochs: 1000, epochSeconds: 0.2 });
    expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
    await callbacks.waitFor('a checkpoint', () =>
      callbacks.events(body.jobId).some((e) => e.type === 'checkpoint'),
    );
    const following = fetch(`${server.url}/v1/trainings/${body.jobId}/logs?follow=true`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    }).then((res) => res.text());
    const pgid = Number((await readFile(join(dir, 'runner.pid'), 'utf8')).split(' ')[0]);

    const cancel = await call('POST', `/v1/trainings/${body.jobId}/cancel`);
    expect(cancel.status).toBe(202);
    const last = await finalEvent(body.jobId);
    expect(last.type).toBe('cancelled');
    expect(last.type === 'cancelled' && last.artifacts.map((a) => a.kind).sort()).toEqual([
      'best',
      'last',
      'log',
    ]);
    const partial = last.type === 'cancelled' ? last.artifacts.find((a) => a.kind === 'last') : undefined;
    expect(partial?.epoch).toBeGreaterThanOrEqual(1);
    expect(await vanished(-pgid)).toBe(true);

    const log = await following;
    expect(log).toContain('fake runner for');
    expect(log).toContain('stopping: cancel');
    expect((await call('POST', `/v1/trainings/${body.jobId}/cancel`)).status).toBe(200);
    expect((await call('GET', `/v1/trainings/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', `/v1/trainings/${body.jobId}`)).body).toMatchObject<Partial<Training>>({
      status: 'cancelled',
      error: null,
    });
  });

  it('reports failures with their codes: the runner error, a killed runner, a missing dataset, a zip-slip archive', async () => {
    const before = await scrapeMetrics(server.url);
    const failed = async (body: TrainingStartRequestBody) => {
      expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
      const last = await finalEvent(body.jobId);
      return last.type === 'failed' ? last.error : undefined;
    };
    expect(await failed(spec({}, { behaviour: 'error' }))).toEqual({
      code: 'invalid_dataset',
      message: 'labels/train/a.txt: class 7 out of range',
    });
    // Where the kernel counts OOM kills (as here), a kill -9 is told from the out-of-memory killer's work.
    expect(await failed(spec({}, { behaviour: 'killed' }))).toMatchObject({
      code: (await oomKillCount()) === undefined ? 'out_of_memory' : 'killed',
      message: expect.stringContaining('fake runner for'),
    });
    const missing = `s3://${BUCKET}/datasets/nope.zip`;
    expect(await failed(spec({ dataset: { uri: missing, format: 'imagefolder' } }))).toEqual({
      code: 'invalid_dataset',
      message: `${missing} does not exist or cannot be read`,
    });
    const weights = `s3://${BUCKET}/checkpoints/nope.ckpt`;
    expect(await failed(spec({ initialWeightsUri: weights }))).toEqual({
      code: 'invalid_configuration',
      message: `${weights} does not exist or cannot be read`,
    });
    const slip = await put('datasets/slip.zip', rawZip([{ name: '../../../escaped.txt', data: 'x' }]));
    expect(await failed(spec({ dataset: { uri: slip, format: 'imagefolder' } }))).toMatchObject({
      code: 'invalid_dataset',
      message: expect.stringContaining('escaped.txt'),
    });
    expect((await readdir(dir)).sort()).toEqual(['runner.pid', 's3', 'work']);
    // Two runners ran and failed; the other two failures came before any runner.
    const after = await scrapeMetrics(server.url);
    const exits = (reason: string) =>
      after.sum('vtp_trainer_runner_exits_total', { outcome: 'failed', reason }) -
      before.sum('vtp_trainer_runner_exits_total', { outcome: 'failed', reason });
    expect(exits('invalid_dataset')).toBe(1);
    expect(exits('killed') + exits('out_of_memory')).toBe(1);
    expect(after.sum('vtp_trainer_runner_exits_total') - before.sum('vtp_trainer_runner_exits_total')).toBe(
      2,
    );
  });

  it('shutting down stops the runner and keeps undelivered events; the next process delivers them', async () => {
    const body = spec({}, { epochs: 1000, epochSeconds: 0.2 });
    expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
    await callbacks.waitFor('a checkpoint', () =>
      callbacks.events(body.jobId).some((e) => e.type === 'checkpoint'),
    );
    const following = fetch(`${server.url}/v1/trainings/${body.jobId}/logs?follow=true`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    }).then((res) => res.text());
    const pgid = Number((await readFile(join(dir, 'runner.pid'), 'utf8')).split(' ')[0]);
    const before = callbacks.events(body.jobId).length;

    await callbacks.stop(); // the backend is away while the trainer stops
    const stopping = Date.now();
    await service.stop();
    expect(Date.now() - stopping).toBeLessThan(2000); // the runner stopped on SIGTERM: no grace period used
    expect(await following).toContain('fake runner for'); // a followed log ends with the service
    expect(await vanished(-pgid)).toBe(true);
    expect(await readdir(join(dir, 'work', 'outbox'))).toEqual([`${body.jobId}.jsonl`]);

    await callbacks.start();
    service = newService();
    server = await service.start();
    await service.readiness.check(adapter.frameworkModule, dir, process.env);
    const last = await finalEvent(body.jobId);
    expect(last).toMatchObject({ type: 'failed', error: { code: 'trainer_unavailable' } });
    const seqs = callbacks.events(body.jobId).map((e) => e.seq);
    expect(seqs.length).toBeGreaterThan(before);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    await expect.poll(() => readdir(join(dir, 'work', 'outbox'))).toEqual([]);
  });

  it('stops a training whose epoch makes no progress past its stall limit, and reports it as stalled', async () => {
    await service.stop();
    service = newService({ STALL_TIMEOUT_SECONDS: '1' });
    server = await service.start();
    await service.readiness.check(adapter.frameworkModule, dir, process.env);
    const body = spec({}, { epochs: 3, epochSeconds: 600 });
    expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
    const last = await finalEvent(body.jobId);
    expect(last).toMatchObject({
      type: 'failed',
      error: { code: 'stalled', message: expect.stringContaining('No progress while training') },
    });
    const heartbeats = callbacks.events(body.jobId).filter((e) => e.type === 'heartbeat');
    expect(heartbeats.some((e) => e.phase === 'training' && e.stallLimitSeconds === 1)).toBe(true);
    const pgid = Number((await readFile(join(dir, 'runner.pid'), 'utf8')).split(' ')[0]);
    expect(await vanished(-pgid)).toBe(true);
  });

  it('runs a later attempt of a job as a training of its own: the earlier one stops first, its events start at firstSeq, an older attempt is refused', async () => {
    const first = spec({}, { epochs: 1000, epochSeconds: 0.2 });
    expect((await call('POST', '/v1/trainings', first)).status).toBe(202);
    await callbacks.waitFor('the first attempt to train', () =>
      callbacks.events(first.jobId).some((e) => e.type === 'progress'),
    );
    const second = {
      ...first,
      attempt: 2,
      hyperparameters: { epochs: 1, epochSeconds: 0.2 },
      callback: {
        ...first.callback,
        storageUrl: callbacks.storageUrl(first.jobId, 2),
        token: 'job-callback-token-attempt-2',
        firstSeq: 100,
      },
    };
    // The backend gave up on the first attempt: the trainer stops it before it starts the second.
    const refused = await call('POST', '/v1/trainings', second);
    expect(refused.status).toBe(503);
    await callbacks.waitFor('the first attempt to end', ended(first.jobId));
    const deadline = Date.now() + 20_000;
    let started = await call('POST', '/v1/trainings', second);
    while (started.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      started = await call('POST', '/v1/trainings', second);
    }
    expect(started.status).toBe(202);
    await callbacks.waitFor('the second attempt to end', () =>
      callbacks.events(first.jobId).some((e) => e.seq >= 100 && e.type === 'completed'),
    );
    const secondEvents = callbacks.events(first.jobId).filter((e) => e.seq >= 100);
    expect(secondEvents.map((e) => e.seq)).toEqual(secondEvents.map((_, i) => 100 + i));
    expect(secondEvents.filter((e) => e.type !== 'heartbeat').map((e) => e.type)).toEqual([
      'started',
      'progress',
      'checkpoint',
      'completed',
    ]);
    // The second attempt writes below its own folder, through URLs asked for with its own token.
    const completed = secondEvents.find((e) => e.type === 'completed');
    expect(completed?.type === 'completed' && completed.artifacts.map((a) => a.uri)).toContain(
      `s3://${BUCKET}/jobs/${first.jobId}/attempts/2/metrics.json`,
    );
    expect(
      callbacks
        .events(first.jobId)
        .filter((e) => e.seq < 100)
        .at(-1)?.type,
    ).toBe('cancelled');
    expect((await call('GET', `/v1/trainings/${first.jobId}`)).body).toMatchObject({
      attempt: 2,
      status: 'succeeded',
    });
    expect((await call('POST', '/v1/trainings', first)).status).toBe(409);
  });

  it('stops a training that runs past maxDurationSeconds', async () => {
    const body = spec({ maxDurationSeconds: 1 }, { epochs: 1000, epochSeconds: 0.2 });
    expect((await call('POST', '/v1/trainings', body)).status).toBe(202);
    const last = await finalEvent(body.jobId);
    expect(last).toMatchObject({ type: 'failed', error: { code: 'time_limit_exceeded' } });
  });
});

async function vanished(target: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(target, 0);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
