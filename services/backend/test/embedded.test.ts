import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vtp/service-kit';
import type { Dataset } from '@vtp/shared-schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningBackend, startBackend } from '../src/backend.ts';
import { loadBackendConfig } from '../src/config.ts';
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
    const start = () =>
      startBackend(
        loadBackendConfig({ PORT: '0', DATA_DIR: dataDir }),
        createLogger('embedded-test', 'silent'),
      );
    backend = await start();
    const adminKey = backend.adminKey;
    expect(adminKey).toMatch(/^vtp_/);
    expect((await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim()).toBe(adminKey);
    expect((await stat(join(dataDir, 'admin-api-key'))).mode & 0o077).toBe(0);
    expect((await stat(join(dataDir, 'postgres', 'PG_VERSION'))).isFile()).toBe(true);

    const admin = new ApiClient(backend.url, adminKey);
    const created = await admin.post<{ key: string }>('/v1/api-keys', { user: 'restart@example.com' });
    const user = new ApiClient(backend.url, created.body.key);
    const dataset = await uploadSample(user, 'imagefolder');
    await backend.stop();

    backend = await start();
    expect(backend.adminKey).toBe(adminKey);
    const again = new ApiClient(backend.url, created.body.key);
    const fetched = await again.get<Dataset>(`/v1/datasets/${dataset.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(dataset);
    expect((await again.get<{ ready: boolean }>('/readyz')).body.ready).toBe(true);
  });
});
