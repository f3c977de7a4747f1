import type { Logger } from './logger.ts';

type Hook = { name: string; run: () => Promise<void> | void };

/** How long a service's shutdown may take before it exits anyway. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/** Exit code of a shutdown cut short because a hook never finished. */
export const EXIT_SHUTDOWN_TIMED_OUT = 70;

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
          this.current = hook.name;
          await hook.run();
          this.logger.debug({ hook: hook.name }, 'stopped');
        } catch (err) {
          this.logger.error({ err, hook: hook.name }, 'shutdown hook failed');
        }
      }
      this.current = undefined;
    })();
    return this.stopping;
  }

  /** The hook running now, named when a shutdown is cut short. */
  private current: string | undefined;

  /**
   * Runs the hooks once and exits 0; a shutdown still unfinished after `graceMs` (a hook stuck on work that
   * never ends) exits anyway, with EXIT_SHUTDOWN_TIMED_OUT, so no service outlives the request to stop.
   */
  exit(reason: string, graceMs = DEFAULT_SHUTDOWN_GRACE_MS): void {
    if (this.stopping) {
      this.logger.info({ reason }, 'already shutting down');
      return;
    }
    this.logger.info({ reason }, 'shutting down');
    setTimeout(() => {
      this.logger.error({ hook: this.current, graceMs }, 'shutdown did not finish in time; exiting anyway');
      process.exit(EXIT_SHUTDOWN_TIMED_OUT);
    }, graceMs).unref();
    void this.shutdown().then(() => process.exit(0));
  }

  /** SIGTERM/SIGINT: `exit`. A second signal (Ctrl-C reaches the whole process group) changes nothing. */
  exitOnSignals(graceMs = DEFAULT_SHUTDOWN_GRACE_MS): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => this.exit(signal, graceMs));
    }
  }

  /**
   * `exit` when `parent` (the process that started this one: `startedBy`, read first thing at start-up) is
   * gone, even if it died by SIGKILL, and also when it died while this one was starting. Node has no
   * parent-death signal: the parent pid is polled (it changes when the parent dies).
   */
  exitWithParent(parent: number, graceMs = DEFAULT_SHUTDOWN_GRACE_MS): void {
    const gone = () => this.exit(`the process that started this one (${parent}) is gone`, graceMs);
    if (process.ppid !== parent) {
      gone();
      return;
    }
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer);
      gone();
    }, 1000);
    timer.unref();
  }
}
