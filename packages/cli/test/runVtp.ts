import { spawn } from 'node:child_process';
import { join } from 'node:path';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

export interface VtpRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the installed `vtp` binary (node_modules/.bin/vtp, as `npx vtp` does: that folder first on PATH, so its
 * shebang finds the project's Node) as a child process, with `env` over a clean environment.
 */
export function runVtp(
  args: string[],
  env: Record<string, string>,
  options: { input?: string; timeoutMs?: number } = {},
): Promise<VtpRun> {
  const bin = join(repoRoot, 'node_modules', '.bin');
  const child = spawn(join(bin, 'vtp'), args, {
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: env.HOME ?? '/nonexistent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The parsed stdout of a `--json` run that must have succeeded. */
export function json<T>(run: VtpRun): T {
  if (run.code !== 0) throw new Error(`vtp exited ${run.code}: ${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout) as T;
}
