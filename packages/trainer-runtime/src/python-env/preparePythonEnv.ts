import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { acquireFileLock } from './fileLock.ts';
import {
  basePython,
  COMPLETION_MARKER,
  isCompleteEnv,
  type PythonEnvSpec,
  pythonEnvCacheRoot,
  pythonEnvKey,
  TRAINERS_ENV,
  venvPython,
} from './pythonEnv.ts';

export type PythonEnvStep = 'cached' | 'waiting' | 'venv' | 'pip' | 'verify' | 'done';

export interface PythonEnvProgress {
  step: PythonEnvStep;
  message: string;
  /** Since preparePythonEnv was called. */
  elapsedMs: number;
}

export interface PreparePythonEnvOptions {
  onProgress?: (progress: PythonEnvProgress) => void;
  /** Environment for the lookup (VTP_PYTHON_ENV_CACHE, VTP_BASE_PYTHON) and for pip. */
  env?: NodeJS.ProcessEnv;
  /** Which environment (default: the trainers'). */
  spec?: PythonEnvSpec;
}

export interface PreparedPythonEnv {
  python: string;
  dir: string;
  key: string;
  /** False when this call built the environment. */
  cached: boolean;
  /** Module -> version, as imported by the verification step. */
  versions: Record<string, string>;
}

export class PythonEnvError extends Error {
  override name = 'PythonEnvError';
}

const PIP_TAIL_LINES = 40;
const HEARTBEAT_MS = 15_000;
// pip's own step lines, shown as progress; the rest goes only into the failure tail.
const PIP_STEP = /^(Collecting|Processing|Downloading|Installing collected|Successfully installed|ERROR)/;
const BUILDING_SUFFIX = '.building-';

/**
 * Creates a virtual environment once per requirements+Python key and returns its python. Idempotent and safe to
 * run concurrently (a lock per key): the environment is built in place and marked complete last, so a crash
 * never leaves a directory that resolvePython would use (the next run removes it and builds again).
 */
export async function preparePythonEnv(
  repoRoot: string,
  options: PreparePythonEnvOptions = {},
): Promise<PreparedPythonEnv> {
  const env = options.env ?? process.env;
  const spec = options.spec ?? TRAINERS_ENV;
  const started = Date.now();
  const report = (step: PythonEnvStep, message: string) =>
    options.onProgress?.({ step, message, elapsedMs: Date.now() - started });

  const key = pythonEnvKey(repoRoot, env, spec);
  const cacheRoot = pythonEnvCacheRoot(env);
  const dir = join(cacheRoot, key);
  if (isCompleteEnv(dir)) return cachedEnv(dir, key, report);

  await mkdir(cacheRoot, { recursive: true });
  let reportedWait = false;
  const release = await acquireFileLock(join(cacheRoot, `${key}.lock`), {
    onWait: (pid) => {
      if (!reportedWait) report('waiting', `waiting for process ${pid}, which is preparing ${dir}`);
      reportedWait = true;
    },
  });
  try {
    if (isCompleteEnv(dir)) return cachedEnv(dir, key, report); // another process finished it while we waited
    await removeLeftovers(cacheRoot, key);
    // Built where it will live: a venv is not relocatable (its scripts name their interpreter by path), and the
    // marker written last, under the lock, is what makes it complete.
    try {
      const versions = await build(repoRoot, dir, env, spec, report);
      await writeMarker(dir, { key, python: venvPython(dir), versions, createdAt: new Date().toISOString() });
      report('done', `ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${venvPython(dir)}`);
      return { python: venvPython(dir), dir, key, cached: false, versions };
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  } finally {
    await release();
  }
}

function cachedEnv(
  dir: string,
  key: string,
  report: (step: PythonEnvStep, message: string) => void,
): PreparedPythonEnv {
  report('cached', `reusing ${dir}`);
  return { python: venvPython(dir), dir, key, cached: true, versions: readVersions(dir) };
}

function readVersions(dir: string): Record<string, string> {
  try {
    const marker = JSON.parse(readFileSync(join(dir, COMPLETION_MARKER), 'utf8')) as {
      versions?: Record<string, string>;
    };
    return marker.versions ?? {};
  } catch {
    return {};
  }
}

/** A build of this key whose process died before it wrote the marker, and temporary builds of older versions. */
async function removeLeftovers(cacheRoot: string, key: string): Promise<void> {
  for (const name of await readdir(cacheRoot)) {
    if (name === key || name.startsWith(`${key}${BUILDING_SUFFIX}`)) {
      await rm(join(cacheRoot, name), { recursive: true, force: true });
    }
  }
}

async function build(
  repoRoot: string,
  target: string,
  env: NodeJS.ProcessEnv,
  spec: PythonEnvSpec,
  report: (step: PythonEnvStep, message: string) => void,
): Promise<Record<string, string>> {
  const base = basePython(env);
  report('venv', `creating a virtual environment with ${base}`);
  await runLogged(base, ['-m', 'venv', target], { env, onLine: () => {} });

  const python = venvPython(target);
  const requirements = spec.requirements.flatMap((file) => ['-r', join(repoRoot, file)]);
  report('pip', `pip install ${spec.requirements.join(' ')}`);
  let lastStep = 'starting';
  const heartbeat = setInterval(() => report('pip', `pip still working (last: ${lastStep})`), HEARTBEAT_MS);
  try {
    await runLogged(
      python,
      [
        '-m',
        'pip',
        'install',
        '--no-input',
        '--progress-bar',
        'off',
        '--disable-pip-version-check',
        ...requirements,
      ],
      {
        env,
        onLine: (line) => {
          if (!PIP_STEP.test(line)) return;
          lastStep = line.length > 160 ? `${line.slice(0, 160)}...` : line;
          report('pip', lastStep);
        },
      },
    );
  } finally {
    clearInterval(heartbeat);
  }

  report('verify', `importing ${spec.verifyImports.join(', ') || '(nothing)'}`);
  return verify(python, spec.verifyImports, env);
}

// Imports each module and prints its version; torchvision's compiled ops are exercised because a torchvision that
// does not match torch imports fine and fails on first use.
const VERIFY_SCRIPT = `
import importlib, json, sys
versions = {"python": sys.version.split()[0]}
for name in sys.argv[1:]:
    versions[name] = str(getattr(importlib.import_module(name), "__version__", "unknown"))
if "torchvision" in sys.modules:
    import torch, torchvision
    torchvision.ops.nms(torch.zeros((1, 4)), torch.zeros(1), 0.5)
print(json.dumps(versions))
`;

async function verify(
  python: string,
  modules: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  // Ultralytics checks the network and writes settings at import: keep it offline and out of the user's home.
  const scratch = await mkdtemp(join(tmpdir(), 'vtp-python-env-verify-'));
  try {
    let output = '';
    await runLogged(python, ['-c', VERIFY_SCRIPT, ...modules], {
      env: { ...env, YOLO_OFFLINE: 'true', YOLO_CONFIG_DIR: scratch, HF_HUB_OFFLINE: '1' },
      onLine: (line) => {
        output = line;
      },
      stdoutOnly: true,
    });
    return JSON.parse(output) as Record<string, string>;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function writeMarker(dir: string, content: object): Promise<void> {
  const partial = join(dir, `${COMPLETION_MARKER}.partial`);
  await writeFile(partial, `${JSON.stringify(content, null, 2)}\n`);
  await rename(partial, join(dir, COMPLETION_MARKER));
}

interface RunOptions {
  env: NodeJS.ProcessEnv;
  onLine: (line: string) => void;
  /** Pass only stdout lines to onLine (stderr still lands in the failure tail). */
  stdoutOnly?: boolean;
}

/** Runs a command; on a non-zero exit, throws with the command's last lines of output. */
function runLogged(command: string, args: string[], options: RunOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const collect = (stream: NodeJS.ReadableStream, forward: boolean) =>
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        tail.push(line);
        if (tail.length > PIP_TAIL_LINES) tail.shift();
        if (forward) options.onLine(line);
      });
    collect(child.stdout, true);
    collect(child.stderr, !options.stdoutOnly);
    child.on('error', (error) => reject(new PythonEnvError(`Cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
      const name = [command, ...args.slice(0, 3)].join(' ');
      reject(new PythonEnvError(`${name} ${how}; its last output:\n${tail.join('\n')}`));
    });
  });
}
