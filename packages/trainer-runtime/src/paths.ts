import { fileURLToPath } from 'node:url';

/** The monorepo's root folder (where `npm run python:env` runs). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Holds vtp_runner.py, the runners' shared helper module: the runners' PYTHONPATH. */
export const runnerHelperDir = fileURLToPath(new URL('../python/', import.meta.url));
