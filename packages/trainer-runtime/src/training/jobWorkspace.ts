import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Where one job's files live while it runs; all of it is deleted at the end. */
export interface JobWorkspace {
  dir: string;
  datasetZip: string;
  /** The zip unpacked; the dataset root may be a folder inside it. */
  dataset: string;
  /** Where the runner writes checkpoints. */
  output: string;
  /** Checkpoint snapshots the runner takes between two saves, on their way to S3. */
  snapshots: string;
  /** The checkpoints an earlier attempt reported, which this one continues from. */
  resume: string;
  config: string;
  log: string;
  metrics: string;
}

export function jobWorkspace(workDir: string, jobId: string): JobWorkspace {
  const dir = join(workDir, 'jobs', jobId);
  return {
    dir,
    datasetZip: join(dir, 'dataset.zip'),
    dataset: join(dir, 'dataset'),
    output: join(dir, 'output'),
    snapshots: join(dir, 'snapshots'),
    resume: join(dir, 'resume'),
    config: join(dir, 'config.json'),
    log: join(dir, 'training.log'),
    metrics: join(dir, 'metrics.json'),
  };
}

/** Starts from an empty folder: a leftover of a crashed earlier attempt must not leak into this one. */
export async function createWorkspace(workspace: JobWorkspace): Promise<void> {
  await rm(workspace.dir, { recursive: true, force: true });
  await mkdir(workspace.output, { recursive: true });
  await mkdir(workspace.snapshots, { recursive: true });
}

export function removeWorkspace(workspace: JobWorkspace): Promise<void> {
  return rm(workspace.dir, { recursive: true, force: true, maxRetries: 3 });
}
