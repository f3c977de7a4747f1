import type { Job, JobEvent } from '@vtp/client';

/** What the demo shows for one job, updated from its event stream. */
export interface JobView {
  label: string;
  status: string;
  epoch: number;
  totalEpochs: number;
  metrics: Record<string, number>;
}

export function applyEvent(view: JobView, event: JobEvent): void {
  const p = event.payload as { epoch?: number; totalEpochs?: number; metrics?: Record<string, number> };
  if (event.type === 'started') view.status = 'running';
  if (p.totalEpochs) view.totalEpochs = p.totalEpochs;
  if (event.type === 'progress' && p.epoch !== undefined) view.epoch = Math.max(view.epoch, p.epoch);
  if (p.metrics && Object.keys(p.metrics).length) view.metrics = p.metrics;
  if (event.type === 'completed') view.status = 'succeeded';
  if (event.type === 'failed') view.status = 'failed';
  if (event.type === 'cancelled') view.status = 'cancelled';
}

export function applyJob(view: JobView, job: Job): void {
  view.status = job.status;
  view.epoch = job.progress.epoch;
  view.totalEpochs = job.progress.totalEpochs || view.totalEpochs;
  if (job.latestMetrics) view.metrics = job.latestMetrics;
}

const WIDTH = 24;

function shortMetrics(metrics: Record<string, number>, keys: string[]): string {
  return keys
    .filter((k) => metrics[k] !== undefined)
    .map(
      (k) =>
        `${k.replace(/^(metrics|train|val)\//, (m) => (m === 'val/' ? 'val_' : ''))}=${(metrics[k] as number).toFixed(3)}`,
    )
    .join(' ');
}

/** One line per job: a bar, the epoch, and the metrics that matter for its task. */
export function renderLine(view: JobView, keys: string[]): string {
  const fraction = view.totalEpochs ? Math.min(1, view.epoch / view.totalEpochs) : 0;
  const filled = Math.round(fraction * WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
  const epochs = view.totalEpochs ? `epoch ${view.epoch}/${view.totalEpochs}` : 'waiting';
  return `${view.label.padEnd(22)} ${bar} ${String(Math.round(fraction * 100)).padStart(3)}%  ${epochs.padEnd(12)} ${view.status.padEnd(10)} ${shortMetrics(view.metrics, keys)}`;
}
