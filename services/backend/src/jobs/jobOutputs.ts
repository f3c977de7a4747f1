/**
 * Where a job's trainer writes its artifacts: one prefix per job, and the only place its artifacts may be. Each
 * later attempt writes below its own folder in it, so a checkpoint an attempt reported is never overwritten by
 * the next one (which may die before it reports what it wrote).
 */
export function jobOutputKeyPrefix(jobId: string, attempt = 1): string {
  return attempt === 1 ? `jobs/${jobId}/` : `jobs/${jobId}/attempts/${attempt}/`;
}

export function jobOutputPrefix(bucket: string, jobId: string): string {
  return `s3://${bucket}/${jobOutputKeyPrefix(jobId)}`;
}
