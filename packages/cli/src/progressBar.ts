import cliProgress from 'cli-progress';
import { formatBytes } from './output.ts';

/** A byte-counting bar on the terminal (`update(loaded, total)`); `stop()` clears it away. */
export function bytesBar(label: string): {
  update(loaded: number, total: number | undefined): void;
  stop(): void;
} {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {percentage}% | {done} of {size}`,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(loaded, total) {
      const size = total ?? loaded;
      const payload = { done: formatBytes(loaded), size: total === undefined ? '?' : formatBytes(size) };
      if (!started) {
        started = true;
        bar.start(size, loaded, payload);
      } else {
        bar.setTotal(size);
        bar.update(loaded, payload);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
