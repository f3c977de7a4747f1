import { checkCredentialPair, loadConfig } from '@vtp/service-kit';
import { Framework } from '@vtp/shared-schemas';
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const kubernetesQuantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, 'a Kubernetes quantity such as 500m, 2 or 4Gi');

/** The backend's whole configuration: the only thing that differs between tiers. */
export const BackendEnv = z.object({
  // HTTP port of the API.
  // Address to listen on: loopback unless told otherwise (the container images set 0.0.0.0).
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  // PostgreSQL connection string; unset = start an embedded PostgreSQL under DATA_DIR.
  DATABASE_URL: z.url().optional(),
  // S3-compatible endpoint (MinIO, R2); unset with no AWS credentials = start an embedded S3 server under DATA_DIR.
  S3_ENDPOINT: z.url().optional(),
  // Bucket for datasets and artifacts; created when missing.
  BUCKET_NAME: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a valid S3 bucket name')
    .default('vtp'),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  // Path-style URLs (http://host/bucket/key) as MinIO and s3rver need.
  S3_FORCE_PATH_STYLE: flag.default(true),
  // Where trainings run: local trainer processes, or Kubernetes Jobs.
  EXECUTION_MODE: z.enum(['subprocess', 'kubernetes']).default('subprocess'),
  // URL trainers use to reach this backend (callbacks); defaults to http://127.0.0.1:PORT.
  BACKEND_BASE_URL: z.url().optional(),
  // MLflow tracking server every training logs to (one run per job: parameters, per-epoch metrics, the best
  // checkpoint and metrics.json); unset = no tracking. Trainers reach it over its REST API, and job answers link
  // the run under this URL. Credentials do not belong in it.
  MLFLOW_TRACKING_URI: z
    .url()
    .refine((uri) => /^https?:\/\//.test(uri), 'an http(s) URL of the tracking server')
    .refine((uri) => {
      // Checks run on after a failed one: a value that is no URL has been reported already.
      if (!URL.canParse(uri)) return true;
      const { username, password } = new URL(uri);
      return !username && !password;
    }, 'must not carry credentials: they would be stored with every job')
    .optional(),
  // The MLflow experiment of jobs that name none (`tracking.mlflow.experiment` on the job picks another).
  MLFLOW_EXPERIMENT_NAME: z.string().min(1).max(256).default('vtp'),
  // Admin API key; unset in embedded mode = generated once and kept under DATA_DIR.
  ADMIN_API_KEY: z.string().min(24, 'at least 24 characters').optional(),
  // Embedded PostgreSQL and S3 data, and the generated admin key.
  DATA_DIR: z.string().min(1).default('./.data'),
  // Trainer services already running (as under `turbo run dev`): `ultralytics=http://host:8101,timm=http://host:8102`.
  // Frameworks not listed are started by the backend as child processes (subprocess mode).
  TRAINER_URLS: z
    .string()
    .optional()
    .transform((value, ctx) => parseTrainerUrls(value, ctx)),
  // Bearer token between backend and trainers; unset = generated per start (only for trainers it spawns).
  TRAINER_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
  // Datasets one user may keep; one more upload is refused (409) until one is deleted.
  MAX_DATASETS_PER_USER: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  // Jobs one user may have waiting in the queue; one more is refused with 429 until some start.
  MAX_QUEUED_JOBS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(100),
  // Live event streams and followed logs one user may hold open on one backend at once (429 past it).
  MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),
  // Trainings running at once, per framework and per user.
  MAX_JOBS_PER_FRAMEWORK: z.coerce.number().int().min(1).max(100_000).default(2),
  MAX_JOBS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(2),
  // A hand-over unconfirmed this long is checked with the executor, then retried or failed.
  DISPATCH_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(60),
  // A running job silent this long is checked with its trainer, and failed as lost if the trainer does not know it.
  HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(60),
  // A training its executor reports ended, whose own report has not arrived this long after, is ended by the
  // backend with the executor's outcome (and the artifacts found in S3).
  OUTCOME_GRACE_SECONDS: z.coerce.number().int().min(0).default(30),
  MAX_DISPATCH_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  // A request that sends and receives nothing this long is cut (uploads have no total time limit).
  REQUEST_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  // Set by a script that starts the backend (the demo): shut down when that parent is gone.
  EXIT_WITH_PARENT: flag.default(false),
  // false = an API-only replica: it serves requests but leaves dispatching and monitoring to other replicas.
  RUN_DISPATCHER: flag.default(true),
  // How often the job monitor looks for stuck, silent or overdue jobs.
  MONITOR_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  // Python interpreter for spawned trainers; unset = the cached virtual environment of `npm run python:env`.
  VTP_PYTHON: z.string().optional(),
  // Port of the embedded S3 server (0 = any free port).
  EMBEDDED_S3_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  // Life of the presigned URLs trainers get for each object they read or write (they hold no storage
  // credentials); a transfer must start before its URL expires, and may then take as long as it needs.
  STORAGE_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(900),
  // Largest accepted dataset upload.
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 1024 ** 3),
  // Largest accepted weights upload (POST /v1/weights); the largest catalog model's checkpoint is ~100 MB.
  MAX_WEIGHTS_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  // Weights files one user may keep (an upload past it is refused with 409).
  MAX_WEIGHTS_PER_USER: z.coerce.number().int().min(1).max(1_000_000).default(100),
  // Checking an uploaded weights file (loading it with the framework in its trainer): the trainer kills the check
  // past this limit and the upload is refused with 422.
  WEIGHTS_CHECK_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(180),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Kubernetes mode: the API server and its credentials come from KUBECONFIG, ~/.kube/config or the pod's
  // service account, read by the Kubernetes client itself.
  // Namespace the training Jobs, their pods and their callback Secrets live in.
  TRAINING_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name')
    .default('training'),
  // Trainer images; required in kubernetes mode. Each runs `node services/trainer-<framework>/src/main.ts run`.
  TRAINER_IMAGE_ULTRALYTICS: z.string().min(1).optional(),
  TRAINER_IMAGE_TIMM: z.string().min(1).optional(),
  // Finished training Jobs (and their pods and logs) are deleted by the cluster this long after they end.
  JOB_TTL_SECONDS: z.coerce.number().int().min(0).default(3600),
  // A training pod that no node can take for this long fails as trainer_unavailable with the scheduler's message.
  UNSCHEDULABLE_TIMEOUT_SECONDS: z.coerce.number().int().min(0).default(300),
  // A trainer image that still cannot be pulled after this long fails the job as trainer_unavailable.
  IMAGE_PULL_GRACE_SECONDS: z.coerce.number().int().min(0).default(60),
  // Node labels GPU trainings must run on: `key=value,key2=value2`.
  GPU_NODE_SELECTOR: z
    .string()
    .default('nvidia.com/gpu.present=true')
    .transform((value, ctx) => parseNodeSelector(value, ctx)),
  // CPU and memory (requests = limits) of a training whose job names none.
  DEFAULT_CPU: kubernetesQuantity.default('2'),
  DEFAULT_MEMORY: kubernetesQuantity.default('8Gi'),
  // The most one job may ask for in `resources` (requests above are refused with 422).
  MAX_JOB_CPU: kubernetesQuantity.default('32'),
  MAX_JOB_MEMORY: kubernetesQuantity.default('256Gi'),
  MAX_JOB_GPUS: z.coerce.number().int().min(0).max(64).default(8),
  // Scratch volume of a training pod (the unpacked dataset and its checkpoints): past it the pod is evicted.
  SCRATCH_SIZE_LIMIT: kubernetesQuantity.default('50Gi'),
  // Where training pods export their spans (OTLP/HTTP), so a job's trace holds the training: an address the
  // training namespace may reach (its NetworkPolicies must allow it). Unset: training pods export nothing.
  TRAINER_OTLP_ENDPOINT: z.url().optional(),
});

function parseNodeSelector(value: string, ctx: z.RefinementCtx): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const pair of value.split(',').filter((p) => p.trim())) {
    const [key, label, ...rest] = pair.split('=').map((s) => s.trim());
    if (!key || label === undefined || rest.length) {
      ctx.addIssue({ code: 'custom', message: `"${pair}" is not key=value` });
      continue;
    }
    selector[key] = label;
  }
  return selector;
}

function parseTrainerUrls(
  value: string | undefined,
  ctx: z.RefinementCtx,
): Partial<Record<Framework, string>> {
  const urls: Partial<Record<Framework, string>> = {};
  for (const pair of (value ?? '').split(',').filter((p) => p.trim())) {
    const [name, url] = pair.split('=').map((s) => s.trim());
    const framework = Framework.safeParse(name);
    if (!framework.success || !url || !z.url().safeParse(url).success) {
      ctx.addIssue({
        code: 'custom',
        message: `"${pair}" is not framework=url (frameworks: ${Framework.options.join(', ')})`,
      });
      continue;
    }
    urls[framework.data] = url.replace(/\/$/, '');
  }
  return urls;
}

/** Rules across settings; checked on the raw values so they are reported together with the per-field ones. */
const Relations = z
  .object({
    S3_ENDPOINT: z.string().optional(),
    AWS_ACCESS_KEY_ID: z.string().optional(),
    AWS_SECRET_ACCESS_KEY: z.string().optional(),
    TRAINER_URLS: z.string().optional(),
    TRAINER_TOKEN: z.string().optional(),
    EXECUTION_MODE: z.string().optional(),
    TRAINER_IMAGE_ULTRALYTICS: z.string().optional(),
    TRAINER_IMAGE_TIMM: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    checkCredentialPair(env, ctx);
    if (env.TRAINER_URLS?.trim() && !env.TRAINER_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['TRAINER_TOKEN'],
        message: 'required with TRAINER_URLS: the trainers must know it too',
      });
    }
    if (env.EXECUTION_MODE === 'kubernetes') {
      for (const name of ['TRAINER_IMAGE_ULTRALYTICS', 'TRAINER_IMAGE_TIMM'] as const) {
        if (!env[name])
          ctx.addIssue({ code: 'custom', path: [name], message: 'required when EXECUTION_MODE=kubernetes' });
      }
    }
    if (env.S3_ENDPOINT && !env.AWS_ACCESS_KEY_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['AWS_ACCESS_KEY_ID'],
        message: 'required when S3_ENDPOINT is set',
      });
    }
  });

export type BackendConfig = z.output<typeof BackendEnv>;

export function loadBackendConfig(env: NodeJS.ProcessEnv): BackendConfig {
  return loadConfig(BackendEnv, env, Relations);
}
