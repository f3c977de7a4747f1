import type { Readable } from 'node:stream';
import type {
  FailureCode,
  Framework,
  JobError,
  JobStatus,
  Resources,
  TrainingStartRequestBody,
  WeightsCheckRequestBody,
  WeightsCheckResponseBody,
} from '@vtp/shared-schemas';

/** Where a training was placed; stored with the job so any replica can reach it later. */
export type Placement = Record<string, string | number>;

/** What an executor knows of a platform job: which training it is, where it went, what it asks for. */
export interface PlacedJob {
  id: string;
  framework: Framework;
  /** Each attempt is a training of its own. */
  attempt: number;
  status: JobStatus;
  placement: Record<string, unknown> | null;
  resources: Resources | null;
}

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
  start(job: PlacedJob, spec: TrainingStartRequestBody): Promise<Placement>;
  /** Asks a running training to stop; its trainer reports `cancelled` with partial checkpoints. */
  cancel(job: PlacedJob): Promise<void>;
  status(job: PlacedJob): Promise<ExecutionState>;
  /** The training's log as it is now; with `follow`, a stream that goes on until the training ends. */
  logs(job: PlacedJob, options: { follow: boolean }): Promise<Readable | undefined>;
  /**
   * At start-up, squares the executor's view with the database's: adopts trainings still running, fails jobs
   * whose training vanished, removes what belongs to ended jobs. Executors whose trainings report for
   * themselves need none (the job monitor covers them).
   */
  reconcile?(listActiveJobs: () => Promise<PlacedJob[]>): Promise<unknown>;
  /**
   * Loads an uploaded weights file with its framework, in the framework's trainer image and Python environment
   * (never in the backend's process), and says whether it fits the named model.
   */
  checkWeights(request: WeightsCheckRequestBody): Promise<WeightsCheckResponseBody>;
  /** Releases what the executor kept for a finished job. */
  cleanup(job: PlacedJob): Promise<void>;
  stop(): Promise<void>;
}
