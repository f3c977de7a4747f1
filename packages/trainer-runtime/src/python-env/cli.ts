/**
 * Prepares the trainers' Python environment (npm run python:env): progress on stderr, the python executable's path
 * on stdout. A second run with the same requirements and base Python is instant.
 */
import { join } from 'node:path';
import { preparePythonEnv } from './preparePythonEnv.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

try {
  const prepared = await preparePythonEnv(repoRoot, {
    onProgress: ({ step, message, elapsedMs }) =>
      process.stderr.write(`[python-env ${seconds(elapsedMs).padStart(6)}] ${step}: ${message}\n`),
  });
  const versions = Object.entries(prepared.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  if (versions) process.stderr.write(`[python-env] ${versions}\n`);
  if (process.env.VTP_PYTHON) {
    process.stderr.write(
      `[python-env] note: VTP_PYTHON is set, so the trainers use ${process.env.VTP_PYTHON}\n`,
    );
  }
  process.stdout.write(`${prepared.python}\n`);
} catch (error) {
  process.stderr.write(`[python-env] failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
