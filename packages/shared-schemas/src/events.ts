import { Id, Int32, Text, Timestamp } from './common.ts';
import { JobError } from './failures.ts';
import { MlflowRunRef } from './tracking.ts';
import { z } from './zod.ts';

export const Metrics = z
  .record(Text.max(100), z.number())
  .openapi('Metrics', { example: { 'train/loss': 0.82, 'val/top1': 71.5 } });
export type Metrics = z.infer<typeof Metrics>;

/** Deployable formats a trained model can be exported to; each export is an artifact of that kind. */
export const ExportFormat = z.enum(['onnx']).openapi('ExportFormat');
export type ExportFormat = z.infer<typeof ExportFormat>;

export const ArtifactKind = z
  .enum(['best', 'last', 'metrics', 'log', ...ExportFormat.options])
  .openapi('ArtifactKind', { description: 'onnx: the best checkpoint exported to ONNX' });
export type ArtifactKind = z.infer<typeof ArtifactKind>;

export const Artifact = z
  .object({
    kind: ArtifactKind,
    uri: z.string().startsWith('s3://').openapi({ example: 's3://vtp/jobs/0b8e.../best.pt' }),
    bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    epoch: Int32.nonnegative().optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .openapi({ description: 'sha256 of the stored bytes, verified by the trainer as it uploaded them' }),
  })
  .openapi('Artifact');
export type Artifact = z.infer<typeof Artifact>;

const base = {
  seq: Int32.min(1).openapi({
    description: "Per-job sequence number, increasing from the attempt's firstSeq (1 for the first attempt)",
  }),
  timestamp: Timestamp,
};

const StartedEvent = z.object({
  ...base,
  type: z.literal('started'),
  totalEpochs: Int32.min(1),
  frameworkVersion: Text.max(100).optional(),
});
const ProgressEvent = z.object({
  ...base,
  type: z.literal('progress'),
  epoch: Int32.min(1).openapi({ description: '1-based epoch that just finished' }),
  totalEpochs: Int32.min(1),
  metrics: Metrics,
});
const CheckpointEvent = z.object({
  ...base,
  type: z.literal('checkpoint'),
  epoch: Int32.min(0),
  artifacts: z.array(Artifact).min(1),
});
const LogEvent = z.object({
  ...base,
  type: z.literal('log'),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: Text.max(16_000),
});
/** Where a training is; its trainer reports it with every heartbeat. */
export const TrainingPhase = z
  .enum(['downloading_dataset', 'extracting_dataset', 'starting_runner', 'training', 'uploading_artifacts'])
  .openapi('TrainingPhase');
export type TrainingPhase = z.infer<typeof TrainingPhase>;

const HeartbeatEvent = z.object({
  ...base,
  type: z.literal('heartbeat'),
  phase: TrainingPhase.optional(),
  lastProgressAt: Timestamp.optional().openapi({
    description: 'When the training last made real progress (bytes moved, an epoch finished), not just lived',
  }),
  stallLimitSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional()
    .openapi({ description: 'Silence in this phase past this many seconds is a stall' }),
});
/** The MLflow run the training logs to, once the trainer has created or found it. */
const TrackingEvent = z.object({
  ...base,
  type: z.literal('tracking'),
  mlflow: MlflowRunRef,
});
const CompletedEvent = z.object({
  ...base,
  type: z.literal('completed'),
  metrics: Metrics,
  artifacts: z.array(Artifact),
});
const FailedEvent = z.object({
  ...base,
  type: z.literal('failed'),
  error: JobError,
  artifacts: z
    .array(Artifact)
    .default([])
    .openapi({ description: 'What was kept: at least the training log' }),
});
const CancelledEvent = z.object({ ...base, type: z.literal('cancelled'), artifacts: z.array(Artifact) });

/** What a trainer POSTs to the backend's callback URL: one event, or several in a `TrainerEventBatch`. */
export const TrainerEvent = z
  .discriminatedUnion('type', [
    StartedEvent,
    ProgressEvent,
    CheckpointEvent,
    LogEvent,
    HeartbeatEvent,
    TrackingEvent,
    CompletedEvent,
    FailedEvent,
    CancelledEvent,
  ])
  .openapi('TrainerEvent');
export type TrainerEvent = z.infer<typeof TrainerEvent>;
export type TrainerEventType = TrainerEvent['type'];
export const terminalEventTypes = ['completed', 'failed', 'cancelled'] as const satisfies TrainerEventType[];

/** Events per batch, and the JSON size a trainer keeps a batch under (the backend reads bodies up to 1 MiB). */
export const MAX_CALLBACK_BATCH_EVENTS = 500;
export const MAX_CALLBACK_BATCH_BYTES = 512 * 1024;

/** Several of one job's events in one request, in increasing seq order: stored in one transaction. */
export const TrainerEventBatch = z
  .object({
    events: z
      .array(TrainerEvent)
      .min(1)
      .max(MAX_CALLBACK_BATCH_EVENTS)
      .refine(
        (events) => events.every((event, i) => i === 0 || event.seq > (events[i - 1] as TrainerEvent).seq),
        'must be in increasing seq order',
      ),
  })
  .openapi('TrainerEventBatch');
export type TrainerEventBatch = z.infer<typeof TrainerEventBatch>;

export const CallbackResponseBody = z
  .object({
    accepted: z
      .boolean()
      .openapi({ description: 'False when the event was a duplicate or arrived too late to matter' }),
    seq: z.number().int(),
  })
  .openapi('CallbackResponseBody');
export type CallbackResponseBody = z.infer<typeof CallbackResponseBody>;

export const CallbackBatchResponseBody = z
  .object({
    results: z.array(CallbackResponseBody).openapi({ description: 'One per event, in the same order' }),
  })
  .openapi('CallbackBatchResponseBody');
export type CallbackBatchResponseBody = z.infer<typeof CallbackBatchResponseBody>;

/** A stored event as the backend returns it. */
export const JobEvent = z
  .object({
    jobId: Id,
    seq: z.number().int(),
    attempt: z.number().int().min(1).openapi({ description: 'The attempt that reported it' }),
    superseded: z.boolean().openapi({
      description:
        'A progress event of an epoch that a later attempt trained again (it resumed from an earlier checkpoint): leave it out of metric histories',
    }),
    type: z.string(),
    timestamp: Timestamp,
    receivedAt: Timestamp,
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi('JobEvent');
export type JobEvent = z.infer<typeof JobEvent>;
