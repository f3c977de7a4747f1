import type { Job } from '@vtp/client';
import { formatMetric, h } from './dom.ts';

/** The metric a job's row shows: the task's headline quality measure when reported. */
const HEADLINE = ['metrics/mAP50-95(B)', 'metrics/mAP50(B)', 'val/top1', 'val/loss', 'train/loss'];

export function headlineMetric(job: Job): string {
  const metrics = job.latestMetrics ?? {};
  const name = HEADLINE.find((n) => n in metrics) ?? Object.keys(metrics)[0];
  return name ? `${name} ${formatMetric(metrics[name] as number)}` : '—';
}

export const isFinished = (job: Job) => ['succeeded', 'failed', 'cancelled'].includes(job.status);

export function statusBadge(job: Job): HTMLElement {
  return h('span', { class: `badge ${job.status}`, 'data-status': job.status }, job.status);
}

export function progressText(job: Job): string {
  const { epoch, totalEpochs, phase } = job.progress;
  const epochs = totalEpochs ? `epoch ${epoch}/${totalEpochs}` : '';
  return (
    [epochs, job.status === 'running' && phase ? phase.replaceAll('_', ' ') : '']
      .filter(Boolean)
      .join(' · ') || '—'
  );
}

export const jobTitle = (job: Job) => `${job.model} (${job.framework})`;
