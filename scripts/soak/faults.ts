import type { InterruptibleDatabase, PausableS3 } from './infrastructure.ts';
import { processesMentioning } from './processes.ts';

export const FAULTS = ['runner', 'trainer', 'backend', 'storage', 'database'] as const;
export type Fault = (typeof FAULTS)[number];

export interface FaultTargets {
  dataDir: string;
  s3: PausableS3;
  db: InterruptibleDatabase;
  /** kill -9 of the backend, and its restart after `downMs`. */
  crashBackend(downMs: number): Promise<void>;
  pick<T>(items: readonly T[]): T | undefined;
}

/** What each fault does, for the result table. */
export const FAULT_DESCRIPTIONS: Record<Fault, string> = {
  runner: 'kill -9 of a training runner',
  trainer: 'kill -9 of a trainer service',
  backend: 'kill -9 of the backend, restarted 3 s later',
  storage: 'object store paused (SIGSTOP) for 20 s',
  database: 'database connections reset and refused for 10 s',
};

/** Injects one fault; returns false when it had nothing to hit (no runner running, say). */
export async function inject(fault: Fault, t: FaultTargets): Promise<boolean> {
  switch (fault) {
    case 'runner':
    case 'trainer': {
      const all = await processesMentioning(t.dataDir);
      const victims = all.filter((p) =>
        fault === 'runner' ? p.command.includes('config.json') : /trainer-\w+\/src\/main\.ts/.test(p.command),
      );
      const victim = t.pick(victims);
      if (!victim) return false;
      process.kill(victim.pid, 'SIGKILL');
      return true;
    }
    case 'backend':
      await t.crashBackend(3000);
      return true;
    case 'storage':
      t.s3.pause();
      await new Promise((r) => setTimeout(r, 20_000));
      t.s3.resume();
      return true;
    case 'database':
      await t.db.outage(10_000);
      return true;
  }
}
