import type { Logger } from './logger.ts';

type Hook = { name: string; run: () => Promise<void> | void };

/**
 * Ordered shutdown: hooks run in reverse order of registration (last started, first stopped), each failure
 * logged on its own so one broken hook never keeps the others from running.
 */
export class Lifecycle {
  private readonly hooks: Hook[] = [];
  private stopping: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  addShutdownHook(name: string, run: Hook['run']): void {
    this.hooks.push({ name, run });
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      for (const hook of [...this.hooks].reverse()) {
        try {
          await hook.run();
          this.logger.debug({ hook: hook.name }, 'stopped');
        } catch (err) {
          this.logger.error({ err, hook: hook.name }, 'shutdown hook failed');
        }
      }
    })();
    return this.stopping;
  }

  /** SIGTERM/SIGINT run the hooks once, then exit. */
  exitOnSignals(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        this.logger.info({ signal }, 'shutting down');
        void this.shutdown().then(() => process.exit(0));
      });
    }
  }
}
