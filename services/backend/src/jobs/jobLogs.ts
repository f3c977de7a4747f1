import type { Readable } from 'node:stream';
import { NotFoundError } from '@vtp/service-kit';
import { parseS3Uri } from '@vtp/service-kit/s3';
import type { ExecutionManager } from '../execution/executionManager.ts';
import type { ObjectStore } from '../storage/objectStore.ts';
import { isFinished } from './jobLifecycle.ts';
import type { JobRow, JobStore } from './jobStore.ts';

/**
 * A job's training log: from object storage once the training has ended (it outlives the trainer and the pod),
 * live from the executor while it runs.
 */
export class JobLogs {
  private readonly jobs: JobStore;
  private readonly objects: ObjectStore;
  private readonly manager: ExecutionManager;

  constructor(jobs: JobStore, objects: ObjectStore, manager: ExecutionManager) {
    this.jobs = jobs;
    this.objects = objects;
    this.manager = manager;
  }

  async open(job: JobRow, follow: boolean): Promise<Readable> {
    const stored = ((await this.jobs.artifacts([job.id])).get(job.id) ?? []).find((a) => a.kind === 'log');
    const live = stored && isFinished(job.status) ? undefined : await this.manager.logs(job, { follow });
    // A log reported by its trainer but not in storage (never uploaded, or gone since) is no log: a 404.
    const body = live ?? (stored && (await this.objects.getStream(parseS3Uri(stored.uri).key)));
    if (body) return body;
    throw new NotFoundError(`Job ${job.id} has no log yet (status: ${job.status})`, 'log_not_found');
  }
}
