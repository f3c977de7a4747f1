import type { Readable } from 'node:stream';
import { NotFoundError } from '@vtp/service-kit';
import { parseS3Uri } from '@vtp/service-kit/s3';
import type { ArtifactKind } from '@vtp/shared-schemas';
import type { ObjectStore } from '../storage/objectStore.ts';
import type { JobStore } from './jobStore.ts';

export interface ArtifactDownload {
  fileName: string;
  bytes: number;
  sha256: string | null;
  body: Readable;
}

/**
 * A job's current artifact of one kind, read from object storage for its owner (users hold no storage
 * credentials, and a browser cannot reach the bucket): the console's and the CLI's download.
 */
export class ArtifactDownloads {
  private readonly jobs: JobStore;
  private readonly objects: ObjectStore;

  constructor(jobs: JobStore, objects: ObjectStore) {
    this.jobs = jobs;
    this.objects = objects;
  }

  /** `jobId` must already be known to be the caller's. */
  async open(jobId: string, kind: ArtifactKind): Promise<ArtifactDownload> {
    const artifact = ((await this.jobs.artifacts([jobId])).get(jobId) ?? []).find((a) => a.kind === kind);
    if (!artifact) throw new NotFoundError(`Job ${jobId} has no ${kind} artifact`, 'artifact_not_found');
    const { key } = parseS3Uri(artifact.uri);
    try {
      return {
        fileName: key.split('/').at(-1) ?? kind,
        bytes: Number(artifact.bytes),
        sha256: artifact.sha256,
        body: await this.objects.getStream(key),
      };
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        throw new NotFoundError(`Job ${jobId}'s ${kind} artifact is no longer stored`, 'artifact_not_found');
      throw err;
    }
  }
}
