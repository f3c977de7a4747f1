import { Text } from './common.ts';
import { z } from './zod.ts';

/** MLflow run and experiment ids: opaque strings (32 hex digits and integers on MLflow's own stores). */
const MlflowId = Text.min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _');

/** What a user may ask of MLflow tracking when creating a job. */
export const JobTrackingRequest = z
  .strictObject({
    mlflow: z
      .strictObject({
        experiment: Text.min(1).max(256).openapi({
          description: "The MLflow experiment the job's run goes into (created when missing)",
          example: 'detectors',
        }),
      })
      .openapi({ description: "Needs MLflow on the platform (the backend's MLFLOW_TRACKING_URI)" }),
  })
  .openapi('JobTrackingRequest');
export type JobTrackingRequest = z.infer<typeof JobTrackingRequest>;

/** Where a job's training is tracked, as its answer links it. */
export const JobTracking = z
  .object({
    mlflow: z.object({
      experiment: z.string(),
      experimentId: z.string().nullable().openapi({ description: 'Null until the trainer created the run' }),
      runId: z.string().nullable().openapi({ description: 'One run per job: every attempt logs to it' }),
      url: z.string().nullable().openapi({
        description: "The run's page in the MLflow UI",
        example: 'http://mlflow:5000/#/experiments/1/runs/5f3c...',
      }),
    }),
  })
  .openapi('JobTracking');
export type JobTracking = z.infer<typeof JobTracking>;

/** What a trainer needs to log a training to MLflow. */
export const TrainingTracking = z
  .object({
    mlflow: z.object({
      trackingUri: z.url().openapi({ description: 'The MLflow tracking server (its REST API)' }),
      experimentName: Text.min(1).max(256),
      runId: MlflowId.optional().openapi({
        description: "The job's run, once an earlier attempt created it: this attempt continues it",
      }),
      jobUrl: z.url().openapi({ description: 'The job on the platform, tagged on the run (vtp.job_url)' }),
    }),
  })
  .openapi('TrainingTracking');
export type TrainingTracking = z.infer<typeof TrainingTracking>;

/** The run a trainer logs a job to, reported once it exists so the job can link it. */
export const MlflowRunRef = z.object({ experimentId: MlflowId, runId: MlflowId }).openapi('MlflowRunRef');
export type MlflowRunRef = z.infer<typeof MlflowRunRef>;
