import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLogger } from '@vtp/service-kit';
import { startEmbeddedPostgres } from '../../services/backend/src/embedded/postgres.ts';
import { TcpProxy } from '../../services/backend/test/support/tcpProxy.ts';

/** The object store as a separate process the soak can pause, as a storage outage. */
export interface PausableS3 {
  endpoint: string;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startPausableS3(directory: string): Promise<PausableS3> {
  const child: ChildProcess = spawn(process.execPath, [join(import.meta.dirname, 's3server.ts'), directory], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await Promise.race([
    createInterface({ input: child.stdout! })
      [Symbol.asyncIterator]()
      .next()
      .then((r) => [r.value as string]),
    new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`s3 server exited ${code}`))),
    ),
  ]);
  const { endpoint } = JSON.parse(line as string) as { endpoint: string };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    endpoint,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
  };
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
  const db = await startEmbeddedPostgres(directory, createLogger('soak-postgres', 'warn'));
  const target = new URL(db.url);
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
      await db.stop();
    },
  };
}
