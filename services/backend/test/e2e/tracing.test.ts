import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTelemetry, type Telemetry } from '@vtp/service-kit';
import type { Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../support/apiClient.ts';
import { OtlpReceiver } from '../support/otlpReceiver.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { finished, trainerPython, waitFor, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

const EPOCHS = 2;

/**
 * One trace per job, exported over OTLP/HTTP to a real receiver: the backend (in this process, started with its
 * telemetry as `main.ts` does) and the trainer it spawns (its own process, given the same OTLP settings).
 */
describe('a job traced end to end over OTLP', () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let t: TestBackend;
  let user: ApiClient;

  beforeAll(async () => {
    trainerPython();
    receiver = await OtlpReceiver.start();
    // Read by the SDK in this process and passed on to the trainer services the backend spawns.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
    telemetry = startTelemetry('vtp-backend');
    t = await startTestBackend({ RUN_DISPATCHER: 'true', LOG_LEVEL: 'info' });
    user = await t.newUser();
  });
  afterAll(async () => {
    await t?.stop();
    await telemetry?.shutdown();
    await receiver?.stop();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  });

  it('follows the create request through dispatch, the trainer, its epochs, uploads and callbacks; logs name the trace', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const created = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: dataset.id,
      hyperparameters: { epochs: EPOCHS, imgsz: 32, batch: 4 },
    });
    expect(created.status).toBe(201);
    const job = await waitForJob(user, created.body.id, finished, 240_000);
    expect(job.status).toBe('succeeded');

    const root = await waitFor('the create request span', async () =>
      receiver.spans.find((s) => s.name === 'POST /v1/jobs' && s.attributes['vtp.job.id'] === job.id),
    );
    expect(root).toMatchObject({ service: 'vtp-backend', parentSpanId: undefined });
    expect(root.attributes).toMatchObject({ 'vtp.framework': 'timm', 'vtp.model': 'test_resnet' });
    const inTrace = (name: string, service: string) =>
      waitFor(`span "${name}" of ${service} in the job's trace`, async () =>
        receiver.spans.find((s) => s.traceId === root.traceId && s.name === name && s.service === service),
      );
    const trainer = 'vtp-trainer-timm';
    const accepted = await inTrace('POST /v1/trainings', trainer);
    // A hand-over may find the trainer still starting (busy): each try is a span, the last one hands over. Each
    // service exports its spans in batches of its own: the trainer's may come before the backend's.
    const dispatch = await waitFor('the hand-over span', async () =>
      receiver.spans.find(
        (s) =>
          s.traceId === root.traceId &&
          s.name === 'dispatch job' &&
          s.attributes['vtp.handover.outcome'] === 'handed_over',
      ),
    );
    const dispatches = receiver.spans.filter((s) => s.traceId === root.traceId && s.name === 'dispatch job');
    expect(dispatches.filter((s) => s.attributes['vtp.handover.outcome'] === 'handed_over')).toHaveLength(1);
    for (const other of dispatches)
      expect(other.attributes['vtp.handover.outcome']).toMatch(/^(handed_over|executor_busy)$/);
    const training = await inTrace(`training ${job.id}`, trainer);
    const download = await inTrace('download dataset', trainer);
    const extract = await inTrace('extract dataset', trainer);
    const runner = await inTrace('runner', trainer);
    const uploadFinal = await inTrace('upload final', trainer);
    const uploadLog = await inTrace('upload log', trainer);

    expect(dispatch.parentSpanId).toBe(root.spanId);
    expect(accepted.parentSpanId).toBe(dispatch.spanId);
    // Every attempt's training continues the request that created the job.
    expect(training.parentSpanId).toBe(root.spanId);
    const jobAttributes = { 'vtp.job.id': job.id, 'vtp.framework': 'timm', 'vtp.model': 'test_resnet' };
    expect(dispatch.attributes).toMatchObject({ ...jobAttributes, 'vtp.job.attempt': 1 });
    expect(training.attributes).toMatchObject({
      ...jobAttributes,
      'vtp.job.attempt': 1,
      'vtp.training.status': 'succeeded',
    });
    for (const step of [download, extract, runner, uploadFinal, uploadLog])
      expect(step.parentSpanId).toBe(training.spanId);
    expect(download.attributes['vtp.bytes']).toBeGreaterThan(0);
    expect(runner.attributes).toMatchObject({ 'vtp.runner.outcome': 'completed' });
    expect(uploadFinal.attributes['vtp.artifact.kinds']).toEqual(expect.arrayContaining(['best', 'last']));

    const epochs = training.events.filter((e) => e.name === 'epoch');
    expect(epochs.map((e) => e.attributes['vtp.epoch'])).toEqual([1, 2]);
    expect(epochs[1]?.attributes['vtp.metric.val/top1']).toEqual(expect.any(Number));

    // The trainer's reports, the terminal one among them, are spans of the backend in the same trace.
    await waitFor('the callback span with the completed event', async () =>
      receiver.spans.find(
        (s) =>
          s.traceId === root.traceId &&
          s.name === 'POST /v1/jobs/:id/callback' &&
          s.attributes['vtp.job.id'] === job.id &&
          (s.attributes['vtp.callback.event_types'] as string[]).includes('completed'),
      ),
    );
    expect(receiver.refused).toEqual([]);

    // The trainer's service log: JSON lines, the runner's output among them, each naming the job and its trace.
    const lines = (await readFile(join(t.dataDir, 'logs', 'trainer-timm.log'), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const ofJob = lines.filter((line) => line.job_id === job.id);
    expect(ofJob.some((line) => line.stream === 'runner')).toBe(true);
    expect(ofJob.some((line) => line.msg === 'training finished')).toBe(true);
    for (const line of ofJob)
      expect(line).toMatchObject({ trace_id: root.traceId, span_id: training.spanId });
  }, 300_000);
});
