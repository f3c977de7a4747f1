import { loadConfig } from '@vtp/service-kit';
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** The backend's whole configuration: the only thing that differs between tiers. */
const Settings = z.object({
  // HTTP port of the API.
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
  // Admin API key; unset in embedded mode = generated once and kept under DATA_DIR.
  ADMIN_API_KEY: z.string().min(24, 'at least 24 characters').optional(),
  // Embedded PostgreSQL and S3 data, and the generated admin key.
  DATA_DIR: z.string().min(1).default('./.data'),
  // Largest accepted dataset upload.
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 1024 ** 3),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Rules across settings; checked on the raw values so they are reported together with the per-field ones. */
const Relations = z
  .object({
    S3_ENDPOINT: z.string().optional(),
    AWS_ACCESS_KEY_ID: z.string().optional(),
    AWS_SECRET_ACCESS_KEY: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.AWS_ACCESS_KEY_ID) !== Boolean(env.AWS_SECRET_ACCESS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.AWS_ACCESS_KEY_ID ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'],
        message: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together',
      });
    }
    if (env.S3_ENDPOINT && !env.AWS_ACCESS_KEY_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['AWS_ACCESS_KEY_ID'],
        message: 'required when S3_ENDPOINT is set',
      });
    }
  });

export const BackendEnv = z.intersection(Settings, Relations);
export type BackendConfig = z.output<typeof Settings>;

export function loadBackendConfig(env: NodeJS.ProcessEnv): BackendConfig {
  return loadConfig(BackendEnv, env);
}
