/**
 * Prepares the trainers' Python environment (npm run python:env): progress on stderr, the python executable's
 * path on stdout. With `--test-tools` (as `npm test` runs it) also the tools the tests run. A second run with
 * the same requirements and base Python is instant; with VTP_PYTHON set the trainers need nothing prepared.
 */
import { join } from 'node:path';
import { preparePythonEnv } from './preparePythonEnv.ts';
import { type PythonEnvSpec, TEST_TOOLS_ENV, TRACKING_SERVER_ENV } from './pythonEnv.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

async function prepare(label: string, spec?: PythonEnvSpec): Promise<string> {
  const prepared = await preparePythonEnv(repoRoot, {
    spec,
    onProgress: ({ step, message, elapsedMs }) =>
      process.stderr.write(`[${label} ${seconds(elapsedMs).padStart(6)}] ${step}: ${message}\n`),
  });
  const versions = Object.entries(prepared.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  if (versions) process.stderr.write(`[${label}] ${versions}\n`);
  return prepared.python;
}

try {
  if (process.argv.includes('--test-tools')) {
    await prepare('test-tools', TEST_TOOLS_ENV);
    await prepare('mlflow', TRACKING_SERVER_ENV);
  }
  if (process.env.VTP_PYTHON) {
    process.stderr.write('[python-env] VTP_PYTHON is set: the trainers use it, nothing to prepare\n');
    process.stdout.write(`${process.env.VTP_PYTHON}\n`);
  } else {
    process.stdout.write(`${await prepare('python-env')}\n`);
  }
} catch (error) {
  process.stderr.write(`[python-env] failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
