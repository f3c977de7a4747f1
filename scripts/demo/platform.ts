import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@vtp/service-kit';

export interface RunningPlatform {
  url: string;
  adminKey: string;
  pid: number;
  /** Resolves once the backend process has exited, however it ended. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts the backend exactly as `npm start` does (embedded PostgreSQL and S3 under `dataDir` unless `env` names
 * others), on `port` or a free one, and waits until it is ready. Its log goes to the sink `onLog`.
 */
export async function startPlatform(
  repoRoot: string,
  dataDir: string,
  onLog: (line: string) => void,
  env: Record<string, string> = {},
  port?: number,
): Promise<RunningPlatform> {
  port ??= await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'services/backend/src/main.ts')], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      // The demo killed outright must not leave the platform running.
      EXIT_WITH_PARENT: 'true',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) onLog(line);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null)
      throw new Error(`the backend exited with code ${child.exitCode} while starting`);
    if (Date.now() > deadline) throw new Error('the backend did not become ready within 2 minutes');
    await new Promise((r) => setTimeout(r, 300));
  }
  const adminKey = (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();
  let stopping: Promise<void> | undefined;
  return {
    url,
    adminKey,
    pid: child.pid as number,
    exited,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        // The backend bounds its own shutdown; this is only for one that is wedged beyond that.
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
