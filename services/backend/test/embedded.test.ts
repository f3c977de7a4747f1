import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createLogger, freePort } from '@vtp/service-kit';
import { createS3Client } from '@vtp/service-kit/s3';
import type { Dataset } from '@vtp/shared-schemas';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningBackend, startBackend } from '../src/backend.ts';
import { loadBackendConfig } from '../src/config.ts';
import { startEmbeddedPostgres } from '../src/embedded/postgres.ts';
import { ApiClient } from './support/apiClient.ts';
import { uploadSample } from './support/uploads.ts';

describe('embedded defaults (no DATABASE_URL, no S3_ENDPOINT, no ADMIN_API_KEY)', () => {
  let dataDir: string;
  let backend: RunningBackend | undefined;
  afterAll(async () => {
    await backend?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts real embedded PostgreSQL and S3 under DATA_DIR, and keeps data and the admin key across a restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vtp-embedded-'));
    const s3Port = await freePort();
    const start = () =>
      startBackend(
        loadBackendConfig({ PORT: '0', DATA_DIR: dataDir, EMBEDDED_S3_PORT: String(s3Port) }),
        createLogger('embedded-test', 'silent'),
      );
    backend = await start();
    const adminKey = backend.adminKey;
    expect(adminKey).toMatch(/^vtp_/);
    expect((await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim()).toBe(adminKey);
    expect((await stat(join(dataDir, 'admin-api-key'))).mode & 0o077).toBe(0);
    expect((await stat(join(dataDir, 'postgres', 'PG_VERSION'))).isFile()).toBe(true);
    expect((await stat(join(dataDir, 'postgres-password'))).mode & 0o077).toBe(0);
    // The embedded object store serves only requests signed with the pair kept in DATA_DIR (0600).
    expect((await stat(join(dataDir, 's3-credentials'))).mode & 0o077).toBe(0);
    const credentials = JSON.parse(await readFile(join(dataDir, 's3-credentials'), 'utf8'));
    const s3Url = `http://127.0.0.1:${s3Port}`;
    expect((await fetch(`${s3Url}/vtp?list-type=2`)).status).toBe(403);
    const s3 = createS3Client({ ...credentials, endpoint: s3Url, region: 'us-east-1', forcePathStyle: true });
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'vtp' }))).$metadata.httpStatusCode).toBe(200);
    s3.destroy();

    const admin = new ApiClient(backend.url, adminKey);
    const created = await admin.post<{ key: string }>('/v1/api-keys', { user: 'restart@example.com' });
    const user = new ApiClient(backend.url, created.body.key);
    const dataset = await uploadSample(user, 'imagefolder');
    await backend.stop();

    backend = await start();
    expect(backend.adminKey).toBe(adminKey);
    expect(JSON.parse(await readFile(join(dataDir, 's3-credentials'), 'utf8'))).toEqual(credentials);
    const again = new ApiClient(backend.url, created.body.key);
    const fetched = await again.get<Dataset>(`/v1/datasets/${dataset.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(dataset);
    expect((await again.get<{ ready: boolean }>('/readyz')).body.ready).toBe(true);
  });
});

// Only root needs the postgres user (PostgreSQL refuses to run as root), so only root changes permissions; CI
// runs as root.
describe.skipIf(process.getuid?.() !== 0)('embedded PostgreSQL as root', () => {
  let parent: string;
  afterAll(async () => {
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it('changes no permission outside DATA_DIR, and names a parent folder the postgres user cannot enter', async () => {
    parent = await mkdtemp(join(tmpdir(), 'vtp-parent-'));
    await chmod(parent, 0o1777); // like /tmp, which an earlier version turned into 0755
    const logger = createLogger('embedded-test', 'silent');
    const pg = await startEmbeddedPostgres(join(parent, 'data'), logger);
    await pg.stop();
    expect((await stat(parent)).mode & 0o7777).toBe(0o1777);

    await chmod(parent, 0o700);
    await expect(startEmbeddedPostgres(join(parent, 'other'), logger)).rejects.toThrow(
      new RegExp(`cannot enter ${parent} \\(mode 700\\).*set DATA_DIR`),
    );
    expect((await stat(parent)).mode & 0o7777).toBe(0o700);
  });
});

describe('embedded PostgreSQL credentials', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('are random for each new cluster and kept under DATA_DIR: the old shared password no longer logs in', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vtp-credentials-'));
    const pgServer = await startEmbeddedPostgres(dataDir, createLogger('embedded-test', 'silent'));
    try {
      const url = new URL(pgServer.url);
      expect(url.password).toBe((await readFile(join(dataDir, 'postgres-password'), 'utf8')).trim());
      expect(url.password).not.toBe('vtp-embedded');
      const login = async (password: string) => {
        const client = new pg.Client({
          connectionString: Object.assign(new URL(url), { password }).toString(),
        });
        try {
          await client.connect();
          await client.query('select 1');
          return 'in';
        } catch (err) {
          return (err as { code?: string }).code;
        } finally {
          await client.end().catch(() => undefined);
        }
      };
      expect(await login(url.password)).toBe('in');
      expect(await login('vtp-embedded')).toBe('28P01'); // invalid_password
    } finally {
      await pgServer.stop();
    }
  });
});
