import { AppError } from '@vtp/service-kit';
import { FailureCode, Framework, JobStatus, TrainerEvent, type TrainerEventType } from '@vtp/shared-schemas';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** One (status, framework) group of the jobs table, read at scrape time. */
export interface JobCountRow {
  status: JobStatus;
  framework: Framework;
  jobs: number;
  /** Queued jobs: the longest any has waited in the queue. */
  oldestQueuedSeconds: number;
  /** Running jobs: the longest any has gone without its trainer reporting progress. */
  oldestProgressSeconds: number;
}

export type JobOutcomeStatus = 'succeeded' | 'failed' | 'cancelled';

/** Why a hand-over did not place the job: the executor was full, refused the training, or failed. */
export type HandOverFailure = 'executor_busy' | 'rejected' | 'trainer_error';

/** What became of one reported event. */
/** Buckets of the control-loop pass durations, seconds (the bench reads its percentiles off them). */
export const LOOP_PASS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

export type EventResult = 'stored' | 'duplicate' | 'ignored';

const seconds = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);

/**
 * The platform's domain metrics (Prometheus), observed where each fact happens: the job store (attempts end,
 * retries, resumes), the dispatcher (hand-overs), event ingest (callbacks). Labels are bounded enums (framework,
 * status, outcome, failure code, event type): never a job or user id. Counts of jobs by state are read from
 * PostgreSQL at scrape time, so every backend replica reports the same numbers.
 */
export class JobMetrics {
  private readonly finished: Counter<'framework' | 'outcome'>;
  private readonly failures: Counter<'framework' | 'reason'>;
  private readonly retries: Counter<'framework' | 'reason'>;
  private readonly resumes: Counter<'framework'>;
  private readonly queueWait: Histogram<'framework'>;
  private readonly handOver: Histogram<'framework'>;
  private readonly firstEpoch: Histogram<'framework'>;
  private readonly training: Histogram<'framework' | 'outcome'>;
  private readonly handOverFailures: Counter<'framework' | 'reason'>;
  private readonly callbackLatency: Histogram<'event_type'>;
  private readonly events: Counter<'event_type' | 'result'>;
  private readonly refused: Counter<'reason'>;
  private readonly passes: Histogram<'loop'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.finished = new Counter({
      name: 'vtp_jobs_finished_total',
      help: 'Jobs that ended (no retry follows), by framework and outcome',
      labelNames: ['framework', 'outcome'],
      registers,
    });
    this.failures = new Counter({
      name: 'vtp_job_attempt_failures_total',
      help: 'Failed attempts (retried or not), by framework and failure code',
      labelNames: ['framework', 'reason'],
      registers,
    });
    this.retries = new Counter({
      name: 'vtp_job_retries_total',
      help: 'Attempts queued again automatically after an infrastructure failure, by the failure code',
      labelNames: ['framework', 'reason'],
      registers,
    });
    this.resumes = new Counter({
      name: 'vtp_job_resumes_total',
      help: 'Failed or cancelled jobs a user resumed',
      labelNames: ['framework'],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'vtp_job_queue_wait_seconds',
      help: 'From the attempt joining the queue to the hand-over that placed it',
      labelNames: ['framework'],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600, 14_400],
      registers,
    });
    this.handOver = new Histogram({
      name: 'vtp_job_handover_duration_seconds',
      help: 'From claiming a queued job to its executor accepting the training',
      labelNames: ['framework'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.firstEpoch = new Histogram({
      name: 'vtp_job_time_to_first_epoch_seconds',
      help: "From the hand-over to the end of the attempt's first epoch (dataset download, runner start, one epoch)",
      labelNames: ['framework'],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.training = new Histogram({
      name: 'vtp_job_training_duration_seconds',
      help: 'Training time of an attempt (its trainer started it -> it ended), by framework and outcome',
      labelNames: ['framework', 'outcome'],
      buckets: [10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400],
      registers,
    });
    this.handOverFailures = new Counter({
      name: 'vtp_dispatch_failures_total',
      help: 'Hand-overs that did not place the job: executor_busy (it waits its turn), rejected, trainer_error',
      labelNames: ['framework', 'reason'],
      registers,
    });
    this.callbackLatency = new Histogram({
      name: 'vtp_callback_latency_seconds',
      help: "From the trainer's event timestamp to the event being stored in PostgreSQL, by event type",
      labelNames: ['event_type'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.events = new Counter({
      name: 'vtp_callback_events_total',
      help: 'Reported events: stored, duplicate (seq already stored, ignored), ignored (the attempt had ended)',
      labelNames: ['event_type', 'result'],
      registers,
    });
    this.refused = new Counter({
      name: 'vtp_callbacks_refused_total',
      help: 'Callback requests refused, by problem code (invalid_callback_token, validation_failed, ...)',
      labelNames: ['reason'],
      registers,
    });
    this.passes = new Histogram({
      name: 'vtp_control_loop_pass_duration_seconds',
      help: "One pass of a control loop: the dispatcher's claim of queued jobs, the job monitor's check of placed ones",
      labelNames: ['loop'],
      buckets: [...LOOP_PASS_BUCKETS],
      registers,
    });
    // Every label value exists from the start (all bounded enums), so rates and ratios over them are 0 rather
    // than absent until the first event.
    for (const framework of Framework.options) {
      for (const outcome of ['succeeded', 'failed', 'cancelled'] as const)
        this.finished.inc({ framework, outcome }, 0);
      for (const reason of ['executor_busy', 'rejected', 'trainer_error'] as const)
        this.handOverFailures.inc({ framework, reason }, 0);
      for (const reason of FailureCode.options) {
        this.failures.inc({ framework, reason }, 0);
        this.retries.inc({ framework, reason }, 0);
      }
      this.resumes.inc({ framework }, 0);
      // Histograms too: a series that first appears already holding its one observation has no rate.
      this.queueWait.zero({ framework });
      this.handOver.zero({ framework });
      this.firstEpoch.zero({ framework });
      for (const outcome of ['succeeded', 'failed', 'cancelled'] as const)
        this.training.zero({ framework, outcome });
    }
    for (const { shape } of TrainerEvent.options) {
      const eventType = shape.type.value;
      this.callbackLatency.zero({ event_type: eventType });
      for (const result of ['stored', 'duplicate', 'ignored'] as const)
        this.events.inc({ event_type: eventType, result }, 0);
    }
    for (const loop of ['dispatcher', 'monitor'] as const) this.passes.zero({ loop });
  }

  /** Registers the job-count gauges, read from the database by `read` at every scrape. */
  trackJobCounts(
    registry: Registry,
    read: () => Promise<JobCountRow[]>,
    onError: (err: unknown) => void,
  ): void {
    const registers = [registry];
    let latest: Promise<JobCountRow[] | undefined> | undefined;
    // The three gauges share one query per scrape.
    const rows = () => {
      latest ??= read()
        .catch((err) => {
          onError(err);
          return undefined;
        })
        .finally(() => setImmediate(() => (latest = undefined)));
      return latest;
    };
    new Gauge({
      name: 'vtp_jobs',
      help: 'Jobs by status and framework, from the database',
      labelNames: ['status', 'framework'],
      registers,
      async collect() {
        const read = await rows();
        this.reset();
        // Without the database there is no truth to report: the series go absent rather than stale.
        if (!read) return;
        for (const status of JobStatus.options)
          for (const framework of Framework.options) this.set({ status, framework }, 0);
        for (const row of read) this.set({ status: row.status, framework: row.framework }, row.jobs);
      },
    });
    const perFramework = (name: string, help: string, pick: (row: JobCountRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['framework'],
        registers,
        async collect() {
          const read = await rows();
          this.reset();
          if (!read) return;
          for (const framework of Framework.options)
            this.set({ framework }, Math.max(0, ...read.filter((r) => r.framework === framework).map(pick)));
        },
      });
    perFramework(
      'vtp_jobs_oldest_queued_age_seconds',
      'How long the longest-waiting queued job has waited (0 when none waits)',
      (row) => (row.status === 'queued' ? row.oldestQueuedSeconds : 0),
    );
    perFramework(
      'vtp_jobs_oldest_progress_age_seconds',
      'Running jobs: the longest time one has gone without progress (0 when none runs)',
      (row) => (row.status === 'running' ? row.oldestProgressSeconds : 0),
    );
  }

  /** An attempt ended: with the job (`retried` false) or queued again for its next attempt. */
  attemptEnded(
    job: { framework: Framework; attempt_started_at: Date | null },
    outcome: JobOutcomeStatus,
    failure: FailureCode | undefined,
    retried: boolean,
    at: Date,
  ): void {
    const { framework } = job;
    if (failure) this.failures.inc({ framework, reason: failure });
    if (retried && failure) this.retries.inc({ framework, reason: failure });
    if (!retried) this.finished.inc({ framework, outcome });
    if (job.attempt_started_at)
      this.training.observe({ framework, outcome }, seconds(job.attempt_started_at, at));
  }

  resumed(framework: Framework): void {
    this.resumes.inc({ framework });
  }

  /** The executor accepted the training, `handOverSeconds` after the job was claimed (at `dispatched_at`). */
  handedOver(
    job: { framework: Framework; queued_at: Date; dispatched_at: Date | null },
    handOverSeconds: number,
  ): void {
    // Both times are the database's clock.
    if (job.dispatched_at)
      this.queueWait.observe({ framework: job.framework }, seconds(job.queued_at, job.dispatched_at));
    this.handOver.observe({ framework: job.framework }, handOverSeconds);
  }

  handOverFailed(framework: Framework, reason: HandOverFailure): void {
    this.handOverFailures.inc({ framework, reason });
  }

  /** The attempt's first epoch ended at `epochEndedAt` (the trainer's clock). */
  firstEpochEnded(job: { framework: Framework; dispatched_at: Date | null }, epochEndedAt: Date): void {
    if (job.dispatched_at)
      this.firstEpoch.observe({ framework: job.framework }, seconds(job.dispatched_at, epochEndedAt));
  }

  /** A report's events, once its transaction has committed at `storedAt`. */
  eventsReported(reported: readonly { event: TrainerEvent; result: EventResult }[], storedAt: Date): void {
    for (const { event, result } of reported) {
      const eventType: TrainerEventType = event.type;
      this.events.inc({ event_type: eventType, result });
      if (result === 'stored')
        this.callbackLatency.observe({ event_type: eventType }, seconds(new Date(event.timestamp), storedAt));
    }
  }

  /** A pass of the dispatcher or the job monitor took `seconds`. */
  loopPassed(loop: 'dispatcher' | 'monitor', seconds: number): void {
    this.passes.observe({ loop }, seconds);
  }

  /** A callback request was refused: counted by its problem code (a bounded set the code defines). */
  callbackRefused(err: unknown): void {
    this.refused.inc({ reason: err instanceof AppError ? err.code : 'internal_error' });
  }
}
