import { readFileSync } from 'node:fs';
import { ConfigError } from '@vtp/service-kit';
import { describe, expect, it } from 'vitest';
import { BackendEnv, loadBackendConfig } from './config.ts';

describe('backend configuration', () => {
  it('defaults to embedded mode on loopback port 8000 with local processes', () => {
    const config = loadBackendConfig({});
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8000,
      DATA_DIR: './.data',
      EXECUTION_MODE: 'subprocess',
      BUCKET_NAME: 'vtp',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.S3_ENDPOINT).toBeUndefined();
  });

  it('names every bad or missing variable at once', () => {
    let error: unknown;
    try {
      loadBackendConfig({
        PORT: 'eighty',
        DATABASE_URL: 'not a url',
        EXECUTION_MODE: 'docker',
        S3_ENDPOINT: 'http://minio:9000',
        ADMIN_API_KEY: 'short',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'EXECUTION_MODE', 'AWS_ACCESS_KEY_ID', 'ADMIN_API_KEY']) {
      expect(problems).toContain(name);
    }
  });

  it('parses S3 settings for an external store', () => {
    const config = loadBackendConfig({
      S3_ENDPOINT: 'https://account.r2.cloudflarestorage.com',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'false',
      S3_REGION: 'auto',
    });
    expect(config).toMatchObject({ S3_FORCE_PATH_STYLE: false, S3_REGION: 'auto' });
  });

  it('takes an MLflow tracking server by its http(s) URL, never with credentials in it', () => {
    expect(loadBackendConfig({ MLFLOW_TRACKING_URI: 'http://mlflow:5000' })).toMatchObject({
      MLFLOW_TRACKING_URI: 'http://mlflow:5000',
      MLFLOW_EXPERIMENT_NAME: 'vtp',
    });
    for (const uri of ['http://ada:secret@mlflow:5000', 'file:///tmp/mlruns', 'databricks']) {
      expect(() => loadBackendConfig({ MLFLOW_TRACKING_URI: uri }), uri).toThrow(/MLFLOW_TRACKING_URI/);
    }
  });

  it('.env.example documents every variable, and only those', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)]
      .map((m) => m[1])
      .filter((n) => !n?.startsWith('OTEL_'));
    expect(new Set(documented)).toEqual(new Set(Object.keys(BackendEnv.shape)));
    expect(() =>
      loadBackendConfig(
        Object.fromEntries([...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]])),
      ),
    ).not.toThrow();
  });
});
