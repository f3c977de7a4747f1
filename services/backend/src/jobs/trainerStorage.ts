import { ForbiddenError } from '@vtp/service-kit';
import { parseS3Uri } from '@vtp/service-kit/s3';
import type { StorageUrlRequestBody, StorageUrlResponseBody } from '@vtp/shared-schemas';
import type { DatasetStore } from '../datasets/datasetStore.ts';
import type { ObjectStore } from '../storage/objectStore.ts';
import { checkCallbackToken } from './callbackToken.ts';
import type { InitialWeightsSource } from './initialWeights.ts';
import { jobOutputKeyPrefix } from './jobOutputs.ts';
import type { JobRow, JobStore } from './jobStore.ts';

/**
 * What a job's trainer may touch in object storage, handed out one object at a time as presigned URLs: it
 * reads the job's inputs (its dataset, its starting weights, the checkpoints of its earlier attempts) and
 * writes below its attempt's output folder, and it never holds credentials that could reach anything else.
 */
export class TrainerStorage {
  private readonly jobs: JobStore;
  private readonly datasets: DatasetStore;
  private readonly initialWeights: InitialWeightsSource;
  private readonly objects: ObjectStore;
  private readonly ttlSeconds: number;

  constructor(deps: {
    jobs: JobStore;
    datasets: DatasetStore;
    initialWeights: InitialWeightsSource;
    objects: ObjectStore;
    ttlSeconds: number;
  }) {
    this.jobs = deps.jobs;
    this.datasets = deps.datasets;
    this.initialWeights = deps.initialWeights;
    this.objects = deps.objects;
    this.ttlSeconds = deps.ttlSeconds;
  }

  /** The unfinished job whose callback token this is; 401 otherwise. */
  async authenticate(jobId: string, token: string): Promise<JobRow> {
    return checkCallbackToken(await this.jobs.find(jobId), token);
  }

  async urlFor(job: JobRow, request: StorageUrlRequestBody): Promise<StorageUrlResponseBody> {
    const key =
      request.method === 'PUT'
        ? `${jobOutputKeyPrefix(job.id, job.attempt)}${request.name}`
        : await this.readableKey(job, request.uri);
    const signed = await this.objects.presign(
      request.method === 'PUT' ? { method: 'PUT', key, bytes: request.bytes } : { method: 'GET', key },
      this.ttlSeconds,
    );
    return { url: signed.url, uri: this.objects.uri(key), expiresAt: signed.expiresAt.toISOString() };
  }

  private async readableKey(job: JobRow, uri: string): Promise<string> {
    const { bucket, key } = parseS3Uri(uri);
    if (bucket === this.objects.bucket) {
      if (key.startsWith(jobOutputKeyPrefix(job.id))) return key;
      const dataset = await this.datasets.findById(job.dataset_id);
      if (key === dataset?.objectKey) return key;
      if (uri === (await this.initialWeights.uriOf(job))) return key;
    }
    throw new ForbiddenError(
      `${uri} is not an input or output of job ${job.id}: a trainer reads its dataset, its starting weights and its own checkpoints only`,
      'outside_job_storage',
    );
  }
}
