import type { Logger } from '@vtp/service-kit';
import type { ExecutionManager } from '../execution/executionManager.ts';
import type { JobRow, JobStore } from '../jobs/jobStore.ts';

export interface JobMonitorOptions {
  intervalMs: number;
  /** A job in `dispatching` this long with no `started` event is checked with its executor. */
  dispatchTimeoutMs: number;
  /** A running job silent this long is checked with its executor, and failed as lost if it is not there. */
  heartbeatTimeoutMs: number;
  maxAttempts: number;
  /** Slack past a job's own time limit before the backend stops it (its trainer normally does so first). */
  deadlineGraceMs: number;
}

/**
 * Recovers jobs whose owner went quiet: stuck hand-overs, silent trainers, overdue trainings. It never
 * concludes from silence alone: it asks the executor first.
 */
export class JobMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Silence while this backend was down must not count against a job: the clock starts at our start. */
  private readonly startedAt = Date.now();
  private readonly deps: { jobs: JobStore; manager: ExecutionManager; logger: Logger; onChange(): void };
  private readonly options: JobMonitorOptions;

  constructor(
    deps: { jobs: JobStore; manager: ExecutionManager; logger: Logger; onChange(): void },
    options: JobMonitorOptions,
  ) {
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
    for (const job of await this.deps.jobs.listActive()) {
      if (job.status === 'dispatching') await this.checkDispatching(job, now);
      else await this.checkRunning(job, now);
    }
  }

  private async checkDispatching(job: JobRow, now: number): Promise<void> {
    const since = Math.max(job.dispatched_at?.getTime() ?? 0, this.startedAt);
    if (now - since < this.options.dispatchTimeoutMs) return;
    const state = await this.deps.manager.status(job);
    if (state.kind === 'active' || state.kind === 'finished') return;
    const { jobs, logger } = this.deps;
    if (job.attempts < this.options.maxAttempts) {
      if (await jobs.transition(job.id, ['dispatching'], 'queued')) {
        logger.warn({ jobId: job.id, state }, 'hand-over never confirmed; job queued again');
        this.deps.onChange();
      }
      return;
    }
    await jobs.fail(job.id, ['dispatching'], {
      code: 'dispatch_timeout',
      message: `No trainer confirmed the job after ${job.attempts} hand-overs (${describe(state)})`,
    });
    this.deps.onChange();
  }

  private async checkRunning(job: JobRow, now: number): Promise<void> {
    const { jobs, manager, logger } = this.deps;
    if (job.max_duration_seconds && job.started_at) {
      const deadline =
        job.started_at.getTime() + job.max_duration_seconds * 1000 + this.options.deadlineGraceMs;
      if (now > deadline) {
        await manager
          .cancel(job)
          .catch((err) => logger.warn({ err, jobId: job.id }, 'cancel of overdue job failed'));
        await jobs.fail(job.id, ['running'], {
          code: 'time_limit_exceeded',
          message: `The training ran past its ${job.max_duration_seconds}s limit`,
        });
        this.deps.onChange();
        return;
      }
    }
    const lastSign = Math.max(
      job.last_heartbeat_at?.getTime() ?? 0,
      job.started_at?.getTime() ?? 0,
      this.startedAt,
    );
    if (now - lastSign < this.options.heartbeatTimeoutMs) return;
    const state = await manager.status(job);
    if (state.kind === 'active' || state.kind === 'finished') return;
    const failed = await jobs.fail(job.id, ['running'], {
      code: 'lost',
      message: `No heartbeat for ${Math.round((now - lastSign) / 1000)}s and the executor does not know the training (${describe(state)})`,
    });
    if (failed) {
      logger.warn({ jobId: job.id, state }, 'job lost');
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
