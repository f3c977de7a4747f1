import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@vtp/service-kit';
import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from './config.ts';

describe('loadTrainerConfig', () => {
  it('applies the defaults of the framework', () => {
    const config = loadTrainerConfig('timm', 8102, 'run', {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8102,
      workDir: join(tmpdir(), 'vtp-trainer-timm'),
      outboxDir: join(tmpdir(), 'vtp-trainer-timm', 'outbox'),
      maxConcurrentTrainings: 1,
      heartbeatIntervalMs: 5000,
      cancelGraceMs: 10_000,
      uploadIdleTimeoutMs: 120_000,
      stallTimeoutMs: 1_800_000,
    });
    // Trainers have no storage settings: they read and write through their jobs' presigned URLs.
    expect(Object.keys(config).filter((key) => /s3|aws/i.test(key))).toEqual([]);
  });

  it('needs TRAINER_TOKEN to serve, and names every bad variable at once', () => {
    let failure: unknown;
    try {
      loadTrainerConfig('ultralytics', 8101, 'serve', {
        MAX_CONCURRENT_TRAININGS: '0',
      });
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(ConfigError);
    const problems = (failure as ConfigError).problems.join('\n');
    expect(problems).toContain('TRAINER_TOKEN');
    expect(problems).toContain('MAX_CONCURRENT_TRAININGS');
  });
});
