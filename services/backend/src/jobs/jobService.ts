import { createHash, randomUUID } from 'node:crypto';
import {
  ConflictError,
  currentTraceContext,
  InputError,
  NotFoundError,
  TooManyRequestsError,
} from '@vtp/service-kit';
import {
  findModel,
  formatForFramework,
  type Job,
  type JobCreateRequestBody,
  type JobExportRequestBody,
  type JobListQuery,
  modelCatalog,
} from '@vtp/shared-schemas';
import type { Principal } from '../auth/principal.ts';
import type { DatasetStore } from '../datasets/datasetStore.ts';
import type { WeightsStore } from '../weights/weightsStore.ts';
import { isFinished } from './jobLifecycle.ts';
import type { JobRow, JobStore, StoredTracking } from './jobStore.ts';
import { type ResourceLimits, resourceIssues } from './resourceLimits.ts';

/** The platform's MLflow, when it has one: every job is tracked, in its own experiment or the default one. */
export interface MlflowSettings {
  trackingUri: string;
  defaultExperiment: string;
}

/** What the job service needs from whoever runs trainings (local processes or Kubernetes). */
export interface JobCanceller {
  cancel(job: JobRow): Promise<void>;
}

export class JobService {
  private readonly jobs: JobStore;
  private readonly datasets: DatasetStore;
  private readonly weights: Pick<WeightsStore, 'findForUser'>;
  private readonly canceller: JobCanceller;
  private readonly onQueued: () => void;
  private readonly resourceLimits: ResourceLimits;
  private readonly maxQueuedPerUser: number;
  private readonly mlflow: MlflowSettings | undefined;

  constructor(
    jobs: JobStore,
    datasets: DatasetStore,
    weights: Pick<WeightsStore, 'findForUser'>,
    canceller: JobCanceller,
    resourceLimits: ResourceLimits,
    maxQueuedPerUser: number,
    mlflow: MlflowSettings | undefined,
    onQueued: () => void = () => undefined,
  ) {
    this.mlflow = mlflow;
    this.jobs = jobs;
    this.datasets = datasets;
    this.weights = weights;
    this.canceller = canceller;
    this.resourceLimits = resourceLimits;
    this.maxQueuedPerUser = maxQueuedPerUser;
    this.onQueued = onQueued;
  }

  async create(
    principal: Principal,
    body: JobCreateRequestBody,
    idempotencyKey: string | undefined,
  ): Promise<{ job: Job; created: boolean }> {
    const tooMuch = resourceIssues(body.resources, this.resourceLimits);
    if (tooMuch.length)
      throw new InputError('The job asks for more resources than one job may have', tooMuch);
    await this.checkReferences(principal, body);
    // A retried create (same Idempotency-Key) answers with its job whatever the queue holds now.
    const retried =
      idempotencyKey && (await this.jobs.findByIdempotencyKey(principal.userId, idempotencyKey));
    if (!retried) await this.checkQueueRoom(principal);
    const requestHash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const { row, created } = await this.jobs.insert({
      id: randomUUID(),
      user_id: principal.userId,
      dataset_id: body.datasetId,
      framework: body.framework,
      model: body.model,
      hyperparameters: body.hyperparameters,
      resources: body.resources ?? null,
      max_duration_seconds: body.maxDurationSeconds ?? null,
      initial_weights: body.initialWeights ?? null,
      max_retries: body.maxRetries,
      retry_on_out_of_memory: body.retryOnOutOfMemory,
      idempotency_key: idempotencyKey ?? null,
      request_hash: requestHash,
      trace_context: currentTraceContext() ?? null,
      tracking: this.trackingOf(body),
      export_formats: body.export,
      kind: 'training',
    });
    if (!created && row.request_hash !== requestHash) {
      throw new ConflictError(
        'This Idempotency-Key was already used for a different request',
        'idempotency_key_reused',
      );
    }
    if (created) this.onQueued();
    const [job] = await this.jobs.toJobs([row]);
    return { job: job as Job, created };
  }

  private trackingOf(body: JobCreateRequestBody): StoredTracking | null {
    if (!this.mlflow) {
      if (!body.tracking) return null;
      throw new InputError('This platform has no MLflow to track the job in', [
        { path: 'body.tracking.mlflow', message: 'MLflow tracking is not configured (MLFLOW_TRACKING_URI)' },
      ]);
    }
    const experiment = body.tracking?.mlflow.experiment ?? this.mlflow.defaultExperiment;
    return { mlflow: { trackingUri: this.mlflow.trackingUri, experiment } };
  }

  private async checkQueueRoom(principal: Principal): Promise<void> {
    if ((await this.jobs.countQueued(principal.userId)) >= this.maxQueuedPerUser) {
      throw new TooManyRequestsError(
        `At most ${this.maxQueuedPerUser} jobs may wait in your queue; try again once some have started`,
        60,
        'queue_quota_exceeded',
      );
    }
  }

  private async checkReferences(principal: Principal, body: JobCreateRequestBody): Promise<void> {
    if (!findModel(body.framework, body.model)) {
      const known = modelCatalog[body.framework].map((m) => m.name).join(', ');
      throw new InputError(`Unknown ${body.framework} model "${body.model}"`, [
        { path: 'body.model', message: `not a ${body.framework} model; one of: ${known}` },
      ]);
    }
    const dataset = await this.datasets.findForUser(principal.userId, body.datasetId);
    if (!dataset) {
      throw new InputError(
        `Dataset ${body.datasetId} not found`,
        [{ path: 'body.datasetId', message: 'no such dataset' }],
        'dataset_not_found',
      );
    }
    const needed = formatForFramework[body.framework];
    if (dataset.format !== needed) {
      throw new InputError(
        `${body.framework} trains on ${needed} datasets; dataset ${dataset.id} is ${dataset.format}`,
        [
          {
            path: 'body.datasetId',
            message: `format ${dataset.format} does not fit ${body.framework} (needs ${needed})`,
          },
        ],
        'dataset_format_mismatch',
      );
    }
    if (body.initialWeights && 'weightsId' in body.initialWeights)
      await this.checkUploadedWeights(principal, body, body.initialWeights.weightsId);
    else if (body.initialWeights) {
      const { jobId, checkpoint } = body.initialWeights;
      const source = await this.jobs.findForUser(principal.userId, jobId);
      if (
        !source ||
        source.framework !== body.framework ||
        !(await this.jobs.checkpointUri(jobId, checkpoint))
      ) {
        throw new InputError('No such checkpoint to start from', [
          {
            path: 'body.initialWeights.jobId',
            message: `needs one of your ${body.framework} jobs with a "${checkpoint}" checkpoint`,
          },
        ]);
      }
    }
  }

  /** Uploaded weights passed their check for one framework and model: a job of another cannot load them. */
  private async checkUploadedWeights(
    principal: Principal,
    body: JobCreateRequestBody,
    weightsId: string,
  ): Promise<void> {
    const weights = await this.weights.findForUser(principal.userId, weightsId);
    const path = 'body.initialWeights.weightsId';
    if (!weights) {
      throw new InputError(
        `Weights ${weightsId} not found`,
        [{ path, message: 'no such weights (POST /v1/weights uploads them)' }],
        'weights_not_found',
      );
    }
    if (weights.framework !== body.framework || weights.model !== body.model) {
      throw new InputError(
        `Weights ${weightsId} are for ${weights.framework} ${weights.model}, not ${body.framework} ${body.model}`,
        [
          {
            path,
            message: `weights for ${weights.framework} ${weights.model} cannot start a ${body.framework} ${body.model}`,
          },
        ],
        'weights_mismatch',
      );
    }
  }

  async getRow(principal: Principal, id: string): Promise<JobRow> {
    const row = await this.jobs.findForUser(principal.userId, id);
    if (!row) throw new NotFoundError(`Job ${id} not found`, 'job_not_found');
    return row;
  }

  async get(principal: Principal, id: string): Promise<Job> {
    const [job] = await this.jobs.toJobs([await this.getRow(principal, id)]);
    return job as Job;
  }

  async list(
    principal: Principal,
    query: JobListQuery,
  ): Promise<{ items: Job[]; nextCursor: string | null }> {
    const { rows, nextCursor } = await this.jobs.list(
      principal.userId,
      { status: query.status, framework: query.framework },
      query.limit,
      query.cursor,
    );
    return { items: await this.jobs.toJobs(rows), nextCursor };
  }

  /**
   * Continues a failed or cancelled job from its last checkpoint, as its next attempt. Refused (409) when there
   * is nothing to continue from or no time left; a job that still runs, or succeeded, is answered as it is.
   */
  async resume(principal: Principal, id: string): Promise<{ job: Job; accepted: boolean }> {
    const row = await this.getRow(principal, id);
    if (row.status !== 'failed' && row.status !== 'cancelled') {
      if (row.status === 'succeeded')
        throw new ConflictError(`Job ${id} succeeded: there is nothing to resume`, 'nothing_to_resume');
      return { job: await this.get(principal, id), accepted: false };
    }
    const point = await this.jobs.resumePoint(id);
    if (!point) {
      throw new ConflictError(
        `Job ${id} has no checkpoint to resume from (it ended before its first epoch was saved); create a new job instead`,
        'nothing_to_resume',
      );
    }
    if (row.max_duration_seconds && row.trained_seconds >= row.max_duration_seconds) {
      throw new ConflictError(
        `Job ${id} used up its ${row.max_duration_seconds}s time limit (maxDurationSeconds); create a new job with initialWeights from it instead`,
        'time_limit_used_up',
      );
    }
    await this.checkQueueRoom(principal);
    const resumed = await this.jobs.resume(id);
    if (resumed) this.onQueued();
    return { job: await this.get(principal, id), accepted: Boolean(resumed) };
  }

  /**
   * Exports a succeeded training's best checkpoint later: queues an export job of the caller's, which goes the way
   * of every job (dispatcher, executor, trainer; its own status, retries and failure reason) and whose artifact of
   * the format's kind is the exported file. Refused (409) for a job that did not succeed or left no checkpoint.
   */
  async requestExport(principal: Principal, id: string, body: JobExportRequestBody): Promise<Job> {
    const source = await this.getRow(principal, id);
    if (source.kind !== 'training')
      throw new ConflictError(`Job ${id} is an export; export the job it exports instead`, 'not_exportable');
    if (source.status !== 'succeeded') {
      throw new ConflictError(
        `Job ${id} is ${source.status}: only a succeeded job can be exported`,
        'job_not_succeeded',
      );
    }
    if (!(await this.jobs.checkpointUri(id, 'best')))
      throw new ConflictError(`Job ${id} has no best checkpoint to export`, 'nothing_to_export');
    await this.checkQueueRoom(principal);
    const { row } = await this.jobs.insert({
      id: randomUUID(),
      user_id: principal.userId,
      dataset_id: source.dataset_id,
      framework: source.framework,
      model: source.model,
      // Kept for the record of what was trained; an export-only runner reads only the checkpoint.
      hyperparameters: source.hyperparameters,
      resources: source.resources,
      max_duration_seconds: null,
      initial_weights: { jobId: id, checkpoint: 'best' },
      max_retries: source.max_retries,
      retry_on_out_of_memory: false,
      idempotency_key: null,
      request_hash: createHash('sha256')
        .update(JSON.stringify({ exportOf: id, ...body }))
        .digest('hex'),
      trace_context: currentTraceContext() ?? null,
      tracking: null,
      export_formats: [body.format],
      kind: 'export',
    });
    this.onQueued();
    const [job] = await this.jobs.toJobs([row]);
    return job as Job;
  }

  /**
   * A queued job is cancelled at once. A job already handed to a trainer is asked to stop; it turns
   * `cancelled` when the trainer confirms (its partial checkpoints come with that event).
   */
  async cancel(principal: Principal, id: string): Promise<{ job: Job; accepted: boolean }> {
    const row = await this.getRow(principal, id);
    if (isFinished(row.status)) return { job: await this.get(principal, id), accepted: false };
    await this.jobs.update(id, { cancel_requested_at: new Date() });
    const cancelledWhileQueued = await this.jobs.finish(id, ['queued'], {
      status: 'cancelled',
      artifacts: [],
    });
    if (!cancelledWhileQueued) {
      const current = await this.jobs.find(id);
      if (current && !isFinished(current.status)) await this.canceller.cancel(current);
    }
    return { job: await this.get(principal, id), accepted: true };
  }
}
