import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonEnvError, type PythonEnvProgress, preparePythonEnv } from './preparePythonEnv.ts';
import {
  COMPLETION_MARKER,
  type PythonEnvSpec,
  pythonEnvDir,
  pythonEnvKey,
  REQUIREMENTS_FILES,
  resolvePython,
} from './pythonEnv.ts';

// Each build creates a real venv (a few seconds on a busy machine).
const BUILD_TIMEOUT_MS = 120_000;

/** The trainers' requirements files (here installing nothing), verified by importing `modules`. */
const importing = (modules: string[]): PythonEnvSpec => ({
  requirements: REQUIREMENTS_FILES,
  verifyImports: modules,
});

// A repo root with requirements that install nothing: real venv and pip, no torch.
const NO_PACKAGES = '# nothing to install\n';
let workDir: string;
let repoRoot: string;
let env: NodeJS.ProcessEnv;

async function writeRequirements(root: string, contents: readonly string[]): Promise<void> {
  for (const [index, file] of REQUIREMENTS_FILES.entries()) {
    await mkdir(join(root, file, '..'), { recursive: true });
    await writeFile(join(root, file), contents[index] ?? NO_PACKAGES);
  }
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'vtp-python-env-test-'));
  repoRoot = join(workDir, 'repo');
  await writeRequirements(repoRoot, [NO_PACKAGES, NO_PACKAGES]);
  env = { ...process.env, VTP_PYTHON_ENV_CACHE: join(workDir, 'cache') };
  delete env.VTP_PYTHON;
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('pythonEnvKey and pythonEnvDir', () => {
  it('is 16 hex digits, stable, and changes with either requirements file', async () => {
    const key = pythonEnvKey(repoRoot, env);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(pythonEnvKey(repoRoot, env)).toBe(key);

    const other = join(workDir, 'other-repo');
    await writeRequirements(other, [NO_PACKAGES, 'pip\n']);
    expect(pythonEnvKey(other, env)).not.toBe(key);
    await writeRequirements(other, ['pip\n', NO_PACKAGES]);
    expect(pythonEnvKey(other, env)).not.toBe(key);
  });

  it('lives under VTP_PYTHON_ENV_CACHE, else ~/.cache/vtp/python-envs', () => {
    const key = pythonEnvKey(repoRoot, env);
    expect(pythonEnvDir(repoRoot, env)).toBe(join(workDir, 'cache', key));
    expect(pythonEnvDir(repoRoot, { ...env, VTP_PYTHON_ENV_CACHE: undefined })).toBe(
      join(homedir(), '.cache', 'vtp', 'python-envs', key),
    );
  });

  it('names the requirements file it cannot read', () => {
    expect(() => pythonEnvKey(join(workDir, 'missing'), env)).toThrow(
      /trainer-ultralytics\/requirements\.txt/,
    );
  });
});

describe('preparePythonEnv and resolvePython', () => {
  it(
    'builds once, marks the environment complete, and reuses it',
    async () => {
      expect(resolvePython(repoRoot, env)).toBeUndefined();

      const steps: PythonEnvProgress[] = [];
      const built = await preparePythonEnv(repoRoot, {
        env,
        spec: importing(['json']),
        onProgress: (p) => steps.push(p),
      });
      expect(built.cached).toBe(false);
      expect(built.dir).toBe(pythonEnvDir(repoRoot, env));
      expect(existsSync(join(built.dir, COMPLETION_MARKER))).toBe(true);
      expect(steps.map((s) => s.step)).toEqual(expect.arrayContaining(['venv', 'pip', 'verify', 'done']));
      expect(built.versions.json).toBeDefined();
      expect(
        execFileSync(built.python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim(),
      ).toBe(built.dir);
      // Its console scripts run: they name their interpreter by path, so the venv was built where it lives.
      const shebang = readFileSync(join(built.dir, 'bin', 'pip'), 'utf8').split('\n')[0];
      expect(shebang?.startsWith(`#!${join(built.dir, 'bin', 'python')}`)).toBe(true);
      expect(resolvePython(repoRoot, env)).toBe(built.python);

      const again = await preparePythonEnv(repoRoot, { env, spec: importing(['json']) });
      expect(again).toMatchObject({ cached: true, python: built.python, versions: built.versions });
      expect(readdirSync(join(workDir, 'cache')).sort()).toEqual([built.key]); // no lock, no temporary dirs
    },
    BUILD_TIMEOUT_MS,
  );

  it('prefers VTP_PYTHON', () => {
    expect(resolvePython(repoRoot, { ...env, VTP_PYTHON: '/opt/python/bin/python3' })).toBe(
      '/opt/python/bin/python3',
    );
  });

  it(
    'lets concurrent callers share one build',
    async () => {
      const root = join(workDir, 'concurrent-repo');
      await writeRequirements(root, ['# concurrent\n', NO_PACKAGES]);
      const results = await Promise.all([
        preparePythonEnv(root, { env, spec: importing([]) }),
        preparePythonEnv(root, { env, spec: importing([]) }),
      ]);
      expect(results.map((r) => r.cached).sort()).toEqual([false, true]);
      expect(results[0]?.python).toBe(results[1]?.python);
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'recovers from a build that died: stale lock, partial directories',
    async () => {
      const root = join(workDir, 'crashed-repo');
      await writeRequirements(root, ['# crashed\n', NO_PACKAGES]);
      const dir = pythonEnvDir(root, env);
      const deadPid = spawnSync('true').pid; // exited, so its pid is free
      await writeFile(`${dir}.lock`, `${deadPid}:0:0`);
      await mkdir(`${dir}.building-${deadPid}`, { recursive: true });
      await mkdir(dir, { recursive: true }); // renamed into place, but the marker was never written
      await writeFile(join(dir, 'half-installed'), '');
      expect(resolvePython(root, env)).toBeUndefined();

      const prepared = await preparePythonEnv(root, { env, spec: importing([]) });
      expect(prepared.cached).toBe(false);
      expect(existsSync(join(dir, 'half-installed'))).toBe(false);
      expect(existsSync(`${dir}.building-${deadPid}`)).toBe(false);
      expect(existsSync(`${dir}.lock`)).toBe(false);
      expect(resolvePython(root, env)).toBe(prepared.python);
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    "fails with pip's own words and leaves no half-built environment",
    async () => {
      const root = join(workDir, 'broken-repo');
      await writeRequirements(root, ['this is not a requirement\n', NO_PACKAGES]);
      const key = pythonEnvKey(root, env);

      const failure = preparePythonEnv(root, { env, spec: importing([]) });
      await expect(failure).rejects.toThrow(PythonEnvError);
      await expect(failure).rejects.toThrow(/Invalid requirement/);
      expect(resolvePython(root, env)).toBeUndefined();
      expect(readdirSync(join(workDir, 'cache')).filter((name) => name.startsWith(key))).toEqual([]);
    },
    BUILD_TIMEOUT_MS,
  );
});
