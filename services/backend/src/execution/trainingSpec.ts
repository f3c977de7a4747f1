import type {
  ExportFormat,
  Framework,
  JobKind,
  TraceContext,
  TrainingResume,
  TrainingStartRequestBody,
} from '@vtp/shared-schemas';
import type { StoredDataset } from '../datasets/datasetStore.ts';
import type { StoredTracking } from '../jobs/jobStore.ts';

export interface SpecInputs {
  job: {
    id: string;
    framework: Framework;
    model: string;
    hyperparameters: Record<string, unknown>;
    attempt: number;
    tracking?: StoredTracking | null;
    export_formats: readonly ExportFormat[];
    kind: JobKind;
  };
  dataset: StoredDataset;
  bucket: string;
  backendBaseUrl: string;
  callbackToken: string;
  /** The attempt's events are numbered from here. */
  firstSeq: number;
  resume?: TrainingResume | undefined;
  initialWeightsUri?: string | undefined;
  /** What is left of the job's time limit. */
  maxDurationSeconds?: number | undefined;
  traceContext?: TraceContext | undefined;
}

/** The trainer's whole view of a job: everything it needs, over HTTP, and nothing else. */
export function buildTrainingSpec(i: SpecInputs): TrainingStartRequestBody {
  const jobUrl = `${i.backendBaseUrl.replace(/\/$/, '')}/v1/jobs/${i.job.id}`;
  return {
    jobId: i.job.id,
    framework: i.job.framework,
    model: i.job.model,
    hyperparameters: i.job.hyperparameters,
    dataset: {
      uri: `s3://${i.bucket}/${i.dataset.objectKey}`,
      format: i.dataset.format,
      id: i.dataset.id,
      sha256: i.dataset.sha256,
    },
    attempt: i.job.attempt,
    callback: {
      url: `${jobUrl}/callback`,
      storageUrl: `${jobUrl}/storage-urls`,
      token: i.callbackToken,
      firstSeq: i.firstSeq,
    },
    export: [...i.job.export_formats],
    exportOnly: i.job.kind === 'export',
    ...(i.resume ? { resume: i.resume } : {}),
    ...(i.initialWeightsUri ? { initialWeightsUri: i.initialWeightsUri } : {}),
    ...(i.maxDurationSeconds ? { maxDurationSeconds: i.maxDurationSeconds } : {}),
    ...(i.traceContext ? { traceContext: i.traceContext } : {}),
    ...(i.job.tracking ? { tracking: trackingOf(i.job.tracking, jobUrl) } : {}),
  };
}

function trackingOf({ mlflow }: StoredTracking, jobUrl: string): TrainingStartRequestBody['tracking'] {
  return {
    mlflow: {
      trackingUri: mlflow.trackingUri,
      experimentName: mlflow.experiment,
      jobUrl,
      // An earlier attempt's run: this one continues it.
      ...(mlflow.runId ? { runId: mlflow.runId } : {}),
    },
  };
}
