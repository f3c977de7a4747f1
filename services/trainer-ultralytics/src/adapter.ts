import { fileURLToPath } from 'node:url';
import { modelCatalog, UltralyticsHyperparameters } from '@vtp/shared-schemas';
import type { TrainerAdapter } from '@vtp/trainer-runtime';
import { writeDataYaml } from './dataYaml.ts';

/** Ultralytics YOLO detection: what the shared trainer runtime needs to know about it. */
export const ultralyticsAdapter: TrainerAdapter = {
  framework: 'ultralytics',
  defaultPort: 8101,
  models: modelCatalog.ultralytics,
  hyperparameters: UltralyticsHyperparameters,
  runnerScript: fileURLToPath(new URL('../runner/train.py', import.meta.url)),
  runnerPreload: fileURLToPath(new URL('../runner/preload.py', import.meta.url)),
  weightsCheckScript: fileURLToPath(new URL('../runner/check_weights.py', import.meta.url)),
  frameworkModule: 'ultralytics',
  datasetTopFolders: ['images', 'labels'],
  checkpointFileNames: { best: 'best.pt', last: 'last.pt' },
  initialWeightsFileName: 'initial.pt',
  // Settings, fonts and runs stay in the job's (or the probe's) own folder, and nothing reaches the network.
  pythonEnv: (scratchDir) => ({
    YOLO_CONFIG_DIR: scratchDir,
    YOLO_OFFLINE: 'true',
    YOLO_AUTOINSTALL: 'false',
    ULTRALYTICS_SKIP_REQUIREMENTS_CHECKS: '1',
  }),
  prepareDataset: (dataset, jobDir) => writeDataYaml(dataset.root, jobDir),
};
