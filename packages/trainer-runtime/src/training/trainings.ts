import { ConflictError, UnavailableError } from '@vtp/service-kit';
import { Training, type TrainingDeps } from './training.ts';
import type { TrainingSpec } from './trainingSpec.ts';

/** Finished trainings remembered for status queries and idempotent starts; the oldest are forgotten first. */
const FINISHED_KEPT = 1000;
/** What a refused start suggests: roughly how often a slot may free up. */
const RETRY_AFTER_SECONDS = 30;
/** An earlier attempt stops within the cancel grace period. */
const SUPERSEDED_RETRY_AFTER_SECONDS = 2;

/** The trainings of this process: starts them within the concurrency limit, finds and stops them. */
export class Trainings {
  private readonly deps: TrainingDeps;
  private readonly maxConcurrent: number;
  private readonly byJob = new Map<string, Training>();

  constructor(deps: TrainingDeps, maxConcurrent: number) {
    this.deps = deps;
    this.maxConcurrent = maxConcurrent;
  }

  /**
   * Starts a training, or returns the one this job's attempt already has (`created` false): a start is
   * idempotent. A later attempt replaces an earlier one, which the backend gave up on: one still running is
   * stopped first, and the start is refused until it has (the backend tries again after Retry-After).
   */
  start(spec: TrainingSpec): { training: Training; created: boolean } {
    const { jobId, attempt } = spec.request;
    const existing = this.byJob.get(jobId);
    if (existing?.attempt === attempt) return { training: existing, created: false };
    if (existing && existing.attempt > attempt) {
      throw new ConflictError(
        `Attempt ${attempt} of job ${jobId} is superseded: this trainer runs attempt ${existing.attempt}`,
        'attempt_superseded',
      );
    }
    if (existing && !existing.finished) {
      existing.stop('cancel');
      throw new UnavailableError(
        `Attempt ${existing.attempt} of job ${jobId} is still stopping on this trainer`,
        SUPERSEDED_RETRY_AFTER_SECONDS,
        'trainer_busy',
      );
    }
    if (this.active() >= this.maxConcurrent) {
      throw new UnavailableError(
        `This trainer is running ${this.maxConcurrent} training(s), its limit (MAX_CONCURRENT_TRAININGS)`,
        RETRY_AFTER_SECONDS,
        'trainer_busy',
      );
    }
    const training = new Training(spec, this.deps);
    this.byJob.set(training.jobId, training);
    void training.done.then(() => this.forgetOldest());
    return { training, created: true };
  }

  get(jobId: string): Training | undefined {
    return this.byJob.get(jobId);
  }

  active(): number {
    let count = 0;
    for (const training of this.byJob.values()) if (!training.finished) count += 1;
    return count;
  }

  /** Stops every running training (reported as trainer_unavailable) and waits, at most `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<void> {
    const running = [...this.byJob.values()].filter((t) => !t.finished);
    for (const training of running) training.stop('shutdown');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running.map((t) => t.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private forgetOldest(): void {
    const finished = [...this.byJob.values()].filter((t) => t.finished);
    for (const training of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) {
      this.byJob.delete(training.jobId);
    }
  }
}
