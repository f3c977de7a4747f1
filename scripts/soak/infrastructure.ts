import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TcpProxy } from '../../services/backend/test/support/tcpProxy.ts';

/** The object store as a separate process the soak can pause, as a storage outage. */
export interface PausableS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startPausableS3(directory: string): Promise<PausableS3> {
  const { child, line } = await startChild('s3server.ts', directory);
  const { endpoint, accessKeyId, secretAccessKey } = JSON.parse(line) as Pick<
    PausableS3,
    'endpoint' | 'accessKeyId' | 'secretAccessKey'
  >;
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      child.kill('SIGCONT');
      await stopChild(child);
    },
  };
}

/** Runs one of the soak's helper scripts and waits for its first line (what it tells its parent). */
async function startChild(script: string, argument: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, script), argument], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const line = await Promise.race([
    lines.next().then((r) => r.value as string),
    new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`${script} exited with code ${code} while starting`))),
    ),
  ]);
  return { child, line };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * A real PostgreSQL (embedded, under `directory`) behind a TCP proxy: an outage resets every open connection and
 * refuses new ones, which is what the backend sees while the database restarts.
 */
export interface InterruptibleDatabase {
  url: string;
  outage(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startInterruptibleDatabase(directory: string): Promise<InterruptibleDatabase> {
  const { child, line } = await startChild('postgres.ts', directory);
  const target = new URL((JSON.parse(line) as { url: string }).url);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port) });
  const port = await proxy.start();
  target.port = String(port);
  return {
    url: target.toString(),
    async outage(ms) {
      proxy.mode = 'refuse';
      proxy.cut();
      await new Promise((r) => setTimeout(r, ms));
      proxy.mode = 'forward';
    },
    async stop() {
      await proxy.stop();
      await stopChild(child);
    },
  };
}
