import { annotateActiveSpan, inSpan, jobSpanAttributes, type Logger } from '@vtp/service-kit';
import type { TrainingResume } from '@vtp/shared-schemas';
import type { DatasetStore } from '../datasets/datasetStore.ts';
import {
  type ExecutionManager,
  ExecutorBusyError,
  TrainingRejectedError,
} from '../execution/executionManager.ts';
import { buildTrainingSpec } from '../execution/trainingSpec.ts';
import type { InitialWeightsSource } from '../jobs/initialWeights.ts';
import type { JobEventStore } from '../jobs/jobEventStore.ts';
import { isFinished } from '../jobs/jobLifecycle.ts';
import type { ClaimedJob, ConcurrencyLimits, JobRow, JobStore } from '../jobs/jobStore.ts';
import type { JobMetrics } from '../observability/jobMetrics.ts';

/** Jobs claimed per pass: one short transaction, however long the queue. */
const CLAIM_BATCH = 20;

export interface DispatcherOptions {
  limits: ConcurrencyLimits;
  backendBaseUrl: string;
  bucket: string;
  pollIntervalMs: number;
  /** Hand-overs of one attempt that failed for reasons other than a busy executor, before the attempt fails. */
  maxHandovers: number;
}

/**
 * Moves queued jobs to an executor: claims them (within the concurrency limits) in PostgreSQL, then hands
 * each over through the execution manager. Safe to run on every backend replica.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private ticking: Promise<void> | undefined;
  /** Work appeared while a pass ran (a nudge, or a full claim): pass again as soon as this one ends. */
  private again = false;
  private readonly handovers = new Set<Promise<void>>();
  private readonly deps: {
    jobs: JobStore;
    events: JobEventStore;
    datasets: DatasetStore;
    initialWeights: InitialWeightsSource;
    manager: ExecutionManager;
    metrics: JobMetrics;
    logger: Logger;
  };
  private readonly options: DispatcherOptions;

  constructor(
    deps: {
      jobs: JobStore;
      events: JobEventStore;
      datasets: DatasetStore;
      initialWeights: InitialWeightsSource;
      manager: ExecutionManager;
      metrics: JobMetrics;
      logger: Logger;
    },
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
    if (!this.started) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((err) => this.deps.logger.error({ err }, 'dispatch tick failed'))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  private async tick(): Promise<void> {
    const started = performance.now();
    const claimed = await this.deps.jobs.claimQueued(this.options.limits, CLAIM_BATCH);
    this.deps.metrics.loopPassed('dispatcher', (performance.now() - started) / 1000);
    if (claimed.length === CLAIM_BATCH) this.again = true;
    for (const job of claimed) {
      // The hand-over continues the trace of the request that created the job.
      const { id, attempt, framework, model } = job.row;
      const handover = inSpan(
        'dispatch job',
        job.row.trace_context ?? undefined,
        () => this.handOver(job),
        jobSpanAttributes({ jobId: id, attempt, framework, model }),
      )
        // The outcome could not be stored (the database is away): the job stays `dispatching`, and the job
        // monitor asks the executor about it once the database is back.
        .catch((err) =>
          this.deps.logger.error({ err, job_id: job.row.id }, 'could not record the outcome of a hand-over'),
        )
        .finally(() => this.handovers.delete(handover));
      this.handovers.add(handover);
    }
  }

  private async handOver({ row, callbackToken }: ClaimedJob): Promise<void> {
    const { jobs, datasets, initialWeights, manager, metrics, logger } = this.deps;
    const claimed = performance.now();
    try {
      const dataset = await datasets.findById(row.dataset_id);
      if (!dataset) throw new TrainingRejectedError(`dataset ${row.dataset_id} no longer exists`);
      const attempt = await jobs.currentAttempt(row);
      if (!attempt) throw new Error(`job ${row.id} has no attempt ${row.attempt}`);
      const resume = attempt.resumed_from_epoch === null ? undefined : await this.resumeOf(row);
      // A resumed attempt continues from its own checkpoint: the starting weights (uploaded ones may have been
      // deleted once the job ended) are needed only by an attempt that starts afresh.
      const initialWeightsUri = resume ? undefined : await initialWeights.uriOf(row);
      if (row.initial_weights && !resume && !initialWeightsUri)
        throw new TrainingRejectedError('the weights to start from no longer exist');
      const spec = buildTrainingSpec({
        job: row,
        dataset,
        bucket: this.options.bucket,
        backendBaseUrl: this.options.backendBaseUrl,
        callbackToken,
        firstSeq: attempt.first_seq,
        resume,
        initialWeightsUri,
        maxDurationSeconds: remainingTime(row),
        traceContext: row.trace_context ?? undefined,
      });
      const placement = await manager.start(row, spec);
      metrics.handedOver(row, (performance.now() - claimed) / 1000);
      annotateActiveSpan({ 'vtp.handover.outcome': 'handed_over' });
      await jobs.update(row.id, { placement: JSON.stringify(placement) });
      logger.info({ job_id: row.id, framework: row.framework, placement }, 'job handed over');
      // A cancel that arrived while the hand-over was in flight found nothing to stop: pass it on now.
      const current = await jobs.find(row.id);
      if (current?.cancel_requested_at && !isFinished(current.status)) await manager.cancel(current);
    } catch (err) {
      await this.handOverFailed(row, err);
    }
  }

  /** Where the attempt continues: the latest checkpoints, and the metrics of the epochs they hold. */
  private async resumeOf(row: JobRow): Promise<TrainingResume | undefined> {
    const { jobs } = this.deps;
    const point = await jobs.resumePoint(row.id);
    if (!point) return undefined;
    return {
      epoch: point.epoch,
      last: point.last.uri,
      ...(point.last.sha256 ? { lastSha256: point.last.sha256 } : {}),
      ...(point.best ? { best: point.best.uri } : {}),
      epochMetrics: await this.deps.events.epochMetrics(row.id, point.epoch),
    };
  }

  private async handOverFailed(row: JobRow, err: unknown): Promise<void> {
    const { jobs, metrics, logger } = this.deps;
    const { id: jobId, handovers, framework } = row;
    const message = err instanceof Error ? err.message : String(err);
    const reason =
      err instanceof ExecutorBusyError
        ? 'executor_busy'
        : err instanceof TrainingRejectedError
          ? 'rejected'
          : 'trainer_error';
    metrics.handOverFailed(framework, reason);
    annotateActiveSpan({ 'vtp.handover.outcome': reason });
    if (err instanceof ExecutorBusyError) {
      // Busy is not a failed attempt: the job simply waits its turn.
      await jobs.transition(jobId, ['dispatching'], 'queued', { handovers: Math.max(0, handovers - 1) });
      return;
    }
    if (err instanceof TrainingRejectedError) {
      await jobs.fail(jobId, ['dispatching'], { code: err.code, message });
      return;
    }
    logger.warn({ err, job_id: jobId, handovers }, 'hand-over failed');
    if (handovers >= this.options.maxHandovers) {
      await jobs.fail(jobId, ['dispatching'], {
        code: 'trainer_unavailable',
        message: `The trainer could not take the job after ${handovers} hand-overs: ${message}`,
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

/** The time limit covers every attempt: what the earlier ones trained is taken off this one's. */
function remainingTime(row: JobRow): number | undefined {
  if (!row.max_duration_seconds) return undefined;
  const left = row.max_duration_seconds - row.trained_seconds;
  if (left < 1) {
    throw new TrainingRejectedError(
      `The job's ${row.max_duration_seconds}s time limit is used up by its earlier attempts`,
      'time_limit_exceeded',
    );
  }
  return left;
}
