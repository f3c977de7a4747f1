import { fileURLToPath } from 'node:url';
import { modelCatalog } from '@vtp/shared-schemas';
import { z } from 'zod';
import type { ExtractedDataset, TrainerAdapter } from '../src/adapter.ts';

/**
 * An adapter whose runner is test/fake_runner.py under the system python3: the whole trainer (HTTP, S3,
 * supervision, callbacks) runs for real, only the framework is left out.
 */
export function fakeAdapter(pidFile: string): TrainerAdapter & { datasets: ExtractedDataset[] } {
  const datasets: ExtractedDataset[] = [];
  return {
    datasets,
    framework: 'timm',
    defaultPort: 0,
    models: modelCatalog.timm,
    hyperparameters: z.strictObject({
      epochs: z.number().int().min(1).default(2),
      epochSeconds: z.number().min(0).default(0),
      behaviour: z
        .enum(['complete', 'error', 'killed', 'ignore-sigterm', 'junk', 'silent-exit', 'rewrite'])
        .default('complete'),
      exportFails: z.boolean().default(false),
    }),
    runnerScript: fileURLToPath(new URL('./fake_runner.py', import.meta.url)),
    runnerPreload: fileURLToPath(new URL('./fake_preload.py', import.meta.url)),
    weightsCheckScript: fileURLToPath(new URL('./fake_check_weights.py', import.meta.url)),
    frameworkModule: 'json',
    datasetTopFolders: ['train', 'val', 'test'],
    checkpointFileNames: { best: 'best.ckpt', last: 'last.ckpt' },
    initialWeightsFileName: 'initial.ckpt',
    pythonEnv: () => ({ FAKE_RUNNER_PID_FILE: pidFile }),
    prepareDataset: async (dataset) => {
      datasets.push(dataset);
      return { dataYaml: null };
    },
  };
}
