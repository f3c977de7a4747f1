/**
 * Prepares the trainers' Python environment (npm run python:env; `npm test` runs it first): progress on stderr,
 * the python executable's path on stdout. A second run with the same requirements and base Python is instant;
 * with VTP_PYTHON set there is nothing to prepare.
 */
import { join } from 'node:path';
import { preparePythonEnv } from './preparePythonEnv.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

if (process.env.VTP_PYTHON) {
  process.stderr.write(`[python-env] VTP_PYTHON is set: the trainers use it, nothing to prepare\n`);
  process.stdout.write(`${process.env.VTP_PYTHON}\n`);
} else {
  await prepare();
}

async function prepare(): Promise<void> {
  try {
    const prepared = await preparePythonEnv(repoRoot, {
      onProgress: ({ step, message, elapsedMs }) =>
        process.stderr.write(`[python-env ${seconds(elapsedMs).padStart(6)}] ${step}: ${message}\n`),
    });
    const versions = Object.entries(prepared.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ');
    if (versions) process.stderr.write(`[python-env] ${versions}\n`);
    process.stdout.write(`${prepared.python}\n`);
  } catch (error) {
    process.stderr.write(`[python-env] failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
