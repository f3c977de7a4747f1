import type { Job } from '@vtp/client';
import { formatBytes, formatDuration, formatMetric, type Output } from './output.ts';

/** The metrics a one-line view shows first: each framework's headline figure, then its losses. */
const HEADLINE = ['metrics/mAP50(B)', 'metrics/mAP50-95(B)', 'val/top1', 'val/loss', 'train/loss'];

/** `val/top1=93.33 val/loss=0.2120 train/loss=0.3511`: up to `count` metrics, the headline ones first. */
export function metricsLine(metrics: Record<string, unknown> | null | undefined, count = 3): string {
  if (!metrics) return '';
  const keys = Object.keys(metrics);
  const chosen = [...HEADLINE.filter((k) => k in metrics), ...keys.filter((k) => !HEADLINE.includes(k))];
  return chosen
    .slice(0, count)
    .map((k) => `${k}=${formatMetric(metrics[k])}`)
    .join(' ');
}

/** Wall time of a job so far (or in all, once finished). */
export function jobDuration(job: Job): string {
  if (!job.startedAt) return '-';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  return formatDuration(end - Date.parse(job.startedAt));
}

/** A job for people: what it is, where it got, its final metrics and artifacts, and why it failed. */
export function describeJob(out: Output, job: Job): string {
  const status =
    job.status === 'succeeded'
      ? out.style('green', job.status)
      : job.status === 'failed'
        ? out.style('red', job.status)
        : job.status;
  const sections = [
    out.table(
      ['JOB', job.id],
      [
        ['status', status],
        ['model', `${job.framework}/${job.model}`],
        ['dataset', job.datasetId],
        ['epochs', `${job.progress.epoch}/${job.progress.totalEpochs}`],
        ['attempt', `${job.attempt} of ${job.maxRetries + 1}`],
        ['duration', jobDuration(job)],
        ...(job.error ? [['error', `${job.error.code}: ${job.error.message}`]] : []),
        ...(job.tracking?.mlflow?.url ? [['mlflow', job.tracking.mlflow.url]] : []),
      ],
    ),
  ];
  const metrics = Object.entries(job.latestMetrics ?? {});
  if (metrics.length) {
    sections.push(
      out.table(
        ['METRIC', 'VALUE'],
        metrics.map(([k, v]) => [k, formatMetric(v)]),
      ),
    );
  }
  if (job.artifacts.length) {
    sections.push(
      out.table(
        ['ARTIFACT', 'SIZE', 'EPOCH', 'SHA256'],
        job.artifacts.map((a) => [
          a.kind,
          formatBytes(a.bytes),
          a.epoch === undefined ? '-' : String(a.epoch),
          a.sha256 ?? '-',
        ]),
      ),
    );
  }
  return sections.join('\n\n');
}
