import type { Logger } from '@vtp/service-kit';
import type { ExecutionManager, ExecutionState } from '../execution/executionManager.ts';
import { PLACED } from '../jobs/jobLifecycle.ts';
import type { ActiveJob, JobOutcome, JobStore } from '../jobs/jobStore.ts';
import type { StoredOutputs } from '../jobs/storedOutputs.ts';
import type { JobMetrics } from '../observability/jobMetrics.ts';

export interface JobMonitorOptions {
  intervalMs: number;
  /** A job in `dispatching` this long with no `started` event is checked with its executor. */
  dispatchTimeoutMs: number;
  /** A running job silent this long is checked with its executor, and failed as lost if it is not there. */
  heartbeatTimeoutMs: number;
  maxHandovers: number;
  /** Slack past a job's own time limit before the backend stops it (its trainer normally does so first). */
  deadlineGraceMs: number;
  /** How long after its executor says a training ended its own report may still arrive. */
  outcomeGraceMs: number;
}

export interface JobMonitorDeps {
  jobs: JobStore;
  manager: ExecutionManager;
  outputs: StoredOutputs;
  metrics: JobMetrics;
  logger: Logger;
  onChange(): void;
}

type Finished = Extract<ExecutionState, { kind: 'finished' }>;

/**
 * Recovers jobs whose owner went quiet: stuck hand-overs, silent trainers, overdue trainings. It never
 * concludes from silence alone: it asks the executor first, and applies the executor's word when a training
 * ended but its report never came (an outbox lost with its disk, a callback refused).
 */
export class JobMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Silence while this backend was down must not count against a job: the clock starts at our start. */
  private readonly startedAt = Date.now();
  private readonly deps: JobMonitorDeps;
  private readonly options: JobMonitorOptions;

  constructor(deps: JobMonitorDeps, options: JobMonitorOptions) {
    this.deps = deps;
    this.options = options;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.check()
        .catch((err) => this.deps.logger.error({ err }, 'job monitor check failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.options.intervalMs);
  }

  async check(now = Date.now()): Promise<void> {
    const started = performance.now();
    for (const job of await this.deps.jobs.listActive()) {
      if (job.status === 'dispatching') await this.checkDispatching(job, now);
      else await this.checkRunning(job, now);
    }
    this.deps.metrics.loopPassed('monitor', (performance.now() - started) / 1000);
  }

  private async checkDispatching(job: ActiveJob, now: number): Promise<void> {
    const since = Math.max(job.dispatched_at?.getTime() ?? 0, this.startedAt);
    if (now - since < this.options.dispatchTimeoutMs) return;
    const state = await this.deps.manager.status(job);
    if (state.kind === 'finished') return this.applyOutcome(job, state, now);
    if (state.kind === 'active') return;
    const { jobs, logger } = this.deps;
    if (job.handovers < this.options.maxHandovers) {
      if (await jobs.transition(job.id, ['dispatching'], 'queued')) {
        logger.warn({ job_id: job.id, state }, 'hand-over never confirmed; job queued again');
        this.deps.onChange();
      }
      return;
    }
    await jobs.fail(job.id, ['dispatching'], {
      code: 'dispatch_timeout',
      message: `No trainer confirmed the job after ${job.handovers} hand-overs (${describe(state)})`,
    });
    this.deps.onChange();
  }

  private async checkRunning(job: ActiveJob, now: number): Promise<void> {
    const { jobs, manager, logger } = this.deps;
    if (job.max_duration_seconds && job.attempt_started_at) {
      // The limit covers all attempts: this one has what the earlier ones left.
      const left = job.max_duration_seconds - job.trained_seconds;
      const deadline = job.attempt_started_at.getTime() + left * 1000 + this.options.deadlineGraceMs;
      if (now > deadline) {
        await manager
          .cancel(job)
          .catch((err) => logger.warn({ err, job_id: job.id }, 'cancel of overdue job failed'));
        await jobs.fail(job.id, ['running'], {
          code: 'time_limit_exceeded',
          message: `The training ran past its ${job.max_duration_seconds}s limit`,
        });
        this.deps.onChange();
        return;
      }
    }
    if (await this.stopStalled(job, now)) return;
    const lastSign = Math.max(
      job.last_heartbeat_at?.getTime() ?? 0,
      job.attempt_started_at?.getTime() ?? 0,
      this.startedAt,
    );
    if (now - lastSign < this.options.heartbeatTimeoutMs) return;
    const state = await manager.status(job);
    if (state.kind === 'finished') return this.applyOutcome(job, state, now);
    if (state.kind === 'active') return;
    const failed = await jobs.fail(job.id, ['running'], {
      code: 'lost',
      message: `No heartbeat for ${Math.round((now - lastSign) / 1000)}s and the executor does not know the training (${describe(state)})`,
    });
    if (failed) {
      logger.warn({ job_id: job.id, state }, 'job lost');
      this.deps.onChange();
    }
  }

  /**
   * The second line behind the trainer's own watchdog (which stops a stalled training itself and reports it):
   * a training whose trainer still says it is alive but whose progress stopped past its limit, plus the
   * heartbeat timeout for that report, is stopped and failed here.
   */
  private async stopStalled(job: ActiveJob, now: number): Promise<boolean> {
    if (!job.last_progress_at || !job.stall_limit_seconds) return false;
    const since = Math.max(job.last_progress_at.getTime(), this.startedAt);
    if (now - since <= job.stall_limit_seconds * 1000 + this.options.heartbeatTimeoutMs) return false;
    const { jobs, manager, logger } = this.deps;
    await manager
      .cancel(job)
      .catch((err) => logger.warn({ err, job_id: job.id }, 'cancel of a stalled job failed'));
    const failed = await jobs.fail(job.id, ['running'], {
      code: 'stalled',
      message: `No progress while ${(job.phase ?? 'running').replaceAll('_', ' ')} for ${Math.round((now - since) / 1000)}s (its limit is ${job.stall_limit_seconds}s); the training was stopped`,
    });
    if (failed) {
      logger.warn({ job_id: job.id, phase: job.phase }, 'job stalled');
      this.deps.onChange();
    }
    return true;
  }

  /** Ends the job as its executor says the training ended, once the trainer's own report had its chance. */
  private async applyOutcome(job: ActiveJob, state: Finished, now: number): Promise<void> {
    const endedAt = Math.max(state.at?.getTime() ?? now, this.startedAt);
    if (now - endedAt < this.options.outcomeGraceMs) return;
    const { artifacts, metrics, epochs } = await this.deps.outputs.find(job.id, job.attempt);
    const outcome: JobOutcome =
      state.outcome === 'succeeded'
        ? { status: 'succeeded', artifacts, metrics, epochs }
        : state.outcome === 'cancelled'
          ? { status: 'cancelled', artifacts }
          : {
              status: 'failed',
              artifacts,
              error: state.error ?? {
                code: 'lost',
                message: 'The training failed and its report never arrived',
              },
            };
    if (await this.deps.jobs.finish(job.id, PLACED, outcome)) {
      this.deps.logger.warn(
        { job_id: job.id, outcome: state.outcome, artifacts: artifacts.length },
        "the executor says the training ended but its report never arrived: applied the executor's outcome",
      );
      this.deps.onChange();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

function describe(state: Awaited<ReturnType<ExecutionManager['status']>>): string {
  return state.kind === 'unreachable' ? `unreachable: ${state.reason}` : state.kind;
}
