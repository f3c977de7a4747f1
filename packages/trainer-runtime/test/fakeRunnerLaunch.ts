import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerHelperDir } from '../src/paths.ts';
import type { RunnerLaunch } from '../src/runner/runnerProcess.ts';

export const fakeRunner = fileURLToPath(new URL('./fake_runner.py', import.meta.url));

/**
 * How test/fake_runner.py is started in `dir`: its config (two instant epochs unless `hyperparameters` say
 * otherwise) written there, and the file it writes its and its child's pid to.
 */
export async function fakeRunnerLaunch(
  dir: string,
  hyperparameters: Record<string, unknown>,
  python = 'python3',
): Promise<{ launch: RunnerLaunch; pidFile: string }> {
  const configFile = join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      jobId: 'j',
      datasetDir: dir,
      outputDir: dir,
      snapshotDir: join(dir, 'snapshots'),
      hyperparameters: { epochs: 2, epochSeconds: 0, ...hyperparameters },
    }),
  );
  const pidFile = join(dir, 'pids');
  return {
    launch: {
      python,
      script: fakeRunner,
      configFile,
      cwd: dir,
      env: { ...process.env, FAKE_RUNNER_PID_FILE: pidFile, PYTHONPATH: runnerHelperDir },
    },
    pidFile,
  };
}
