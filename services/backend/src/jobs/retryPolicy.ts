import type { FailureCode, JobError } from '@vtp/shared-schemas';

/** Failures of the platform, not of the user's training: the next attempt, on another trainer or node, may pass. */
const INFRASTRUCTURE_FAILURES: readonly FailureCode[] = [
  'lost',
  'stalled',
  'trainer_unavailable',
  'killed',
  'dispatch_timeout',
  'internal_error',
];

export interface RetrySettings {
  attempt: number;
  max_retries: number;
  retry_on_out_of_memory: boolean;
}

/**
 * Whether a failed attempt is retried (resuming from its last checkpoint). A user's error (a broken dataset, a bad
 * configuration, the framework's own failure, the time limit) would only fail again; running out of memory may
 * too, so it is retried only when the user asked.
 */
export function isRetried(job: RetrySettings, error: JobError): boolean {
  if (job.attempt > job.max_retries) return false;
  if (error.code === 'out_of_memory') return job.retry_on_out_of_memory;
  return INFRASTRUCTURE_FAILURES.includes(error.code);
}
