import { randomUUID } from 'node:crypto';
import type { TrainingStartRequestBody } from '@vtp/shared-schemas';
import type { TrainingJobSettings } from '../../src/execution/kubernetes/trainingJob.ts';
import type { JobRow } from '../../src/jobs/jobStore.ts';

export const CALLBACK_TOKEN = 'vtpcb_test_token_0123456789abcdef';

/** A job as the dispatcher hands it over, with whatever the test changes. */
export function jobRow(overrides: Partial<JobRow> = {}): JobRow {
  const now = new Date();
  return {
    id: randomUUID(),
    user_id: randomUUID(),
    dataset_id: randomUUID(),
    framework: 'timm',
    model: 'resnet18',
    hyperparameters: { epochs: 2 },
    resources: null,
    max_duration_seconds: null,
    initial_weights: null,
    status: 'dispatching',
    idempotency_key: null,
    request_hash: 'hash',
    callback_token_hashes: ['hash'],
    epoch: 0,
    total_epochs: 2,
    latest_metrics: null,
    error_code: null,
    error_message: null,
    handovers: 1,
    attempt: 1,
    max_retries: 2,
    retry_on_out_of_memory: false,
    trained_seconds: 0,
    attempt_started_at: null,
    placement: null,
    trace_context: null,
    tracking: null,
    export_formats: [],
    kind: 'training',
    created_at: now,
    updated_at: now,
    queued_at: now,
    dispatched_at: now,
    started_at: null,
    finished_at: null,
    last_heartbeat_at: null,
    cancel_requested_at: null,
    phase: null,
    last_progress_at: null,
    stall_limit_seconds: null,
    ...overrides,
  };
}

export function trainingSpec(
  job: JobRow,
  overrides: Partial<TrainingStartRequestBody> = {},
): TrainingStartRequestBody {
  return {
    jobId: job.id,
    framework: job.framework,
    model: job.model,
    hyperparameters: job.hyperparameters,
    dataset: { uri: `s3://vtp/datasets/${job.dataset_id}.zip`, format: 'imagefolder' },
    attempt: job.attempt,
    export: job.export_formats,
    exportOnly: job.kind === 'export',
    callback: {
      url: `http://backend.vtp:8000/v1/jobs/${job.id}/callback`,
      storageUrl: `http://backend.vtp:8000/v1/jobs/${job.id}/storage-urls`,
      token: CALLBACK_TOKEN,
      firstSeq: 1,
    },
    ...(job.max_duration_seconds ? { maxDurationSeconds: job.max_duration_seconds } : {}),
    ...overrides,
  };
}

export function jobSettings(overrides: Partial<TrainingJobSettings> = {}): TrainingJobSettings {
  return {
    namespace: 'training',
    images: { ultralytics: 'ghcr.io/vtp/trainer-ultralytics:1.0.0', timm: 'ghcr.io/vtp/trainer-timm:1.0.0' },
    ttlSecondsAfterFinished: 3600,
    deadlineSlackSeconds: 60,
    gpuNodeSelector: { 'nvidia.com/gpu.present': 'true' },
    defaultResources: { cpu: '2', memory: '8Gi' },
    scratchSizeLimit: '50Gi',
    ...overrides,
  };
}
