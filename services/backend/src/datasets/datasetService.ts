import { randomUUID } from 'node:crypto';
import { ConflictError, type Logger, NotFoundError, parseInput } from '@vtp/service-kit';
import { DatasetCreateFields } from '@vtp/shared-schemas';
import type { Request } from 'express';
import type { Principal } from '../auth/principal.ts';
import type { JobStore } from '../jobs/jobStore.ts';
import type { ObjectStore } from '../storage/objectStore.ts';
import { receiveUpload, type UploadShape } from '../uploads/receiveUpload.ts';
import { type ArchiveLimits, inspectArchive, openZipFromS3 } from './archive/index.ts';
import type { DatasetStore, StoredDataset } from './datasetStore.ts';

export interface DatasetServiceOptions {
  maxUploadBytes: number;
  archiveLimits: ArchiveLimits;
  /** Datasets one user may keep; one more is refused before its body is read. */
  maxDatasetsPerUser: number;
}

export class DatasetService {
  private readonly store: DatasetStore;
  private readonly jobs: Pick<JobStore, 'hasUnfinishedForDataset'>;
  private readonly objects: ObjectStore;
  private readonly logger: Logger;
  private readonly options: DatasetServiceOptions;

  constructor(
    store: DatasetStore,
    jobs: Pick<JobStore, 'hasUnfinishedForDataset'>,
    objects: ObjectStore,
    logger: Logger,
    options: DatasetServiceOptions,
  ) {
    this.store = store;
    this.jobs = jobs;
    this.objects = objects;
    this.logger = logger;
    this.options = options;
  }

  /**
   * Streams the upload to its final key, checks the archive there, then records it. Any failure removes the
   * object, so a rejected upload leaves nothing behind.
   */
  async create(principal: Principal, req: Request): Promise<StoredDataset> {
    const { maxDatasetsPerUser } = this.options;
    if ((await this.store.countForUser(principal.userId)) >= maxDatasetsPerUser) {
      throw new ConflictError(
        `You keep ${maxDatasetsPerUser} datasets, the most allowed: delete one before uploading another`,
        'dataset_quota_exceeded',
      );
    }
    const id = randomUUID();
    const objectKey = `datasets/${principal.userId}/${id}/dataset.zip`;
    let written = false;
    try {
      const shape: UploadShape = {
        what: 'dataset',
        fields: '`name`, `format`',
        file: 'the dataset as a .zip',
        maxBytes: this.options.maxUploadBytes,
      };
      const upload = await receiveUpload(req, shape, async (body, bytes) => {
        written = true;
        await this.objects.putStream(objectKey, body, 'application/zip', bytes);
      });
      const fields = parseInput(DatasetCreateFields, upload.fields, 'body');
      const zip = await openZipFromS3(this.objects.s3, {
        bucket: this.objects.bucket,
        key: objectKey,
        size: upload.bytes,
      });
      const summary = await inspectArchive(zip, fields.format, this.options.archiveLimits);
      return await this.store.insert({
        id,
        userId: principal.userId,
        name: fields.name,
        format: fields.format,
        classNames: summary.classNames,
        imageCounts: summary.imageCounts,
        bytes: upload.bytes,
        sha256: upload.sha256,
        objectKey,
        root: summary.root,
      });
    } catch (err) {
      if (written) await this.removeObject(objectKey);
      throw err;
    }
  }

  async get(principal: Principal, id: string): Promise<StoredDataset> {
    const dataset = await this.store.findForUser(principal.userId, id);
    if (!dataset) throw new NotFoundError(`Dataset ${id} not found`, 'dataset_not_found');
    return dataset;
  }

  list(principal: Principal, limit: number, cursor?: string) {
    return this.store.list(principal.userId, limit, cursor);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const dataset = await this.get(principal, id);
    if (await this.jobs.hasUnfinishedForDataset(id)) {
      throw new ConflictError(
        `Dataset ${id} is used by an unfinished job; cancel it first`,
        'dataset_in_use',
      );
    }
    await this.store.delete(id);
    await this.removeObject(dataset.objectKey);
  }

  private async removeObject(key: string): Promise<void> {
    try {
      await this.objects.delete(key);
    } catch (err) {
      this.logger.error({ err, key }, 'could not delete dataset object; it will be swept at next start-up');
    }
  }

  /**
   * Objects under datasets/ with no row, left by a crash between upload and insert. Only old ones: a younger
   * object may be an upload still being checked by another replica.
   */
  async sweepOrphans(olderThanMs = 3600_000): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const objects = (await this.objects.list('datasets/')).filter((o) => o.lastModified.getTime() < cutoff);
    const known = await this.store.knownObjectKeys(objects.map((o) => o.key));
    const orphans = objects.map((o) => o.key).filter((k) => !known.has(k));
    for (const key of orphans) await this.removeObject(key);
    if (orphans.length) this.logger.info({ count: orphans.length }, 'swept orphaned dataset uploads');
    return orphans.length;
  }
}
