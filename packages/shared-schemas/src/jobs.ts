import { Id, INT32_MAX, PageQuery, Timestamp } from './common.ts';
import { Artifact, ArtifactKind, ExportFormat, Metrics, TrainingPhase } from './events.ts';
import { JobError } from './failures.ts';
import { Framework } from './frameworks.ts';
import { TimmHyperparameters, UltralyticsHyperparameters } from './hyperparameters.ts';
import { JobTracking, JobTrackingRequest } from './tracking.ts';
import { z } from './zod.ts';

export const JobStatus = z
  .enum(['queued', 'dispatching', 'running', 'succeeded', 'failed', 'cancelled'])
  .openapi('JobStatus');
export type JobStatus = z.infer<typeof JobStatus>;

/** A job in one of these statuses never changes again. */
export const terminalStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

const kubernetesQuantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, 'a Kubernetes quantity such as 500m, 2 or 4Gi');

export const Resources = z
  .strictObject({
    cpu: kubernetesQuantity.optional().openapi({ example: '2' }),
    memory: kubernetesQuantity.optional().openapi({ example: '4Gi' }),
    gpu: z.number().int().min(0).max(16).optional(),
  })
  .openapi('Resources');
export type Resources = z.infer<typeof Resources>;

export const InitialWeights = z
  .union([
    z.strictObject({
      jobId: Id.openapi({ description: 'A finished job of yours whose checkpoint to start from' }),
      checkpoint: z.enum(['best', 'last']).default('best'),
    }),
    z.strictObject({
      weightsId: Id.openapi({
        description: 'Weights you uploaded (POST /v1/weights) for the same framework and model',
      }),
    }),
  ])
  .openapi('InitialWeights');
export type InitialWeights = z.infer<typeof InitialWeights>;

const jobCreateCommon = {
  model: z.string().min(1).max(100),
  datasetId: Id,
  resources: Resources.optional(),
  maxDurationSeconds: z
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .optional(),
  initialWeights: InitialWeights.optional(),
  maxRetries: z.number().int().min(0).max(10).default(2).openapi({
    description:
      'Automatic retries after an infrastructure failure (lost, stalled, trainer unavailable, killed), each resuming from the last checkpoint; 0 disables them',
  }),
  retryOnOutOfMemory: z
    .boolean()
    .default(false)
    .openapi({ description: 'Also retry a training that ran out of memory (it may well run out again)' }),
  tracking: JobTrackingRequest.optional(),
  export: z
    .array(ExportFormat)
    .max(ExportFormat.options.length)
    .refine((formats) => new Set(formats).size === formats.length, 'each format at most once')
    .default([])
    .openapi({
      description:
        'Export the best checkpoint to these formats once the training succeeded; each export becomes an artifact of its kind',
    }),
};

export const JobCreateRequestBody = z
  .discriminatedUnion('framework', [
    z.strictObject({
      framework: z.literal('ultralytics'),
      ...jobCreateCommon,
      hyperparameters: UltralyticsHyperparameters.default(UltralyticsHyperparameters.parse({})),
    }),
    z.strictObject({
      framework: z.literal('timm'),
      ...jobCreateCommon,
      hyperparameters: TimmHyperparameters.default(TimmHyperparameters.parse({})),
    }),
  ])
  .openapi('JobCreateRequestBody');
export type JobCreateRequestBody = z.infer<typeof JobCreateRequestBody>;

export const JobProgress = z
  .object({
    epoch: z.number().int().nonnegative(),
    totalEpochs: z.number().int().nonnegative(),
    fraction: z.number().min(0).max(1),
    phase: TrainingPhase.nullable().openapi({
      description: 'What the training is doing, as its trainer last said',
    }),
  })
  .openapi('JobProgress');
export type JobProgress = z.infer<typeof JobProgress>;

export const JobAttempt = z
  .object({
    attempt: z.number().int().min(1),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).openapi({
      description: 'queued: waiting for a trainer; running: handed over; the rest as for a job',
    }),
    resumedFromEpoch: z.number().int().nullable().openapi({
      description: 'The checkpoint epoch this attempt continued from; null when it started afresh',
    }),
    startedAt: Timestamp.nullable(),
    endedAt: Timestamp.nullable(),
    error: JobError.nullable(),
  })
  .openapi('JobAttempt');
export type JobAttempt = z.infer<typeof JobAttempt>;

/** training: trains a model (and may export it); export: exports the best checkpoint of a finished training job. */
export const JobKind = z.enum(['training', 'export']).openapi('JobKind');
export type JobKind = z.infer<typeof JobKind>;

/** `POST /v1/jobs/{id}/exports`: export a succeeded job's best checkpoint, as an export job of its own. */
export const JobExportRequestBody = z.strictObject({ format: ExportFormat }).openapi('JobExportRequestBody');
export type JobExportRequestBody = z.infer<typeof JobExportRequestBody>;

export const Job = z
  .object({
    id: Id,
    kind: JobKind,
    exportOf: Id.nullable().openapi({
      description: 'For an export job: the job whose best checkpoint it exports; null for a training',
    }),
    status: JobStatus,
    framework: Framework,
    model: z.string(),
    datasetId: Id,
    initialWeights: InitialWeights.nullable().openapi({
      description:
        'What the training started from: a checkpoint of another job, or uploaded weights; null for scratch',
    }),
    hyperparameters: z.record(z.string(), z.unknown()),
    resources: Resources.nullable(),
    maxDurationSeconds: z.number().int().nullable().openapi({
      description: 'Limit on training time, counted over all attempts together',
    }),
    maxRetries: z.number().int(),
    retryOnOutOfMemory: z.boolean(),
    attempt: z.number().int().min(1).openapi({ description: 'The current (or last) attempt, from 1' }),
    attempts: z.array(JobAttempt).openapi({ description: 'Every attempt so far, oldest first' }),
    progress: JobProgress,
    latestMetrics: Metrics.nullable(),
    artifacts: z.array(Artifact),
    export: z.array(ExportFormat).openapi({
      description:
        'The formats the job exports its best checkpoint to (an export job: the one format it was asked for); a training whose export failed lacks that artifact, and its log says why',
    }),
    error: JobError.nullable(),
    tracking: JobTracking.nullable().openapi({
      description: "Where the training is tracked (MLflow's run and its link); null when it is not",
    }),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .openapi('Job');
export type Job = z.infer<typeof Job>;

export const JobListQuery = PageQuery.extend({
  status: JobStatus.optional(),
  framework: Framework.optional(),
});
export type JobListQuery = z.infer<typeof JobListQuery>;

export const JobIdParams = z.object({ id: Id });
export const ArtifactParams = JobIdParams.extend({ kind: ArtifactKind });

export const JobEventsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .max(INT32_MAX)
    .default(0)
    .openapi({ description: 'Only events with a larger seq' }),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export const LogsQuery = z.object({
  follow: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1')
    .openapi({ description: 'Keep the response open and stream new lines until the training ends' }),
});
