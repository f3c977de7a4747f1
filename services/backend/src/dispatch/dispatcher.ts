import { inSpan, type Logger } from '@vtp/service-kit';
import type { FailureCode } from '@vtp/shared-schemas';
import type { DatasetStore } from '../datasets/datasetStore.ts';
import type { Db } from '../db/database.ts';
import { type ExecutionManager, ExecutorBusyError } from '../execution/executionManager.ts';
import { buildTrainingSpec } from '../execution/trainingSpec.ts';
import { isFinished } from '../jobs/jobLifecycle.ts';
import type { JobStore } from '../jobs/jobStore.ts';
import { type ClaimedJob, type ConcurrencyLimits, claimQueuedJobs } from './claimJobs.ts';

export interface DispatcherOptions {
  limits: ConcurrencyLimits;
  backendBaseUrl: string;
  bucket: string;
  pollIntervalMs: number;
  /** Hand-overs that failed for reasons other than a busy executor, before the job fails. */
  maxAttempts: number;
}

/** A training that cannot run as asked (refused by the trainer, or no usable trainer): retrying cannot help. */
export class TrainingRejectedError extends Error {
  override name = 'TrainingRejectedError';
  readonly code: FailureCode;
  constructor(message: string, code: FailureCode = 'invalid_configuration') {
    super(message);
    this.code = code;
  }
}

/**
 * Moves queued jobs to an executor: claims them (within the concurrency limits) in PostgreSQL, then hands
 * each over through the execution manager. Safe to run on every backend replica.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private ticking: Promise<void> | undefined;
  private readonly handovers = new Set<Promise<void>>();
  private readonly deps: {
    db: Db;
    jobs: JobStore;
    datasets: DatasetStore;
    manager: ExecutionManager;
    logger: Logger;
  };
  private readonly options: DispatcherOptions;

  constructor(
    deps: { db: Db; jobs: JobStore; datasets: DatasetStore; manager: ExecutionManager; logger: Logger },
    options: DispatcherOptions,
  ) {
    this.deps = deps;
    this.options = options;
  }

  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.nudge(), this.options.pollIntervalMs);
    this.nudge();
  }

  /** Looks for work now rather than at the next poll (a job was created, a training ended). */
  nudge(): void {
    if (!this.started || this.ticking) return;
    this.ticking = this.tick()
      .catch((err) => this.deps.logger.error({ err }, 'dispatch tick failed'))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  private async tick(): Promise<void> {
    const claimed = await claimQueuedJobs(this.deps.db, this.options.limits);
    for (const job of claimed) {
      // The hand-over continues the trace of the request that created the job.
      const handover = inSpan('dispatch job', job.row.trace_context ?? undefined, () =>
        this.handOver(job),
      ).finally(() => this.handovers.delete(handover));
      this.handovers.add(handover);
    }
  }

  private async handOver({ row, callbackToken }: ClaimedJob): Promise<void> {
    const { jobs, datasets, manager, logger } = this.deps;
    try {
      const dataset = await datasets.findById(row.dataset_id);
      if (!dataset) throw new TrainingRejectedError(`dataset ${row.dataset_id} no longer exists`);
      let initialWeightsUri: string | undefined;
      if (row.initial_weights) {
        const source =
          (await jobs.artifacts([row.initial_weights.jobId])).get(row.initial_weights.jobId) ?? [];
        initialWeightsUri = source.find((a) => a.kind === row.initial_weights?.checkpoint)?.uri;
        if (!initialWeightsUri)
          throw new TrainingRejectedError('the checkpoint to start from no longer exists');
      }
      const spec = buildTrainingSpec({
        job: row,
        dataset,
        bucket: this.options.bucket,
        backendBaseUrl: this.options.backendBaseUrl,
        callbackToken,
        initialWeightsUri,
        traceContext: row.trace_context ?? undefined,
      });
      const placement = await manager.start(row, spec);
      await jobs.update(row.id, { placement: JSON.stringify(placement) });
      logger.info({ jobId: row.id, framework: row.framework, placement }, 'job handed over');
      // A cancel that arrived while the hand-over was in flight found nothing to stop: pass it on now.
      const current = await jobs.find(row.id);
      if (current?.cancel_requested_at && !isFinished(current.status)) await manager.cancel(current);
    } catch (err) {
      await this.handOverFailed(row.id, row.attempts, err);
    }
  }

  private async handOverFailed(jobId: string, attempts: number, err: unknown): Promise<void> {
    const { jobs, logger } = this.deps;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ExecutorBusyError) {
      // Busy is not a failed attempt: the job simply waits its turn.
      await jobs.transition(jobId, ['dispatching'], 'queued', { attempts: Math.max(0, attempts - 1) });
      return;
    }
    if (err instanceof TrainingRejectedError) {
      await jobs.fail(jobId, ['dispatching'], { code: err.code, message });
      return;
    }
    logger.warn({ err, jobId, attempts }, 'hand-over failed');
    if (attempts >= this.options.maxAttempts) {
      await jobs.fail(jobId, ['dispatching'], {
        code: 'trainer_unavailable',
        message: `The trainer could not take the job after ${attempts} attempts: ${message}`,
      });
    } else {
      await jobs.transition(jobId, ['dispatching'], 'queued');
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.handovers]);
  }
}
