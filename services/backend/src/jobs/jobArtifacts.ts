import type { Readable } from 'node:stream';
import { NotFoundError } from '@vtp/service-kit';
import { parseS3Uri } from '@vtp/service-kit/s3';
import type { Artifact, ArtifactKind } from '@vtp/shared-schemas';
import type { ObjectStore } from '../storage/objectStore.ts';
import type { JobRow, JobStore } from './jobStore.ts';

/** A job's stored artifacts, read back for their owner (a download goes through the API, which checks the key). */
export class JobArtifacts {
  private readonly jobs: JobStore;
  private readonly objects: ObjectStore;

  constructor(jobs: JobStore, objects: ObjectStore) {
    this.jobs = jobs;
    this.objects = objects;
  }

  async open(
    job: JobRow,
    kind: ArtifactKind,
  ): Promise<{ artifact: Pick<Artifact, 'bytes' | 'sha256'>; filename: string; body: Readable }> {
    const stored = ((await this.jobs.artifacts([job.id])).get(job.id) ?? []).find((a) => a.kind === kind);
    if (!stored) throw new NotFoundError(`Job ${job.id} has no ${kind} artifact`, 'artifact_not_found');
    const { key } = parseS3Uri(stored.uri);
    const body = await this.objects.getStream(key);
    // Reported by its trainer but not in storage (never uploaded, or gone since): nothing to send.
    if (!body)
      throw new NotFoundError(
        `The ${kind} artifact of job ${job.id} is not in storage`,
        'artifact_not_found',
      );
    return {
      artifact: { bytes: Number(stored.bytes), sha256: stored.sha256 ?? undefined },
      filename: key.split('/').at(-1) ?? kind,
      body,
    };
  }
}
