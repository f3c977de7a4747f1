import { ConfigError } from '@vtp/service-kit';
import { describe, expect, it } from 'vitest';
import { loadBackendConfig } from '../../src/config.ts';

const images = { TRAINER_IMAGE_ULTRALYTICS: 'ghcr.io/vtp/u:1', TRAINER_IMAGE_TIMM: 'ghcr.io/vtp/t:1' };

function problems(env: Record<string, string>): string {
  try {
    loadBackendConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return '';
}

describe('kubernetes configuration', () => {
  it('has defaults for everything but the images', () => {
    expect(loadBackendConfig({ EXECUTION_MODE: 'kubernetes', ...images })).toMatchObject({
      TRAINING_NAMESPACE: 'training',
      JOB_TTL_SECONDS: 3600,
      UNSCHEDULABLE_TIMEOUT_SECONDS: 300,
      IMAGE_PULL_GRACE_SECONDS: 60,
      GPU_NODE_SELECTOR: { 'nvidia.com/gpu.present': 'true' },
      DEFAULT_CPU: '2',
      DEFAULT_MEMORY: '8Gi',
    });
  });

  it('requires both trainer images in kubernetes mode only', () => {
    const missing = problems({ EXECUTION_MODE: 'kubernetes', TRAINER_IMAGE_TIMM: 'x' });
    expect(missing).toContain('TRAINER_IMAGE_ULTRALYTICS');
    expect(missing).not.toContain('TRAINER_IMAGE_TIMM');
    expect(problems({})).toBe('');
  });

  it('parses the GPU node selector and names bad values', () => {
    const config = loadBackendConfig({ ...images, GPU_NODE_SELECTOR: 'pool=gpu, accelerator=h100' });
    expect(config.GPU_NODE_SELECTOR).toEqual({ pool: 'gpu', accelerator: 'h100' });
    const bad = problems({
      GPU_NODE_SELECTOR: 'pool',
      TRAINING_NAMESPACE: 'Training',
      DEFAULT_MEMORY: 'lots',
    });
    for (const name of ['GPU_NODE_SELECTOR', 'TRAINING_NAMESPACE', 'DEFAULT_MEMORY'])
      expect(bad).toContain(name);
  });
});
