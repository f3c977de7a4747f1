import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createLogger, type RunningServer } from '@vtp/service-kit';
import {
  createS3Client,
  type EmbeddedS3,
  ensureBucket,
  parseS3Uri,
  startEmbeddedS3,
} from '@vtp/service-kit/s3';
import type { TrainerEvent, TrainingStartRequestBody } from '@vtp/shared-schemas';
import type { TrainerAdapter } from '../src/adapter.ts';
import { loadTrainerConfig } from '../src/config.ts';
import { createTrainerService, type TrainerService } from '../src/service.ts';
import { CallbackServer } from './callbackServer.ts';

const TOKEN = 'trainer-token-for-tests-0123456789';
const BUCKET = 'vtp-e2e';
const TERMINAL: readonly string[] = ['completed', 'failed', 'cancelled'];

/**
 * A trainer service as the backend sees it, for end-to-end tests of a real framework: its HTTP API on a free
 * port, a real S3-compatible server, and a callback server recording every event and handing out presigned
 * URLs to that server.
 */
export interface TrainerHarness {
  url: string;
  s3: S3Client;
  callbacks: CallbackServer;
  service: TrainerService;
  /** Stores a dataset zip; returns its s3:// URI. */
  putDataset(name: string, zip: Buffer): Promise<string>;
  /** A start request for `model` on `datasetUri`, reporting to the callback server. */
  spec(model: string, datasetUri: string, hyperparameters: object): TrainingStartRequestBody;
  post(path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Waits for the job's terminal event; returns all its events. */
  events(jobId: string, timeoutMs: number): Promise<TrainerEvent[]>;
  /** Waits for the job's first event of `type` (or its end, which the caller's next check then reports). */
  waitForEvent(jobId: string, type: TrainerEvent['type'], timeoutMs: number): Promise<void>;
  /** Size and sha256 of a stored object, or undefined when it does not exist. */
  storedObject(uri: string): Promise<{ bytes: number; sha256: string } | undefined>;
  /** A stored object's bytes as text (the training log). */
  storedText(uri: string): Promise<string>;
  stop(): Promise<void>;
}

export interface TrainerHarnessOptions {
  /** Fork runners from the warm zygote (the default; the harness waits until it is ready) or spawn each cold. */
  warmRunners?: boolean;
}

export async function startTrainerHarness(
  adapter: TrainerAdapter,
  { warmRunners = true }: TrainerHarnessOptions = {},
): Promise<TrainerHarness> {
  const dir = await mkdtemp(join(tmpdir(), `vtp-${adapter.framework}-e2e-`));
  let s3server: EmbeddedS3 | undefined;
  const callbacks = new CallbackServer();
  let service: TrainerService | undefined;
  let server: RunningServer | undefined;
  const stop = async () => {
    await service?.stop();
    await callbacks.stop();
    await s3server?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    s3server = await startEmbeddedS3(join(dir, 's3'));
    const s3 = createS3Client({ ...s3server, region: 'us-east-1', forcePathStyle: true });
    await ensureBucket(s3, BUCKET);
    callbacks.serveStorage(s3, BUCKET);
    await callbacks.start();
    const config = loadTrainerConfig(adapter.framework, 0, 'serve', {
      TRAINER_TOKEN: TOKEN,
      WORK_DIR: join(dir, 'work'),
      WARM_RUNNERS: String(warmRunners),
    });
    service = createTrainerService(adapter, config, { logger: createLogger('e2e', 'warn') });
    if (!service.python)
      throw new Error(
        'No Python environment for the runners: run `npm test` from the repository root (it prepares one) or `npm run python:env`',
      );
    server = await service.start();
    const probe = await service.readiness.check(adapter.frameworkModule, dir, process.env);
    if (probe.problem)
      throw new Error(`The trainer is not ready: ${probe.problem} (fix: npm run python:env)`);
    if (warmRunners) await service.zygote?.ready(180_000);
    const url = server.url;

    return {
      url,
      s3,
      callbacks,
      service,
      async putDataset(name, zip) {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `datasets/${name}`, Body: zip }));
        return `s3://${BUCKET}/datasets/${name}`;
      },
      spec(model, datasetUri, hyperparameters) {
        const jobId = randomUUID();
        return {
          jobId,
          framework: adapter.framework,
          model,
          hyperparameters: { ...hyperparameters },
          dataset: { uri: datasetUri, format: adapter.framework === 'ultralytics' ? 'yolo' : 'imagefolder' },
          attempt: 1,
          export: [],
          exportOnly: false,
          callback: {
            url: callbacks.callbackUrl(jobId),
            storageUrl: callbacks.storageUrl(jobId),
            token: 'job-callback-token-0123456789',
            firstSeq: 1,
          },
        };
      },
      async post(path, body) {
        const res = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body ?? {}),
        });
        return { status: res.status, body: await res.json() };
      },
      async events(jobId, timeoutMs) {
        await callbacks.waitFor(
          `the end of job ${jobId}`,
          () => callbacks.events(jobId).some((e) => TERMINAL.includes(e.type)),
          timeoutMs,
        );
        return callbacks.events(jobId);
      },
      waitForEvent(jobId, type, timeoutMs) {
        return callbacks.waitFor(
          `a ${type} event of job ${jobId}`,
          () => callbacks.events(jobId).some((e) => e.type === type || TERMINAL.includes(e.type)),
          timeoutMs,
        );
      },
      async storedObject(uri) {
        const { bucket, key } = parseS3Uri(uri);
        try {
          const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          const bytes = await object.Body!.transformToByteArray();
          return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
        } catch {
          return undefined;
        }
      },
      async storedText(uri) {
        const { bucket, key } = parseS3Uri(uri);
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return object.Body!.transformToString();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
