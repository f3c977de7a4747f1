import { Id, Int32, Timestamp } from './common.ts';
import { ExportFormat, Metrics } from './events.ts';
import { JobError } from './failures.ts';
import { DatasetFormat, Framework, TrainerModel } from './frameworks.ts';
import { S3Uri } from './storage.ts';
import { TrainingTracking } from './tracking.ts';
import { z } from './zod.ts';

export const TrainerModelsResponseBody = z
  .object({ framework: Framework, models: z.array(TrainerModel) })
  .openapi('TrainerModelsResponseBody');
export type TrainerModelsResponseBody = z.infer<typeof TrainerModelsResponseBody>;

export const TraceContext = z
  .object({
    traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/),
    tracestate: z.string().max(512).optional(),
  })
  .openapi('TraceContext');
export type TraceContext = z.infer<typeof TraceContext>;

/** Where an earlier attempt of the job stopped: the training continues from its checkpoint. */
export const TrainingResume = z
  .object({
    epoch: Int32.min(1).openapi({ description: 'The epoch the checkpoint was taken after' }),
    last: S3Uri.openapi({ description: 'The checkpoint to continue from, with its optimizer state' }),
    lastSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .openapi({ description: 'What `last` must hash to; a different file is not the reported checkpoint' }),
    best: S3Uri.optional().openapi({
      description: 'The best checkpoint so far, kept unless the training beats it',
    }),
    epochMetrics: z.array(Metrics).max(100_000).openapi({
      description: 'The metrics of epochs 1..epoch, so the final metrics.json holds every epoch',
    }),
  })
  .openapi('TrainingResume');
export type TrainingResume = z.infer<typeof TrainingResume>;

export const TrainingStartRequestBody = z
  .object({
    jobId: Id,
    framework: Framework,
    model: z.string().min(1),
    hyperparameters: z.record(z.string(), z.unknown()),
    dataset: z.object({
      uri: S3Uri,
      format: DatasetFormat,
      id: Id.optional(),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional()
        .openapi({ description: 'Of the uploaded zip; logged with the training (MLflow parameters)' }),
    }),
    initialWeightsUri: S3Uri.optional(),
    attempt: z.number().int().min(1).default(1).openapi({ description: 'Which attempt of the job this is' }),
    resume: TrainingResume.optional(),
    callback: z.object({
      url: z.url(),
      storageUrl: z.url().openapi({
        description:
          'Where the trainer asks, with the same token, for a presigned URL to each object it reads or writes: it holds no storage credentials',
      }),
      token: z
        .string()
        .min(20)
        .openapi({ description: "Bearer token for the job's callback and storage URLs only" }),
      firstSeq: Int32.min(1).default(1).openapi({
        description: "This attempt's events are numbered from here (earlier attempts used the seqs below)",
      }),
    }),
    maxDurationSeconds: z.number().int().positive().optional(),
    traceContext: TraceContext.optional(),
    tracking: TrainingTracking.optional().openapi({ description: 'Log the training to MLflow' }),
    export: z.array(ExportFormat).max(ExportFormat.options.length).default([]).openapi({
      description:
        'Export the best checkpoint to these formats after the training, reported with the completed event',
    }),
    exportOnly: z.boolean().default(false).openapi({
      description:
        'Train nothing: export `initialWeightsUri` to the `export` formats (the dataset is not downloaded); a failed export fails the run',
    }),
  })
  .openapi('TrainingStartRequestBody');
export type TrainingStartRequestBody = z.infer<typeof TrainingStartRequestBody>;

export const TrainingStatus = z
  .enum(['starting', 'running', 'succeeded', 'failed', 'cancelled'])
  .openapi('TrainingStatus');
export type TrainingStatus = z.infer<typeof TrainingStatus>;

export const Training = z
  .object({
    jobId: Id,
    attempt: z.number().int().min(1),
    status: TrainingStatus,
    epoch: z.number().int().nonnegative(),
    totalEpochs: z.number().int().nonnegative(),
    startedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
    error: JobError.nullable(),
    pendingEvents: z
      .number()
      .int()
      .nonnegative()
      .openapi({ description: 'Events not yet delivered to the backend' }),
  })
  .openapi('Training');
export type Training = z.infer<typeof Training>;

export const TrainingIdParams = z.object({ jobId: Id });

export const TrainerReadiness = z
  .object({
    ready: z.boolean(),
    framework: Framework,
    python: z.object({ executable: z.string(), version: z.string().nullable() }),
    frameworkVersion: z.string().nullable(),
    torchVersion: z.string().nullable(),
    activeTrainings: z.number().int().nonnegative(),
    maxConcurrentTrainings: z.number().int().positive(),
    problem: z.string().optional().openapi({ description: 'Why it is not ready' }),
    fix: z.string().optional().openapi({ description: 'The command that fixes it' }),
  })
  .openapi('TrainerReadiness');
export type TrainerReadiness = z.infer<typeof TrainerReadiness>;
