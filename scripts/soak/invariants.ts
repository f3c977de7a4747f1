import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '@vtp/service-kit/s3';
import type { Job, JobEvent } from '@vtp/shared-schemas';

export interface Invariant {
  name: string;
  violations: string[];
}

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** The soak's end state checked against what must always hold, whatever the faults did. */
export async function checkJobs(
  jobs: Job[],
  eventsOf: (id: string) => Promise<JobEvent[]>,
  s3: S3Client,
): Promise<Invariant[]> {
  const unfinished: string[] = [];
  const epochs: string[] = [];
  const checkpoints: string[] = [];
  const resumed: string[] = [];
  for (const job of jobs) {
    if (!TERMINAL.includes(job.status)) unfinished.push(`${job.id} is ${job.status}`);
    const wanted = Number(job.hyperparameters.epochs);
    const trained = (await eventsOf(job.id))
      .filter((e) => e.type === 'progress' && !e.superseded)
      .map((e) => Number(e.payload.epoch));
    const duplicated = trained.filter((epoch, i) => trained.indexOf(epoch) !== i);
    if (duplicated.length) epochs.push(`${job.id}: epoch ${duplicated.join(', ')} reported twice`);
    if (job.status === 'succeeded') {
      const missing = Array.from({ length: wanted }, (_, i) => i + 1).filter((e) => !trained.includes(e));
      if (missing.length) epochs.push(`${job.id}: epochs ${missing.join(', ')} missing`);
      if (job.attempt > 1 && job.progress.epoch !== wanted)
        resumed.push(`${job.id}: resumed, finished at epoch ${job.progress.epoch} of ${wanted}`);
    }
    for (const artifact of job.artifacts) {
      if (!artifact.sha256) continue;
      const { bucket, key } = parseS3Uri(artifact.uri);
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await object.Body!.transformToByteArray();
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        if (sha256 !== artifact.sha256 || bytes.length !== artifact.bytes)
          checkpoints.push(`${artifact.uri}: stored ${bytes.length} bytes, sha256 ${sha256.slice(0, 12)}`);
      } catch (err) {
        checkpoints.push(`${artifact.uri}: ${(err as Error).name}`);
      }
    }
  }
  return [
    { name: 'no job left unfinished', violations: unfinished },
    { name: 'no epoch duplicated or missing in any job', violations: epochs },
    { name: 'every reported artifact in S3 with its sha256', violations: checkpoints },
    { name: 'every resumed job that succeeded trained every epoch', violations: resumed },
  ];
}
