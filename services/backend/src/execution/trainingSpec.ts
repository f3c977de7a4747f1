import type { TraceContext, TrainingStartRequestBody } from '@vtp/shared-schemas';
import type { StoredDataset } from '../datasets/datasetStore.ts';
import { jobOutputPrefix } from '../jobs/jobOutputs.ts';
import type { JobRow } from '../jobs/jobStore.ts';

export interface SpecInputs {
  job: JobRow;
  dataset: StoredDataset;
  bucket: string;
  backendBaseUrl: string;
  callbackToken: string;
  initialWeightsUri?: string | undefined;
  traceContext?: TraceContext | undefined;
}

/** The trainer's whole view of a job: everything it needs, over HTTP, and nothing else. */
export function buildTrainingSpec(i: SpecInputs): TrainingStartRequestBody {
  return {
    jobId: i.job.id,
    framework: i.job.framework,
    model: i.job.model,
    hyperparameters: i.job.hyperparameters,
    dataset: { uri: `s3://${i.bucket}/${i.dataset.objectKey}`, format: i.dataset.format },
    output: { uriPrefix: jobOutputPrefix(i.bucket, i.job.id) },
    callback: {
      url: `${i.backendBaseUrl.replace(/\/$/, '')}/v1/jobs/${i.job.id}/callback`,
      token: i.callbackToken,
    },
    ...(i.initialWeightsUri ? { initialWeightsUri: i.initialWeightsUri } : {}),
    ...(i.job.max_duration_seconds ? { maxDurationSeconds: i.job.max_duration_seconds } : {}),
    ...(i.traceContext ? { traceContext: i.traceContext } : {}),
  };
}
