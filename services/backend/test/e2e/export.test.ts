import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { generateImagefolder, generateYolo } from '@vtp/sample-data';
import { createS3Client, parseS3Uri } from '@vtp/service-kit/s3';
import type { Artifact, Dataset, Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { events, finished, repoRoot, trainerPython, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

const run = promisify(execFile);

/** What support/onnx_parity.py prints for each framework. */
interface TimmParity {
  images: number;
  sameClass: number;
  maxProbabilityDifference: number;
}
interface YoloParity {
  images: number;
  boxes: number;
  sameBoxesAndClasses: number;
  minIoU: number;
  maxConfidenceDifference: number;
  maxRawBoxDifference: number;
  maxRawScoreDifference: number;
}

/**
 * ONNX export end to end (EXECUTION_MODE=subprocess): a job created with `export: ["onnx"]` goes through the dispatcher
 * to the real trainer, whose runner trains, then exports the best checkpoint with the framework's exporter; the
 * ONNX file is an artifact in S3 with its sha256, and onnxruntime predicts with it what PyTorch predicts with the
 * checkpoint on sample images the model never saw. `POST /v1/jobs/{id}/exports` then exports the finished job again,
 * as an export job of its own that goes the same way (its runner downloads the checkpoint, no dataset).
 */
describe('ONNX export of a trained job (EXECUTION_MODE=subprocess)', () => {
  let t: TestBackend;
  let user: ApiClient;
  let yolo: Dataset;
  let images: Dataset;

  beforeAll(async () => {
    trainerPython();
    t = await startTestBackend({ RUN_DISPATCHER: 'true', MONITOR_INTERVAL_MS: '500' });
    user = await t.newUser();
    yolo = await uploadSample(user, 'yolo');
    images = await uploadSample(user, 'imagefolder');
  });
  afterAll(() => t?.stop());

  async function download(artifact: Artifact | undefined, name: string): Promise<string> {
    if (!artifact) throw new Error(`no artifact for ${name}`);
    const { bucket, key } = parseS3Uri(artifact.uri);
    const s3 = createS3Client({ ...t.s3, region: 'us-east-1', forcePathStyle: true });
    const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await body.Body!.transformToByteArray();
    expect(bytes.length).toBe(artifact.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    const path = join(t.dataDir, name);
    await writeFile(path, bytes);
    return path;
  }

  /** Images of the same synthetic kind the models trained on, from another seed: never seen in training. */
  async function sampleImages(framework: 'ultralytics' | 'timm'): Promise<string[]> {
    const sample =
      framework === 'ultralytics'
        ? generateYolo({ seed: 77, trainImages: 1, valImages: 6 })
        : generateImagefolder({ seed: 77, trainPerClass: 1, valPerClass: 2 });
    const pngs = sample.entries.filter((e) => e.path.endsWith('.png') && !e.path.includes('train'));
    return Promise.all(
      pngs.map(async (entry, i) => {
        const path = join(t.dataDir, `${framework}-sample-${i}.png`);
        await writeFile(path, entry.data);
        return path;
      }),
    );
  }

  async function parity(framework: 'ultralytics' | 'timm', checkpoint: string, onnx: string) {
    const { stdout } = await run(
      trainerPython(),
      [
        join(repoRoot, 'services', 'backend', 'test', 'support', 'onnx_parity.py'),
        '--framework',
        framework,
        '--checkpoint',
        checkpoint,
        '--onnx',
        onnx,
        ...(await sampleImages(framework)),
      ],
      {
        env: {
          ...process.env,
          PYTHONPATH: [
            join(repoRoot, 'packages', 'trainer-runtime', 'python'),
            join(repoRoot, 'services', `trainer-${framework}`, 'runner'),
          ].join(':'),
        },
        cwd: t.dataDir,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as unknown;
  }

  it.each([
    ['ultralytics', 'yolo11n', () => yolo.id, 'best.pt'],
    ['timm', 'test_resnet', () => images.id, 'best.pth.tar'],
  ] as const)(
    '%s: trains and exports the best checkpoint to ONNX, then again on request as an export job; the ONNX models predict what the checkpoint does',
    async (framework, model, dataset, checkpointName) => {
      const created = await user.post<Job>('/v1/jobs', {
        framework,
        model,
        datasetId: dataset(),
        hyperparameters: { epochs: 2, imgsz: 64, batch: 4 },
        export: ['onnx'],
      });
      expect(created.status).toBe(201);
      expect(created.body.export).toEqual(['onnx']);
      const job = await waitForJob(user, created.body.id, finished, 300_000);
      expect(job.error).toBeNull();
      expect(job.status).toBe('succeeded');

      // The export is an artifact of its own next to the checkpoints, from the best checkpoint's epoch.
      const kinds = job.artifacts.map((a) => a.kind).sort();
      expect(kinds).toEqual(['best', 'last', 'log', 'metrics', 'onnx']);
      const best = job.artifacts.find((a) => a.kind === 'best');
      const onnx = job.artifacts.find((a) => a.kind === 'onnx');
      expect(onnx?.uri).toMatch(new RegExp(`^s3://[^/]+/jobs/${job.id}/.*weights/best\\.onnx$`));
      expect(onnx?.epoch).toBe(best?.epoch);
      // Nothing went wrong on the way: no warning in the job's events.
      expect((await events(user, job.id)).filter((e) => e.type === 'log')).toEqual([]);
      const log = (await user.get(`/v1/jobs/${job.id}/logs`)).text;
      const exported = log.match(/exported the best checkpoint to onnx in ([0-9.]+)s: (\d+) bytes/);
      expect(exported?.[2]).toBe(String(onnx?.bytes));

      const checkpointPath = await download(best, `${job.id}-${checkpointName}`);
      const onnxPath = await download(onnx, `${job.id}-best.onnx`);
      const result = await parity(framework, checkpointPath, onnxPath);
      expectParity(framework, result);
      console.info(
        `${framework} ONNX export: ${exported?.[1]} s, ${onnx?.bytes} bytes (checkpoint ${best?.bytes} bytes); parity ${summary(result)}`,
      );

      // Exported again later, on request: an export job of its own goes the same way to the trainer.
      const requested = await user.post<Job>(`/v1/jobs/${job.id}/exports`, { format: 'onnx' });
      expect(requested.status).toBe(202);
      expect(requested.body).toMatchObject({ kind: 'export', exportOf: job.id, status: 'queued' });
      const exportJob = await waitForJob(user, requested.body.id, finished, 300_000);
      expect(exportJob.error).toBeNull();
      expect(exportJob.status).toBe('succeeded');
      expect(exportJob.artifacts.map((a) => a.kind).sort()).toEqual(['log', 'metrics', 'onnx']);
      const later = exportJob.artifacts.find((a) => a.kind === 'onnx');
      expect(later?.uri).toMatch(new RegExp(`^s3://[^/]+/jobs/${exportJob.id}/.*weights/best\\.onnx$`));
      const exportLog = (await user.get(`/v1/jobs/${exportJob.id}/logs`)).text;
      const laterTime = exportLog.match(/exported the checkpoint to onnx in ([0-9.]+)s/)?.[1];
      const laterResult = await parity(
        framework,
        checkpointPath,
        await download(later, `${exportJob.id}-best.onnx`),
      );
      expectParity(framework, laterResult);
      console.info(
        `${framework} later ONNX export: job ${Date.parse(exportJob.finishedAt ?? '') - Date.parse(exportJob.createdAt)} ms from request to succeeded, export ${laterTime} s, ${later?.bytes} bytes; parity ${summary(laterResult)}`,
      );
    },
    // The first training also starts its trainer service (Python imports): slow on a busy machine.
    480_000,
  );
});

function summary(result: unknown): string {
  const { results: _perImage, ...rest } = result as { results: unknown };
  return JSON.stringify(rest);
}

function expectParity(framework: 'ultralytics' | 'timm', result: unknown): void {
  if (framework === 'timm') {
    const timm = result as TimmParity;
    expect(timm.images).toBe(6);
    expect(timm.sameClass).toBe(timm.images);
    expect(timm.maxProbabilityDifference).toBeLessThan(1e-4);
    return;
  }
  const detections = result as YoloParity;
  expect(detections.images).toBe(6);
  expect(detections.boxes).toBeGreaterThan(0);
  expect(detections.sameBoxesAndClasses).toBe(detections.images);
  expect(detections.minIoU).toBeGreaterThan(0.99);
  expect(detections.maxConfidenceDifference).toBeLessThan(1e-3);
  // Every anchor's raw box (pixels at 64 px) and class scores, before any threshold.
  expect(detections.maxRawBoxDifference).toBeLessThan(0.01);
  expect(detections.maxRawScoreDifference).toBeLessThan(1e-4);
}
