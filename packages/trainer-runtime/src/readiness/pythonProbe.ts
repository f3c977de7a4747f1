import { execFile } from 'node:child_process';

export interface PythonProbe {
  executable: string;
  pythonVersion: string | null;
  torchVersion: string | null;
  frameworkVersion: string | null;
  /** Why the runner could not run here; absent when the imports worked. */
  problem?: string;
}

const MARKER = 'VTP_PROBE ';
const probeScript = (frameworkModule: string) => `
import json, platform
info = {"python": platform.python_version()}
try:
    import torch
    info["torch"] = torch.__version__
except Exception:
    pass  # the framework's own import says whether it needs torch
try:
    import ${frameworkModule} as framework
    info["framework"] = getattr(framework, "__version__", "unknown")
except Exception as e:
    info["error"] = f"{type(e).__name__}: {e}"
print("${MARKER}" + json.dumps(info), flush=True)
`;

/**
 * Imports torch and the framework in the runner's interpreter, as a training would, and reports versions or
 * what went wrong. Run once at start-up: the imports take seconds.
 */
export function probePython(
  python: string,
  frameworkModule: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 180_000,
): Promise<PythonProbe> {
  const unknown = { executable: python, pythonVersion: null, torchVersion: null, frameworkVersion: null };
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', probeScript(frameworkModule)],
      { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
        if (!line) {
          const reason =
            (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
              ? `no Python interpreter at ${python}`
              : `${python} failed: ${(err?.message ?? stderr).trim().split('\n').slice(-3).join(' ')}`;
          resolve({ ...unknown, problem: reason });
          return;
        }
        const info = JSON.parse(line.slice(MARKER.length)) as Record<string, string | undefined>;
        resolve({
          executable: python,
          pythonVersion: info.python ?? null,
          torchVersion: info.torch ?? null,
          frameworkVersion: info.framework ?? null,
          ...(info.error ? { problem: `cannot import ${frameworkModule}: ${info.error}` } : {}),
        });
      },
    );
  });
}
