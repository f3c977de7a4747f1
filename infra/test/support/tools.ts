import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { testToolPath } from '../../../packages/trainer-runtime/src/python-env/index.ts';
import { repoRoot } from './repo.ts';

export const run = promisify(execFile);

function executableIn(dir: string, name: string): string | undefined {
  const candidate = join(dir, name);
  try {
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    return undefined;
  }
}

/** Full path of an executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const found = executableIn(dir, name);
    if (found) return found;
  }
  return undefined;
}

/**
 * A linter from config/test-tools-requirements.txt, in the cached environment `npm test` prepares (so the
 * version is the pinned one), else on PATH; a clear error when neither has it.
 */
export function checkTool(name: 'hadolint' | 'shellcheck'): string {
  const found = testToolPath(repoRoot, name) ?? findExecutable(name);
  if (!found)
    throw new Error(
      `${name} is not installed: run \`npm test\` from the repository root (it installs config/test-tools-requirements.txt) or \`npm run python:env -- --test-tools\``,
    );
  return found;
}

/** A Prometheus binary (`prometheus` or `promtool`), which `npm test` installs first when it is missing. */
export function prometheusTool(name: 'prometheus' | 'promtool'): string {
  const found = findExecutable(name);
  if (!found)
    throw new Error(
      `${name} is not installed: run \`npm test\` from the repository root (it installs Debian's prometheus package) or \`npm run test-tools:prometheus\``,
    );
  return found;
}
