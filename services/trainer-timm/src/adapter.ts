import { fileURLToPath } from 'node:url';
import { modelCatalog, TimmHyperparameters } from '@vtp/shared-schemas';
import type { TrainerAdapter } from '@vtp/trainer-runtime';

/** timm image classification: what the shared trainer runtime needs to know about it. */
export const timmAdapter: TrainerAdapter = {
  framework: 'timm',
  defaultPort: 8102,
  models: modelCatalog.timm,
  hyperparameters: TimmHyperparameters,
  runnerScript: fileURLToPath(new URL('../runner/train.py', import.meta.url)),
  runnerPreload: fileURLToPath(new URL('../runner/preload.py', import.meta.url)),
  weightsCheckScript: fileURLToPath(new URL('../runner/check_weights.py', import.meta.url)),
  frameworkModule: 'timm',
  datasetTopFolders: ['train', 'val', 'test'],
  checkpointFileNames: { best: 'best.pth.tar', last: 'last.pth.tar' },
  initialWeightsFileName: 'initial.pth.tar',
  pythonEnv: () => ({ HF_HUB_OFFLINE: '1' }),
  // The runner checks the train/ and val/ class folders itself, naming the folder at fault.
  prepareDataset: async () => ({ dataYaml: null }),
};
