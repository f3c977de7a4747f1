import { join } from 'node:path';
import { createLogger } from '@vtp/service-kit';
import { TrainerProcess } from '../../src/execution/local/trainerProcess.ts';
import { TrainerClient } from '../../src/execution/trainerClient.ts';
import type { TestBackend } from './testBackend.ts';
import { repoRoot, trainerPython } from './training.ts';

/**
 * A real timm trainer service running on its own (as under `npm run dev` or in a cluster), reaching the test
 * backend's object storage through the presigned URLs the backend gives it; the backend finds it through
 * TRAINER_URLS.
 */
export async function startTimmTrainer(
  t: TestBackend,
  token: string,
  extraEnv: Record<string, string> = {},
): Promise<{ trainer: TrainerProcess; url: string }> {
  const client = new TrainerClient(token);
  const trainer = new TrainerProcess({
    framework: 'timm',
    entry: join(repoRoot, 'services/trainer-timm/src/main.ts'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      VTP_PYTHON: trainerPython(),
      TRAINER_TOKEN: token,
      WORK_DIR: join(t.dataDir, 'trainer-timm'),
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    logFile: join(t.dataDir, 'trainer-timm.log'),
    logger: createLogger('test-trainer', 'silent'),
    isHealthy: (url) => client.healthy(url),
    onExit: () => undefined,
  });
  const { url } = await trainer.ensure();
  return { trainer, url };
}
