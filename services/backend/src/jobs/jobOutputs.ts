/** Where a job's trainer writes its artifacts: one prefix per job, and the only place its artifacts may be. */
export function jobOutputKeyPrefix(jobId: string): string {
  return `jobs/${jobId}/`;
}

export function jobOutputPrefix(bucket: string, jobId: string): string {
  return `s3://${bucket}/${jobOutputKeyPrefix(jobId)}`;
}
