import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream';
import { ConflictError, InputError, type Logger, NotFoundError, parseInput } from '@vtp/service-kit';
import {
  type Framework,
  findModel,
  modelCatalog,
  type WeightsCheckRequestBody,
  type WeightsCheckResponseBody,
  WeightsCreateFields,
} from '@vtp/shared-schemas';
import type { Request } from 'express';
import type { Principal } from '../auth/principal.ts';
import type { JobStore } from '../jobs/jobStore.ts';
import type { ObjectStore } from '../storage/objectStore.ts';
import { receiveUpload, whileConnectionQuiet } from '../uploads/receiveUpload.ts';
import { headTap, looksLikeWeights } from './weightsFormat.ts';
import type { StoredWeights, WeightsStore } from './weightsStore.ts';

/** Whoever runs the framework's Python (the execution manager): loads the file and says whether it fits. */
export interface WeightsChecker {
  checkWeights(request: WeightsCheckRequestBody): Promise<WeightsCheckResponseBody>;
}

export interface WeightsServiceOptions {
  maxUploadBytes: number;
  /** Weights one user may keep; one more is refused before its body is read. */
  maxWeightsPerUser: number;
  /** Life of the presigned URL the check reads the file through. */
  checkUrlTtlSeconds: number;
}

const MAX_FILE_NAME_CHARS = 255;

export class WeightsService {
  private readonly store: WeightsStore;
  private readonly jobs: Pick<JobStore, 'hasUnfinishedForWeights'>;
  private readonly objects: ObjectStore;
  private readonly checker: WeightsChecker;
  private readonly logger: Logger;
  private readonly options: WeightsServiceOptions;

  constructor(deps: {
    store: WeightsStore;
    jobs: Pick<JobStore, 'hasUnfinishedForWeights'>;
    objects: ObjectStore;
    checker: WeightsChecker;
    logger: Logger;
    options: WeightsServiceOptions;
  }) {
    this.store = deps.store;
    this.jobs = deps.jobs;
    this.objects = deps.objects;
    this.checker = deps.checker;
    this.logger = deps.logger;
    this.options = deps.options;
  }

  /**
   * Streams the upload to its final key, has the framework's trainer load it from there, then records it. Any
   * failure, a refused check included, removes the object: rejected weights leave nothing behind.
   */
  async create(principal: Principal, req: Request): Promise<StoredWeights> {
    const { maxWeightsPerUser } = this.options;
    if ((await this.store.countForUser(principal.userId)) >= maxWeightsPerUser) {
      throw new ConflictError(
        `You keep ${maxWeightsPerUser} weights files, the most allowed: delete one before uploading another`,
        'weights_quota_exceeded',
      );
    }
    const id = randomUUID();
    const objectKey = `weights/${principal.userId}/${id}/weights`;
    let written = false;
    const { tap, head } = headTap();
    try {
      const upload = await receiveUpload(
        req,
        {
          what: 'weights file',
          fields: '`name`, `framework`, `model`',
          file: 'the weights (.pt, .pth, .safetensors)',
          maxBytes: this.options.maxUploadBytes,
        },
        async (body, bytes) => {
          written = true;
          // pipeline hands an error of the upload to the tap, so the store stops.
          pipeline(body, tap, () => undefined);
          await this.objects.putStream(objectKey, tap, 'application/octet-stream', bytes);
        },
      );
      const fields = parseInput(WeightsCreateFields, upload.fields, 'body');
      checkModel(fields.framework, fields.model);
      if (!looksLikeWeights(head(), upload.bytes)) {
        const problem = 'neither a PyTorch file (.pt, .pth) nor a .safetensors file';
        throw new InputError(
          `The file is ${problem}`,
          [{ path: 'body.file', message: problem }],
          'invalid_weights',
        );
      }
      const { url } = await this.objects.presign(
        { method: 'GET', key: objectKey },
        this.options.checkUrlTtlSeconds,
      );
      const verdict = await whileConnectionQuiet(req, () =>
        this.checker.checkWeights({
          framework: fields.framework,
          model: fields.model,
          url,
          bytes: upload.bytes,
          sha256: upload.sha256,
        }),
      );
      if (!verdict.valid) {
        throw new InputError(
          `The file is not ${fields.framework} weights for ${fields.model}: ${verdict.problem}`,
          [{ path: 'body.file', message: verdict.problem }],
          'invalid_weights',
        );
      }
      return await this.store.insert({
        id,
        userId: principal.userId,
        name: fields.name,
        framework: fields.framework,
        model: fields.model,
        fileName: upload.filename.slice(0, MAX_FILE_NAME_CHARS),
        ...verdict.summary,
        bytes: upload.bytes,
        sha256: upload.sha256,
        objectKey,
      });
    } catch (err) {
      if (written) await this.removeObject(objectKey);
      throw err;
    }
  }

  async get(principal: Principal, id: string): Promise<StoredWeights> {
    const weights = await this.store.findForUser(principal.userId, id);
    if (!weights) throw new NotFoundError(`Weights ${id} not found`, 'weights_not_found');
    return weights;
  }

  list(principal: Principal, limit: number, cursor?: string) {
    return this.store.list(principal.userId, limit, cursor);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const weights = await this.get(principal, id);
    if (await this.jobs.hasUnfinishedForWeights(principal.userId, id)) {
      throw new ConflictError(
        `Weights ${id} are the starting point of an unfinished job; cancel it first`,
        'weights_in_use',
      );
    }
    await this.store.delete(id);
    await this.removeObject(weights.objectKey);
  }

  private async removeObject(key: string): Promise<void> {
    try {
      await this.objects.delete(key);
    } catch (err) {
      this.logger.error({ err, key }, 'could not delete a weights object; it will be swept at next start-up');
    }
  }

  /** Objects under weights/ with no row, left by a crash between upload and insert (old ones only). */
  async sweepOrphans(olderThanMs = 3600_000): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const objects = (await this.objects.list('weights/')).filter((o) => o.lastModified.getTime() < cutoff);
    const known = await this.store.knownObjectKeys(objects.map((o) => o.key));
    const orphans = objects.map((o) => o.key).filter((k) => !known.has(k));
    for (const key of orphans) await this.removeObject(key);
    if (orphans.length) this.logger.info({ count: orphans.length }, 'swept orphaned weights uploads');
    return orphans.length;
  }
}

function checkModel(framework: Framework, model: string): void {
  if (findModel(framework, model)) return;
  const known = modelCatalog[framework].map((m) => m.name).join(', ');
  throw new InputError(`Unknown ${framework} model "${model}"`, [
    { path: 'body.model', message: `not a ${framework} model; one of: ${known}` },
  ]);
}
