import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { freePort, type Logger } from '@vtp/service-kit';
import type { Framework } from '@vtp/shared-schemas';

export interface TrainerProcessOptions {
  framework: Framework;
  /** The service's entry point, run with this very Node (`process.execPath`). */
  entry: string;
  env: Record<string, string>;
  logFile: string;
  logger: Logger;
  /** Health check of a started instance. */
  isHealthy(url: string): Promise<boolean>;
  /** Called when an instance dies on its own, before it is restarted. */
  onExit(instance: string, reason: string): void;
  startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One trainer service as a child process: started on first use on a free port, restarted with backoff when it
 * dies, stopped (SIGTERM, then SIGKILL) on shutdown so no child outlives the backend's orderly stop.
 */
export class TrainerProcess {
  private child: ChildProcess | undefined;
  private current: Promise<{ url: string; instance: string }> | undefined;
  private stopping = false;
  private restartDelayMs = 1000;
  private healthySince = 0;
  private log: WriteStream | undefined;
  private readonly options: TrainerProcessOptions;

  constructor(options: TrainerProcessOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The running instance, started (and waited for) when there is none. */
  ensure(): Promise<{ url: string; instance: string }> {
    if (this.stopping) return Promise.reject(new Error('trainer processes are stopping'));
    this.current ??= this.launch().catch((err) => {
      this.current = undefined;
      throw err;
    });
    return this.current;
  }

  private async launch(): Promise<{ url: string; instance: string }> {
    const { framework, entry, logger } = this.options;
    const port = await freePort();
    // stop() may have run while the port was being found: it saw no child, so none may start now.
    if (this.stopping) throw new Error('trainer processes are stopping');
    const instance = randomUUID();
    mkdirSync(dirname(this.options.logFile), { recursive: true });
    this.log ??= createWriteStream(this.options.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [entry, 'serve'], {
      env: { ...this.options.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    const url = `http://127.0.0.1:${port}`;
    const exited = new Promise<string>((resolve) =>
      child.once('exit', (code, signal) =>
        resolve(signal ? `killed by ${signal}` : `exited with code ${code}`),
      ),
    );
    void exited.then((reason) => this.exited(child, instance, reason));
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      const outcome = await Promise.race([exited, sleep(250).then(() => undefined)]);
      if (outcome)
        throw new Error(`${framework} trainer ${outcome} while starting (log: ${this.options.logFile})`);
      if (await this.options.isHealthy(url)) {
        this.healthySince = Date.now();
        logger.info({ framework, url, pid: child.pid }, 'trainer service started');
        return { url, instance };
      }
    }
    child.kill('SIGKILL');
    throw new Error(
      `${framework} trainer did not become healthy within the start timeout (log: ${this.options.logFile})`,
    );
  }

  private exited(child: ChildProcess, instance: string, reason: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.current = undefined;
    if (this.stopping) return;
    const { framework, logger } = this.options;
    logger.error({ framework, reason }, 'trainer service died; restarting');
    this.options.onExit(instance, reason);
    // A service that ran a while gets a fresh backoff; one that keeps dying waits longer each time.
    if (Date.now() - this.healthySince > 60_000) this.restartDelayMs = 1000;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(30_000, this.restartDelayMs * 2);
    setTimeout(() => {
      if (!this.stopping)
        this.ensure().catch((err) => logger.error({ err, framework }, 'trainer restart failed'));
    }, delay).unref();
  }

  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }
    this.log?.end();
  }
}
