import type { Api } from '../api.ts';

/** A page: it renders into `main` and stops whatever it keeps running (streams, polls) when `signal` aborts. */
export type View = (ctx: { api: Api; main: HTMLElement; signal: AbortSignal }) => Promise<void>;

/** Runs `tick` every `ms` (first after `ms`) until the page is left; a failed tick waits for the next. */
export function every(ms: number, signal: AbortSignal, tick: () => Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const run = () => {
      if (signal.aborted) return resolve();
      tick()
        .catch(() => undefined)
        .finally(() => {
          if (!signal.aborted) setTimeout(run, ms);
          else resolve();
        });
    };
    setTimeout(run, ms);
  });
}
