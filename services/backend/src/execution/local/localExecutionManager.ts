import type { Readable } from 'node:stream';
import { type Logger, UnavailableError } from '@vtp/service-kit';
import type {
  Framework,
  TrainingStartRequestBody,
  WeightsCheckRequestBody,
  WeightsCheckResponseBody,
} from '@vtp/shared-schemas';
import {
  type ExecutionManager,
  type ExecutionState,
  ExecutorBusyError,
  type PlacedJob,
  type Placement,
  TrainingRejectedError,
} from '../executionManager.ts';
import type { TrainerClient } from '../trainerClient.ts';
import type { TrainerProcess } from './trainerProcess.ts';

/** A trainer to hand work to: a fixed URL (TRAINER_URLS) or a child process this backend runs. */
export type TrainerEndpoint = { kind: 'url'; url: string } | { kind: 'process'; process: TrainerProcess };

/** How long a weights check waits for a trainer that is still starting up. */
const READY_WAIT_MS = 90_000;

/** EXECUTION_MODE=subprocess: trainings run in trainer services on this machine, reached over HTTP only. */
export class LocalExecutionManager implements ExecutionManager {
  private readonly endpoints: Record<Framework, TrainerEndpoint>;
  private readonly client: TrainerClient;
  private readonly logger: Logger;

  private readonly weightsCheckTimeoutMs: number;

  constructor(
    endpoints: Record<Framework, TrainerEndpoint>,
    client: TrainerClient,
    logger: Logger,
    weightsCheckTimeoutMs: number,
  ) {
    this.endpoints = endpoints;
    this.weightsCheckTimeoutMs = weightsCheckTimeoutMs;
    this.client = client;
    this.logger = logger;
  }

  private async endpoint(framework: Framework): Promise<{ url: string; instance: string }> {
    const e = this.endpoints[framework];
    return e.kind === 'url' ? { url: e.url, instance: e.url } : e.process.ensure();
  }

  async start(job: PlacedJob, spec: TrainingStartRequestBody): Promise<Placement> {
    const { url, instance } = await this.endpoint(job.framework);
    const readiness = await this.client.readiness(url);
    // Not ready with a fix to apply is a real problem; not ready without one is a trainer still starting up.
    if (readiness && !readiness.ready && !readiness.fix) {
      throw new ExecutorBusyError(
        `${job.framework} trainer is starting: ${readiness.problem ?? 'not ready'}`,
        1,
      );
    }
    if (readiness && !readiness.ready) {
      throw new TrainingRejectedError(
        `The ${job.framework} trainer cannot train: ${readiness.problem ?? 'not ready'}${readiness.fix ? `. Fix: ${readiness.fix}` : ''}`,
        'trainer_unavailable',
      );
    }
    const res = await this.client.start(url, spec);
    if (res.status === 202 || res.status === 200) return { mode: 'subprocess', trainerUrl: url, instance };
    if (res.status === 503)
      throw new ExecutorBusyError(`${job.framework} trainer is busy`, res.retryAfterSeconds ?? 5);
    if (res.status === 422 || res.status === 400) {
      throw new TrainingRejectedError(
        `The ${job.framework} trainer refused the training (HTTP ${res.status})`,
      );
    }
    throw new Error(`${job.framework} trainer answered HTTP ${res.status}`);
  }

  /** The framework's trainer service downloads the file and loads it in a Python process of its own. */
  async checkWeights(request: WeightsCheckRequestBody): Promise<WeightsCheckResponseBody> {
    const { framework } = request;
    let res: Awaited<ReturnType<TrainerClient['checkWeights']>>;
    try {
      const { url } = await this.endpoint(framework);
      await this.untilReady(framework, url);
      res = await this.client.checkWeights(url, request, this.weightsCheckTimeoutMs);
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      // The trainer would not start, died mid-check, or did not answer in time: the file is not at fault.
      this.logger.warn({ err, framework }, 'the trainer could not check weights');
      throw new UnavailableError(
        `The ${framework} trainer could not check the weights: ${(err as Error).message}`,
        10,
        'weights_check_unavailable',
      );
    }
    if (res.status === 200 && res.body) return res.body;
    this.logger.warn({ framework, status: res.status }, 'the trainer could not check weights');
    throw new UnavailableError(
      `The ${framework} trainer cannot check weights now (HTTP ${res.status}); try again shortly`,
      res.retryAfterSeconds ?? 10,
      'weights_check_unavailable',
    );
  }

  /** A trainer just started checks its Python first: an upload waits for that rather than fail. */
  private async untilReady(framework: Framework, url: string): Promise<void> {
    const deadline = Date.now() + READY_WAIT_MS;
    for (;;) {
      const readiness = await this.client.readiness(url).catch(() => undefined);
      if (readiness?.ready) return;
      if (readiness?.fix || Date.now() >= deadline) {
        throw new UnavailableError(
          `The ${framework} trainer cannot check weights: ${readiness?.problem ?? 'not ready'}${readiness?.fix ? `. Fix: ${readiness.fix}` : ''}`,
          30,
          'trainer_not_ready',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private placedAt(job: PlacedJob): string | undefined {
    const url = job.placement?.trainerUrl;
    return typeof url === 'string' ? url : undefined;
  }

  async cancel(job: PlacedJob): Promise<void> {
    const url = this.placedAt(job);
    if (!url) return;
    const res = await this.client.cancel(url, job.id);
    if (res.status >= 300 && res.status !== 404)
      this.logger.warn({ job_id: job.id, status: res.status }, 'trainer refused cancel');
  }

  async status(job: PlacedJob): Promise<ExecutionState> {
    const url = this.placedAt(job) ?? (await this.endpoint(job.framework).catch(() => undefined))?.url;
    if (!url) return { kind: 'unreachable', reason: `no ${job.framework} trainer running` };
    try {
      const res = await this.client.get(url, job.id);
      if (res.status === 404) return { kind: 'unknown' };
      if (!res.body) return { kind: 'unreachable', reason: `HTTP ${res.status}` };
      const training = res.body;
      // An earlier attempt of the job, still known to the trainer, says nothing about the current one.
      if (training.attempt !== job.attempt) return { kind: 'unknown' };
      if (training.status === 'starting' || training.status === 'running') return { kind: 'active' };
      return {
        kind: 'finished',
        outcome: training.status,
        ...(training.error ? { error: training.error } : {}),
        ...(training.finishedAt ? { at: new Date(training.finishedAt) } : {}),
      };
    } catch (err) {
      return { kind: 'unreachable', reason: err instanceof Error ? err.message : String(err) };
    }
  }

  async logs(job: PlacedJob, options: { follow: boolean }): Promise<Readable | undefined> {
    const url = this.placedAt(job);
    if (!url) return undefined;
    const res = await this.client.logs(url, job.id, options.follow).catch(() => undefined);
    if (!res?.body) return undefined;
    const { Readable } = await import('node:stream');
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  }

  async cleanup(): Promise<void> {
    // Trainer services delete a job's work dir themselves when the training ends.
  }

  async stop(): Promise<void> {
    await Promise.all(
      Object.values(this.endpoints).map((e) => (e.kind === 'process' ? e.process.stop() : Promise.resolve())),
    );
  }
}
