import type { Readable } from 'node:stream';
import type { FailureCode, JobError, TrainingStartRequestBody } from '@vtp/shared-schemas';
import type { JobRow } from '../jobs/jobStore.ts';

/** Where a training was placed; stored with the job so any replica can reach it later. */
export type Placement = Record<string, string | number>;

/** What the executor knows of a training right now. */
export type ExecutionState =
  | { kind: 'active' }
  /** The training ended; `error` says why when it failed, `at` when (if the executor knows). */
  | { kind: 'finished'; outcome: 'succeeded' | 'failed' | 'cancelled'; error?: JobError; at?: Date }
  | { kind: 'unknown' }
  | { kind: 'unreachable'; reason: string };

/** The executor has no room now; the job goes back to the queue and is tried again later. */
export class ExecutorBusyError extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.name = 'ExecutorBusyError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
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
 * Runs trainings somewhere: local trainer processes or Kubernetes Jobs. Chosen once at start-up by
 * EXECUTION_MODE; the dispatcher and the monitor only ever see this interface.
 */
export interface ExecutionManager {
  /** Hands one training over; resolves once the executor has accepted it. */
  start(job: JobRow, spec: TrainingStartRequestBody): Promise<Placement>;
  /** Asks a running training to stop; its trainer reports `cancelled` with partial checkpoints. */
  cancel(job: JobRow): Promise<void>;
  status(job: JobRow): Promise<ExecutionState>;
  /** The training's log as it is now; with `follow`, a stream that goes on until the training ends. */
  logs(job: JobRow, options: { follow: boolean }): Promise<Readable | undefined>;
  /**
   * At start-up, squares the executor's view with the database's: adopts trainings still running, fails jobs
   * whose training vanished, removes what belongs to ended jobs. Executors whose trainings report for
   * themselves need none (the job monitor covers them).
   */
  reconcile?(listActiveJobs: () => Promise<JobRow[]>): Promise<unknown>;
  /** Releases what the executor kept for a finished job. */
  cleanup(job: JobRow): Promise<void>;
  stop(): Promise<void>;
}
