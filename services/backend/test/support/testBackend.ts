import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createLogger } from '@vtp/service-kit';
import { createS3Client, type EmbeddedS3, startEmbeddedS3 } from '@vtp/service-kit/s3';
import { type RunningBackend, startBackend } from '../../src/backend.ts';
import { loadBackendConfig } from '../../src/config.ts';
import { ApiClient } from './apiClient.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from './throwawayDatabase.ts';

export const ADMIN_KEY = 'vtp_test_admin_key_0123456789abcdef';

export interface TestBackend {
  backend: RunningBackend;
  admin: ApiClient;
  anonymous: ApiClient;
  database: ThrowawayDatabase;
  s3: EmbeddedS3;
  dataDir: string;
  env: Record<string, string>;
  /** A new user with their own key. */
  newUser(name?: string): Promise<ApiClient>;
  /** The objects in the bucket under `prefix` (a refused upload must leave none under `datasets/`). */
  objectKeys(prefix: string): Promise<string[]>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The real backend in-process, on its own throwaway database and a real S3-compatible server. */
export async function startTestBackend(extraEnv: Record<string, string> = {}): Promise<TestBackend> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vtp-backend-test-'));
  const database = await createThrowawayDatabase();
  const s3 = await startEmbeddedS3(join(dataDir, 's3'));
  const env: Record<string, string> = {
    PORT: '0',
    DATABASE_URL: database.url,
    S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    BUCKET_NAME: 'vtp-test',
    ADMIN_API_KEY: ADMIN_KEY,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // API tests drive job states by hand; tests of dispatching turn it on.
    RUN_DISPATCHER: 'false',
    ...extraEnv,
  };
  const logger = createLogger('backend-test', env.LOG_LEVEL);
  const start = () => startBackend(loadBackendConfig(env), logger);
  let backend = await start();
  let users = 0;
  const harness: TestBackend = {
    backend,
    admin: new ApiClient(backend.url, ADMIN_KEY),
    anonymous: new ApiClient(backend.url),
    database,
    s3,
    dataDir,
    env,
    async newUser(name = `user${++users}@example.com`) {
      const res = await harness.admin.post<{ key: string }>('/v1/api-keys', { user: name });
      if (res.status !== 201) throw new Error(`could not create a key: ${res.text}`);
      return new ApiClient(harness.backend.url, res.body.key);
    },
    async objectKeys(prefix) {
      const client = createS3Client({ ...s3, region: 'us-east-1', forcePathStyle: true });
      try {
        const out = await client.send(new ListObjectsV2Command({ Bucket: env.BUCKET_NAME, Prefix: prefix }));
        return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
      } finally {
        client.destroy();
      }
    },
    async restart() {
      await backend.stop();
      env.PORT = String(backend.port);
      backend = await start();
      harness.backend = backend;
    },
    async stop() {
      await backend.stop();
      await s3.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
