import type { Framework, TrainerModel } from '@vtp/shared-schemas';
import type { z } from 'zod';

export type CheckpointKind = 'best' | 'last';

/** The unpacked dataset as the runtime hands it to an adapter. */
export interface ExtractedDataset {
  /** Absolute folder holding the dataset itself (inside a wrapping top-level folder, if the zip had one). */
  root: string;
  files: number;
  bytes: number;
}

/** What an adapter adds to the runner's config.json after looking at the dataset. */
export interface PreparedDataset {
  /** Absolute path of a data.yaml with an absolute `path:` (Ultralytics), else null. */
  dataYaml: string | null;
}

/**
 * Everything that differs between frameworks. The runtime does the rest (HTTP API, S3, supervision, callbacks);
 * each trainer service is one adapter plus its Python runner.
 */
export interface TrainerAdapter {
  framework: Framework;
  /** HTTP port when PORT is unset. */
  defaultPort: number;
  /** The models this trainer accepts: the framework's part of the shared catalog. */
  models: readonly TrainerModel[];
  /** The framework's hyperparameters, with defaults; what passes goes to the runner as it is. */
  hyperparameters: z.ZodType<Record<string, unknown>>;
  /** Absolute path of the runner script (services/trainer-<fw>/runner/train.py). */
  runnerScript: string;
  /**
   * Python file a warm zygote runs once before it forks runners (services/trainer-<fw>/runner/preload.py): the
   * imports of torch, the framework and the runner's own modules.
   */
  runnerPreload: string;
  /** Python module whose import proves the framework is installed, and whose __version__ is reported. */
  frameworkModule: string;
  /** Folders the dataset format itself puts at the top: a lone one of these is not a wrapper folder. */
  datasetTopFolders: readonly string[];
  /** S3 object names of the checkpoints, under the job's output prefix. */
  checkpointFileNames: Record<CheckpointKind, string>;
  /**
   * Absolute path of the script that checks an uploaded weights file (services/trainer-<fw>/runner/check_weights.py):
   * `--file <path> --model <name> --max-memory-bytes <n>`, one JSON line on stdout.
   */
  weightsCheckScript: string;
  /** File name an initial-weights checkpoint gets in the job's folder (its extension matters to frameworks). */
  initialWeightsFileName: string;
  /** Extra environment for Python (runner and readiness probe); `scratchDir` is a writable folder for it. */
  pythonEnv(scratchDir: string): Record<string, string>;
  /** Checks and prepares the unpacked dataset; `jobDir` is where generated files may go. */
  prepareDataset(dataset: ExtractedDataset, jobDir: string): Promise<PreparedDataset>;
}

/** Thrown by an adapter (or the runtime) when the dataset cannot be trained on; names the file at fault. */
export class InvalidDatasetError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'InvalidDatasetError';
    this.file = file;
  }
}
