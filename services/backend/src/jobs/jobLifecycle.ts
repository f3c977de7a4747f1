import { JobStatus, terminalStatuses } from '@vtp/shared-schemas';

/**
 * The job state machine: the one place that says which moves a job may make. Every status change goes through
 * `JobStore.transition`, which applies it only while the job is still in an allowed source state.
 *
 * A trainer's report carrying the job's valid callback token is the truth about its training: a job the backend
 * had sent back to the queue (its hand-over looked lost) moves on to `running` or to its outcome when its
 * trainer reports in.
 *
 * A move to `queued` from an unfinished state is a hand-over tried again or, with a new attempt, a retry after
 * an infrastructure failure; from `failed` or `cancelled` it is the user resuming the job. `succeeded` is final.
 */
const allowedTransitions: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['queued', 'dispatching', 'running', 'succeeded', 'failed', 'cancelled'],
  dispatching: ['queued', 'running', 'succeeded', 'failed', 'cancelled'],
  running: ['queued', 'succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: ['queued'],
  cancelled: ['queued'],
};

/** Not ended: the job still waits for, or holds, a trainer. */
export const UNFINISHED: readonly JobStatus[] = JobStatus.options.filter(
  (s) => !terminalStatuses.includes(s),
);
/** Handed to an executor: counts against the concurrency limits, and the job monitor watches it. */
export const PLACED: readonly JobStatus[] = ['dispatching', 'running'];

export function isFinished(status: JobStatus): boolean {
  return terminalStatuses.includes(status);
}

/** Throws on a move the state machine does not allow: a programming error, never a user's. */
export function assertTransitions(from: readonly JobStatus[], to: JobStatus): void {
  const refused = from.filter((status) => !allowedTransitions[status].includes(to));
  if (refused.length) throw new Error(`A job may not move from ${refused.join(', ')} to ${to}`);
}
