import { Id, Timestamp } from './common.ts';
import { JobError } from './failures.ts';
import { DatasetFormat, Framework, TrainerModel } from './frameworks.ts';
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

const s3Uri = z.string().regex(/^s3:\/\/[^/]+\/.+/, 'an s3://bucket/key URI');

export const TrainingStartRequestBody = z
  .object({
    jobId: Id,
    framework: Framework,
    model: z.string().min(1),
    hyperparameters: z.record(z.string(), z.unknown()),
    dataset: z.object({ uri: s3Uri, format: DatasetFormat }),
    output: z.object({
      uriPrefix: s3Uri.openapi({ description: 'Checkpoints, metrics and the log are written under it' }),
    }),
    initialWeightsUri: s3Uri.optional(),
    callback: z.object({
      url: z.url(),
      token: z.string().min(20).openapi({ description: "Bearer token for the job's callback URL only" }),
    }),
    maxDurationSeconds: z.number().int().positive().optional(),
    traceContext: TraceContext.optional(),
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
